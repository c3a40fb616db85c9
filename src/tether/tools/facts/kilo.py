"""Kilo Code: the Kilo CLI's `${KILO_DATA_DIR:-$XDG_DATA_HOME/kilo}/kilo.db` (an opencode
fork, npm `@kilocode/cli`, binary `kilo`) and the editor extension's task folders (a Roo
Code fork).

The CLI names its sessions itself, as opencode does: a session a launch began is found
afterwards in kilo.db, read-only (started_since).
"""

from __future__ import annotations

from tether.tools.facts import EDITOR_VARIABLES, editor_storage, is_safe_id, opencode, xdg_data
from tether.tools.facts.opencode import sessions_since

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts import Capability, LaunchSpec

NAME = "kilo"
DISPLAY_NAME = "Kilo Code"
ALIASES: tuple[str, ...] = ("kilo-code", "kilocode", "kilo-cli")
CAPABILITIES: frozenset[Capability] = frozenset({"read", "write", "resume", "autoresume"})
STORE_VARIABLES: tuple[str, ...] = ("KILO_DATA_DIR", "XDG_DATA_HOME", *EDITOR_VARIABLES)
EXTENSION_ID = "kilocode.kilo-code"
APP = "kilo"

assert opencode.LAUNCH is not None
LAUNCH: LaunchSpec | None = {
    # kilo 7.7 (`kilo --help`, `kilo run --help`): opencode's flags and command words.
    "binary": "kilo",
    "preassign": (),
    "resume": ("--session", "{id}"),
    "headless_flags": ("run",),
    "headless_resume": ("--session", "{id}"),
    "headless_value_flags": opencode.LAUNCH["headless_value_flags"],  # `kilo run`'s are its
    "passthrough_flags": (
        *("-c", "--continue", "-s", "--session", "--fork", "--cloud-fork", "--attach"),
        *("--worktree", "-h", "--help", "-v", "--version"),
    ),
    "subcommands": (
        *("completion", "acp", "mcp", "attach", "debug", "auth", "providers", "agent"),
        *("upgrade", "uninstall", "serve", "models", "stats", "export", "import", "github"),
        *("pr", "session", "plugin", "plug", "db", "console", "cloud", "roll-call"),
        *("profile", "remote", "daemon", "config", "worktree", "help"),
    ),
    "prompt": ("--prompt", "{prompt}"),
    "resume_takes_prompt": False,  # as opencode's TUI (kilo 7.7.9: seen in tmux)
}


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    """The CLI's data folder (where the CLI that tether runs keeps sessions), then the
    extension's storage in every editor."""
    return [xdg_data(env, home, APP, "KILO_DATA_DIR"), *editor_storage(env, home, EXTENSION_ID)]


valid_id = is_safe_id
"""The CLI's `ses_…`, or a task's id (its start in milliseconds, or a UUID)."""


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    if native_id.startswith("ses_"):
        return f"{APP}.db"
    return f"tasks/{native_id}/api_conversation_history.json"


def holds_session(path: str, native_id: str) -> bool:
    """A CLI session (`ses_…`) is a row of kilo.db, as opencode's are; a task of the
    extension is its own folder."""
    return not native_id.startswith("ses_") or opencode.holds_session(path, native_id)


def started_since(store: str, cwd: str, since: float, headless: bool) -> list[tuple[str, str]]:
    """The CLI sessions begun in `cwd` at or after `since`, oldest first, as (id, kilo.db)."""
    return sessions_since(f"{store}/{APP}.db", cwd, since)


# MCP: which file configures its MCP servers, and in which shape (tether.mcp.install).


def mcp_config(env: Mapping[str, str], home: str, project: str | None) -> tuple[str, str] | None:
    """(file, shape) of its MCP servers: the user's when `project` is None, else the file in
    that project folder; None where it has none of that scope."""
    if project is not None:
        return f"{project}/.kilocode/mcp.json", "mcpServers"
    return None
