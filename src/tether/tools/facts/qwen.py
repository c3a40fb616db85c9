"""Qwen Code: `~/.qwen/projects/<folder name of the cwd>/chats/<uuid>.jsonl`."""

from __future__ import annotations

from tether.tools.facts import env_dir, is_uuid, js_dashed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts import Capability, LaunchSpec

NAME = "qwen"
DISPLAY_NAME = "Qwen Code"
ALIASES: tuple[str, ...] = ("qwen-code", "qwencode")
CAPABILITIES: frozenset[Capability] = frozenset({"read", "write", "resume", "autoresume"})
STORE_VARIABLES: tuple[str, ...] = ("QWEN_RUNTIME_DIR",)

LAUNCH: LaunchSpec | None = {
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
}
started_since = None
"""Qwen Code takes the id tether gives it (--session-id)."""


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    """`$QWEN_RUNTIME_DIR` (where the CLI writes while it is set), and ~/.qwen."""
    runtime = env_dir(env, "QWEN_RUNTIME_DIR", home)
    return list(dict.fromkeys([*([runtime] if runtime else []), f"{home}/.qwen"]))


valid_id = is_uuid


def folder_name(cwd: str) -> str:
    """The CLI's folder for a project (storage sanitizeCwd: `[^a-zA-Z0-9]` to `-` per UTF-16
    unit, never cut or hashed)."""
    return js_dashed(cwd)


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    return f"projects/{'*' if cwd is None else folder_name(cwd)}/chats/{native_id}.jsonl"


# MCP: which file configures its MCP servers, and in which shape (tether.mcp.install).


def mcp_config(env: Mapping[str, str], home: str, project: str | None) -> tuple[str, str] | None:
    """(file, shape) of its MCP servers: the user's when `project` is None, else the file in
    that project folder; None where it has none of that scope."""
    if project is not None:
        return f"{project}/.qwen/settings.json", "qwen"
    return f"{home}/.qwen/settings.json", "qwen"
