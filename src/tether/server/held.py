"""A pushed session read back, for the web pages and the MCP tools: its chunks joined into
its files and read by the tool's own reader (as `tether pull` reads them) into a small
archive of its own, which tether's archive queries then page, search and render.

Those archives are a cache: one file per owner, session and revision, built into a temporary
name and renamed into place, so any number of app processes may share the folder or each keep
its own; the least recently used go when there are too many. A push has each session it took
built in the background (`prepare`), so a page opened after it finds it ready (a 50 MB
session takes seconds to read back); a page still builds one that is missing (evicted, pushed
before this server started, or dropped from a full queue). A lock file per archive name
(flock, shared by every process on the folder) keeps one revision from being built twice at
once.
"""

from __future__ import annotations

import hashlib
import os
import queue
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
from tether.server.schema import session_chunks, session_sources, sessions
from tether.server.storage import Storage, object_key

KEEP = 300
"""Sessions' archives kept at most (each about the size of its session, compressed)."""
WAITING = 64
"""Pushed sessions waiting to be built at most: past that a push's sessions are built when
first opened instead (a bulk push must not queue thousands)."""
LOCKS = 64
"""Lock files the archive names share (by hash): a fixed set, so none is ever removed while
another process waits on it."""


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
        self._waiting: queue.Queue[tuple[int, str]] = queue.Queue(WAITING)
        self._worker: threading.Thread | None = None
        self._start = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        (folder / "locks").mkdir(exist_ok=True, mode=0o700)

    def prepare(self, owner_id: int, session_ids: list[str]) -> None:
        """Have these sessions of `owner_id` (just pushed, committed) built in the
        background; returns at once. Past WAITING queued the rest wait for a page."""
        with self._start:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="held", daemon=True)
                self._worker.start()
        for session_id in session_ids:
            try:
                self._waiting.put_nowait((owner_id, session_id))
            except queue.Full:
                return

    def _work(self) -> None:
        import logging

        while True:
            owner_id, session_id = self._waiting.get()
            try:
                session = self._current(owner_id, session_id)
                if session is not None:
                    self._ready(session)
            except Exception:  # a build that fails here fails again, visibly, on a page
                logging.getLogger(__name__).warning("reading back %s failed", session_id[:12])

    def _current(self, owner_id: int, session_id: str) -> HeldSession | None:
        """The session as the server holds it now (a later push may have moved it on)."""
        c = sessions.c
        with transaction(self.engine, reading=True) as connection:
            row = connection.execute(
                select(c.pk, c.tool, c.native_id, c.revision).where(
                    c.owner_id == owner_id, c.session_id == session_id
                )
            ).first()
        if row is None:
            return None
        return HeldSession(row[0], owner_id, session_id, row[1], row[2], row[3])

    @contextmanager
    def open(self, session: HeldSession) -> Iterator[sqlite3.Connection]:
        """The session's archive, read-only (built first when it is not there yet)."""
        from tether.archive.db import connect, store_errors

        path = self._ready(session)
        db = connect(path, readonly=True)
        try:
            with store_errors(path):
                yield db
        finally:
            db.close()

    def _ready(self, session: HeldSession) -> Path:
        """The session's archive, built when missing: under its lock file, so a build in
        another thread or process is waited for rather than repeated."""
        from tether.statefile import Lock

        path = self._path(session)
        if path.exists():
            os.utime(path)
            return path
        stripe = int(hashlib.sha256(path.name.encode()).hexdigest()[:8], 16) % LOCKS
        with Lock(str(self.folder / "locks" / f"{stripe}.lock")):
            if not path.exists():
                self._build(session, path)
                self._evict()
        return path

    def _path(self, session: HeldSession) -> Path:
        return self.folder / f"{session.owner_id}-{session.session_id}-{session.revision[:16]}.db"

    def _build(self, session: HeldSession, path: Path) -> None:
        from tether.archive.db import connect
        from tether.capture.ingest import read_pushed

        with tempfile.TemporaryDirectory(dir=self.folder, prefix=".build-") as work:
            built = Path(work) / "archive.db"
            db = connect(built)
            try:
                for index, (name, mode, pieces) in enumerate(self._files(session)):
                    # The name as pushed (checked by the push route: plain characters).
                    file = Path(work) / f"{index}-{name}"
                    with file.open("wb") as out:  # piece by piece: a file may be gigabytes
                        for piece in pieces:
                            out.write(piece)
                    read_pushed(db, session.tool, session.native_id, file, mode, "server")
                    file.unlink()
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                db.execute("PRAGMA journal_mode = DELETE")
            finally:
                db.close()
            built.replace(path)

    def _files(self, session: HeldSession) -> Iterator[tuple[str, str, Iterator[bytes]]]:
        """Each of the session's files: (name, mode, its bytes chunk by chunk)."""
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
            digests = [digest for at, digest in refs if at == idx]
            yield str(name), str(mode), (self._chunk(digest) for digest in digests)

    def _chunk(self, digest: str) -> bytes:
        from tether.sync import wire

        try:
            stored = self.storage.get(object_key(digest))
        except FileNotFoundError:
            raise NotFoundError("a part of this session is missing on the server") from None
        return wire.decompress(stored)

    def _evict(self) -> None:
        held = sorted(self.folder.glob("*.db"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in held[self.keep :]:
            old.unlink(missing_ok=True)
