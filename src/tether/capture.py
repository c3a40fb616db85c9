"""Capture: find every native session file, read what is new, archive its raw bytes.

A file whose size, mtime and inode are unchanged costs one stat. A JSONL file that grew
(same inode, same bytes before the last offset) is read from that offset; any other change
re-reads it whole under a new archive generation. One transaction per file: its messages,
its raw bytes and its offset commit together, so a crash never duplicates or loses a line.
A container (a database of many sessions) that changed is listed, and each member session
whose version changed is read whole from the bytes its tool extracts for it.
"""

from __future__ import annotations

import fcntl
import io
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tether.feed import MAX_REASONS, FileFeed, feed_from_bytes
from tether.model import session_id
from tether.registry import TOOLS, readers
from tether.store import SessionWriter, apply_meta, dumps
from tether.tools.base import (
    Member,
    Meta,
    Op,
    Put,
    Reset,
    Rewind,
    Source,
    Tool,
    member_path,
)

HEAD = 16384
CHUNK = 4 << 20
BATCH_BYTES = 32 << 20
BATCH_FILES = 1000
TAIL = 64
MAX_BUFFERED_OPS = 1000


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

    def problem_line(self) -> str | None:
        """One line for stderr when something could not be read, else None."""
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
        return "tether: " + "; ".join(bits) + " — details: tether doctor"


Progress = Callable[[int, int], None]
"""progress(bytes_done, bytes_total)."""


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@contextmanager
def scan_lock(home: Path, wait: bool) -> Iterator[bool]:
    """One capture at a time per archive; yields False when busy and not waiting."""
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / "scan.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


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

    def unchanged(self, st: os.stat_result) -> bool:
        """The file is as the archive last read it: same size, mtime and inode, present."""
        return (
            self.size == st.st_size
            and self.mtime_ns == st.st_mtime_ns
            and self.inode == st.st_ino
            and self.missing_since is None
        )


Item = tuple[Tool, Source, os.stat_result, Known | None]
"""A file to read: its tool, its source, its stat now, and what the archive knows of it."""

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


def discover_all(
    env: Mapping[str, str], home: Path, tools: list[Tool]
) -> Iterator[tuple[Tool, Path, Source]]:
    for tool in tools:
        for root in tool.store_roots(env, home):
            if root.is_dir():
                for source in tool.discover(root):
                    yield tool, root, source


def scan(
    db: sqlite3.Connection,
    env: Mapping[str, str],
    home: Path,
    tools: list[Tool] | None = None,
    progress: Progress | None = None,
    only: Changed | None = None,
    found: dict[str, tuple[Tool, Source]] | None = None,
) -> ScanReport:
    """Capture everything new from every tool's store (and from imported files).

    With `only` (what the watcher saw change), just the store roots it touches are
    listed and just the files it covers are looked at; imported files are left alone.
    `found` gets every file listed, for read_files to read again without a listing.
    """
    started = time.perf_counter()
    report = ScanReport()
    tools = list(TOOLS.values()) if tools is None else tools
    known = load_known(db)
    seen: set[str] = set()
    scanned_roots: list[tuple[str, str]] = []
    todo: list[Item] = []
    for tool in tools:
        for root in tool.store_roots(env, home):
            if (only is not None and not only.touches(root)) or not root.is_dir():
                continue
            scanned_roots.append((tool.name, str(root) + os.sep))
            for source in tool.discover(root):
                key = str(source.path)
                if key in seen:
                    continue
                seen.add(key)
                if found is not None:
                    found[key] = (tool, source)
                row = known.get(key)
                # A file the archive lacks is always looked at: it may have been hidden by
                # a sibling that just went (a .jsonl.zst once its plain .jsonl is deleted).
                if only is None or row is None or row.missing_since or only.covers(key):
                    _consider(tool, source, row, todo, report)
    all_readers = readers()
    for path, imported in known.items():
        if only is not None:
            break
        if (
            imported.origin == "import"
            and imported.container_id is None
            and path not in seen
            and imported.tool in all_readers
        ):
            if not os.path.lexists(path):
                continue  # gone: marked missing below, kept in the archive
            reader = all_readers[imported.tool]
            again = _reopen(reader, Path(path), imported.mode)
            if again is None:
                continue
            seen.add(path)
            _consider(reader, again, imported, todo, report)
    # Before reading: a file renamed or compressed (Codex archive, .jsonl -> .jsonl.zst)
    # takes its session over from the old path instead of forking a copy of it.
    report.missing = _mark_missing(db, known, seen, scanned_roots, imports=only is None)
    # In name order: a tool's later file that reuses a session id (Gemini's resume stub)
    # comes after the file that holds the session, so the session keeps its own id.
    todo.sort(key=lambda item: str(item[1].path))
    if todo:
        from tether.staging import read_all

        read_all(db, todo, report, Tally(sum(item[2].st_size for item in todo), progress))
    report.seconds = time.perf_counter() - started
    return report


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
    db: sqlite3.Connection, todo: list[Item], report: ScanReport, tally: Tally
) -> None:
    """Read files in order, a few large transactions of them (see read_batch)."""
    batch: list[Item] = []
    size = 0
    for item in todo:
        batch.append(item)
        size += item[2].st_size
        if size >= BATCH_BYTES or len(batch) >= BATCH_FILES:
            read_batch(db, batch, report)
            tally(size)
            batch, size = [], 0
    if batch:
        read_batch(db, batch, report)
        tally(size)


