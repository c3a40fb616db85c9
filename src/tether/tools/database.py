"""Reading another tool's SQLite database without changing it or creating anything beside it
(a plain read-only open of a WAL database would create its -wal and -shm files)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from tether.errors import TetherError
from tether.files import check_regular, is_regular


class Unreadable(TetherError):
    """The file is not a SQLite database this reader can open."""


def sibling(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def open_readonly(path: Path) -> sqlite3.Connection:
    """Open a tool's database for reading only.

    While its tool runs (its -wal and -shm exist), through them, so that what the tool
    wrote last is seen: a reader only takes a read mark in the -shm, as every reader does.
    Otherwise immutable, which creates no file and takes no lock.
    """
    try:
        check_regular(path)  # SQLite would block on a FIFO
    except OSError as exc:
        raise Unreadable(exc.strerror or str(exc)) from None
    live = is_regular(sibling(path, "-wal")) and is_regular(sibling(path, "-shm"))
    if live:
        try:
            return _open(path, immutable=False)
        except Unreadable:
            pass  # a -shm left by a killed tool, which only a writer may recover
    return _open(path, immutable=True)


def _open(path: Path, immutable: bool) -> sqlite3.Connection:
    uri = f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if immutable else "")
    try:
        db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise Unreadable(f"cannot open the database: {exc}") from None
    try:
        db.execute("PRAGMA query_only = ON")
        db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        db.close()
        raise Unreadable(f"not a readable SQLite database: {exc}") from None
    return db


def tables(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def is_sqlite(head: bytes) -> bool:
    return head.startswith(b"SQLite format 3\x00")
