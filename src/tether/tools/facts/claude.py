"""Claude Code: `<config>/projects/<folder name of the cwd>/<uuid>.jsonl`."""

from __future__ import annotations

from tether.tools.facts import env_dir, is_uuid, js_dashed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts import Capability, LaunchSpec

NAME = "claude"
DISPLAY_NAME = "Claude Code"
ALIASES: tuple[str, ...] = ("claude-code", "claudecode")
CAPABILITIES: frozenset[Capability] = frozenset({"read", "write", "resume", "autoresume"})
STORE_VARIABLES: tuple[str, ...] = ("CLAUDE_CONFIG_DIR",)
MAX_FOLDER_NAME = 200
"""Longer folder names are cut and get a hash of the whole path."""

LAUNCH: LaunchSpec | None = {
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
}
started_since = None
"""Claude Code takes the id tether gives it (--session-id)."""


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    return [env_dir(env, "CLAUDE_CONFIG_DIR", home) or f"{home}/.claude"]


valid_id = is_uuid


def folder_name(cwd: str) -> str:
    """The CLI's folder name for a project: every UTF-16 unit that is not [A-Za-z0-9]
    becomes '-'; names over 200 characters are cut and get a hash of the whole path.

    Lossy, so readers take the cwd from the records, never from this name. For long paths
    the CLI (Bun) may use another hash than this one: look an existing one up by prefix.
    """
    name = js_dashed(cwd)
    if len(name) <= MAX_FOLDER_NAME:
        return name
    return f"{name[:MAX_FOLDER_NAME]}-{simple_hash(cwd)}"


def simple_hash(text: str) -> str:
    """JavaScript `(h << 5) - h + charCode | 0` over UTF-16 units, absolute, in base 36."""
    data = text.encode("utf-16-le", "surrogatepass")
    h = 0
    for at in range(0, len(data), 2):
        h = ((h << 5) - h + (data[at] | data[at + 1] << 8)) & 0xFFFFFFFF
    if h >= 0x80000000:
        h -= 0x100000000
    h = abs(h)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        h, rest = divmod(h, 36)
        out = digits[rest] + out
        if not h:
            return out


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    if cwd is None:
        folder = "*"
    else:
        folder = folder_name(cwd)
        if len(folder) > MAX_FOLDER_NAME:  # the CLI's hash may not be ours: any hash
            folder = folder[:MAX_FOLDER_NAME] + "-*"
    return f"projects/{folder}/{native_id}.jsonl"


# MCP: which file configures its MCP servers, and in which shape (tether.mcp.install).


def mcp_config(env: Mapping[str, str], home: str, project: str | None) -> tuple[str, str] | None:
    """(file, shape) of its MCP servers: the user's when `project` is None, else the file in
    that project folder; None where it has none of that scope."""
    if project is not None:
        return f"{project}/.mcp.json", "claude"
    return f"{env_dir(env, 'CLAUDE_CONFIG_DIR', home) or home}/.claude.json", "claude"
