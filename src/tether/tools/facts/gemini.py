"""Gemini CLI: `$GEMINI_CLI_HOME/.gemini/tmp/<project>/chats/session-<time>-<id8>.json[l]`."""

from __future__ import annotations

from tether.tools.facts import HEX, env_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts import Capability, LaunchSpec

NAME = "gemini"
DISPLAY_NAME = "Gemini CLI"
ALIASES: tuple[str, ...] = ("gemini-cli", "google-gemini")
CAPABILITIES: frozenset[Capability] = frozenset({"read", "write", "resume", "autoresume"})
STORE_VARIABLES: tuple[str, ...] = ("GEMINI_CLI_HOME",)

LAUNCH: LaunchSpec | None = {
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
}
started_since = None
"""Gemini CLI takes the id tether gives it (--session-id)."""


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    """`$GEMINI_CLI_HOME/.gemini` (the variable replaces the home directory), else ~/.gemini."""
    return [f"{env_dir(env, 'GEMINI_CLI_HOME', home) or home}/.gemini"]


def valid_id(native_id: str) -> bool:
    """A UUID, or one with `_` for its fifth character (the ids tether gives the sessions it
    writes, so that the CLI's clean-up cannot take them: see tether.convert.writers.gemini)."""
    return len(native_id) == 36 and all(
        ch == "-" if at in (8, 13, 18, 23) else ch in HEX or (at == 4 and ch == "_")
        for at, ch in enumerate(native_id)
    )


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    """Any project's chats: the folder of a project is the CLI's own choice (projects.json).
    The file ends in the id's first 8 characters, or in a suffix of tether's after them."""
    return f"tmp/*/chats/session-*-{native_id[:8]}*.json*"


# MCP: which file configures its MCP servers, and in which shape (tether.mcp.install).


def mcp_config(env: Mapping[str, str], home: str, project: str | None) -> tuple[str, str] | None:
    """(file, shape) of its MCP servers: the user's when `project` is None, else the file in
    that project folder; None where it has none of that scope."""
    if project is not None:
        return f"{project}/.gemini/settings.json", "mcpServers"
    return f"{store_roots(env, home)[0]}/settings.json", "mcpServers"
