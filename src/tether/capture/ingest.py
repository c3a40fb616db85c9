"""Reading native files into the archive, inside the caller's transaction or one of their own.

A JSONL file that grew (same inode, same bytes before the last offset) is read from that
offset; any other change re-reads it whole under a new archive generation. A file's
messages, its raw bytes and its offset commit together, so a crash never duplicates or
loses a line. A container (a database of many sessions) that changed is listed, and each
member session whose version changed is read whole from the bytes its tool extracts for it.
"""

from __future__ import annotations

import io
import os
import sqlite3
import stat
import struct
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from tether.archive import parttext
from tether.archive.store import Applier, dumps
from tether.capture.feed import MAX_REASONS, FileFeed, read_guarded
from tether.capture.history import keep_dropped
from tether.capture.marks import ArchivedMarks, forget
from tether.errors import TetherError
from tether.files import NotRegularFile, open_regular
from tether.formats import tether_json
from tether.tools.base import (
    Member,
    Members,
    Source,
    SourceMode,
    Tool,
    member_path,
)
from tether.tools.registry import TOOLS, Registry

BATCH_BYTES = 32 << 20


BATCH_FILES = 1000


Progress = Callable[[int, int], None]
"""progress(bytes_done, bytes_total)."""


CHUNK = 4 << 20


TAIL = 64
RAW_LEVEL = 3
"""zstd level of the raw bytes: 3 keeps 6% fewer bytes than 1, for 4% more of a first scan's
CPU (bench corpus: 58.8 -> 55.1 MB)."""


def readers() -> Registry:
    """Every reader by source tool name: the tools, plus tether's own JSON for `import` (each
    tool's module imported when it is first looked up)."""
    return TOOLS.with_(tether_json)


@dataclass
class Problem:
    path: str
    message: str


@dataclass
class ScanReport:
    files: int = 0
    read: int = 0
    sessions_added: int = 0
    sessions_updated: int = 0
    bytes_read: int = 0
    skipped: int = 0
    repaired: int = 0
    failed: list[Problem] = field(default_factory=list)
    skipped_in: list[Problem] = field(default_factory=list)
    missing: int = 0
    locked: bool = False
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "read": self.read,
            "sessions_added": self.sessions_added,
            "sessions_updated": self.sessions_updated,
            "bytes_read": self.bytes_read,
            "skipped_lines": self.skipped,
            "repaired_lines": self.repaired,
            "failed": [p.__dict__ for p in self.failed],
            "skipped_in": [p.__dict__ for p in self.skipped_in],
            "missing": self.missing,
            "seconds": round(self.seconds, 3),
        }

    def add(self, other: ScanReport) -> None:
        """Fold in what another reader of part of this scan's files found (a worker)."""
        self.read += other.read
        self.sessions_added += other.sessions_added
        self.sessions_updated += other.sessions_updated
        self.bytes_read += other.bytes_read
        self.skipped += other.skipped
        self.repaired += other.repaired
        self.failed += other.failed
        self.skipped_in += other.skipped_in

    def merge(self, other: ScanReport) -> None:
        """Fold in another scan of some of the same stores, with the files it listed."""
        self.files += other.files
        self.missing += other.missing
        self.add(other)

    def problem_line(self) -> str | None:
        """One line saying what could not be read, else None."""
        bits = []
        if self.failed:
            first = self.failed[0]
            bits.append(
                f"{len(self.failed)} file(s) unreadable (first: {first.path}: {first.message})"
            )
        if self.skipped:
            bits.append(f"{self.skipped} line(s) skipped in {len(self.skipped_in)} file(s)")
        if not bits:
            return None
        return "; ".join(bits) + " — details: tether doctor"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Known:
    id: int
    tool: str
    mode: str
    origin: str
    session_pk: int | None
    size: int | None
    mtime_ns: int | None
    inode: int | None
    offset: int
    tail: bytes | None
    generation: int
    state: str | None
    missing_since: str | None
    container_id: int | None
    version: str | None

    def unchanged(self, st: Stat) -> bool:
        """The file is as the archive last read it: same size, mtime and inode, present."""
        return (
            self.size == st.st_size
            and self.mtime_ns == st.st_mtime_ns
            and self.inode == st.st_ino
            and self.missing_since is None
        )


