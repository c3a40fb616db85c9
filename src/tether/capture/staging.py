"""Reading many new files at once, on every core.

Worker processes read runs of files the archive has never seen into staging databases of
their own, with the code a serial scan runs (ingest.read_batch) minus the full-text index.
The archive takes each staging database over in file order, in one transaction: rows are
copied with their keys shifted past the archive's, and their text is indexed. Keys come out
as a serial scan would give them, row for row.

A staging database holding a session the archive already has (a resumed session's id, an
imported copy) is dropped, and its files are read serially instead: the serial path decides
how the two meet. So does any failure of a worker. Files the archive knows (appends, re-reads)
and containers are always read serially, in their place in the order.

shutil, threading and multiprocessing load only where a scan goes parallel: a quick capture
of one changed file (tether.capture.fresh) reads it serially, and never needs them.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tether.archive.db import connect_staging
from tether.capture.heap import fix_thresholds
from tether.capture.ingest import (
    FileStat,
    Found,
    ScanReport,
    Tally,
    read_batch,
    read_serially,
    readers,
)
from tether.capture.todo import Todo
from tether.tools.base import Source

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor
    from multiprocessing.context import BaseContext

MIN_BYTES = 24 << 20
"""Below this much new data a parallel scan does not pay for its processes."""
CHUNK_BYTES = 8 << 20
CHUNK_FILES = 400
MAX_FILE = 64 << 20
"""Larger files are read serially: their reading is one long stream either way."""
MAX_WORKERS = 4

Step = tuple[bool, range]
"""(staged?, files): one staging database's worth of new files, or files read serially, as
places in the scan's Todo (its Found made when the step's turn comes)."""
Job = tuple[str, Source, FileStat]


def workers() -> int:
    """How many worker processes a parallel scan uses: TETHER_SCAN_WORKERS, else one per
    core (at most MAX_WORKERS); 0 or 1 means serial."""
    value = os.environ.get("TETHER_SCAN_WORKERS", "").strip()
    if value.isdigit():
        return int(value)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return min(cores, MAX_WORKERS)


def stageable(found: Found) -> bool:
    return found.row is None and found.members is None and found.size <= MAX_FILE


def plan(todo: Todo) -> list[Step]:
    """Cut the files, in order, into staged chunks and serial runs."""
    steps: list[Step] = []
    size = 0  # of the last step's files
    for at, item in enumerate(todo):
        staged = stageable(item)
        if (
            steps
            and steps[-1][0] == staged
            and (not staged or (len(steps[-1][1]) < CHUNK_FILES and size < CHUNK_BYTES))
        ):
            steps[-1] = (staged, range(steps[-1][1].start, at + 1))
            size += item.size
            continue
        steps.append((staged, range(at, at + 1)))
        size = item.size
    return steps


def read_all(
    db: sqlite3.Connection,
    todo: Todo,
    report: ScanReport,
    tally: Tally,
    pool: ProcessPoolExecutor | None = None,
) -> None:
    """Read these files (sorted) into the archive: in parallel when there is enough that is
    new and more than one core, else serially; on `pool` when one was forked early. A
    step's Found are made when it is submitted or read, and let go once it is read: a
    first scan's list of files is the largest thing it holds (tether.capture.todo)."""
    if tally.total < MIN_BYTES:
        read_serially(db, todo, report, tally)
        return
    count = workers()
    # Planned once: each look at a file makes its Found anew from the packed Todo.
    steps = plan(todo) if count >= 2 else []
    staged = sum(todo.size(at) for is_staged, places in steps if is_staged for at in places)
    if count < 2 or staged < MIN_BYTES:
        with Checkpointer(db):
            read_serially(db, todo, report, tally)
        return
    folder = staging_folder(db)
    assert folder is not None
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        with _workers(count, pool) as running, Checkpointer(db):
            _run(db, todo, steps, running, count + 1, folder, report, tally)
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def forked_early(much_new: Callable[[int], bool]) -> Iterator[ProcessPoolExecutor | None]:
    """Worker processes forked now, before a scan lists the stores, when it will go parallel
    (`much_new(MIN_BYTES)`) and fork is safe; shut down on leaving, used or not. Forked after
    the listing, each worker carried a copy of it (a Found per file), and a first scan's peak
    memory grew with the stores; forked before, they hold the modules and an empty heap."""
    count = workers()
    if count < 2 or _context().get_start_method() != "fork" or not much_new(MIN_BYTES):
        yield None
        return
    with _workers(count, None) as pool:
        yield pool


