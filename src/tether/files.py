"""Files the safe way. Writing: temp file in the same folder, then rename; mode 0600; never
over an existing file. Reading another program's file: only a regular file, never more than
asked for (a FIFO would block forever, a link to /dev/zero never end)."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

PathLike = str | os.PathLike[str]
MAX_DOCUMENT = 1 << 30
"""The most of one native file read into memory whole (a JSON document, a task folder's
conversation)."""


def write_new(path: Path, data: bytes) -> None:
    """Create `path` with `data` atomically; FileExistsError if it exists already."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(0o600)
        os.link(tmp, path)  # fails if path exists: unlike rename, never replaces a file
    finally:
        Path(tmp).unlink()


class NotRegularFile(OSError):
    """A FIFO, a device, a socket or a folder where a file was expected."""

    def __init__(self, path: PathLike, mode: int) -> None:
        super().__init__(errno.EINVAL, f"not a regular file but {kind(mode)}", os.fspath(path))


class FileTooLarge(OSError):
    """A file larger than the most that may be read of it."""

    def __init__(self, path: PathLike, limit: int) -> None:
        super().__init__(errno.EFBIG, f"larger than {limit} bytes", os.fspath(path))


def kind(mode: int) -> str:
    """What a file that is not a regular one is, in words."""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file"


def check_regular(path: PathLike) -> os.stat_result:
    """The file's stat (through a symlink); NotRegularFile unless it is a regular file."""
    st = Path(path).stat()
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(path, st.st_mode)
    return st


def is_regular(path: PathLike) -> bool:
    try:
        check_regular(path)
    except OSError:
        return False
    return True


def open_regular(path: PathLike) -> BinaryIO:
    """Open a file for reading when it is a regular file (a symlink to one is fine), else
    raise NotRegularFile at once: checked before opening (opening a device may act) and on
    the open file (it may have been swapped meanwhile). Never blocks on a FIFO."""
    check_regular(path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(path, st.st_mode)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: PathLike, limit: int) -> bytes:
    """A regular file's bytes; FileTooLarge when it holds more than `limit`."""
    with open_regular(path) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(path, limit)
    return data


def read_head(path: PathLike, limit: int) -> bytes:
    """The first `limit` bytes of a regular file (all of it when shorter)."""
    with open_regular(path) as fh:
        return fh.read(limit)