class FileStat(NamedTuple):
    """What capture uses of a file's stat. A full scan holds one for every file it will
    read: an os.stat_result, with its float times, is four times the size."""

    st_size: int
    st_mtime_ns: int
    st_ino: int
    st_mode: int


Stat = os.stat_result | FileStat


Item = tuple[Tool, Source, FileStat, Known | None]
"""A file to read: its tool, its source, its stat now, and what the archive knows of it."""


_STAT = struct.Struct("<qqQI")
"""A Found's stat: size, mtime_ns, inode, mode."""


class Found:
    """A file a scan will read, kept small until its turn: a full scan holds one for every
    new file, and a Path and an os.stat_result each (1.5 KB a file) made a first scan's
    memory grow with the store. `item()` makes the Item when the file is read."""

    __slots__ = ("folder", "members", "mode", "name", "native_id", "packed", "row", "stem", "tool")

    def __init__(self, tool: Tool, source: Source, st: Stat, row: Known | None) -> None:
        self.tool = tool
        folder, self.name, self.stem, self.native_id = split_source(source)
        # The folder's name is shared by its files (a project's sessions), each keeps its own.
        self.folder = sys.intern(folder)
        self.mode = source.mode
        self.members = source.members
        # Packed: four ints and their tuple took 210 bytes a file, 5 MB of 25,000 files.
        self.packed = _STAT.pack(st.st_size, st.st_mtime_ns, st.st_ino, st.st_mode)
        self.row = row

    @classmethod
    def from_fields(
        cls,
        tool: Tool,
        folder: str,
        name: str,
        mode: SourceMode,
        stem: bool,
        native_id: str | None,
        members: Members | None,
        packed: bytes,
        row: Known | None,
    ) -> Found:
        """A Found from its fields, as tether.capture.todo keeps them."""
        found = cls.__new__(cls)
        found.tool, found.folder, found.name, found.mode = tool, folder, name, mode
        found.stem, found.native_id, found.members = stem, native_id, members
        found.packed, found.row = packed, row
        return found

    @property
    def path(self) -> str:
        return os.path.join(self.folder, self.name)  # noqa: PTH118  # a str: no Path kept

    @property
    def stat(self) -> FileStat:
        return FileStat(*_STAT.unpack(self.packed))

    @property
    def size(self) -> int:
        return int(_STAT.unpack_from(self.packed)[0])

    def item(self) -> Item:
        native_id = _stem(self.name) if self.stem else self.native_id
        source = Source(Path(self.path), self.mode, native_id, self.members)
        return self.tool, source, self.stat, self.row


def split_source(source: Source) -> tuple[str, str, bool, str | None]:
    """(folder, name, stem, native id) of a source's file as a Found keeps them: a native id
    that is the file's name without its suffix (most sessions') is not kept, stem says so."""
    folder, name = os.path.split(str(source.path))
    stem = source.native_id == _stem(name)
    return folder, name, stem, None if stem else source.native_id


def _stem(name: str) -> str:
    dot = name.rfind(".")
    return name[:dot] if dot > 0 else name


KNOWN_COLUMNS = (
    "path, id, tool, mode, origin, session_pk, size, mtime_ns, inode, offset, tail,"
    " generation, state, missing_since, container_id, version"
)


def load_known(db: sqlite3.Connection, paths: list[str] | None = None) -> dict[str, Known]:
    """What the archive knows of every file, or of just these."""
    if paths is None:
        rows = db.execute(f"SELECT {KNOWN_COLUMNS} FROM sources").fetchall()
    else:
        rows = []
        for i in range(0, len(paths), 500):
            chunk = paths[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows += db.execute(
                f"SELECT {KNOWN_COLUMNS} FROM sources WHERE path IN ({marks})", chunk
            ).fetchall()
    return {r[0]: Known(*r[1:]) for r in rows}


def wal_version(source: Source) -> str | None:
    """A container is a SQLite database: its writes land in `<file>-wal` first, and only a
    checkpoint changes the file itself. The -wal's size and mtime, as a version."""
    if source.members is None:
        return None
    try:
        st = source.path.with_name(source.path.name + "-wal").stat()
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}"


