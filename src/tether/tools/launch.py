"""How each resumable CLI is started on a chosen session: argv facts, as plain data.

Shared by `tether resume`, the auto-resume shims and teams. Standard library only, and not
even `typing` at run time (13 ms to import), so the shim's hot path can import it for the cost
of reading one small file. Every argv here leaves out the binary itself: callers put the real
binary in front.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Literal, TypedDict

    Kind = Literal["passthrough", "headless", "interactive"]

    class LaunchSpec(TypedDict):
        binary: str
        """The executable's name on PATH."""
        preassign: tuple[str, ...]
        """Flags that start a NEW session on an id tether chose ("{id}" is replaced); empty
        when the tool cannot be told its id (codex: the id is found afterwards, in its
        rollouts)."""
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
        store: tuple[str, str, str]
        """The tool's store root, as its readers' `store_roots` find it: (environment
        variable, folder below the variable's, default with "~" for the home)."""
        session_glob: str
        """Where one session's file lives below the store root: "{id}", "{id8}" (its first 8
        characters), "{cwd_dashed}" (the folder it ran in, each character that is not an
        ASCII letter or digit made "-"), "*" for any part of one path segment."""

else:
    LaunchSpec = dict


SPECS: dict[str, LaunchSpec] = {
    "claude": {
        "binary": "claude",
        "preassign": ("--session-id", "{id}"),
        "resume": ("--resume", "{id}"),
        "headless_flags": ("-p", "--print"),
        "headless_resume": ("--resume", "{id}"),
        "headless_value_flags": (),
        "passthrough_flags": (
            *("-r", "--resume", "-c", "--continue", "--session-id", "--fork-session"),
            *("--from-pr", "--no-session-persistence", "-w", "--worktree", "--tmux"),
            *("-h", "--help", "-v", "--version"),
        ),
        "subcommands": (
            *("agents", "auth", "auto-mode", "config", "doctor", "gateway", "install"),
            *("mcp", "migrate-installer", "plugin", "plugins", "project", "setup-token"),
            *("ultrareview", "update", "upgrade"),
        ),
        "prompt": ("{prompt}",),
        "store": ("CLAUDE_CONFIG_DIR", "", "~/.claude"),
        "session_glob": "projects/{cwd_dashed}/{id}.jsonl",
    },
    "codex": {
        "binary": "codex",
        "preassign": (),
        "resume": ("resume", "{id}"),
        "headless_flags": ("exec", "e"),
        "headless_resume": ("resume", "{id}"),
        "headless_value_flags": (
            *("-c", "--config", "--enable", "--disable", "-i", "--image", "-m", "--model"),
            *("--local-provider", "-p", "--profile", "-s", "--sandbox", "-C", "--cd"),
            *("--add-dir", "--thread-source", "--cyber-access-program", "--output-schema"),
            *("--color", "-o", "--output-last-message"),
        ),
        "passthrough_flags": ("-C", "--cd", "--remote", "-h", "--help", "-V", "--version"),
        "subcommands": (
            *("agents", "review", "login", "logout", "mcp", "mcp-server", "plugin"),
            *("app", "app-server", "remote-control", "completion", "update", "doctor"),
            *("sandbox", "debug", "apply", "a", "resume", "fork", "queue", "archive"),
            *("delete", "unarchive", "migrate-rollouts", "migrate-nfs-db", "cloud"),
            *("exec-server", "features", "help"),
        ),
        "prompt": ("{prompt}",),
        "store": ("CODEX_HOME", "", "~/.codex"),
        "session_glob": "sessions/*/*/*/rollout-*-{id}.jsonl*",
    },
    "gemini": {
        "binary": "gemini",
        "preassign": ("--session-id", "{id}"),
        "resume": ("--resume", "{id}"),
        "headless_flags": ("-p", "--prompt"),
        "headless_resume": ("--resume", "{id}"),
        "headless_value_flags": (),
        "passthrough_flags": (
            *("-r", "--resume", "--session-id", "--session-file", "--list-sessions"),
            *("--delete-session", "-l", "--list-extensions", "--acp", "--experimental-acp"),
            *("-w", "--worktree", "-h", "--help", "-v", "--version"),
        ),
        "subcommands": (
            *("mcp", "extensions", "extension", "skills", "skill", "hooks", "hook"),
            "gemma",
        ),
        "prompt": ("-i", "{prompt}"),
        "store": ("GEMINI_CLI_HOME", ".gemini", "~/.gemini"),
        "session_glob": "tmp/*/chats/session-*-{id8}.json*",
    },
    "copilot": {
        "binary": "copilot",
        "preassign": ("--session-id", "{id}"),
        "resume": ("--resume={id}",),
        "headless_flags": ("-p", "--prompt"),
        "headless_resume": ("--resume={id}",),
        "headless_value_flags": (),
        "passthrough_flags": (
            *("-r", "--resume", "--continue", "--session-id", "--connect", "--acp"),
            *("--environment-host", "-C", "-h", "--help", "-v", "--version"),
        ),
        "subcommands": (
            *("app", "login", "logout", "help", "init", "config", "update", "version"),
            *("workflow", "sessions", "memories", "plugin", "mcp", "skill", "instruction"),
            *("lsp", "sandbox", "completion"),
        ),
        "prompt": ("-i", "{prompt}"),
        "store": ("COPILOT_HOME", "", "~/.copilot"),
        "session_glob": "session-state/{id}/events.jsonl",
    },
    "qwen": {
        "binary": "qwen",
        "preassign": ("--session-id", "{id}"),
        "resume": ("--resume", "{id}"),
        "headless_flags": ("-p", "--prompt"),
        "headless_resume": ("--resume", "{id}"),
        "headless_value_flags": (),
        "passthrough_flags": (
            *("-r", "--resume", "-c", "--continue", "--session-id", "--fork-session"),
            *("--worktree", "--acp", "-l", "--list-extensions", "-h", "--help"),
            *("-v", "--version"),
        ),
        "subcommands": (
            *("auth", "board", "channel", "extensions", "hooks", "mcp", "review"),
            *("sandbox", "serve", "sessions", "update"),
        ),
        "prompt": ("-i", "{prompt}"),
        "store": ("QWEN_RUNTIME_DIR", "", "~/.qwen"),
        # The folder's name is never shortened (unlike Claude's): any project, by the id.
        "session_glob": "projects/*/chats/{id}.jsonl",
    },
    "opencode": {
        # `opencode import` inserts the session a writer made; ids are opencode's own, so
        # no new session can be started on one chosen beforehand.
        "binary": "opencode",
        "preassign": (),
        "resume": ("--session", "{id}"),
        "headless_flags": ("run",),
        "headless_resume": ("--session", "{id}"),
        "headless_value_flags": (
            *("--command", "-m", "--model", "--agent", "--format", "-f", "--file", "--title"),
            *("--attach", "-p", "--password", "-u", "--username", "--dir", "--port"),
            *("--variant", "--log-level"),
        ),
        "passthrough_flags": (
            *("-c", "--continue", "-s", "--session", "--fork", "--attach"),
            *("-h", "--help", "-v", "--version"),
        ),
        "subcommands": (
            *("completion", "acp", "mcp", "attach", "debug", "providers", "auth", "agent"),
            *("upgrade", "uninstall", "serve", "web", "models", "stats", "export", "import"),
            *("github", "pr", "session", "plugin", "plug", "db"),
        ),
        "prompt": ("--prompt", "{prompt}"),
        "store": ("XDG_DATA_HOME", "opencode", "~/.local/share/opencode"),
        "session_glob": "opencode.db",
    },
    "aider": {
        # No session ids: one history per project, restored whole (tether.convert.writers.aider
        # names a history of its own with --chat-history-file when the folder has one).
        "binary": "aider",
        "preassign": (),
        "resume": ("--restore-chat-history",),
        "headless_flags": ("-m", "--message", "-f", "--message-file"),
        "headless_resume": ("--restore-chat-history",),
        "headless_value_flags": (),
        "passthrough_flags": (
            *("--restore-chat-history", "--chat-history-file", "--gui", "--browser"),
            *("-h", "--help", "--version", "--list-models", "--models"),
        ),
        "subcommands": (),
        "prompt": ("--message", "{prompt}"),
        "store": ("", "", "."),
        "session_glob": ".aider.chat.history*.md",
    },
}


