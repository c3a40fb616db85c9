"""Listing a tool's store cheaply and safely: a folder that cannot be read is empty, an
entry whose type cannot be told is neither file nor folder. Nothing here raises."""

from __future__ import annotations

import os
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
    try:
        return entry.is_file()
    except OSError:
        return False
