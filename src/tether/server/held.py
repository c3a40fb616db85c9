"""A pushed session read back, for the web pages and the MCP tools: its chunks joined into
its files and read by the tool's own reader (as `tether pull` reads them) into a small
archive of its own, which tether's archive queries then page, search and render.

Those archives are a cache: one file per owner, session and revision, built on first view
into a temporary name and renamed into place, so any number of app processes may share the
folder or each keep its own; the least recently used go when there are too many.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from tether.errors import NotFoundError
from tether.server.db import transaction
from tether.server.schema import session_chunks, session_sources
from tether.server.storage import Storage, object_key

KEEP = 300
"""Sessions' archives kept at most (each about the size of its session, compressed)."""


@dataclass(frozen=True)
class HeldSession:
    """Which pushed session: its row on the server and what its archive is named by."""

    pk: int
    owner_id: int
    session_id: str
    tool: str
    native_id: str
    revision: str


class Held:
    """The archives of pushed sessions under `folder`, built from `storage` on demand."""

    def __init__(self, engine: Engine, storage: Storage, folder: Path, keep: int = KEEP) -> None:
        self.engine = engine
        self.storage = storage
        self.folder = folder
        self.keep = keep
        self._lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    @contextmanager
    def open(self, session: HeldSession) -> Iterator[sqlite3.Connection]:
        """The session's archive, read-only (built first when it is not there yet)."""
        from tether.archive.db import connect, store_errors

        path = self._path(session)
        if not path.exists():
            with self._lock:  # one build per process at a time: each may be large
                if not path.exists():
                    self._build(session, path)
                    self._evict()
        else:
            os.utime(path)
        db = connect(path, readonly=True)
        try:
            with store_errors(path):
                yield db
        finally:
            db.close()

    def _path(self, session: HeldSession) -> Path:
        return self.folder / f"{session.owner_id}-{session.session_id}-{session.revision[:16]}.db"

    def _build(self, session: HeldSession, path: Path) -> None:
        from tether.archive.db import connect
        from tether.capture.ingest import read_pushed

        with tempfile.TemporaryDirectory(dir=self.folder, prefix=".build-") as work:
            built = Path(work) / "archive.db"
            db = connect(built)
            try:
                for index, (name, mode, data) in enumerate(self._files(session)):
                    # The name as pushed (checked by the push route: plain characters).
                    file = Path(work) / f"{index}-{name}"
                    file.write_bytes(data)
                    read_pushed(db, session.tool, session.native_id, file, mode, "server")
                    file.unlink()
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                db.execute("PRAGMA journal_mode = DELETE")
            finally:
                db.close()
            built.replace(path)

    def _files(self, session: HeldSession) -> Iterator[tuple[str, str, bytes]]:
        """Each of the session's files: (name, mode, its bytes joined from its chunks)."""
        from tether.sync import wire

        with transaction(self.engine, reading=True) as connection:
            sources = connection.execute(
                select(session_sources.c.idx, session_sources.c.name, session_sources.c.mode)
                .where(session_sources.c.session_pk == session.pk)
                .order_by(session_sources.c.idx)
            ).all()
            refs = connection.execute(
                select(session_chunks.c.idx, session_chunks.c.hash)
                .where(session_chunks.c.session_pk == session.pk)
                .order_by(session_chunks.c.idx, session_chunks.c.seq)
            ).all()
        for idx, name, mode in sources:
            pieces = []
            for _, digest in (ref for ref in refs if ref[0] == idx):
                try:
                    stored = self.storage.get(object_key(digest))
                except FileNotFoundError:
                    raise NotFoundError("a part of this session is missing on the server") from None
                pieces.append(wire.decompress(stored))
            yield str(name), str(mode), b"".join(pieces)

    def _evict(self) -> None:
        held = sorted(self.folder.glob("*.db"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in held[self.keep :]:
            old.unlink(missing_ok=True)
