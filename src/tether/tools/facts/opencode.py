"""opencode: every session in one database,
`${OPENCODE_DATA_DIR:-$XDG_DATA_HOME/opencode}/opencode.db`.

opencode names its sessions itself: a session a launch began is found afterwards in that
database, read-only, among the sessions begun since the launch (started_since). The Kilo
CLI, an opencode fork, keeps the same database (tether.tools.facts.kilo).
"""

from __future__ import annotations

from tether.tools.facts import (
    env_dir,
    in_project,
    is_safe_id,
    lookup_readonly,
    query_readonly,
    xdg_data,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts import Capability, LaunchSpec

NAME = "opencode"
DISPLAY_NAME = "opencode"
ALIASES: tuple[str, ...] = ("open-code", "sst-opencode")
CAPABILITIES: frozenset[Capability] = frozenset({"read", "write", "resume", "autoresume"})
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
    # opencode 1.18.33's TUI opened with --session shows that session and drops a --prompt
    # given with it (seen in tmux against the mock: no request, an empty input box).
    "resume_takes_prompt": False,
}
SESSION_ROW = "SELECT 1 FROM session WHERE id = ? LIMIT 1"
SESSIONS_SINCE = (
    "SELECT id, directory FROM session WHERE time_created >= ? AND parent_id IS NULL"
    " ORDER BY time_created, id"
)


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    return [xdg_data(env, home, APP, "OPENCODE_DATA_DIR")]


def valid_id(native_id: str) -> bool:
    """`ses_` and opencode's own letters and digits."""
    return native_id.startswith("ses_") and len(native_id) > 4 and is_safe_id(native_id)


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    """The database that holds every session (which one it holds, only opencode knows)."""
    return f"{APP}.db"


def holds_session(database: str, native_id: str) -> bool:
    """Whether opencode's database still has session `native_id`: `opencode session
    delete` (and the TUI's) removes its row and leaves the file. A database that cannot be
    read says nothing: the session counts as there (tether does not start a new session
    over one it only failed to read)."""
    rows = lookup_readonly(database, SESSION_ROW, (native_id,))
    return rows is None or bool(rows)


def started_since(store: str, cwd: str, since: float, headless: bool) -> list[tuple[str, str]]:
    """The sessions opencode began in the project at `cwd` (there or in a folder of it) at
    or after `since` (epoch seconds), oldest first, as (id, database): sub-agents' (with a
    parent) left out. A headless `opencode run` and the TUI keep the same kind of session:
    `headless` changes nothing."""
    return sessions_since(f"{store}/{APP}.db", cwd, since)


def sessions_since(database: str, cwd: str, since: float) -> list[tuple[str, str]]:
    """opencode's (and its forks') sessions begun in `cwd` since `since`, from `database`."""
    rows = query_readonly(database, SESSIONS_SINCE, (int(since * 1000),))
    return [
        (native_id, database)
        for native_id, directory in rows
        if isinstance(native_id, str) and valid_id(native_id) and in_project(directory, cwd)
    ]


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