def fill(template: Sequence[str], native_id: str) -> list[str]:
    return [word.replace("{id}", native_id) for word in template]


def resume_args(tool: str, native_id: str) -> list[str]:
    """The arguments (after the binary) that resume `native_id` interactively."""
    return fill(SPECS[tool]["resume"], native_id)


def resume_command(tool: str, native_id: str) -> list[str]:
    """The whole argv a user types to resume `native_id` in `tool`."""
    return [SPECS[tool]["binary"], *resume_args(tool, native_id)]


def new_session_args(tool: str, native_id: str) -> list[str] | None:
    """Arguments that start a new session on `native_id`, or None if the tool cannot."""
    template = SPECS[tool]["preassign"]
    return fill(template, native_id) if template else None


def _is_flag(word: str) -> bool:
    return word.startswith("-") and word != "-"


def classify(tool: str, args: Sequence[str]) -> Kind:
    """What the user's arguments ask for: their own session choice or a command that is not
    a conversation ("passthrough"), a headless run, or an interactive conversation.

    Flags count anywhere before "--". A command word counts where a command can stand: first,
    after a headless command word, or after a flag (whose value it may be: then passing
    through is the safe mistake).
    """
    spec = SPECS[tool]
    kind: Kind = "interactive"
    in_command_position = True
    value_may_follow = False
    for word in args:
        if word == "--":
            break
        if _is_flag(word):
            name = word.split("=", 1)[0]
            if name in spec["passthrough_flags"]:
                return "passthrough"
            if name in spec["headless_flags"]:
                kind = "headless"
            value_may_follow = "=" not in word
            continue
        if in_command_position:
            if word in spec["subcommands"]:
                return "passthrough"
            if word in spec["headless_flags"]:
                kind = "headless"
            elif not value_may_follow:
                in_command_position = False
        value_may_follow = False
    return kind


