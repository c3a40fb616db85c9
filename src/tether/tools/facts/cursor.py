"""Cursor: the editor's `User/globalStorage/state.vscdb` and the cursor-agent CLI's
`~/.cursor/projects/<folder>/agent-transcripts/<id>/<id>.jsonl` and `chats/*/<id>/store.db`."""

from __future__ import annotations

from tether.tools.facts.common import env_dir, is_uuid

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts.common import Capability, LaunchSpec

NAME = "cursor"
DISPLAY_NAME = "Cursor"
ALIASES: tuple[str, ...] = ("cursor-agent", "cursor-cli", "cursor-ide")
CAPABILITIES: frozenset[Capability] = frozenset({"read"})
STORE_VARIABLES: tuple[str, ...] = ("CURSOR_CONFIG_DIR", "XDG_CONFIG_HOME")
LAUNCH: LaunchSpec | None = None
started_since = None


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


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    return f"projects/*/agent-transcripts/{native_id}/{native_id}.jsonl"


# MCP: which file configures its MCP servers, and in which shape (tether.mcp.install).


def mcp_config(env: Mapping[str, str], home: str, project: str | None) -> tuple[str, str] | None:
    """(file, shape) of its MCP servers: the user's when `project` is None, else the file in
    that project folder; None where it has none of that scope."""
    if project is not None:
        return f"{project}/.cursor/mcp.json", "mcpServers"
    return f"{home}/.cursor/mcp.json", "mcpServers"
