"""Cline: the Cline CLI's sessions, `<data>/sessions/<id>/<id>.json` and `<id>.messages.json`
(data: `$CLINE_DATA_DIR`, else `$CLINE_DIR/data`, else ~/.cline/data), and the task folders
`tasks/<id>/` of the editor extension (and of the CLI before 3.0), in the editors' storage
and the same data folder.

The CLI names its sessions itself (`<start in ms>_<5 letters>`): a session a launch began is
found afterwards among the session folders named since the launch (started_since).
"""

from __future__ import annotations

from tether.files import is_regular
from tether.statefile import StateError, read_json
from tether.tools.facts import (
    EDITOR_VARIABLES,
    editor_storage,
    env_dir,
    is_safe_id,
    list_dir,
    same_folder,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts import Capability, LaunchSpec

NAME = "cline"
DISPLAY_NAME = "Cline"
ALIASES: tuple[str, ...] = ("claude-dev", "cline-cli")
CAPABILITIES: frozenset[Capability] = frozenset({"read", "write", "resume", "autoresume"})
STORE_VARIABLES: tuple[str, ...] = ("CLINE_DATA_DIR", "CLINE_DIR", *EDITOR_VARIABLES)
EXTENSION_ID = "saoudrizwan.claude-dev"
CANDIDATES = 64
"""At most this many session records are opened per look: only those named since the launch."""

LAUNCH: LaunchSpec | None = {
    # cline 3.0 (`cline --help`): a prompt given as a plain word runs headless; `--id ID`
    # resumes in the TUI only, and drops a prompt given with it.
    "binary": "cline",
    "preassign": (),
    "resume": ("--id", "{id}"),
    "headless_flags": (),
    "headless_resume": (),
    "headless_value_flags": (
        *("--auto-approve", "--thinking", "--compaction", "-P", "--provider", "-k", "--key"),
        *("-m", "--model", "-s", "--system", "--retries", "-t", "--timeout", "--hooks-dir"),
    ),
    "passthrough_flags": (
        *("--id", "-c", "--cwd", "--config", "--data-dir", "--worktree", "-z", "--zen"),
        *("--acp", "--kanban", "--update", "-V", "--version", "-h", "--help"),
    ),
    "subcommands": (
        *("auth", "config", "plugin", "skill", "connect", "mcp", "doctor", "history", "h"),
        *("hook", "schedule", "hub", "dashboard", "update", "version", "kanban", "help"),
    ),
    "prompt": ("-i", "{prompt}"),
    "positional_prompt": "headless",
    "interactive_flags": ("-i", "--tui"),
    "resume_takes_prompt": False,
}


def data_dir(env: Mapping[str, str], home: str) -> str:
    """`$CLINE_DATA_DIR`, else `$CLINE_DIR/data`, else ~/.cline/data."""
    configured = env_dir(env, "CLINE_DATA_DIR", home)
    return configured or f"{env_dir(env, 'CLINE_DIR', home) or home + '/.cline'}/data"


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    """The CLI's data folder (where the CLI tether runs keeps its sessions), then every
    editor's storage."""
    return [data_dir(env, home), *editor_storage(env, home, EXTENSION_ID)]


valid_id = is_safe_id
"""The CLI's `1796595836679_q0nxa`; a task's start in milliseconds, or a UUID."""


def is_cli_id(native_id: str) -> bool:
    """An id of the CLI's sessions (`<ms>_<letters>`), not of a task folder."""
    stamp, underscore, rest = native_id.partition("_")
    return bool(underscore) and stamp.isdigit() and rest.isalnum()


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    if is_cli_id(native_id):
        return f"sessions/{native_id}/{native_id}.messages.json"
    return f"tasks/{native_id}/api_conversation_history.json"


def started_since(store: str, cwd: str, since: float, headless: bool) -> list[tuple[str, str]]:
    """The sessions the CLI began in `cwd` at or after `since` (epoch seconds), oldest first,
    as (id, messages file): by the kind of run the launch was (a headless run records
    `interactive: false`); sub-agents' left out.

    A session's folder is named by its start in milliseconds: only names from `since` on
    are opened (at most CANDIDATES), and of each only its small record `<id>.json`.
    """
    first = int(since * 1000) - 1000
    found: list[tuple[str, str]] = []
    names = [n for n in list_dir(f"{store}/sessions") if is_cli_id(n) and _started(n) >= first]
    for name in sorted(names, key=_started)[:CANDIDATES]:
        folder = f"{store}/sessions/{name}"
        try:
            record = read_json(f"{folder}/{name}.json")
        except StateError:
            continue
        if not record or record.get("session_id") != name or record.get("is_subagent"):
            continue
        ran = record.get("interactive")
        if record.get("parent_session_id") or (isinstance(ran, bool) and ran == headless):
            continue
        where = record.get("workspace_root") or record.get("cwd")
        messages = f"{folder}/{name}.messages.json"
        if same_folder(where, cwd) and is_regular(messages):
            found.append((name, messages))
    return found


def _started(name: str) -> int:
    return int(name.partition("_")[0])