@contextmanager
def _workers(count: int, given: ProcessPoolExecutor | None) -> Iterator[ProcessPoolExecutor]:
    """The pool given, or one of `count` workers forked now (and shut down on leaving)."""
    if given is not None:
        yield given
        return
    from concurrent.futures import ProcessPoolExecutor  # here: serial scans never load it

    # In this process (its take-overs) and in each worker (forked or spawned): their peak
    # memory no longer follows the largest session read (tether.capture.heap).
    fix_thresholds()
    with ProcessPoolExecutor(count, mp_context=_context(), initializer=fix_thresholds) as pool:
        pool.submit(os.getpid).result()  # forked now, before the checkpointer's thread
        yield pool


class Checkpointer:
    """While a long scan writes, copy its write-ahead log into the database file on a thread
    of its own, every 50 ms, instead of in the writer's commits. A checkpoint is C work with
    the GIL released, so the writer goes on meanwhile."""

    def __init__(self, db: sqlite3.Connection) -> None:
        import threading

        self.db = db
        self.path = _archive_file(db)
        self.wake = threading.Event()
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, name="tether-checkpoint", daemon=True)

    def __enter__(self) -> Checkpointer:
        (self.autocheckpoint,) = self.db.execute("PRAGMA wal_autocheckpoint").fetchone()
        self.db.execute("PRAGMA wal_autocheckpoint = 0")
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping = True
        self.wake.set()
        self.thread.join()
        self.db.execute(f"PRAGMA wal_autocheckpoint = {int(self.autocheckpoint)}")

    def _loop(self) -> None:
        own = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while not self.stopping:
                self.wake.wait(0.05)
                self.wake.clear()
                own.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            pass  # the writer's own checkpoints take over once autocheckpoint is back
        finally:
            own.close()


def _run(
    db: sqlite3.Connection,
    todo: Todo,
    steps: list[Step],
    pool: ProcessPoolExecutor,
    ahead: int,
    folder: Path,
    report: ScanReport,
    tally: Tally,
) -> None:
    """Walk the steps in order, keeping up to `ahead` staged chunks in the workers' hands."""
    staged = ((i, places) for i, (is_staged, places) in enumerate(steps) if is_staged)
    pending: deque[tuple[int, Path, Future[ScanReport]]] = deque()

    def submit() -> None:
        while len(pending) < ahead:
            nxt = next(staged, None)
            if nxt is None:
                return
            index, places = nxt
            path = folder / f"{index}.db"
            jobs: list[Job] = [
                (f.tool.name, f.item()[1], f.stat) for f in map(todo.__getitem__, places)
            ]
            try:
                future = pool.submit(stage, str(path), jobs)
            except Exception as exc:  # the pool broke (a worker was killed): serial it is
                from concurrent.futures import Future

                future = Future()
                future.set_exception(exc)
            pending.append((index, path, future))

    submit()
    for index, (is_staged, places) in enumerate(steps):
        files = map(todo.__getitem__, places)
        if not is_staged:
            read_serially(db, files, report, tally)
            continue
        got, path, future = pending.popleft()
        assert got == index
        submit()
        try:
            part = future.result()
            taken = take_over(db, path)
        except Exception:  # a worker died or failed: the serial path reads these files
            taken = False
        finally:
            path.unlink(missing_ok=True)
        if taken:
            report.add(part)
            tally(sum(todo.size(at) for at in places))
        else:
            read_serially(db, files, report, tally)


