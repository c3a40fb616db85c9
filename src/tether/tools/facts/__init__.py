"""The facts about each tool that every part of tether needs, one module per tool.

Where a tool keeps its sessions (and the environment variables that move them), what its
session ids look like, which file holds a session, how it names a folder, how it is started
and resumed, and what tether can do with it. Readers, writers, the shims and teams all take
them from here, so they cannot disagree. Standard library only, and cheap: the shim's hot
path imports this package and the one module of the tool it launches.
"""

from __future__ import annotations

import os
import sys

from tether.errors import UsageError
from tether.files import is_regular, open_fd

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from typing import Any, Literal, NotRequired, Protocol, TypedDict

    Capability = Literal["read", "write", "resume", "autoresume"]
    """read: tether captures its sessions; write: tether writes new native sessions of it
    (a writer in convert/writers); resume: its CLI resumes a session by id (LAUNCH);
    autoresume: the shims and teams can run it on a session tether names or finds."""

    Finder = Callable[[str, str, float, bool], list[tuple[str, str]]]
    """started_since(store, cwd, since, headless): (id, file) of each session the tool
    began in `cwd` at or after `since`, oldest first, for a tool that names its sessions
    itself; `headless`: begun by a headless run (else an interactive one)."""

    class LaunchSpec(TypedDict):
        binary: str
        """The executable's name on PATH."""
        preassign: tuple[str, ...]
        """Flags that start a NEW session on an id tether chose ("{id}" is replaced); empty
        when the tool cannot be told its id (codex: the id is found afterwards)."""
        resume: tuple[str, ...]
        """Interactive resume of one session, put in front of the user's own arguments."""
        headless_flags: tuple[str, ...]
        """Flags (`-p`) or command words (codex `exec`) that make a run headless."""
        headless_resume: tuple[str, ...]
        """Resume of one session for a headless run: after the headless command word and
        its own flags, before its prompt (codex `exec … resume ID PROMPT`); for a headless
        flag, in front of the user's own arguments."""
        headless_value_flags: tuple[str, ...]
        """The headless command's flags that take a value (to find where its prompt starts)."""
        passthrough_flags: tuple[str, ...]
        """The user's own session choices (resume, continue, session id, fork), help, version,
        and flags that move the run elsewhere (worktree, another folder): with any of these
        the argv passes through untouched."""
        subcommands: tuple[str, ...]
        """Command words that are not a conversation (mcp, login, doctor, resume, …): the
        argv passes through untouched."""
        prompt: tuple[str, ...]
        """The arguments that give an interactive run its first prompt ("{prompt}")."""
        positional_prompt: NotRequired[Literal["headless", "interactive"]]
        """What a prompt given as a plain word makes the run (default interactive: `claude
        "fix it"`); Cline runs a plain-word prompt headless. With "headless", the value
        flags are `headless_value_flags` exactly (a word after another flag is a prompt)."""
        interactive_flags: NotRequired[tuple[str, ...]]
        """Flags that keep a run with a plain-word prompt interactive (`cline -i "…"`)."""
        resume_takes_prompt: NotRequired[bool]
        """False when the tool's resume drops a prompt given with it (`cline --id ID` opens
        its TUI and ignores one): such a launch with a prompt passes through untouched."""

    class Facts(Protocol):
        """One tool's facts: a module under tether/tools/facts."""

        NAME: str
        """Command-line name: claude, codex, gemini, …"""
        DISPLAY_NAME: str
        ALIASES: tuple[str, ...]
        CAPABILITIES: frozenset[Capability]
        STORE_VARIABLES: tuple[str, ...]
        """The environment variables that move the tool's store (the shims' fast path
        trusts what it learnt only while they are unchanged)."""
        LAUNCH: LaunchSpec | None
        """How its CLI starts and resumes sessions (None: it has no CLI tether runs)."""
        started_since: Finder | None

        def store_roots(self, env: Mapping[str, str], home: str) -> list[str]:
            """Every folder the tool keeps sessions in, honouring its own environment
            overrides; the first is where a new session of it is written."""
            ...

        def valid_id(self, native_id: str) -> bool:
            """Whether `native_id` has the shape of the tool's session ids: only such an id
            may reach a path or an argv."""
            ...

        def session_pattern(self, native_id: str, cwd: str | None) -> str | None:
            """The glob, below a store root, of the file that holds session `native_id`
            (of a session that ran in `cwd`, else in any folder); None when the tool keeps
            no file per session. Only for a valid id."""
            ...


