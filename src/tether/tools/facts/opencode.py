"""opencode: every session in one database,
`${OPENCODE_DATA_DIR:-$XDG_DATA_HOME/opencode}/opencode.db`."""

from __future__ import annotations

from tether.tools.facts.common import env_dir, is_safe_id, xdg_data

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts.common import Capability, LaunchSpec

NAME = "opencode"
DISPLAY_NAME = "opencode"
ALIASES: tuple[str, ...] = ("open-code", "sst-opencode")
CAPABILITIES: frozenset[Capability] = frozenset({"read", "write", "resume"})
STORE_VARIABLES: tuple[str, ...] = ("OPENCODE_DATA_DIR", "XDG_DATA_HOME")
APP = "opencode"

LAUNCH: LaunchSpec | None = {
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
}
started_since = None
"""Not yet: opencode sessions are named by opencode (issue: auto-resume for every tool)."""


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    return [xdg_data(env, home, APP, "OPENCODE_DATA_DIR")]


def valid_id(native_id: str) -> bool:
    """`ses_` and opencode's own letters and digits."""
    return native_id.startswith("ses_") and len(native_id) > 4 and is_safe_id(native_id)


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    """The database that holds every session (which one it holds, only opencode knows)."""
    return f"{APP}.db"


# MCP: which file configures its MCP servers, and in which shape (tether.mcp.install).


def mcp_config(env: Mapping[str, str], home: str, project: str | None) -> tuple[str, str] | None:
    """(file, shape) of its MCP servers: the user's when `project` is None, else the file in
    that project folder; None where it has none of that scope."""
    if project is not None:
        return f"{project}/opencode.json", "opencode"
    configured = env.get("OPENCODE_CONFIG", "").strip()
    if configured:
        return configured, "opencode"
    xdg = env_dir(env, "XDG_CONFIG_HOME", home) or f"{home}/.config"
    return f"{xdg}/opencode/opencode.json", "opencode"
