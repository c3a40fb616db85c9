"""A project's small state files under `<root>/.tether/`, with built-in modules only.

The auto-resume shim reads its state on every launch of a tool, so this module imports no
more than `os`: pathlib, tempfile and json would cost about 25 ms, two bare interpreter
starts. JSON is read by the C scanner that the json package itself uses, and written by hand
(flat objects of strings, numbers, booleans and nulls).
"""

from __future__ import annotations

import os

from tether.errors import TetherError
from tether.files import FileTooLarge, NotRegularFile, read_regular, replace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


class _Decoding:
    """The settings the C scanner reads, by name, from a json.JSONDecoder."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a number")


try:
    from _json import encode_basestring_ascii as _quote
    from _json import make_scanner

    _scan = make_scanner(_Decoding())  # type: ignore[arg-type]  # it reads attributes only
    C_JSON = True
except ImportError:  # not CPython: the json package, slower to import, gives the same values
    C_JSON = False

STATE_DIR = ".tether"
EXCLUDE_LINE = "/.tether/"
READ_LIMIT = 1 << 20
"""State files are a few hundred bytes: a bigger one is not ours."""


class StateError(TetherError, ValueError):
    """A state file that is there but cannot be used: empty, not UTF-8, not a JSON object."""


def project_root(cwd: str) -> str:
    """The git top-level above `cwd` (a `.git` folder, or a worktree's `.git` file), else
    `cwd` itself; `cwd` is absolute, as os.getcwd() gives it."""
    folder = cwd.rstrip("/") or "/"
    while True:
        if os.path.lexists(folder + "/.git"):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return cwd
        folder = parent


def state_dir(root: str) -> str:
    """`<root>/.tether`, created on first use and listed in git's info/exclude."""
    path = f"{root}/{STATE_DIR}"
    os.makedirs(path, exist_ok=True)
    exclude_from_git(root)
    return path


def git_common_dir(root: str) -> str | None:
    """The repository's git folder that all its worktrees share (where info/exclude is)."""
    dot_git = f"{root}/.git"
    if os.path.isdir(dot_git):
        return dot_git
    text = read_text(dot_git, 4096)
    if text is None or not text.startswith("gitdir:"):
        return None
    gitdir = os.path.join(root, text.removeprefix("gitdir:").strip())
    common = read_text(f"{gitdir}/commondir", 4096)
    found = gitdir if common is None else os.path.normpath(os.path.join(gitdir, common.strip()))
    # A `.git` file is anyone's to write (a folder that is no clone): its gitdir is only
    # written to when it is a git folder indeed.
    return found if os.path.isfile(f"{found}/HEAD") else None


def exclude_from_git(root: str) -> bool:
    """Add `/.tether/` to the repository's info/exclude (never to a .gitignore).

    True when the line was added; False when it was there already or `root` is no git
    repository.
    """
    git_dir = git_common_dir(root)
    if git_dir is None or not os.path.isdir(git_dir):
        return False
    exclude = f"{git_dir}/info/exclude"
    current = read_text(exclude, READ_LIMIT * 8, errors="replace") or ""
    present = {line.strip() for line in current.splitlines()}
    if present & {EXCLUDE_LINE, ".tether/", ".tether", "/.tether"}:
        return False
    separator = "" if not current or current.endswith("\n") else "\n"
    write_atomic(exclude, f"{current}{separator}{EXCLUDE_LINE}\n", mode=0o644)
    return True


def read_text(path: str, limit: int = READ_LIMIT, errors: str = "strict") -> str | None:
    """The text of a regular file, or None when there is nothing (or nothing readable) at
    `path`. StateError when it is something else (a FIFO, a device, a folder: never waited
    on), over `limit` bytes (not a file tether wrote), or not UTF-8 (with errors="strict").
    """
    try:
        data = read_regular(path, limit)
    except (NotRegularFile, FileTooLarge) as exc:
        raise StateError(f"{path}: {exc.strerror}") from exc
    except OSError:
        return None
    try:
        return data.decode("utf-8", errors)
    except UnicodeDecodeError as exc:
        raise StateError(f"{path} is not UTF-8 text") from exc


def read_json(path: str) -> dict[str, Any] | None:
    """The JSON object in `path`, or None when there is no such file; StateError when the
    file is there but holds no JSON object."""
    text = read_text(path)
    if text is None:
        return None
    try:
        value = loads(text)
    except ValueError as exc:
        reason = "empty" if not text.strip() else "not valid JSON"
        raise StateError(f"{path} is {reason}") from exc
    if not isinstance(value, dict):
        raise StateError(f"{path} holds no JSON object")
    return value


def write_json(path: str, value: Mapping[str, Any]) -> None:
    write_atomic(path, dumps(value))


def write_atomic(path: str, text: str, mode: int = 0o644, sync: bool = True) -> None:
    """Replace `path` with `text` whole (tether.files.replace: temporary file, then rename).
    `sync=False` skips the fsync, for a file that a crash may leave empty or torn (a cache
    its reader checks)."""
    replace(path, text.encode(), mode, sync)


class Lock:
    """An exclusive lock on a lock file (flock) for a block: one writer at a time."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> Lock:
        import fcntl

        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # closing drops the lock
        self.fd = -1


# ---------------------------------------------------------------------------------------
# JSON, small and flat


def loads(text: str) -> Any:
    """Decode one JSON value (ValueError when `text` is not exactly one)."""
    if not C_JSON:
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip())
    try:
        value, end = _scan(text, start)
    except StopIteration as exc:
        raise ValueError("no JSON value") from exc
    except SystemError as exc:  # 3.11's scanner raises its error only once json is imported
        raise ValueError("not valid JSON") from exc
    if text[end:].strip():
        raise ValueError("more after the JSON value")
    return value


def dumps(value: Mapping[str, Any]) -> str:
    """A flat JSON object, one member per line."""
    if not C_JSON:
        import json

        return json.dumps(value, indent=2) + "\n"
    members = ",\n".join(f"  {_quote(key)}: {_scalar(item)}" for key, item in value.items())
    return "{\n" + members + "\n}\n" if members else "{}\n"


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return str(_quote(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value - value == 0:  # finite
        return repr(value)
    raise TypeError(f"cannot write {value!r} into a state file")