def start_args(tool: str, args: Sequence[str], native_id: str | None) -> list[str]:
    """The arguments that start a new session on `native_id` (None: the tool picks the id)."""
    template = SPECS[tool]["preassign"]
    if native_id is None or not template:
        return list(args)
    return [*fill(template, native_id), *args]


def continue_args(tool: str, args: Sequence[str], kind: Kind, native_id: str) -> list[str]:
    """The arguments that carry on session `native_id` with the user's own `args`."""
    spec = SPECS[tool]
    if kind != "headless":
        return [*fill(spec["resume"], native_id), *args]
    resume = fill(spec["headless_resume"], native_id)
    at = _headless_word_at(tool, args)
    if at is None:
        return [*resume, *args]
    prompt_at = _first_positional(args, at + 1, spec["headless_value_flags"])
    return [*args[:prompt_at], *resume, *args[prompt_at:]]


def _headless_word_at(tool: str, args: Sequence[str]) -> int | None:
    """Where the headless command word (codex `exec`) is, if the run is headless by one."""
    words = {word for word in SPECS[tool]["headless_flags"] if not _is_flag(word)}
    in_command_position = True
    value_may_follow = False
    for at, word in enumerate(args):
        if word == "--":
            return None
        if _is_flag(word):
            value_may_follow = "=" not in word
            continue
        if in_command_position:
            if word in words:
                return at
            if not value_may_follow:
                in_command_position = False
        value_may_follow = False
    return None


def _first_positional(args: Sequence[str], start: int, value_flags: Sequence[str]) -> int:
    """Index of the first argument from `start` that is neither a flag nor a flag's value."""
    at = start
    while at < len(args):
        word = args[at]
        if word == "--" or not _is_flag(word):
            return at
        at += 2 if word in value_flags else 1
    return len(args)


def session_glob(tool: str, native_id: str, cwd: str | None = None) -> str:
    """The glob, below the tool's store root, that matches the file holding `native_id`:
    of a session that ran in `cwd`, else in any folder."""
    pattern = SPECS[tool]["session_glob"]
    if "{cwd_dashed}" in pattern:
        pattern = pattern.replace("{cwd_dashed}", "*" if cwd is None else dashed(cwd))
    return pattern.replace("{id8}", native_id[:8]).replace("{id}", native_id)


def dashed(folder: str) -> str:
    """Claude Code's name for a folder: each character that is not an ASCII letter or digit
    made "-"; a name over 200 characters is cut and gets a hash this cannot know ("-*")."""
    name = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in folder)
    return name if len(name) <= 200 else name[:200] + "-*"


def store_root(tool: str, env: Mapping[str, str], home: str) -> str:
    """The tool's store root (its readers' `store_roots`), from its variable or the default."""
    variable, below, default = SPECS[tool]["store"]
    value = env.get(variable, "").strip()
    if value:
        root = home + value[1:] if value == "~" or value.startswith("~/") else value
        return f"{root}/{below}" if below else root
    return home + default[1:] if default.startswith("~") else default


def prompt_args(tool: str, prompt: str) -> list[str]:
    """The arguments that give an interactive run its first prompt."""
    return [word.replace("{prompt}", prompt) for word in SPECS[tool]["prompt"]]


# ---------------------------------------------------------------------------------------
# The real binary on PATH, never a tether shim


SHIM_MARK = "# tether-shim"
"""The second line of every shim: a file with it on PATH is never taken for a real tool."""


def find_real(binary: str, shim_dir: str, path: str) -> str | None:
    """The first executable `binary` on `path` that is not a tether shim (tether's own folder
    is skipped, and so is any other tether install's shim)."""
    for folder in path.split(os.pathsep):
        if not folder or folder.rstrip("/") == shim_dir:
            continue
        candidate = f"{folder}/{binary}"
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK) and not is_shim(candidate):
            return candidate
    return None


def is_shim(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
    except OSError:
        return False
    return SHIM_MARK.encode() in head
