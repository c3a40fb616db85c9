"""GitHub Copilot CLI: `$COPILOT_HOME/session-state/<uuid>/events.jsonl` (and older flat files)."""

from __future__ import annotations

from tether.tools.facts import env_dir, is_uuid

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts import Capability, LaunchSpec

NAME = "copilot"
DISPLAY_NAME = "Copilot CLI"
ALIASES: tuple[str, ...] = ("copilot-cli", "github-copilot", "gh-copilot")
CAPABILITIES: frozenset[Capability] = frozenset({"read", "write", "resume", "autoresume"})
STORE_VARIABLES: tuple[str, ...] = ("COPILOT_HOME",)

LAUNCH: LaunchSpec | None = {
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
}
started_since = None
"""Copilot CLI takes the id tether gives it (--session-id)."""


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    return [env_dir(env, "COPILOT_HOME", home) or f"{home}/.copilot"]


valid_id = is_uuid


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    return f"session-state/{native_id}/events.jsonl"


# MCP: which file configures its MCP servers, and in which shape (tether.mcp.install).


def mcp_config(env: Mapping[str, str], home: str, project: str | None) -> tuple[str, str] | None:
    """(file, shape) of its MCP servers: the user's when `project` is None, else the file in
    that project folder; None where it has none of that scope."""
    if project is not None:  # the workspace's .mcp.json, shared with Claude Code
        return f"{project}/.mcp.json", "claude"
    return f"{store_roots(env, home)[0]}/mcp-config.json", "copilot"