NAMES = (
    *("claude", "codex", "gemini", "copilot", "amp", "antigravity", "aider", "cursor"),
    *("cline", "roo", "kilo", "opencode", "qwen"),
)
"""Every tool tether knows, in the order listings show them."""


class UnknownTool(UsageError, ValueError):
    """A tool name tether does not know; the message lists the ones it does."""


def get(name: str) -> Facts:
    """The facts of tool `name` (its canonical name, as in NAMES)."""
    if name not in NAMES:
        raise UnknownTool(f"unknown tool {name!r}: known tools are {', '.join(NAMES)}")
    module = f"tether.tools.facts.{name}"
    if module not in sys.modules:
        __import__(module)
    facts: Facts = sys.modules[module]
    return facts


def resolve(name: str) -> str:
    """The canonical name of a tool named by the user (`claude-code`, `Gemini`, …)."""
    key = name.strip().lower()
    if key in NAMES:
        return key
    for tool in NAMES:
        if key in get(tool).ALIASES:
            return tool
    raise UnknownTool(f"unknown tool {name!r}: known tools are {', '.join(NAMES)}")


def able(capability: Capability) -> list[str]:
    """The tools with this capability, in NAMES order."""
    return [tool for tool in NAMES if capability in get(tool).CAPABILITIES]


# ---------------------------------------------------------------------------------------
# What the tools' fact modules share: ids, folders, files


HEX = frozenset("0123456789abcdefABCDEF")
SAFE = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._-")
MAX_ID = 128


def is_uuid(text: str) -> bool:
    """A UUID in its 36-character form (any version, either case)."""
    return len(text) == 36 and all(
        ch == "-" if at in (8, 13, 18, 23) else ch in HEX for at, ch in enumerate(text)
    )


def is_safe_id(text: str) -> bool:
    """An id that can stand in a file name and an argv as it is: letters, digits, `.`, `_`
    and `-`, at most 128, never starting with `-` or `.`."""
    return 0 < len(text) <= MAX_ID and text[0] not in "-." and all(ch in SAFE for ch in text)


def env_dir(env: Mapping[str, str], variable: str, home: str) -> str | None:
    """The folder an environment variable names (`~` is the home), None when unset or empty."""
    value = env.get(variable, "").strip()
    if not value:
        return None
    if value == "~" or value.startswith("~/"):
        value = home + value[1:]
    return value.rstrip("/") or "/"


def as_node_sees(path: str) -> str:
    """A path as a Node.js CLI sees it: bytes that are not UTF-8 (which Python keeps as
    surrogates) become U+FFFD."""
    try:
        path.encode()
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "replace")
    return path


def js_dashed(path: str) -> str:
    """`path.replace(/[^a-zA-Z0-9]/g, "-")` in JavaScript, which works on UTF-16 units: a
    character beyond the Basic Multilingual Plane (an emoji) becomes two dashes."""
    return "".join(
        ch if ch.isascii() and ch.isalnum() else "--" if ord(ch) > 0xFFFF else "-"
        for ch in as_node_sees(path)
    )


def inside(root: str, path: str) -> bool:
    """Whether `path` names something below `root` as written: absolute, normal (no `.`
    or `..` segment, no doubled `/`), and under `root`."""
    root = root.rstrip("/")
    return path.startswith(root + "/") and os.path.normpath(path) == path and "\0" not in path


def session_files(store: str, pattern: str) -> list[str]:
    """The regular files below `store` that match `pattern` ("/"-separated, "*" any part
    of one name), in sorted order."""
    store = store.rstrip("/") or "/"
    return [path for path in glob(store, pattern) if inside(store, path)]


