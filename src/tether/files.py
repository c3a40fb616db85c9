"""Writing a file whole, so that no reader ever sees half of one: a temporary file in the
same folder, then a link (a new file, never over an existing one) or a rename (a replacement).

The auto-resume shim writes its state through this module, so it imports only `os`.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    FilePath = str | os.PathLike[str]


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
