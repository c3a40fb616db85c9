"""Per-project auto-resume: which arguments a launch through a shim gets, and its state.

Each tool's session for a project is recorded in `<root>/.tether/autoresume/<tool>.json`.
The shim runs this on every launch, so it imports only `os`, `time` and tether's stdlib-only
modules; work is a few stats on the usual path, whatever the size of the tool's history.
"""

from __future__ import annotations

import os

from tether.autoresume import OFF_SWITCH
from tether.statefile import Lock, StateError, project_root, read_json, state_dir, write_json
from tether.tools import facts, launch
from tether.tools.facts import checked_session, find_session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import ModuleType
    from typing import Any

    from tether.tools.launch import Kind

    State = dict[str, Any]

STATE_FOLDER = "autoresume"
STATE_VERSION = 1
HEADLESS_SWITCH = "TETHER_AUTORESUME_HEADLESS"
AI_SESSION_MANAGER = (".ai-session-manager", ".git/ai-session-manager")
"""Where ai-session-manager keeps `<tool>.json` ({"resume_target": id, …}), newest first."""


class Launch:
    """What the shim runs: the real tool's arguments, the folder to run in (None: where the
    user is), and one line for stderr (None: nothing to say)."""

    __slots__ = ("args", "cwd", "note")

    def __init__(self, args: list[str], cwd: str | None = None, note: str | None = None):
        self.args = args
        self.cwd = cwd
        self.note = note


class Decision:
    """How the next managed launch starts: resume `session_id`, or start a new session
    (`session_id` pre-assigned, or None when the tool names it); `state` to write, if any."""

    __slots__ = ("new", "note", "session_file", "session_id", "state")

    def __init__(
        self,
        new: bool,
        session_id: str | None,
        note: str,
        state: State | None,
        session_file: str | None = None,
    ):
        self.new = new
        self.session_id = session_id
        self.note = note
        self.state = state
        self.session_file = session_file


def state_path(root: str, tool: str) -> str:
    return f"{root}/.tether/{STATE_FOLDER}/{tool}.json"


def plan(
    tool: str,
    args: Sequence[str],
    env: Mapping[str, str],
    cwd: str,
    now: float,
    config: str | None = None,
    real: str | None = None,
    shim_dir: str | None = None,
) -> Launch:
    """The launch for the user's `args` in `cwd`. Raises on any trouble (StateError for a
    state file that cannot be used): the shim then runs the tool as typed.

    `real` is the binary the shim will exec and `shim_dir` the shims' folder: with both, the
    shim's sh fast path is kept in step with the state (tether.autoresume.fastfile), for the
    next plain launch to skip python."""
    if env.get(OFF_SWITCH, "").strip() == "0":
        return Launch(list(args))
    kind = launch.classify(tool, args)
    if kind == "passthrough" or (kind == "headless" and not headless_on(env, config)[0]):
        return Launch(list(args))
    if kind == "headless" and not launch.resumes_headless(tool):
        return Launch(list(args))  # its resume would turn the run interactive
    root = project_root(cwd)
    path = state_path(root, tool)
    try:
        state = read_json(path)
        decision = decide(tool, state, root, env, kind, now)
        if decision.state is not None:
            with Lock(path + ".lock"):
                fresh = read_json(path)
                if fresh != state:  # another launch wrote first: decide on what it wrote
                    decision = decide(tool, fresh, root, env, kind, now)
                if decision.state is not None:
                    state_dir(root)
                    write_json(path, decision.state)
                    fast = decision if not decision.new else None
                    fastfile().written(tool, path, root, env, real, shim_dir, fast)
        elif state is not None and not decision.new and not args:
            fastfile().refresh(tool, path, state, root, env, real, shim_dir, decision)
    except StateError as exc:
        raise StateError(f"{exc}; `tether reset {tool}` starts afresh") from exc
    if decision.new:
        args = launch.start_args(tool, args, decision.session_id)
    else:
        assert decision.session_id is not None
        args = launch.continue_args(tool, args, kind, decision.session_id)
    return Launch(args, root, f"tether: {tool}: {decision.note}")


def fastfile() -> ModuleType:
    """tether.autoresume.fastfile, imported when a launch needs it (a state write, a plain
    resume)."""
    from tether.autoresume import fastfile

    return fastfile