def matches(store: str, pattern: str, path: str) -> bool:
    """Whether `path` is where `pattern` points below `store`: the check of a path that
    came from outside (a project's state file), without listing any folder."""
    if not inside(store, path):
        return False
    names = path[len(store.rstrip("/")) + 1 :].split("/")
    segments = pattern.split("/")
    return len(names) == len(segments) and all(
        _matches(name, segment.split("*")) for name, segment in zip(names, segments, strict=True)
    )


def find_session(facts: Facts, store: str, native_id: str, cwd: str | None = None) -> str | None:
    """The file below `store` that holds session `native_id` of the tool (of a session that
    ran in `cwd`, else anywhere): the newest when the tool left several; None for an id
    that is not the tool's, a session with no file, or one its database no longer has."""
    pattern = facts.session_pattern(native_id, cwd) if facts.valid_id(native_id) else None
    found = session_files(store, pattern) if pattern else []
    if len(found) > 1:
        found.sort(key=_mtime)
    return found[-1] if found and holds(facts, found[-1], native_id) else None


def holds(facts: Facts, path: str, native_id: str) -> bool:
    """Whether the file found for session `native_id` still holds it. A tool that keeps
    every session in one database (opencode, Kilo's CLI) has `holds_session(path, id)`:
    deleting a session there removes its row, not the file. Any other tool's file is its
    session's own."""
    check: Callable[[str, str], bool] | None = getattr(facts, "holds_session", None)
    return check is None or check(path, native_id)


def checked_session(
    facts: Facts, store: str, native_id: str, recorded: object, cwd: str | None = None
) -> str | None:
    """`recorded` (a path from a file tether did not necessarily write) when it is where the
    tool keeps session `native_id` below `store` and a regular file; else None."""
    if not isinstance(recorded, str) or not facts.valid_id(native_id):
        return None
    pattern = facts.session_pattern(native_id, cwd)
    if pattern is None or not matches(store, pattern, recorded):
        return None
    return recorded if is_regular(recorded) and holds(facts, recorded, native_id) else None


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def same_folder(recorded: object, cwd: str) -> bool:
    """Whether a folder a tool recorded is `cwd` (as written, or once links are resolved)."""
    if not isinstance(recorded, str) or not recorded:
        return False
    return recorded == cwd or os.path.realpath(recorded) == os.path.realpath(cwd)


def in_project(recorded: object, root: str) -> bool:
    """Whether a folder a tool recorded is the project at `root` or a folder in it (opencode
    and its forks record $PWD, which a shim leaves where the user typed the command)."""
    if not isinstance(recorded, str) or not recorded:
        return False
    if same_folder(recorded, root):
        return True
    top = root.rstrip("/") + "/"
    return recorded.startswith(top) or os.path.realpath(recorded).startswith(
        os.path.realpath(root).rstrip("/") + "/"
    )


def query_readonly(path: str, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
    """Rows of a query on another tool's SQLite database, opened read-only (immutable when
    the tool is not running, so that no -wal or -shm file is made); none on any error."""
    return lookup_readonly(path, sql, params) or []


def lookup_readonly(
    path: str, sql: str, params: tuple[object, ...]
) -> list[tuple[Any, ...]] | None:
    """query_readonly, with None when the database could not be read (no such file, not a
    database, locked past a second): "no rows" is then not an answer.

    sqlite3 is imported here, not at the top: only a launch that looks a session up pays."""
    if not is_regular(path):
        return None
    import sqlite3

    live = os.path.exists(path + "-wal") and os.path.exists(path + "-shm")
    quoted = path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    uri = f"file:{quoted}?mode=ro" + ("" if live else "&immutable=1")
    try:
        db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=1.0)
    except sqlite3.Error:
        return None
    try:
        db.execute("PRAGMA query_only = ON")
        return list(db.execute(sql, params).fetchall())
    except sqlite3.Error:
        return None
    finally:
        db.close()


def first_line(path: str, limit: int = 16 << 20) -> str:
    """The first line of a regular file (invalid UTF-8 replaced), reading no further than
    it ends; OSError for anything else (a FIFO is never waited on)."""
    chunks: list[bytes] = []
    size = 0
    fd = open_fd(path)
    try:
        while size < limit:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            end = chunk.find(b"\n")
            if end >= 0:
                chunks.append(chunk[:end])
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


