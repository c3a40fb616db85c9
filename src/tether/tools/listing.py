"""Listing a tool's store cheaply and safely: a folder that cannot be read is empty, an
entry whose type cannot be told is neither file nor folder. Nothing here raises.

A FIFO, a device or a socket with a session file's name counts as a file here: discovery
yields it, and capture reports it as not a regular file (and never opens it), so it is
never silently passed over.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as listing:
            return list(listing)
    except OSError:
        return []


def is_dir(entry: os.DirEntry[str], follow_symlinks: bool = True) -> bool:
    try:
        return entry.is_dir(follow_symlinks=follow_symlinks)
    except OSError:
        return False


def is_file(entry: os.DirEntry[str]) -> bool:
    """Anything but a folder (through a symlink); a regular file costs no system call."""
    try:
        regular = entry.is_file(follow_symlinks=False)
        if regular or entry.is_dir(follow_symlinks=False):
            return regular
        return not stat.S_ISDIR(entry.stat().st_mode)  # a symlink, or a special file
    except OSError:
        return False


def is_file_at(path: Path) -> bool:
    """As is_file, for a path: anything that exists there but a folder."""
    try:
        return not stat.S_ISDIR(path.stat().st_mode)
    except OSError:
        return False
