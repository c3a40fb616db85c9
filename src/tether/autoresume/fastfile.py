"""The shim's /bin/sh fast path: a plain-text companion of a project's auto-resume state.

A plain launch (`claude`, no arguments) of a tool whose project session is known would
start python only to read the state, `stat` the session's file and exec `claude --resume
ID`. The shim script (tether.autoresume.shims) does that itself from `<tool>.fast`,
written here next to `<tool>.json`:

    tether-fast 1
    root=<the project root the python path found>
    home=<$HOME it ran with>
    store=<the value of the tool's store variable ($CLAUDE_CONFIG_DIR …), empty when unset>
    real=<the real binary it found on PATH, an absolute path>
    state
    <the JSON state, byte for byte, as it was when the python path resumed from it>

The python path stays the authority. The sh path runs only when every line above matches
what it sees: the same root, $HOME, store variable, first real binary on PATH, and a JSON
state identical to the copy (so a state that was reset, replaced, edited or removed since
sends the launch to python); it takes the session id and file from that JSON and checks the
file is still there. The copy is written only for a state python decided to resume as it is
(no write), whose JSON is exactly what tether writes, with an id and file that need no JSON
escape. Anything else: no fast file, and every launch decides in python as before.

It is replaced atomically (rename) but not fsync'd: a crash can leave it empty or torn, and
then it matches nothing and the launch goes to python, which writes it again.
"""

from __future__ import annotations

import os

from tether.statefile import Lock, dumps, loads, read_text, write_atomic
from tether.tools import launch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

MAGIC = "tether-fast 1"


def fast_path(state_path: str) -> str:
    """`<tool>.fast` beside the state `<tool>.json`."""
    return state_path.removesuffix(".json") + ".fast"


def render(
    tool: str, state_text: str, root: str, env: Mapping[str, str], real: str | None
) -> str | None:
    """The fast file for a state python resumes as it is, or None when the sh path could not
    take it exactly as python would (then there must be no fast file)."""
    home = env.get("HOME", "")
    variable = launch.SPECS[tool]["store"][0]
    store = env.get(variable, "") if variable else ""
    header = [f"root={root}", f"home={home}", f"store={store}", f"real={real}"]
    if not home or real is None or not real.startswith("/"):
        return None
    if any("\n" in line or "\0" in line for line in header):
        return None
    try:
        state: Any = loads(state_text)
    except ValueError:
        return None
    if not isinstance(state, dict) or dumps(state) != state_text:
        return None  # not as tether writes it: the sh path could not read it line by line
    for key in ("session_id", "session_file"):
        value = state.get(key)
        if not isinstance(value, str) or not plain(value):
            return None  # escaped in JSON (a quote, a backslash, non-ASCII): python only
    return "\n".join([MAGIC, *header, "state", state_text])


def refresh(
    tool: str,
    state_path: str,
    state: Mapping[str, Any],
    root: str,
    env: Mapping[str, str],
    real: str | None,
) -> None:
    """Make `<tool>.fast` match `state`, which python has just decided to resume as it is.

    Reads only, when the fast file is current already (the usual case); else rewrites it
    under the state's lock, if the JSON is still `state`. Never raises: the fast file is a
    shortcut, and the launch goes on without it.
    """
    path = fast_path(state_path)
    try:
        text = read_text(state_path)
        if (
            text is not None
            and _same(text, state)
            and read_text(path, errors="replace") == render(tool, text, root, env, real)
        ):
            return  # current: the usual case, nothing written
        with Lock(state_path + ".lock"):
            text = read_text(state_path)
            if text is None or not _same(text, state):
                _remove(path)  # another launch moved on: its own python path decides
                return
            wanted = render(tool, text, root, env, real)
            if wanted is None:
                _remove(path)
            elif read_text(path, errors="replace") != wanted:
                write_atomic(path, wanted, sync=False)
    except (OSError, ValueError):
        return


def written(
    tool: str,
    state_path: str,
    text: str,
    root: str,
    env: Mapping[str, str],
    real: str | None,
    resumes: bool,
) -> None:
    """After `text` was written as the state (under its lock): the fast file for it when the
    launch resumes that state, else none. Never raises."""
    path = fast_path(state_path)
    try:
        wanted = render(tool, text, root, env, real) if resumes else None
        if wanted is None:
            _remove(path)
        else:
            write_atomic(path, wanted, sync=False)
    except (OSError, ValueError):
        return


def remove(state_path: str) -> None:
    """No fast file for this state (after a reset). Never raises."""
    try:
        _remove(fast_path(state_path))
    except OSError:
        return


def plain(value: str) -> bool:
    """Whether JSON writes `value` as it is, between quotes: printable ASCII, no quote or
    backslash."""
    return bool(value) and value.isascii() and value.isprintable() and not set(value) & {'"', "\\"}


def _same(text: str, state: Mapping[str, Any]) -> bool:
    try:
        return bool(loads(text) == state)
    except ValueError:
        return False


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