def up_to_date(row: Known | None, source: Source, st: Stat) -> bool:
    """The archive holds this file as it is now (for a container, its -wal too)."""
    return row is not None and row.unchanged(st) and row.version == wal_version(source)


class Archiver:
    """Collects the bytes a feed consumes and stores them compressed, in chunks."""

    def __init__(self, db: sqlite3.Connection, source_id: int, generation: int, start: int) -> None:
        self.db = db
        self.source_id = source_id
        self.generation = generation
        self.offset = start
        self.buffer = bytearray()
        self.tail = b""
        self.closed = False
        row = db.execute(
            "SELECT COALESCE(MAX(seq) + 1, 0) FROM raw_chunks"
            " WHERE source_id = ? AND generation = ?",
            (source_id, generation),
        ).fetchone()
        self.seq: int = row[0]
        self.last: tuple[int, int, bytes] | None = None
        """The end of the chunk stored last: (seq, at, its bytes from at), a base."""
        self.based = 0
        """How much of the buffer the last base took in."""
        parttext.collecting(db, self.key(), self.buffer)

    def key(self) -> tuple[int, int, int]:
        """The raw chunk being collected: (source, generation, seq)."""
        return (self.source_id, self.generation, self.seq)

    def close(self) -> None:
        """Let go of the buffer now: a reader that refers to itself (a table of its bound
        methods) keeps the feed, and so this, until the garbage collector's next round."""
        parttext.collected(self.db, self.key())
        self.closed = True
        self.buffer = bytearray()
        self.last = None

    def __call__(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= CHUNK:
            self.flush()

    def base(self) -> parttext.Base:
        """The raw bytes the parts being written were read from, for them to be compressed
        against (tether.archive.parttext): those collected since the last call (at least
        BASE_MIN of them, when there are), which are part of the chunk stored next; or, when
        a chunk was just stored (a document is one), its end."""
        size = len(self.buffer)
        if size >= parttext.BASE_MIN or self.last is None:
            at = max(0, min(self.based, size - parttext.BASE_MIN), size - parttext.BASE_MAX)
            self.based = size
            raw = bytes(memoryview(self.buffer)[at:])
            return (self.source_id, self.generation, self.seq, at, raw)
        return (self.source_id, self.generation, *self.last)

    def flush(self) -> None:
        if not self.buffer:
            return
        # Compressed from the buffer itself: a copy of it (and of tail + it) tripled a
        # large file's share of a scan's peak memory.
        data, self.buffer = self.buffer, bytearray()
        self.tail = (self.tail + data[-TAIL:])[-TAIL:]
        assert not self.closed, "flushed after close"
        # A compressor for each chunk: one kept for the file held its context (4 MB at
        # level 3 for a full chunk) while the rest of a large file was read. zstandard's C
        # backend alone: its package's __init__ cost a quick capture 8 ms.
        packed = parttext.zstd().ZstdCompressor(level=RAW_LEVEL).compress(data)
        length = len(data)
        at = max(0, length - parttext.BASE_MAX)
        self.last = (self.seq, at, bytes(memoryview(data)[at:]))
        del data
        self.db.execute(
            "INSERT INTO raw_chunks VALUES (?,?,?,?,?,?)",
            (self.source_id, self.generation, self.seq, self.offset, length, packed),
        )
        parttext.collected(self.db, self.key())
        self.based = 0
        self.seq += 1
        self.offset += length
        parttext.collecting(self.db, self.key(), self.buffer)


def _is_append(source: Source, st: Stat, row: Known) -> bool:
    if source.mode != "jsonl" or source.path.suffix == ".zst" or row.inode != st.st_ino:
        return False
    if st.st_size < row.offset or row.offset == 0:
        return False
    if not row.tail:
        return True
    try:
        with open_regular(source.path) as fh:
            fh.seek(row.offset - len(row.tail))
            return fh.read(len(row.tail)) == row.tail
    except OSError:
        return False


@dataclass
class Outcome:
    """What reading one file did, folded into the report once its transaction commits."""

    path: str
    session_pk: int | None
    created: bool
    bytes_read: int
    skipped: int
    repaired: int
    reasons: list[str]
    error: str | None = None
    """Set when this member of a container could not be read (nothing of it was kept)."""
    listing: bool = False
    """The listing of a container: it only brings what it skipped."""

    def fold_into(self, report: ScanReport) -> None:
        if self.error is not None:
            report.failed.append(Problem(self.path, self.error))
            return
        report.read += 0 if self.listing else 1
        report.bytes_read += self.bytes_read
        report.skipped += self.skipped
        report.repaired += self.repaired
        if self.skipped:
            report.skipped_in.append(Problem(self.path, "; ".join(self.reasons[:3])))
        if self.created:
            report.sessions_added += 1
        elif self.session_pk is not None:
            report.sessions_updated += 1


def read_sessions(
    db: sqlite3.Connection,
    tool: Tool,
    source: Source,
    st: Stat,
    row: Known | None,
    report: ScanReport,
    origin: str = "scan",
) -> list[int]:
    """Read one file into the archive in a transaction of its own; returns the pks of the
    sessions it holds (its one session, or every present member of a container).

    A file that cannot be read is recorded as failed (with its stat, so an unchanged
    broken file is not retried on every scan) and nothing of it is kept.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        outcomes = _read(db, tool, source, st, row, origin, careful=True)
        db.execute("COMMIT")
    except Exception as exc:
        db.execute("ROLLBACK")
        _record_failure(db, tool, source, st, row, origin, exc)
        report.failed.append(Problem(str(source.path), describe(exc)))
        return []
    for outcome in outcomes:
        outcome.fold_into(report)
    if source.members is None:
        pk = outcomes[0].session_pk if outcomes else None
        return [pk] if pk is not None else []
    return sessions_in(db, str(source.path))


def sessions_in(db: sqlite3.Connection, path: str) -> list[int]:
    """The sessions a file holds as the archive knows them: its own, or its members'."""
    rows = db.execute(
        "SELECT session_pk FROM sources WHERE path = ? AND session_pk IS NOT NULL"
        " UNION ALL SELECT m.session_pk FROM sources m JOIN sources c ON m.container_id = c.id"
        " WHERE c.path = ? AND m.session_pk IS NOT NULL AND m.missing_since IS NULL",
        (path, path),
    )
    return [r[0] for r in rows]


@dataclass(frozen=True)
class Stamp:
    """What a source row remembers of the file it was read from."""

    size: int
    mtime_ns: int
    inode: int


def _read(
    db: sqlite3.Connection,
    tool: Tool,
    source: Source,
    st: Stat,
    row: Known | None,
    origin: str,
    careful: bool = False,
) -> list[Outcome]:
    """Read one file inside the caller's transaction; raises when it cannot be read.

    careful: a member of a container that cannot be read is left out alone (at the cost of
    a savepoint per member); else it raises, and the caller reads the files again carefully.
    """
    if not stat.S_ISREG(st.st_mode):
        # A FIFO would block the read, a link to /dev/zero never end it: left out, reported.
        error = NotRegularFile(source.path, st.st_mode)
        _record_failure(db, tool, source, st, row, origin, error)
        return [Outcome(str(source.path), None, False, 0, 0, 0, [], describe(error))]
    if source.members is not None:
        return _read_container(db, tool, source, st, row, origin, careful)
    append = row is not None and _is_append(source, st, row)
    stamp = Stamp(st.st_size, st.st_mtime_ns, st.st_ino)
    return [_read_file(db, tool, source, stamp, row, origin, append)[0]]


def _read_file(
    db: sqlite3.Connection,
    tool: Tool,
    source: Source,
    stamp: Stamp,
    row: Known | None,
    origin: str,
    append: bool,
    data: bytes | None = None,
) -> tuple[Outcome, int]:
    """Read one session's file (or, given `data`, a member's bytes); returns its source id."""
    source_id, generation, replaced = _source_row(db, tool, source, stamp.size, row, append, origin)
    start = row.offset if (append and row is not None) else 0
    state: dict[str, Any] = orjson.loads(row.state) if (append and row and row.state) else {}
    stream = io.BytesIO(data) if data is not None else None
    if not append and row is not None:
        forget(db, source_id)
    marks = ArchivedMarks(db, source_id, earlier=append)
    session_pk = row.session_pk if row is not None else None
    archiver = Archiver(db, source_id, generation, start)
    try:
        feed = FileFeed(source, start=start, stream=stream, sink=archiver, marks=marks)

        def base() -> parttext.Base:
            feed.hand_over()
            return archiver.base()

        applier = Applier(db, tool, source, session_pk, fresh=not append, base=base)
        try:
            applier.run(read_guarded(tool, feed, state))
            archiver.flush()
        finally:
            feed.close()
    finally:
        archiver.close()
    if replaced is not None:  # after the session's old parts, compressed against them, went
        parttext.drop_raw(db, source_id, replaced)
    marks.save()
    if row is not None and not append and applier.session_pk is not None:
        keep_dropped(db, tool, source, source_id, applier.session_pk)
    tail = archiver.tail if archiver.tail or not append or row is None else row.tail
    db.execute(
        "UPDATE sources SET session_pk = ?, size = ?, mtime_ns = ?, inode = ?, offset = ?,"
        " tail = ?, state = ?, skipped = skipped + ?, repaired = repaired + ?,"
        " reasons = ?, error = NULL, scanned_at = ?, missing_since = NULL WHERE id = ?",
        (
            applier.session_pk,
            stamp.size,
            stamp.mtime_ns,
            stamp.inode,
            feed.end,
            tail,
            dumps(state) if state else None,
            feed.skipped,
            feed.repaired,
            dumps(feed.reasons) if feed.reasons else None,
            now_iso(),
            source_id,
        ),
    )
    outcome = Outcome(
        str(source.path),
        applier.session_pk,
        applier.created,
        feed.end - start,
        feed.skipped,
        feed.repaired,
        feed.reasons,
    )
    return outcome, source_id


def _read_container(
    db: sqlite3.Connection,
    tool: Tool,
    source: Source,
    st: Stat,
    row: Known | None,
    origin: str,
    careful: bool,
) -> list[Outcome]:
    """List a container's sessions, read those whose version changed, and mark those that
    left as missing."""
    assert source.members is not None
    container_id = row.id if row is not None else _insert_source(db, tool, source, origin)
    wal = wal_version(source)  # before listing: a write during it shows at the next scan
    members = {
        r[0]: Known(*r[1:])
        for r in db.execute(
            "SELECT path, id, tool, mode, origin, session_pk, size, mtime_ns, inode, offset,"
            " tail, generation, state, missing_since, container_id, version FROM sources"
            " WHERE container_id = ?",
            (container_id,),
        )
    }
    reasons: list[str] = []
    outcomes: list[Outcome] = []
    listed: set[str] = set()
    for member in source.members(reasons.append):
        path = member_path(source.path, member.key)
        if str(path) in listed:
            reasons.append(f"session {member.key!r} listed twice")
            continue
        listed.add(str(path))
        known = members.get(str(path))
        if known is not None and known.version == member.version and known.missing_since is None:
            continue
        sub = Source(path, member.mode, native_id=member.key)
        outcomes.append(_read_member(db, tool, sub, member, known, st, origin, careful))
        db.execute("UPDATE sources SET container_id = ? WHERE path = ?", (container_id, str(path)))
    stamp = now_iso()
    gone = [(stamp, k.id) for p, k in members.items() if p not in listed and not k.missing_since]
    db.executemany("UPDATE sources SET missing_since = ? WHERE id = ?", gone)
    db.execute(
        "UPDATE sources SET size = ?, mtime_ns = ?, inode = ?, version = ?, skipped = ?,"
        " reasons = ?, error = NULL, scanned_at = ?, missing_since = NULL WHERE id = ?",
        (
            st.st_size,
            st.st_mtime_ns,
            st.st_ino,
            wal,
            len(reasons),
            dumps(reasons[:MAX_REASONS]) if reasons else None,
            stamp,
            container_id,
        ),
    )
    if reasons:
        outcomes.append(
            Outcome(str(source.path), None, False, 0, len(reasons), 0, reasons, listing=True)
        )
    return outcomes


def _read_member(
    db: sqlite3.Connection,
    tool: Tool,
    source: Source,
    member: Member,
    row: Known | None,
    st: Stat,
    origin: str,
    careful: bool,
) -> Outcome:
    try:
        data = member.load()
    except Exception as exc:
        return _member_failed(db, tool, source, row, origin, exc)
    stamp = Stamp(len(data), st.st_mtime_ns, st.st_ino)
    if not careful:
        outcome, source_id = _read_file(db, tool, source, stamp, row, origin, False, data)
        db.execute("UPDATE sources SET version = ? WHERE id = ?", (member.version, source_id))
        return outcome
    db.execute("SAVEPOINT member")  # FTS5 flushes at each savepoint: only when retrying
    try:
        outcome, source_id = _read_file(db, tool, source, stamp, row, origin, False, data)
        db.execute("UPDATE sources SET version = ? WHERE id = ?", (member.version, source_id))
    except Exception as exc:
        db.execute("ROLLBACK TO member")
        db.execute("RELEASE member")
        return _member_failed(db, tool, source, row, origin, exc)
    db.execute("RELEASE member")
    return outcome


def _member_failed(
    db: sqlite3.Connection,
    tool: Tool,
    source: Source,
    row: Known | None,
    origin: str,
    exc: Exception,
) -> Outcome:
    """Record a member that could not be read, without a version: it is tried again when
    its container next changes."""
    if row is None:
        _insert_source(db, tool, source, origin)
    db.execute(
        "UPDATE sources SET error = ?, version = NULL, scanned_at = ? WHERE path = ?",
        (describe(exc), now_iso(), str(source.path)),
    )
    return Outcome(str(source.path), None, False, 0, 0, 0, [], describe(exc))


def read_batch(
    db: sqlite3.Connection,
    batch: list[Item],
    report: ScanReport,
) -> None:
    """Read several files in one transaction: FTS5 writes its index segments at each
    commit (and savepoint), so a few large commits beat thousands of small ones. If one
    file fails, the batch is undone and read again a file per transaction, so that the
    failing file alone is left out. Offsets commit with their messages either way."""
    outcomes = []
    # Foreign-key checks cost a quarter of a first scan (each source row's update checks
    # its parents), and ingest's writes keep the keys right by construction: its deletes
    # are explicit, child rows are written after their parents. The one-file path below,
    # taken when a batch fails, keeps the checks on.
    db.execute("PRAGMA foreign_keys = OFF")
    db.execute("BEGIN IMMEDIATE")
    try:
        for tool, source, st, row in batch:
            outcomes.extend(_read(db, tool, source, st, row, "scan"))
        db.execute("COMMIT")
    except Exception:
        db.execute("ROLLBACK")
        db.execute("PRAGMA foreign_keys = ON")
        for tool, source, st, row in batch:
            read_sessions(db, tool, source, st, row, report)
        return
    finally:
        if not db.in_transaction:
            db.execute("PRAGMA foreign_keys = ON")
    for outcome in outcomes:
        outcome.fold_into(report)


class Tally:
    """Bytes read so far of a scan's total, told to its progress callback."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = total
        self.done = 0
        self.progress = progress

    def __call__(self, size: int) -> None:
        self.done += size
        if self.progress is not None:
            self.progress(self.done, self.total)


def read_serially(
    db: sqlite3.Connection, todo: Iterable[Found], report: ScanReport, tally: Tally
) -> None:
    """Read files in order, a few large transactions of them (see read_batch)."""
    batch: list[Item] = []
    size = 0
    for found in todo:
        batch.append(found.item())
        size += found.size
        if size >= BATCH_BYTES or len(batch) >= BATCH_FILES:
            read_batch(db, batch, report)
            tally(size)
            batch, size = [], 0
    if batch:
        read_batch(db, batch, report)
        tally(size)


def describe(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return f"{type(exc).__name__}: {exc}"


def _insert_source(db: sqlite3.Connection, tool: Tool, source: Source, origin: str) -> int:
    cur = db.execute(
        "INSERT INTO sources (tool, path, mode, origin) VALUES (?,?,?,?)",
        (tool.name, str(source.path), source.mode, origin),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def _source_row(
    db: sqlite3.Connection,
    tool: Tool,
    source: Source,
    size: int,
    row: Known | None,
    append: bool,
    origin: str,
) -> tuple[int, int, int | None]:
    """The file's source id and the generation its bytes are stored as, and the generation
    whose bytes the new one replaces (None: none is)."""
    if row is None:
        return _insert_source(db, tool, source, origin), 0, None
    if append:
        return row.id, row.generation, None
    generation = row.generation + 1
    # A re-read replaces the archived bytes, unless the file shrank: then the old
    # generation may hold history the tool dropped, and it is kept (history.keep_dropped
    # shows that history). Generations kept before it stay.
    old_bytes = db.execute(
        "SELECT COALESCE(SUM(length), 0) FROM raw_chunks WHERE source_id = ? AND generation = ?",
        (row.id, row.generation),
    ).fetchone()[0]
    db.execute("UPDATE sources SET generation = ? WHERE id = ?", (generation, row.id))
    return row.id, generation, (row.generation if size >= old_bytes else None)


def _record_failure(
    db: sqlite3.Connection,
    tool: Tool,
    source: Source,
    st: Stat,
    row: Known | None,
    origin: str,
    exc: BaseException,
) -> None:
    message = describe(exc)
    if row is None:
        db.execute(
            "INSERT OR IGNORE INTO sources (tool, path, mode, origin) VALUES (?,?,?,?)",
            (tool.name, str(source.path), source.mode, origin),
        )
    # Remember the stat so an unchanged broken file is not retried on every scan.
    db.execute(
        "UPDATE sources SET error = ?, size = ?, mtime_ns = ?, inode = ?, scanned_at = ?"
        " WHERE path = ?",
        (message, st.st_size, st.st_mtime_ns, st.st_ino, now_iso(), str(source.path)),
    )


class ReadFailed(TetherError):
    """A session's file, as a tether server holds it, could not be read."""


def read_pushed(
    db: sqlite3.Connection, tool: str, native_id: str, path: Path, mode: str, origin: str
) -> list[int]:
    """Read one file of a session that travelled through a tether server (pulled by the
    client, or read back by the server to show it) with its tool's own reader, as an
    import reads a file; `mode`: jsonl or document."""
    from tether.tools import facts
    from tether.tools.base import Source

    # A native id reaches the reader when it has its tool's shape, or is plain enough to
    # stand in a file name (a session captured from a file its tool did not name by its
    # id): the session keeps the id, and so the tether id, it has on the pusher's machine.
    # Else the reader finds the id in the file, as it does for an import.
    plain = facts.get(tool).valid_id(native_id) or facts.is_safe_id(native_id)
    given = native_id if plain else None
    source = Source(path, "jsonl" if mode == "jsonl" else "document", native_id=given)
    scan = ScanReport()
    row = load_known(db, [str(path)]).get(str(path))
    pks = read_sessions(db, readers()[tool], source, path.stat(), row, scan, origin=origin)
    if scan.failed:
        raise ReadFailed(f"its file could not be read: {scan.failed[0].message}")
    return pks
