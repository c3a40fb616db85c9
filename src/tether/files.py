"""Files the safe way, for tether's own and for other programs'.

Writing a file whole, so that no reader ever sees half of one: a temporary file in the same
folder, then a link (a new file, never over an existing one) or a rename (a replacement).
Reading a file tether did not write: only a regular file (a FIFO would block forever, a
link to /dev/zero never end), never more than asked for.

The auto-resume shim reads and writes its state through this module: it imports only `os`
(and `stat`, which `os` has loaded).
"""

from __future__ import annotations

import errno
import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

    FilePath = str | os.PathLike[str]

MAX_DOCUMENT = 1 << 30
"""The most of one native file read into memory whole (a JSON document, a task folder's
conversation)."""


def write_new(path: FilePath, data: bytes) -> None:
    """Create `path` with `data`, mode 0600; FileExistsError if it exists already."""
    tmp = _write_temp(os.fspath(path), data, 0o600, sync=True)
    try:
        os.link(tmp, path)  # unlike a rename, a link never replaces a file
    finally:
        os.unlink(tmp)


def replace(path: FilePath, data: bytes, mode: int = 0o644, sync: bool = True) -> None:
    """Replace `path` with `data` (or create it): a reader sees the old file or the new one.

    `sync=False` skips the fsync, for a file that a crash may leave empty or torn (a cache
    that its reader checks). The file gets `mode` less the umask, as open() gives it.
    """
    tmp = _write_temp(os.fspath(path), data, mode, sync)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _write_temp(path: str, data: bytes, mode: int, sync: bool) -> str:
    """A new file holding `data` next to `path` (its folder created if need be); its path."""
    folder, name = os.path.split(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    while True:
        tmp = os.path.join(folder, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue  # another writer drew the same name
        break
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def within(root: FilePath, path: FilePath) -> bool:
    """Whether `path` is in the folder `root` as its folders really are, and no link itself:
    a project can be a stranger's clone, whose `.cursor/rules` or `.mcp.json` may be a link
    to a folder or file of yours. tether writes and removes nothing through such a link."""
    real_root = os.path.realpath(root).rstrip("/")
    real_parent = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    inside = real_parent == real_root or real_parent.startswith(real_root + "/")
    return inside and not os.path.islink(path)


# ---------------------------------------------------------------------------------------
# Reading another program's files


class NotRegularFile(OSError):
    """A FIFO, a device, a socket or a folder where a file was expected."""

    def __init__(self, path: FilePath, mode: int) -> None:
        super().__init__(errno.EINVAL, f"not a regular file but {kind(mode)}", os.fspath(path))


class FileTooLarge(OSError):
    """A file larger than the most that may be read of it."""

    def __init__(self, path: FilePath, limit: int) -> None:
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


def check_regular(path: FilePath) -> os.stat_result:
    """The file's stat (through a symlink); NotRegularFile unless it is a regular file."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(path, st.st_mode)
    return st


def is_regular(path: FilePath) -> bool:
    try:
        check_regular(path)
    except (OSError, ValueError):
        return False
    return True


def open_fd(path: FilePath) -> int:
    """A descriptor open for reading on a regular file (a symlink to one is fine), else
    NotRegularFile at once: checked before opening (opening a device may act) and on the
    open file (it may have been swapped meanwhile). Never blocks on a FIFO."""
    check_regular(path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(path, st.st_mode)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_regular(path: FilePath) -> BinaryIO:
    """open_fd as a binary file object."""
    return os.fdopen(open_fd(path), "rb")


def read_regular(path: FilePath, limit: int) -> bytes:
    """A regular file's bytes; FileTooLarge when it holds more than `limit`."""
    data = _read(path, limit + 1)
    if len(data) > limit:
        raise FileTooLarge(path, limit)
    return data


def read_head(path: FilePath, limit: int) -> bytes:
    """The first `limit` bytes of a regular file (all of it when shorter)."""
    return _read(path, limit)


def _read(path: FilePath, size: int) -> bytes:
    fd = open_fd(path)
    try:
        chunks = []
        while size > 0:
            chunk = os.read(fd, min(size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)
