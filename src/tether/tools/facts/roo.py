"""Roo Code: task folders `tasks/<id>/` in the editors' extension storage."""

from __future__ import annotations

from tether.tools.facts import EDITOR_VARIABLES, editor_storage, is_safe_id

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts import Capability, LaunchSpec

NAME = "roo"
DISPLAY_NAME = "Roo Code"
ALIASES: tuple[str, ...] = ("roo-code", "roocode", "roo-cline")
CAPABILITIES: frozenset[Capability] = frozenset({"read"})
STORE_VARIABLES: tuple[str, ...] = EDITOR_VARIABLES
EXTENSION_ID = "rooveterinaryinc.roo-cline"
LAUNCH: LaunchSpec | None = None
started_since = None


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    return editor_storage(env, home, EXTENSION_ID)


valid_id = is_safe_id


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    return f"tasks/{native_id}/api_conversation_history.json"


# MCP: which file configures its MCP servers, and in which shape (tether.mcp.install).


def mcp_config(env: Mapping[str, str], home: str, project: str | None) -> tuple[str, str] | None:
    """(file, shape) of its MCP servers: the user's when `project` is None, else the file in
    that project folder; None where it has none of that scope."""
    if project is not None:  # the user's own list lives in each editor's storage
        return f"{project}/.roo/mcp.json", "mcpServers"
    return None