def staging_folder(db: sqlite3.Connection) -> Path | None:
    """Where a parallel scan keeps its staging databases: beside the archive (None for an
    archive in memory)."""
    try:
        return _archive_file(db).parent / "staging"
    except RuntimeError:
        return None


def clear_leftovers(db: sqlite3.Connection) -> None:
    """Remove the staging databases of a scan that was killed (kill -9 leaves them): at the
    start of every scan, under the scan lock, so no other scan can be using them. One
    lstat when there are none."""
    folder = staging_folder(db)
    if folder is not None and os.path.lexists(folder):
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def _archive_file(db: sqlite3.Connection) -> Path:
    for _, name, file in db.execute("PRAGMA database_list"):
        if name == "main" and file:
            return Path(file)
    raise RuntimeError("the archive is not a file")


def _context() -> BaseContext:
    """fork where it is safe (Linux, no other thread: workers start at once, nothing to
    import); spawn elsewhere (macOS, or the watcher's threads)."""
    import multiprocessing
    import threading

    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def stage(path: str, jobs: list[Job]) -> ScanReport:
    """In a worker: read new files into a fresh staging database at path."""
    tools = readers()
    report = ScanReport()
    db = connect_staging(Path(path))
    try:
        read_batch(db, [(tools[name], source, st, None) for name, source, st in jobs], report)
    finally:
        db.close()
    return report


SHIFTS: dict[str, dict[str, str]] = {
    "sessions": {"pk": "s"},
    "sources": {"id": "r", "session_pk": "s", "container_id": "r"},
    "messages": {"pk": "m", "session_pk": "s"},
    "part_rows": {"pk": "p", "message_pk": "m"},
    # A block's id is random, unique in both (tether.archive.parttext); its base is a source's.
    "part_blocks": {"base_source": "r"},
    "raw_chunks": {"source_id": "r"},
    "record_marks": {"source_id": "r"},
}
"""Per table, the key columns a take-over shifts, by the table whose keys they are."""
OFFSETS = {"s": "sessions", "r": "sources", "m": "messages", "p": "part_rows"}


def take_over(db: sqlite3.Connection, path: Path) -> bool:
    """Copy a staging database into the archive and index its text, in one transaction;
    False (nothing changed) when the archive already holds one of its sessions or files."""
    db.execute("ATTACH DATABASE ? AS stage", (str(path),))
    try:
        db.execute("PRAGMA foreign_keys = OFF")  # keys are consistent by construction
        db.execute("BEGIN IMMEDIATE")
        try:
            offsets = {
                key: db.execute(
                    f"SELECT COALESCE(MAX({_key(table)}), 0) FROM main.{table}"
                ).fetchone()[0]
                for key, table in OFFSETS.items()
            }
            for table, shifts in SHIFTS.items():
                columns = [r[1] for r in db.execute(f"PRAGMA main.table_info({table})")]
                names = ", ".join(f'"{c}"' for c in columns)
                values = ", ".join(
                    f'"{c}" + :{shifts[c]}' if c in shifts else f'"{c}"' for c in columns
                )
                db.execute(
                    f"INSERT INTO main.{table} ({names}) SELECT {values} FROM stage.{table}",
                    offsets,
                )
            db.execute(
                "INSERT INTO main.parts_fts(rowid, text) SELECT pk + ?, text FROM stage.stage_text",
                (offsets["p"],),
            )
            db.execute("COMMIT")
        except sqlite3.IntegrityError:  # a session id or a path the archive already has
            db.execute("ROLLBACK")
            return False
        except BaseException:
            db.execute("ROLLBACK")
            raise
    finally:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("DETACH DATABASE stage")
    return True


def _key(table: str) -> str:
    return "id" if table == "sources" else "pk"
