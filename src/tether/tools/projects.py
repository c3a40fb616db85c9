"""The project folders the archive already knows (its sessions' project and cwd): where a
tool that keeps its history inside each project, as Aider does, is looked for."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from tether.paths import db_path, tether_home

MAX_FOLDERS = 10_000


def known_folders(env: Mapping[str, str]) -> list[Path]:
    """Every absolute project or cwd of a captured session, most recently used first.

    Read-only and cheap (one query); an archive that does not exist or cannot be read
    knows no folders.
    """
    try:
        path = db_path(tether_home(env))
    except RuntimeError:  # tests that did not say where the archive is
        return []
    if not path.is_file():
        return []
    try:
        db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    except sqlite3.Error:
        return []
    try:
        rows = db.execute(
            "SELECT folder FROM (SELECT project AS folder, updated_at FROM sessions"
            " UNION ALL SELECT cwd, updated_at FROM sessions)"
            " WHERE folder LIKE '/%' GROUP BY folder ORDER BY MAX(updated_at) DESC LIMIT ?",
            (MAX_FOLDERS,),
        ).fetchall()
    except sqlite3.Error:
        return []
    finally:
        db.close()
    return [Path(folder) for (folder,) in rows]
