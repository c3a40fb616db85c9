"""The shim's /bin/sh fast path: what python decided for a project, kept where sh reads it.

A plain launch (`claude`, no arguments) of a tool whose project session is known would
start python only to read the state, check the session's file and exec `claude --resume
ID`. The shim script (tether.autoresume.shims) does that itself from a fast file that
python writes in the shims' own folder, `<shims>/.fast/<tool><project root>.fast`:

    tether-fast 2
    root=<the project root the python path found>
    home=<$HOME it ran with>
    store=<the values of the tool's store variables ($CLAUDE_CONFIG_DIR …), ":"-joined>
    real=<the real binary it found on PATH, an absolute path>
    id=<the session id python resumed>
    file=<the session's file, checked to be where the tool keeps it>

The python path stays the authority, and the sh path trusts nothing of the project's: it
runs only when every header line matches what it sees, the project's state file is a
regular file no newer than the fast file (a state that was reset, replaced, edited, checked
out or removed since sends the launch to python), and the session's file is still there.
The id and the file come from the fast file, which only tether writes, after python
checked both (tether.tools.facts): a project cloned from a stranger cannot put an argument
in front of the tool. Anything else: no fast file, and every launch decides in python; so
too for a tool whose sessions are rows of one database (opencode, Kilo's CLI), where the
file stays when a session is deleted.

It is replaced atomically (rename) but not fsync'd: a crash can leave it empty or torn, and
then it matches nothing and the launch goes to python, which writes it again.
"""

from __future__ import annotations

import os

from tether.statefile import Lock, StateError, read_json, read_text, write_atomic
from tether.tools import facts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Protocol

    class Resumed(Protocol):
        session_id: str | None
        session_file: str | None


MAGIC = "tether-fast 2"
FOLDER = ".fast"
LIMIT = 1 << 16


def fast_path(shim_dir: str, tool: str, root: str) -> str:
    """The fast file of `tool` in the project at `root` (an absolute path)."""
    return f"{shim_dir}/{FOLDER}/{tool}{root}.fast"


def legacy_path(state_path: str) -> str:
    """Where tether 0.1 kept it, beside the state: removed, never read."""
    return state_path.removesuffix(".json") + ".fast"


def store_value(tool: str, env: Mapping[str, str]) -> str:
    """The tool's store variables as the shim script joins them."""
    return ":".join(env.get(name, "") for name in facts.get(tool).STORE_VARIABLES)


def render(
    tool: str, root: str, env: Mapping[str, str], real: str | None, resumed: Resumed
) -> str | None:
    """The fast file for a session python resumes, or None when the sh path could not take
    it exactly as python would (then there must be no fast file)."""
    home = env.get("HOME", "")
    session_id, session_file = resumed.session_id, resumed.session_file
    if not home or real is None or not real.startswith("/") or not root.startswith("/"):
        return None
    if session_id is None or session_file is None or not facts.get(tool).valid_id(session_id):
        return None
    if getattr(facts.get(tool), "holds_session", None) is not None:
        return None  # its file is a database of every session: sh cannot see one deleted
    lines = [
        MAGIC,
        f"root={root}",
        f"home={home}",
        f"store={store_value(tool, env)}",
        f"real={real}",
        f"id={session_id}",
        f"file={session_file}",
    ]
    if any("\n" in line or "\r" in line or "\0" in line for line in lines):
        return None
    return "\n".join(lines) + "\n"


def refresh(
    tool: str,
    state_path: str,
    state: Mapping[str, Any],
    root: str,
    env: Mapping[str, str],
    real: str | None,
    shim_dir: str | None,
    resumed: Resumed,
) -> None:
    """Make the fast file match `state`, which python has just decided to resume as it is.

    Reads only when the fast file is current already (the usual case); else rewrites it
    under the state's lock, if the state is still `state`. Never raises: the fast file is a
    shortcut, and the launch goes on without it.
    """
    if shim_dir is None:
        return
    path = fast_path(shim_dir, tool, root)
    try:
        wanted = render(tool, root, env, real, resumed)
        if wanted is not None and _current(path, state_path, wanted):
            return
        with Lock(state_path + ".lock"):
            if _state(state_path) != state or wanted is None:
                _remove(path)  # another launch moved on: its own python path decides
            else:
                write_atomic(path, wanted, mode=0o600, sync=False)
    except (OSError, ValueError):
        return


def written(
    tool: str,
    state_path: str,
    root: str,
    env: Mapping[str, str],
    real: str | None,
    shim_dir: str | None,
    resumed: Resumed | None,
) -> None:
    """After the state was written (under its lock): the fast file for the session the
    launch resumes, else none (a new session: python finds its file next time). Never
    raises."""
    try:
        _remove(legacy_path(state_path))
        if shim_dir is None:
            return
        path = fast_path(shim_dir, tool, root)
        wanted = render(tool, root, env, real, resumed) if resumed is not None else None
        if wanted is None:
            _remove(path)
        else:
            write_atomic(path, wanted, mode=0o600, sync=False)
    except (OSError, ValueError):
        return


def remove(state_path: str, shim_dir: str, tool: str, root: str) -> None:
    """No fast file for this project and tool (after a reset). Never raises."""
    for path in (fast_path(shim_dir, tool, root), legacy_path(state_path)):
        try:
            _remove(path)
        except OSError:
            continue


def _current(path: str, state_path: str, wanted: str) -> bool:
    """The fast file says `wanted` already, and is not older than the state."""
    try:
        if os.stat(state_path).st_mtime_ns > os.stat(path).st_mtime_ns:
            return False
    except OSError:
        return False
    return read_text(path, LIMIT, errors="replace") == wanted


def _state(state_path: str) -> object:
    try:
        return read_json(state_path)
    except StateError:
        return None


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