def read_files(db: sqlite3.Connection, files: list[tuple[Tool, Source]]) -> ScanReport:
    """Read these files where they changed, as scan would, but without listing any store:
    the watcher's appends to files a scan listed. A file gone meanwhile is left to scan."""
    started = time.perf_counter()
    report = ScanReport()
    known = load_known(db, [str(source.path) for _, source in files])
    todo: list[Item] = []
    for tool, source in files:
        if os.path.lexists(source.path):
            _consider(tool, source, known.get(str(source.path)), todo, report)
    todo.sort(key=lambda item: str(item[1].path))
    if todo:
        read_batch(db, todo, report)
    report.seconds = time.perf_counter() - started
    return report


def _reopen(tool: Tool, path: Path, mode: str) -> Source | None:
    """The source of a file imported before; a container is recognised again by its tool."""
    if mode != "container":
        return Source(path, "jsonl" if mode == "jsonl" else "document")
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD)
    except OSError:
        return None
    source = tool.sniff(path, head)
    return source if source is not None and source.members is not None else None


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


def up_to_date(row: Known | None, source: Source, st: os.stat_result) -> bool:
    """The archive holds this file as it is now (for a container, its -wal too)."""
    return row is not None and row.unchanged(st) and row.version == wal_version(source)


def _consider(
    tool: Tool,
    source: Source,
    row: Known | None,
    todo: list[Item],
    report: ScanReport,
) -> None:
    report.files += 1
    try:
        st = source.path.stat()
    except OSError as exc:
        report.failed.append(Problem(str(source.path), exc.strerror or str(exc)))
        return
    if up_to_date(row, source, st):
        return
    todo.append((tool, source, st, row))


def _mark_missing(
    db: sqlite3.Connection,
    known: dict[str, Known],
    seen: set[str],
    roots: list[tuple[str, str]],
    imports: bool = True,
) -> int:
    """Mark files no longer found under the roots listed, each by its own tool (a project
    folder may be one tool's store root and hold another's files); a member goes with its
    container (a container still there marks its own members that left it when read)."""
    stamp = now_iso()
    paths = {row.id: path for path, row in known.items()}

    def absent(path: str, row: Known) -> bool:
        if row.container_id is not None:
            return paths.get(row.container_id) not in seen
        return path not in seen

    def looked_at(path: str, row: Known) -> bool:
        if row.origin == "import":
            return imports
        return any(row.tool == tool and path.startswith(r) for tool, r in roots)

    gone = [
        row.id
        for path, row in known.items()
        if absent(path, row) and row.missing_since is None and looked_at(path, row)
    ]
    if gone:
        db.executemany(
            "UPDATE sources SET missing_since = ? WHERE id = ?", [(stamp, i) for i in gone]
        )
    return sum(1 for p, r in known.items() if absent(p, r) and (r.missing_since or r.id in gone))


class Changed:
    """Paths a watcher saw change (files or folders): what a partial scan looks at."""

    def __init__(self, paths: Iterable[str | Path]) -> None:
        self.paths = frozenset(os.path.normpath(p) for p in paths)

    def touches(self, root: Path) -> bool:
        """A changed path lies under this store root, or is the root or a folder above it."""
        top = str(root)
        return any(
            p == top or p.startswith(top + os.sep) or top.startswith(p.rstrip(os.sep) + os.sep)
            for p in self.paths
        )

    def covers(self, path: str) -> bool:
        """The file itself changed, or a folder it is in (created, moved in, re-listed)."""
        while path:
            if path in self.paths:
                return True
            path = path[: max(path.rfind(os.sep), 0)]
        return False


