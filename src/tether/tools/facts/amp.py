"""Amp (Sourcegraph): `${XDG_DATA_HOME:-~/.local/share}/amp/threads/T-<uuid>.json`, and the
VS Code extension's `threads3/` in its editor storage."""

from __future__ import annotations

from tether.tools.facts import EDITOR_VARIABLES, editor_storage, env_dir, is_uuid

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts import Capability, LaunchSpec

NAME = "amp"
DISPLAY_NAME = "Amp"
ALIASES: tuple[str, ...] = ("ampcode", "sourcegraph-amp")
CAPABILITIES: frozenset[Capability] = frozenset({"read"})
STORE_VARIABLES: tuple[str, ...] = ("XDG_DATA_HOME", *EDITOR_VARIABLES)
EXTENSION_ID = "sourcegraph.amp"
LAUNCH: LaunchSpec | None = None
started_since = None


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    """`$XDG_DATA_HOME/amp` (else ~/.local/share/amp, on macOS too), and the VS Code
    extension's global storage in every editor."""
    xdg = env_dir(env, "XDG_DATA_HOME", home)
    roots = [*([f"{xdg}/amp"] if xdg else []), f"{home}/.local/share/amp"]
    roots.extend(editor_storage(env, home, EXTENSION_ID))
    return list(dict.fromkeys(roots))


def valid_id(native_id: str) -> bool:
    """`T-` and a UUID."""
    return native_id.startswith("T-") and is_uuid(native_id[2:])


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    return f"threads*/{native_id}.json"


# MCP: which file configures its MCP servers, and in which shape (tether.mcp.install).


def mcp_config(env: Mapping[str, str], home: str, project: str | None) -> tuple[str, str] | None:
    """(file, shape) of its MCP servers: the user's when `project` is None, else the file in
    that project folder; None where it has none of that scope."""
    if project is not None:
        return f"{project}/.amp/settings.json", "amp"
    xdg = env_dir(env, "XDG_CONFIG_HOME", home) or f"{home}/.config"
    return f"{xdg}/amp/settings.json", "amp"