def decide(
    tool: str,
    state: State | None,
    root: str,
    env: Mapping[str, str],
    kind: Kind,
    now: float,
) -> Decision:
    """Resume the recorded session if its tool still has it (its file; its row, for a
    tool that keeps a database); else pick up a session the
    tool named itself (codex) since the recorded launch; else start a new one."""
    tool_facts = facts.get(tool)
    store = tool_facts.store_roots(env, home(env))[0]
    migrated = False
    if state is None:
        state = from_ai_session_manager(root, tool)
        migrated = state is not None
    check(tool, state)
    gone = ""
    session_id = state.get("session_id") if state else None
    if state and isinstance(session_id, str):
        found = session_file(tool, session_id, state.get("session_file"), root, store)
        if found:
            changed = migrated or found != state.get("session_file")
            write = {**state, "session_file": found} if changed else None
            taken = "carrying on ai-session-manager's" if migrated else "resuming"
            note = f"{taken} session {session_id} ({root})"
            return Decision(False, session_id, note, write, found)
        gone = f"session {session_id} is gone (never used, or deleted); "
    elif state and isinstance(state.get("launched_at"), (int, float)) and tool_facts.started_since:
        picked = tool_facts.started_since(
            store, root, float(state["launched_at"]), bool(state.get("headless"))
        )
        if picked:
            session_id, found = picked[0]
            write = {**state, "session_id": session_id, "session_file": found}
            note = f"resuming session {session_id} ({root})"
            return Decision(False, session_id, note, write, found)
    new_id = new_session_id() if launch.spec(tool)["preassign"] else None
    named = f"new session {new_id}" if new_id else "new session (its id is read at the next launch)"
    write = {
        "version": STATE_VERSION,
        "tool": tool,
        "session_id": new_id,
        "session_file": None,
        "cwd": root,
        "launched_at": now,
        "headless": kind == "headless",
        "origin": "tether",
    }
    return Decision(True, new_id, f"{gone}{named} ({root})", write)


def check(tool: str, state: State | None) -> None:
    """StateError unless `state` has the shape this version writes, with a session id of the
    tool's own shape: a state file may come with a cloned project, and nothing in it may
    reach the tool's argv but an id."""
    if state is None:
        return
    if state.get("version") != STATE_VERSION:
        raise StateError(f"state version {state.get('version')!r} is not {STATE_VERSION}")
    expected = {
        "session_id": (str, type(None)),
        "session_file": (str, type(None)),
        "launched_at": (int, float, type(None)),
        "headless": (bool, type(None)),
    }
    for key, types in expected.items():
        if not isinstance(state.get(key), types):
            raise StateError(f"state field {key!r} is {state.get(key)!r}")
    session_id = state.get("session_id")
    if session_id is not None and not facts.get(tool).valid_id(session_id):
        raise StateError(f"state field 'session_id' is {session_id!r}, not a {tool} session id")


def reset_state(tool: str, now: float) -> State:
    """The state `tether reset` leaves: no session, so the next launch starts a new one (and
    ai-session-manager's old state is not taken over again)."""
    return {
        "version": STATE_VERSION,
        "tool": tool,
        "session_id": None,
        "session_file": None,
        "launched_at": None,
        "headless": None,
        "origin": "reset",
        "reset_at": now,
    }


def from_ai_session_manager(root: str, tool: str) -> State | None:
    """ai-session-manager's session for this tool and project, as tether's state."""
    name = launch.binary(tool)  # ai-session-manager names its state by binary (agy)
    for folder in AI_SESSION_MANAGER:
        path = f"{root}/{folder}/{name}.json"
        try:
            theirs = read_json(path)
        except StateError:
            continue
        target = theirs.get("resume_target") if theirs else None
        if isinstance(target, str) and facts.get(tool).valid_id(target.strip()):
            return {
                "version": STATE_VERSION,
                "tool": tool,
                "session_id": target.strip(),
                "session_file": None,
                "cwd": root,
                "launched_at": None,
                "headless": None,
                "origin": "ai-session-manager",
                "migrated_from": path,
            }
    return None


def session_file(tool: str, session_id: str, recorded: object, root: str, store: str) -> str | None:
    """Where the session's file is: the recorded path if it is still where the tool keeps
    that session (a state file may come from anyone: a path elsewhere is not taken), else
    the tool's file of that session for `root`."""
    tool_facts = facts.get(tool)
    checked = checked_session(tool_facts, store, session_id, recorded, root)
    return checked or find_session(tool_facts, store, session_id, root)


def headless_on(env: Mapping[str, str], config: str | None) -> tuple[bool, str]:
    """Whether headless runs resume too, and what said so: the environment variable, else
    tether's config file (`[autoresume] headless = true`), else off."""
    value = env.get(HEADLESS_SWITCH, "").strip().lower()
    if value:
        return value in ("1", "true", "yes", "on"), f"${HEADLESS_SWITCH}"
    if config and os.path.isfile(config):
        import tomllib

        with open(config, "rb") as fh:
            table = tomllib.load(fh).get("autoresume", {})
        setting = table.get("headless") if isinstance(table, dict) else None
        if isinstance(setting, bool):
            return setting, config
    return False, "default"


def home(env: Mapping[str, str]) -> str:
    return env.get("HOME") or os.path.expanduser("~")


def new_session_id() -> str:
    """A random UUID (version 4), without the uuid module's import cost."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
