"""Where the MCP tools read sessions from: a `Source`. `LocalArchive` is the user's own
archive (for `tether mcp serve`); the team server gives the same tools a source of its own,
the sessions one user may see, behind that user's token.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the queries load with the first read (tether.mcp.tools says why)
    from tether.archive.query import Filters
    from tether.model import Message


class Source(Protocol):
    """Sessions to read: the archive's queries, as tether.archive.query answers them."""

    def search(self, query: str, filters: Filters) -> list[dict[str, Any]]:
        """Hits, best first, as `tether search --json` prints them."""
        ...

    def sessions(self, filters: Filters) -> list[dict[str, Any]]:
        """Sessions, most recently updated first, as `tether list --json` prints them."""
        ...

    def session(self, ident: str) -> tuple[dict[str, Any], Iterator[Message]]:
        """One session (any id `tether show` takes) and its messages, in order; NotFound
        or Ambiguous (tether.archive.query) when the id names none or several."""
        ...


class LocalArchive:
    """The archive in $TETHER_HOME, kept fresh before every read as `list` and `search` keep
    it (tether.capture.fresh: beside a live watcher nothing is looked at; without one, a
    check whose cost does not grow with history, and a watcher started on demand)."""

    def __init__(self, path: Path, home: Path, scan: bool = True) -> None:
        self.path = path
        self.home = home
        self.scan = scan

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        from tether.archive.db import connect, store_errors

        db = connect(self.path)
        try:
            with store_errors(self.path):
                self._fresh(db)
                yield db
        finally:
            db.close()

    def _fresh(self, db: sqlite3.Connection) -> None:
        if not self.scan:
            return
        from tether.capture.fresh import fresh
        from tether.paths import user_home_str

        fresh(db, str(self.home), os.environ, user_home_str())

    def search(self, query: str, filters: Filters) -> list[dict[str, Any]]:
        from tether.archive.query import search

        with self._db() as db:
            return search(db, query, filters)

    def sessions(self, filters: Filters) -> list[dict[str, Any]]:
        from tether.archive.query import list_sessions

        with self._db() as db:
            return list_sessions(db, filters)

    def session(self, ident: str) -> tuple[dict[str, Any], Iterator[Message]]:
        from tether.archive.query import find_session
        from tether.archive.store import iter_messages

        with self._db() as db:
            pk, info = find_session(db, ident)

        def messages() -> Iterator[Message]:
            with self._db() as db:
                for _, message in iter_messages(db, pk):
                    yield message

        return info, messages()