class Archiver:
    """Collects the bytes a feed consumes and stores them compressed, in chunks."""

    def __init__(self, db: sqlite3.Connection, source_id: int, generation: int, start: int) -> None:
        import zstandard

        self.db = db
        self.source_id = source_id
        self.generation = generation
        self.offset = start
        self.buffer = bytearray()
        self.tail = b""
        self.compressor = zstandard.ZstdCompressor(level=1)
        row = db.execute(
            "SELECT COALESCE(MAX(seq) + 1, 0) FROM raw_chunks"
            " WHERE source_id = ? AND generation = ?",
            (source_id, generation),
        ).fetchone()
        self.seq: int = row[0]

    def __call__(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        data = bytes(self.buffer)
        self.tail = (self.tail + data)[-TAIL:]
        self.db.execute(
            "INSERT INTO raw_chunks VALUES (?,?,?,?,?,?)",
            (
                self.source_id,
                self.generation,
                self.seq,
                self.offset,
                len(data),
                self.compressor.compress(data),
            ),
        )
        self.seq += 1
        self.offset += len(data)
        self.buffer = bytearray()


def _is_append(source: Source, st: os.stat_result, row: Known) -> bool:
    if source.mode != "jsonl" or source.path.suffix == ".zst" or row.inode != st.st_ino:
        return False
    if st.st_size < row.offset or row.offset == 0:
        return False
    if not row.tail:
        return True
    try:
        with source.path.open("rb") as fh:
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


def read_source(
    db: sqlite3.Connection,
    tool: Tool,
    source: Source,
    st: os.stat_result,
    row: Known | None,
    report: ScanReport,
    origin: str = "scan",
) -> int | None:
    """Read one file into the archive in a transaction of its own; returns its session pk
    (for a container, the last of its sessions' pks: see `read_sessions`)."""
    pks = read_sessions(db, tool, source, st, row, report, origin)
    return pks[-1] if pks else None


def read_sessions(
    db: sqlite3.Connection,
    tool: Tool,
    source: Source,
    st: os.stat_result,
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
        report.failed.append(Problem(str(source.path), _describe(exc)))
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
    st: os.stat_result,
    row: Known | None,
    origin: str,
    careful: bool = False,
) -> list[Outcome]:
    """Read one file inside the caller's transaction; raises when it cannot be read.

    careful: a member of a container that cannot be read is left out alone (at the cost of
    a savepoint per member); else it raises, and the caller reads the files again carefully.
    """
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
    source_id, generation = _source_row(db, tool, source, stamp.size, row, append, origin)
    start = row.offset if (append and row is not None) else 0
    state: dict[str, Any] = orjson.loads(row.state) if (append and row and row.state) else {}
    archiver = Archiver(db, source_id, generation, start)
    stream = io.BytesIO(data) if data is not None else None
    feed = FileFeed(source, start=start, stream=stream, sink=archiver)
    session_pk = row.session_pk if row is not None else None
    applier = Applier(db, tool, source, session_pk, fresh=not append)
    applier.run(tool.read(feed, state))
    archiver.flush()
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
    st: os.stat_result,
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
    st: os.stat_result,
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
        (_describe(exc), now_iso(), str(source.path)),
    )
    return Outcome(str(source.path), None, False, 0, 0, 0, [], _describe(exc))


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
    # its parents), and capture's writes keep the keys right by construction: its deletes
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
            read_source(db, tool, source, st, row, report)
        return
    finally:
        if not db.in_transaction:
            db.execute("PRAGMA foreign_keys = ON")
    for outcome in outcomes:
        outcome.fold_into(report)


def _describe(exc: BaseException) -> str:
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
) -> tuple[int, int]:
    if row is None:
        return _insert_source(db, tool, source, origin), 0
    if append:
        return row.id, row.generation
    generation = row.generation + 1
    # A re-read replaces the archived bytes, unless the file shrank: then the old
    # generation may hold history the tool dropped, and it is kept.
    old_bytes = db.execute(
        "SELECT COALESCE(SUM(length), 0) FROM raw_chunks WHERE source_id = ? AND generation = ?",
        (row.id, row.generation),
    ).fetchone()[0]
    if size >= old_bytes:
        db.execute("DELETE FROM raw_chunks WHERE source_id = ?", (row.id,))
    db.execute("UPDATE sources SET generation = ? WHERE id = ?", (generation, row.id))
    return row.id, generation


def _record_failure(
    db: sqlite3.Connection,
    tool: Tool,
    source: Source,
    st: os.stat_result,
    row: Known | None,
    origin: str,
    exc: BaseException,
) -> None:
    message = _describe(exc)
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