def list_dir(path: str) -> list[str]:
    """The names in a folder, sorted; none when it cannot be listed."""
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def glob(root: str, pattern: str) -> Iterator[str]:
    """Paths below `root` that match `pattern` ("/"-separated; "*" matches any part of one
    name), in sorted order. Lists only the folders that a "*" segment needs."""
    yield from _glob(root, pattern.split("/"))


def _glob(folder: str, segments: list[str]) -> Iterator[str]:
    segment, rest = segments[0], segments[1:]
    if "*" not in segment:
        names = [segment] if os.path.lexists(f"{folder}/{segment}") else []
    else:
        parts = segment.split("*")
        names = [name for name in list_dir(folder) if _matches(name, parts)]
    for name in names:
        path = f"{folder}/{name}"
        if rest:
            yield from _glob(path, rest)
        elif is_regular(path):
            yield path


def _matches(name: str, parts: list[str]) -> bool:
    """Whether `name` matches the pattern whose "*"-separated pieces are `parts`."""
    if len(parts) == 1:
        return name == parts[0]
    first, *middle, last = parts
    if not name.startswith(first) or len(name) < len(first) + len(last):
        return False
    at = len(first)
    end = len(name) - len(last)
    if not name.endswith(last):
        return False
    for piece in middle:
        found = name.find(piece, at, end)
        if found < 0:
            return False
        at = found + len(piece)
    return True


# ---------------------------------------------------------------------------------------
# The editors' extension storage (Cline, Roo Code, Kilo Code, Amp)


EDITOR_APPS = ("Code", "Code - Insiders", "Code - OSS", "VSCodium", "Cursor", "Windsurf")
"""VS Code and the forks whose user data folder holds extension global storage."""
EDITOR_SERVERS = (
    ".vscode-server",
    ".vscode-remote",
    ".vscode-server-insiders",
    ".vscodium-server",
    ".cursor-server",
    ".windsurf-server",
)
"""Remote/SSH servers (and Codespaces' .vscode-remote) of the same editors:
`~/<server>/data/User/globalStorage`."""
EDITOR_VARIABLES = ("VSCODE_PORTABLE", "VSCODE_APPDATA", "XDG_CONFIG_HOME")
PLATFORM = sys.platform
"""Which user data folders the editors use: macOS's, or Linux's (and other Unixes')."""


def editor_storage(env: Mapping[str, str], home: str, extension_id: str) -> list[str]:
    """An extension's global storage in every editor's user data folder.

    Linux: `$XDG_CONFIG_HOME` or ~/.config, and the remote servers' ~/.<editor>-server/data;
    macOS: ~/Library/Application Support. Honours the editors' own overrides:
    VSCODE_PORTABLE (portable mode) and VSCODE_APPDATA (where the user data folders live).
    """
    platform = PLATFORM
    bases: list[str] = []
    portable = env_dir(env, "VSCODE_PORTABLE", home)
    if portable:
        bases.append(f"{portable}/user-data")
    appdata = env_dir(env, "VSCODE_APPDATA", home)
    homes = [appdata] if appdata else []
    if platform == "darwin":
        homes.append(f"{home}/Library/Application Support")
    else:
        homes.append(env_dir(env, "XDG_CONFIG_HOME", home) or f"{home}/.config")
    bases.extend(f"{folder}/{app}" for folder in homes for app in EDITOR_APPS)
    if platform != "darwin":
        bases.extend(f"{home}/{server}/data" for server in EDITOR_SERVERS)
    return list(dict.fromkeys(f"{base}/User/globalStorage/{extension_id}" for base in bases))


def xdg_data(env: Mapping[str, str], home: str, app: str, override: str) -> str:
    """`$<override>`, else `$XDG_DATA_HOME/<app>`, else `~/.local/share/<app>` (xdg-basedir,
    as opencode and its forks resolve their data folder, on Linux and macOS alike)."""
    configured = env_dir(env, override, home)
    if configured:
        return configured
    return f"{env_dir(env, 'XDG_DATA_HOME', home) or home + '/.local/share'}/{app}"
