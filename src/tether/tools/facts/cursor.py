"""Cursor: the cursor-agent CLI's `~/.cursor/chats/<md5 of the folder>/<chat id>/store.db`
(its chats) and `~/.cursor/projects/<folder>/agent-transcripts/<id>/<id>.jsonl` (their
transcripts), and the editor's `User/globalStorage/state.vscdb`.

cursor-agent names its chats itself: a chat a launch began is found afterwards among the
chat folders of the launch's folder made since the launch (started_since).
"""

from __future__ import annotations

import os

from tether.files import is_regular
from tether.statefile import StateError, read_json
from tether.tools.facts import as_node_sees, env_dir, is_uuid, list_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts import Capability, LaunchSpec

NAME = "cursor"
DISPLAY_NAME = "Cursor"
ALIASES: tuple[str, ...] = ("cursor-agent", "cursor-cli", "cursor-ide")
CAPABILITIES: frozenset[Capability] = frozenset({"read", "resume", "autoresume"})
STORE_VARIABLES: tuple[str, ...] = ("CURSOR_CONFIG_DIR", "XDG_CONFIG_HOME")
STORE = "store.db"

LAUNCH: LaunchSpec | None = {
    # cursor-agent's documented arguments: `--resume ID` (or `=ID`) resumes a chat, `resume`
    # the latest, `-p/--print PROMPT` runs headless (`--resume ID` works there too).
    "binary": "cursor-agent",
    "preassign": (),
    "resume": ("--resume", "{id}"),
    "headless_flags": ("-p", "--print"),
    "headless_resume": ("--resume", "{id}"),
    "headless_value_flags": (),
    "passthrough_flags": (
        *("--resume", "--continue", "--workspace", "--worktree", "-h", "--help"),
        *("-v", "--version"),
    ),
    "subcommands": (
        *("agent", "ls", "resume", "status", "whoami", "login", "logout", "mcp", "update"),
        *("upgrade", "create-chat", "install-shell-integration"),
        *("uninstall-shell-integration", "generate-rule", "rule", "about", "help", "acp"),
    ),
    "prompt": ("{prompt}",),
}


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    """The CLI's folder (`$CURSOR_CONFIG_DIR`, and ~/.cursor) and the editor's global
    storage on Linux (`$XDG_CONFIG_HOME/Cursor`, else ~/.config/Cursor) and macOS."""
    configured = env_dir(env, "CURSOR_CONFIG_DIR", home)
    roots = [*([configured] if configured else []), f"{home}/.cursor"]
    xdg = env_dir(env, "XDG_CONFIG_HOME", home)
    configs = [*([xdg] if xdg else []), f"{home}/.config", f"{home}/Library/Application Support"]
    roots.extend(f"{folder}/Cursor/User/globalStorage" for folder in configs)
    return list(dict.fromkeys(roots))


valid_id = is_uuid


def chats_folder(cwd: str) -> str:
    """The CLI's folder of a workspace's chats: the md5 of its path (as Node.js sees it:
    UTF-8), in hex. hashlib is imported here: only a cursor launch pays for it."""
    from hashlib import md5

    return md5(as_node_sees(cwd).encode(), usedforsecurity=False).hexdigest()


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    """The chat's own store (its transcript may be written later, or not at all)."""
    return f"chats/{'*' if cwd is None else chats_folder(cwd)}/{native_id}/{STORE}"


def started_since(store: str, cwd: str, since: float, headless: bool) -> list[tuple[str, str]]:
    """The chats cursor-agent began in `cwd` at or after `since` (epoch seconds), oldest
    first, as (id, store.db): by `createdAtMs` of the chat's meta.json, else by when its
    folder was made."""
    folder = f"{store}/chats/{chats_folder(cwd)}"
    found: list[tuple[float, str, str]] = []
    for name in list_dir(folder):
        path = f"{folder}/{name}/{STORE}"
        if not is_uuid(name) or not is_regular(path):
            continue
        began = _created(f"{folder}/{name}")
        if began >= since - 1:
            found.append((began, name, path))
    return [(name, path) for _, name, path in sorted(found)]


def _created(chat: str) -> float:
    try:
        meta = read_json(f"{chat}/meta.json")
    except StateError:
        meta = None
    stamp = meta.get("createdAtMs") if meta else None
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        return float(stamp) / 1000
    try:
        return os.stat(chat).st_mtime
    except OSError:
        return 0.0


# MCP: which file configures its MCP servers, and in which shape (tether.mcp.install).


def mcp_config(env: Mapping[str, str], home: str, project: str | None) -> tuple[str, str] | None:
    """(file, shape) of its MCP servers: the user's when `project` is None, else the file in
    that project folder; None where it has none of that scope."""
    if project is not None:
        return f"{project}/.cursor/mcp.json", "mcpServers"
    return f"{home}/.cursor/mcp.json", "mcpServers"