class Applier:
    """Routes a reader's ops to the session they belong to, creating it once its id is known."""

    def __init__(
        self,
        db: sqlite3.Connection,
        tool: Tool,
        source: Source,
        session_pk: int | None,
        fresh: bool,
    ) -> None:
        self.db = db
        self.tool_name = tool.name
        self.source = source
        self.session_pk = session_pk
        self.fresh = fresh
        self.created = False
        self.writer: SessionWriter | None = None
        self.pending: list[Op] = []
        self.native_id = source.native_id
        self.session_tool: str | None = None

    def run(self, ops: Iterator[Op]) -> None:
        if self.session_pk is not None:
            self._open_writer()
        for op in ops:
            if self.writer is None:
                if isinstance(op, Meta) and op.tool:
                    self.session_tool = op.tool
                if isinstance(op, Meta) and op.native_id and not self.source.native_id:
                    self.native_id = op.native_id
                self.pending.append(op)
                if (
                    self.native_id
                    and (self.source.native_id or (isinstance(op, Meta) and op.native_id))
                ) or len(self.pending) > MAX_BUFFERED_OPS:
                    self._create()
                continue
            self._apply(op)
        if self.writer is None and self.pending:
            self._create()
        if self.writer is not None:
            self.writer.finish()

    def _create(self) -> None:
        tool = self.session_tool or self.tool_name
        native_id = self.native_id or self.source.path.stem
        sid = session_id(tool, native_id)
        existing = self.db.execute("SELECT pk FROM sessions WHERE id = ?", (sid,)).fetchone()
        if existing and self._owned_elsewhere(existing[0]):
            # Another live file already holds this native id: keep both, never merge them.
            import hashlib

            suffix = hashlib.sha256(str(self.source.path).encode()).hexdigest()[:12]
            native_id = f"{native_id}#{suffix}"
            sid = session_id(tool, native_id)
            existing = self.db.execute("SELECT pk FROM sessions WHERE id = ?", (sid,)).fetchone()
        if existing:
            self.session_pk = existing[0]
        else:
            cur = self.db.execute(
                "INSERT INTO sessions (id, tool, native_id) VALUES (?,?,?)", (sid, tool, native_id)
            )
            self.session_pk = cur.lastrowid
            self.created = True
        self._open_writer()
        pending, self.pending = self.pending, []
        for op in pending:
            self._apply(op)

    def _owned_elsewhere(self, session_pk: int) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM sources"
                " WHERE session_pk = ? AND path != ? AND missing_since IS NULL",
                (session_pk, str(self.source.path)),
            ).fetchone()
            is not None
        )

    def _open_writer(self) -> None:
        assert self.session_pk is not None
        self.writer = SessionWriter(self.db, self.session_pk, fresh=self.created)
        if self.fresh and not self.created:
            self.writer.reset()

    def _apply(self, op: Op) -> None:
        writer = self.writer
        assert writer is not None and self.session_pk is not None
        if isinstance(op, Put):
            writer.put(op)
        elif isinstance(op, Meta):
            writer.flush()
            apply_meta(self.db, self.session_pk, self.session_tool or self.tool_name, op)
            writer.touched = True
        elif isinstance(op, Rewind):
            writer.rewind(op.key)
        elif isinstance(op, Reset):
            writer.reset()


def archived_bytes(db: sqlite3.Connection, source_id: int) -> bytes:
    """The newest archived generation of one source, decompressed."""
    import zstandard

    dctx = zstandard.ZstdDecompressor()
    rows = db.execute(
        "SELECT data FROM raw_chunks WHERE source_id = ? AND generation ="
        " (SELECT MAX(generation) FROM raw_chunks WHERE source_id = ?) ORDER BY seq",
        (source_id, source_id),
    )
    return b"".join(dctx.decompress(data) for (data,) in rows)


@dataclass
class ReindexReport:
    sessions: int = 0
    failed: list[Problem] = field(default_factory=list)
    skipped: int = 0


def reindex(db: sqlite3.Connection) -> ReindexReport:
    """Re-read every archived source from its raw bytes with today's readers."""
    report = ReindexReport()
    all_readers = readers()
    rows = db.execute(
        "SELECT id, tool, path, mode, session_pk FROM sources WHERE session_pk IS NOT NULL"
    ).fetchall()
    for source_id, tool_name, path, mode, session_pk in rows:
        tool = all_readers.get(tool_name)
        if tool is None:
            report.failed.append(Problem(path, f"no reader for {tool_name!r} in this version"))
            continue
        data = archived_bytes(db, source_id)
        source = Source(Path(path), "jsonl" if mode == "jsonl" else "document")
        state: dict[str, Any] = {}
        feed = feed_from_bytes(source, data)
        db.execute("BEGIN IMMEDIATE")
        try:
            applier = Applier(db, tool, source, session_pk, fresh=True)
            applier.run(tool.read(feed, state))
            db.execute(
                "UPDATE sources SET state = ?, skipped = ?, repaired = ?, reasons = ? WHERE id = ?",
                (
                    dumps(state) if state else None,
                    feed.skipped,
                    feed.repaired,
                    dumps(feed.reasons) if feed.reasons else None,
                    source_id,
                ),
            )
            db.execute("COMMIT")
        except Exception as exc:
            db.execute("ROLLBACK")
            report.failed.append(Problem(path, _describe(exc)))
            continue
        report.sessions += 1
        report.skipped += feed.skipped
    db.execute("INSERT INTO parts_fts(parts_fts) VALUES ('optimize')")
    return report
