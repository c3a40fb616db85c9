"""Which records of a file were read: so that a record written twice (the same id, the same
bytes) is read once, in the same read or a later one.

A mark is a record's id and a checksum of its line. A feed keeps the marks of its own read;
capture keeps those of earlier reads of a file in the archive (`record_marks`), looked up one
at a time, so an append read costs what it reads, however long the file (the reader's state,
rewritten whole at every read, would grow with it).
"""

from __future__ import annotations

import sqlite3

from tether.archive.db import mark_key


class Marks:
    """The marks of one read, in memory: for a file read whole, and for tests."""

    def __init__(self) -> None:
        self.known: set[str] = set()
        self.new: list[str] = []

    def first(self, mark: str) -> bool:
        if mark in self.known or self.read_before(mark):
            return False
        self.known.add(mark)
        self.new.append(mark)
        return True

    def read_before(self, mark: str) -> bool:
        return False


class ArchivedMarks(Marks):
    """The marks of a read of a file the archive holds: earlier reads' marks come from it,
    this read's are added to it by `save` (inside the read's transaction)."""

    def __init__(self, db: sqlite3.Connection, source_id: int, earlier: bool) -> None:
        super().__init__()
        self.db = db
        self.source_id = source_id
        self.earlier = earlier
        """False for a first or full read: nothing in the archive to look up."""

    def read_before(self, mark: str) -> bool:
        return self.earlier and (
            self.db.execute(
                "SELECT 1 FROM record_marks WHERE source_id = ? AND mark = ?",
                (self.source_id, mark_key(mark)),
            ).fetchone()
            is not None
        )

    def save(self) -> None:
        if self.new:
            self.db.executemany(
                "INSERT OR IGNORE INTO record_marks VALUES (?, ?)",
                [(self.source_id, mark_key(mark)) for mark in self.new],
            )
            self.new = []


def forget(db: sqlite3.Connection, source_id: int) -> None:
    """A file read whole again starts from no marks."""
    db.execute("DELETE FROM record_marks WHERE source_id = ?", (source_id,))
