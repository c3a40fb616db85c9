"""Kilo Code: the extension's task folders (a Roo Code fork) and the Kilo CLI's
`${KILO_DATA_DIR:-$XDG_DATA_HOME/kilo}/kilo.db` (an opencode fork)."""

from __future__ import annotations

from tether.tools.facts.common import EDITOR_VARIABLES, editor_storage, is_safe_id, xdg_data

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts.common import Capability, LaunchSpec

NAME = "kilo"
DISPLAY_NAME = "Kilo Code"
ALIASES: tuple[str, ...] = ("kilo-code", "kilocode", "kilo-cli")
CAPABILITIES: frozenset[Capability] = frozenset({"read"})
STORE_VARIABLES: tuple[str, ...] = ("KILO_DATA_DIR", "XDG_DATA_HOME", *EDITOR_VARIABLES)
EXTENSION_ID = "kilocode.kilo-code"
APP = "kilo"
LAUNCH: LaunchSpec | None = None
started_since = None


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    """The extension's storage in every editor, then the CLI's data folder."""
    return [*editor_storage(env, home, EXTENSION_ID), xdg_data(env, home, APP, "KILO_DATA_DIR")]


valid_id = is_safe_id
"""A task's id (its start in milliseconds, or a UUID), or the CLI's `ses_…`."""


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    if native_id.startswith("ses_"):
        return f"{APP}.db"
    return f"tasks/{native_id}/api_conversation_history.json"


# MCP: which file configures its MCP servers, and in which shape (tether.mcp.install).


def mcp_config(env: Mapping[str, str], home: str, project: str | None) -> tuple[str, str] | None:
    """(file, shape) of its MCP servers: the user's when `project` is None, else the file in
    that project folder; None where it has none of that scope."""
    if project is not None:
        return f"{project}/.kilocode/mcp.json", "mcpServers"
    return None
