"""Writing files the safe way: temp file in the same folder, then rename; mode 0600;
never over an existing file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


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
