"""The watcher: filesystem events on every tool's store, debounced, captured as `scan` does.

A tick captures only what the events name: an append is read from where the last capture
stopped, a file made, moved or deleted has its folder listed alone (capture.fresh); a full
scan runs at start and every `rescan` seconds as a safety net. One watcher per archive: it
holds watch.pid locked, and tells the answers in watch.state when it is ready.
"""

from __future__ import annotations

import fcntl
import logging
import os
import select
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from tether.capture.fresh import HEARTBEAT, pid_in, write_state
from tether.capture.ingest import ScanReport
from tether.capture.ondemand import last_used, mark_used
from tether.capture.scan import read_files, scan, scan_lock
from tether.errors import ConflictError

if TYPE_CHECKING:
    import sqlite3

    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers.api import BaseObserver, ObservedWatch

    from tether.tools.base import Source, Tool

QUIET = 0.1
"""Seconds without a new event before a tick: a burst of writes is captured once."""
MAX_DELAY = 0.4
"""…but never later than this after the first event, however busy the tool is."""
RESCAN = 600.0
RECENT = 256
"""Files written to lately whose sources the watcher keeps (tether.capture.watch.Watcher)."""
SHARED_WATCHES = 64
"""Project folders watched for a tool that writes into them (Aider): the most recent."""
RETRY = 5.0
PID_FILE = "watch.pid"
LOG_FILE = "watch.log"
LOG_BYTES = 1 << 20
LOG_BACKUPS = 3
SQLITE_SIDECARS = ("-wal", "-journal")
"""A tool's SQLite writes land here first: they are changes of the database file."""
IGNORED = ("-shm",)
"""SQLite's shared memory changes on reads too, ours included."""

log = logging.getLogger("tether.capture.watch")


class AlreadyWatching(ConflictError):
    def __init__(self, pid: int | None) -> None:
        super().__init__(
            f"a watcher is already running (pid {pid or '?'}): see `tether daemon status`"
        )
        self.pid = pid


@contextmanager
def watch_lock(data: Path) -> Iterator[None]:
    """Hold the one-watcher lock with this process's pid in it; AlreadyWatching if held.

    The kernel drops the lock with the process, however it ends (kill -9 included), so a
    pid file left behind by a dead watcher never blocks the next one.
    """
    data.mkdir(parents=True, exist_ok=True)
    fd = os.open(data / PID_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyWatching(pid_in(fd)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def configure_logging(log_file: Path | None) -> None:
    """The watcher's lines go to stderr, or to a log file rotated by size (the daemon's)."""
    handler: logging.Handler
    if log_file is None:
        handler = logging.StreamHandler()
    else:
        from logging.handlers import RotatingFileHandler

        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(log_file, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False


class Inbox:
    """Paths the observer reported and when: filled by its thread, emptied by the loop.

    The loop sleeps in select() on a pipe, so an idle watcher wakes for nothing.
    """

    def __init__(self, told: Callable[[int], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._written: set[str] = set()
        self._reshaped: set[str] = set()
        self._first = self._last = 0.0
        self.generation = 0
        """Bursts of events so far: a burst begins when the inbox was empty."""
        self._told = told
        """Called (on the observer's thread) with the generation a new burst begins."""
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    def put(self, paths: Iterable[str], written: bool) -> None:
        """written: the files' bytes changed; else something was made, moved or deleted."""
        now = time.monotonic()
        began = None
        with self._lock:
            if not (self._written or self._reshaped):
                self._first = now
                self.generation += 1
                began = self.generation
            (self._written if written else self._reshaped).update(paths)
            self._last = now
        if began is not None and self._told is not None:
            self._told(began)
        self.wake()

    def wake(self) -> None:
        """Safe from a signal handler: one write, no lock."""
        with suppress(BlockingIOError):
            os.write(self._write, b"\0")

    def due(self, quiet: float, max_delay: float) -> float | None:
        """When the paths gathered so far should be captured (monotonic), None if none."""
        with self._lock:
            if not (self._written or self._reshaped):
                return None
            return min(self._first + max_delay, self._last + quiet)

    def take(self) -> tuple[set[str], set[str], int]:
        """(files written to, paths made, moved or deleted, the generation they end) since
        the last take."""
        with self._lock:
            taken = self._written, self._reshaped, self.generation
            self._written, self._reshaped = set(), set()
        return taken

    def sleep(self, until: float | None) -> None:
        timeout = None if until is None else max(0.0, until - time.monotonic())
        select.select([self._read], [], [], timeout)
        with suppress(BlockingIOError):
            while os.read(self._read, 4096):
                pass

    def close(self) -> None:
        os.close(self._read)
        os.close(self._write)


def event_paths(event: FileSystemEvent, ignore: str) -> list[str]:
    """The paths one event says changed: a SQLite sidecar stands for its database."""
    out = []
    for raw in (event.src_path, event.dest_path):
        path = os.fsdecode(raw)
        if not path or path.endswith(IGNORED) or path.startswith(ignore):
            continue
        for suffix in SQLITE_SIDECARS:
            path = path.removesuffix(suffix)
        out.append(path)
    return out


def _handler(inbox: Inbox, ignore: Path) -> FileSystemEventHandler:
    from watchdog.events import FileSystemEventHandler

    prefix = str(ignore) + os.sep

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            paths = event_paths(event, prefix)
            if paths:
                inbox.put(paths, written=event.event_type == "modified")

    return Handler()


def _event_filter(writes: bool) -> list[type[FileSystemEvent]]:
    """What a watch reports: writes, creations, moves and deletions; never opens or reads
    (the watcher's own reads would wake it). A folder above a store root only needs to
    say that something appeared or went."""
    from watchdog import events as e

    shape: list[type[FileSystemEvent]] = [
        e.FileCreatedEvent,
        e.FileMovedEvent,
        e.FileDeletedEvent,
        e.DirCreatedEvent,
        e.DirMovedEvent,
        e.DirDeletedEvent,
    ]
    return [e.FileModifiedEvent, *shape] if writes else shape


class How(NamedTuple):
    """How one folder is watched."""

    recursive: bool
    writes: bool
    """A store root (writes matter), not just a folder a root will appear in."""
    inode: int
    """Tells apart a folder deleted and made again (or replaced) from the one watched."""

    def merge(self, other: How | None) -> How:
        if other is None:
            return self
        return How(self.recursive or other.recursive, self.writes or other.writes, self.inode)


class Watches:
    """What the observer watches: each store root that exists, with everything below it,
    and for each root that does not exist yet its nearest existing folder, on its own,
    until the root appears. Shared roots (project folders a tool writes a file into) are
    watched at their top only, and never waited for. Re-checked on every tick, so a
    root that is deleted and made again, or moved away and replaced, is watched again."""

    def __init__(self, observer: BaseObserver, handler: FileSystemEventHandler, home: Path) -> None:
        self.observer = observer
        self.handler = handler
        self.home = home
        self.roots: list[Path] = []
        self.shared: list[Path] = []
        self.active: dict[Path, tuple[ObservedWatch, How]] = {}
        self.present: set[Path] = set()
        self.failed: set[Path] = set()

    def refresh(self) -> list[Path]:
        """Bring the watches up to date. Returns the roots to capture whole: those that
        appeared since last time, and those watched anew (what was written there before
        the watch began has sent no event)."""
        fresh: set[Path] = set()
        for _ in range(10):  # a folder may appear while we schedule: look again
            scheduled = self._apply(self._wanted())
            if not scheduled:
                break
            fresh |= scheduled
        present = {root for root in self.roots if root.is_dir()}
        appeared = (present - self.present) | (fresh & present)
        self.present = present
        return sorted(appeared)

    def _wanted(self) -> dict[Path, How]:
        wanted: dict[Path, How] = {}
        for root in self.roots:
            folder = nearest_folder(root)
            if folder is None:
                continue
            path, inode = folder
            is_root = path == root
            # A root at or above HOME is watched on its own: never the whole home below it.
            how = How(is_root and not _at_or_above(root, self.home), is_root, inode)
            wanted[path] = how.merge(wanted.get(path))
        for root in self.shared:
            folder = nearest_folder(root)
            if folder is not None and folder[0] == root:
                wanted[root] = How(False, True, folder[1]).merge(wanted.get(root))
        covered = [path for path, how in wanted.items() if how.recursive]
        return {
            path: how
            for path, how in wanted.items()
            if not any(path != top and path.is_relative_to(top) for top in covered)
        }

    def _apply(self, wanted: dict[Path, How]) -> set[Path]:
        """Unschedule what is no longer wanted or has died; schedule what is missing.
        Returns what it scheduled (a folder gone meanwhile counts: look again)."""
        # A watch whose folder was deleted has stopped itself; the folder made again in
        # its place may even have the same inode number.
        live = {e.watch for e in self.observer.emitters if e.should_keep_running()}
        for path, (watch, how) in list(self.active.items()):
            if wanted.get(path) != how or watch not in live:
                with suppress(KeyError):
                    self.observer.unschedule(watch)
                del self.active[path]
        scheduled: set[Path] = set()
        for path, how in wanted.items():
            if path in self.active:
                continue
            try:
                watch = self.observer.schedule(
                    self.handler,
                    str(path),
                    recursive=how.recursive,
                    event_filter=_event_filter(how.writes),
                )
            except OSError as exc:
                if path.is_dir():  # out of inotify watches, say: rescans still capture it
                    if path not in self.failed:
                        log.warning("cannot watch %s: %s", path, exc)
                    self.failed.add(path)
                else:  # gone meanwhile: the next pass watches the folder above it
                    scheduled.add(path)
                continue
            self.failed.discard(path)
            self.active[path] = (watch, how)
            scheduled.add(path)
        return scheduled

    def describe(self) -> str:
        trees = sorted(str(p) for p, (_, how) in self.active.items() if how.recursive)
        line = "watching " + (", ".join(trees) or "no store folder yet")
        tops = sum(1 for p in self.shared if p in self.active)
        if tops:
            line += f"; {tops} project folder(s) at their top"
        waiting = sorted(str(p) for p in self.roots if p not in self.present)
        if waiting:
            line += f"; waiting for {len(waiting)} more: {', '.join(waiting[:3])}"
            line += ", …" if len(waiting) > 3 else ""
        return line


def nearest_folder(path: Path) -> tuple[Path, int] | None:
    """The path itself if it is a folder, else its nearest existing folder above; with its
    inode, so that a folder deleted and made again is told apart."""
    for candidate in (path, *path.parents):
        try:
            st = candidate.stat()
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            return candidate, st.st_ino
    return None


def _at_or_above(root: Path, home: Path) -> bool:
    return home == root or home.is_relative_to(root)


class Watcher:
    """Runs until stop(): events → debounce → capture of what changed."""

    def __init__(
        self,
        data: Path,
        env: Mapping[str, str],
        home: Path,
        tools: list[Tool] | None = None,
        quiet: float = QUIET,
        max_delay: float = MAX_DELAY,
        rescan: float = RESCAN,
        after_capture: Callable[[ScanReport], None] | None = None,
        idle_exit: float = 0.0,
        apart: bool = False,
    ) -> None:
        from tether.tools.registry import TOOLS

        self.data = data
        self.env = env
        self.home = home
        self.tools = list(TOOLS.values()) if tools is None else tools
        self.quiet = quiet
        self.max_delay = max_delay
        self.rescan = rescan
        self.word = Word(data, env, home)
        self.inbox = Inbox(told=self.word.told)
        self.ready = threading.Event()
        self.ticks = 0
        """Captures run (for tests and logs)."""
        self.ignored = 0
        """Ticks whose events named no session file, so that nothing was read."""
        self.recent: OrderedDict[str, tuple[Tool, Source]] = OrderedDict()
        """The files written to lately (RECENT at most, the last used last): an append to
        one is read without a listing. Not every file a scan listed: the watcher's memory
        does not grow with the stores."""
        self.watches: Watches | None = None
        self.after_capture = after_capture
        """Called after each capture that read something (auto-push, tether.sync.auto)."""
        self.apart = apart and tools is None
        """Full scans in a child process (scan_apart): `tether watch` does that."""
        self.idle_exit = idle_exit
        """Seconds with no answer relying on it before it exits (0: never); a watcher
        started on demand (tether.capture.ondemand)."""
        self._owners: list[tuple[str, str]] = []
        self._stopping = False

    def roots(self) -> tuple[list[Path], list[Path]]:
        """Every tool's store roots, and apart those that are project folders (Aider
        keeps its history in each project): a project tree is no store, so only the first
        SHARED_WATCHES of them that exist, in the tool's order, are watched, at their top."""
        from tether.tools.projects import known_folders

        projects = set(known_folders(self.env))
        own: dict[Path, None] = {}
        shared: dict[Path, None] = {}
        for tool in self.tools:
            for root in tool.store_roots(self.env, self.home):
                (shared if root in projects else own)[root.absolute()] = None
        watched: list[Path] = []
        for root in shared:
            if len(watched) >= SHARED_WATCHES:
                break
            if root not in own and root.is_dir():
                watched.append(root)
        return list(own), watched

    def stop(self) -> None:
        """Ask the loop to end after the capture in progress (safe from a signal handler)."""
        self._stopping = True
        self.inbox.wake()

    def run(self) -> None:
        from watchdog.observers import Observer

        from tether.archive.db import connect
        from tether.paths import db_path

        db = connect(db_path(self.data))
        observer = Observer()
        watches = self.watches = Watches(observer, _handler(self.inbox, self.data), self.home)
        observer.start()
        try:
            watches.roots, watches.shared = self.roots()
            watches.refresh()
            self.word.write()
            scanned = self._capture(db, None)
            watches.roots, watches.shared = self.roots()  # with the project folders just found
            watches.refresh()
            self._owners = self._store_owners()
            log.info("%s", watches.describe())
            self.word.settle(ready=scanned and not watches.failed)
            self.ready.set()
            if self.idle_exit:
                mark_used(str(self.data))  # the answer that started it relied on it
                log.info("started on demand: exits after %.0f s unused", self.idle_exit)
            self._loop(db, watches, RETRY if not scanned else self.rescan)
        finally:
            self.word.gone()
            observer.stop()
            observer.join()
            db.close()
            self.inbox.close()
            log.info("stopped")

    def _loop(self, db: sqlite3.Connection, watches: Watches, first_full: float) -> None:
        next_full = time.monotonic() + first_full if first_full > 0 else None
        idle = self._idle_at()
        while not self._stopping:
            due = self.inbox.due(self.quiet, self.max_delay)
            beat = self.word.beaten + HEARTBEAT
            wake = [t for t in (due, next_full, beat, idle) if t is not None]
            self.inbox.sleep(min(wake))
            if self._stopping:
                return
            now = time.monotonic()
            if idle is not None and now >= idle:
                left = self._idle_left()
                if left <= 0:
                    log.info("no answer relied on it for %.0f s: exiting", self.idle_exit)
                    return
                idle = now + left
            if now >= self.word.beaten + HEARTBEAT:
                self.word.write()
            due = self.inbox.due(self.quiet, self.max_delay)
            full = next_full is not None and now >= next_full
            if not full and (due is None or now < due):
                continue
            if full:
                next_full = now + self.rescan if self.rescan > 0 else None
            if not self._tick(db, watches, full):
                next_full = now + RETRY
                self.word.settle(ready=False)
            elif full:
                self.word.settle(ready=not watches.failed)

    def _idle_at(self) -> float | None:
        """When (monotonic) the watcher will have been unused for idle_exit seconds, as
        watch.used says now; None when it never exits on idle."""
        return time.monotonic() + self._idle_left() if self.idle_exit else None

    def _idle_left(self) -> float:
        """Seconds until the watcher has been unused for idle_exit seconds (one stat)."""
        return self.idle_exit - (time.time() - last_used(str(self.data)))

    def _tick(self, db: sqlite3.Connection, watches: Watches, full: bool) -> bool:
        """Capture what the events name: an append to a file already listed is read
        straight away; anything made, moved or deleted has its store listed again."""
        written, reshaped, generation = self.inbox.take()
        if full:  # the archive may know new project folders by now
            watches.roots, watches.shared = self.roots()
            self._owners = self._store_owners()
        appeared = watches.refresh()
        if appeared:
            log.info("watching anew: %s", ", ".join(map(str, appeared)))
            log.info("%s", watches.describe())
        if full:
            done = self._capture(db, None)
        elif reshaped or appeared:
            done = self._run(lambda: self._scoped(db, written, reshaped, appeared), full=False)
        else:
            # A file the archive lacks is no session file (debug logs, caches): a new
            # session file is listed when it is made, and read whole then.
            cached, known = self._written(db, written)
            if cached or known:
                done = self._run(lambda: self._appended(db, cached, known), full=False)
            else:
                self.ignored += 1
                done = True
        if done:
            self.word.captured(generation)
        return done

    def _scoped(
        self, db: sqlite3.Connection, written: set[str], reshaped: set[str], appeared: list[Path]
    ) -> ScanReport:
        """Capture what was made, moved or deleted by listing the folders it happened in
        (and the roots that appeared) alone, and read the files written to: no store is
        listed whole, however large."""
        from tether.capture.fresh import capture_changes

        folders: dict[str, tuple[str, str]] = {}
        whole: set[str] = set()
        for path in [*reshaped, *map(str, appeared)]:
            owner = self._owner(path)
            if owner is None:
                continue
            if Path(path).is_dir():  # made or moved here: what it holds sent no event
                folders[path] = owner
                whole.add(path)
            parent = str(Path(path).parent)
            if len(parent) >= len(owner[1]):
                folders[parent] = owner
        for path in reshaped:
            self.recent.pop(path, None)
        cached, known = self._written(db, written)
        files = sorted({*known, *((str(source.path), tool.name) for tool, source in cached)})
        started = time.time_ns()
        listed: dict[str, tuple[Tool, Source]] = {}
        report = capture_changes(
            db,
            [(f, tool, root) for f, (tool, root) in folders.items()],
            files,
            started,
            listed,
            frozenset(whole),
        )
        self._remember({p: listed[p] for p in [*written, *reshaped] if p in listed})
        return report

    def _written(
        self, db: sqlite3.Connection, written: set[str]
    ) -> tuple[list[tuple[Tool, Source]], list[tuple[str, str]]]:
        """The files written to that the archive holds: those written lately, with their
        sources; the others as (path, tool), to be found by listing them alone."""
        cached: list[tuple[Tool, Source]] = []
        rest: list[str] = []
        for path in sorted(written):
            hit = self.recent.get(path)
            if hit is None:
                rest.append(path)
            else:
                self.recent.move_to_end(path)
                cached.append(hit)
        known: list[tuple[str, str]] = []
        for i in range(0, len(rest), 500):
            chunk = rest[i : i + 500]
            known += db.execute(
                f"SELECT path, tool FROM sources WHERE path IN ({','.join('?' * len(chunk))})"
                " AND container_id IS NULL",
                chunk,
            ).fetchall()
        return cached, sorted(known)

    def _appended(
        self,
        db: sqlite3.Connection,
        cached: list[tuple[Tool, Source]],
        known: list[tuple[str, str]],
    ) -> ScanReport:
        """Read the files written to: those written lately straight away, the others once
        listed alone (then kept among the recent)."""
        from tether.capture.fresh import capture_changes

        report = read_files(db, cached) if cached else ScanReport()
        if known:
            listed: dict[str, tuple[Tool, Source]] = {}
            more = capture_changes(db, [], known, time.time_ns(), listed)
            report.merge(more)
            self._remember(listed)
        return report

    def _remember(self, sources: dict[str, tuple[Tool, Source]]) -> None:
        self.recent.update(sources)
        for path in sources:
            self.recent.move_to_end(path)
        while len(self.recent) > RECENT:
            self.recent.popitem(last=False)

    def _store_owners(self) -> list[tuple[str, str]]:
        """(root, tool) of every store root, the longest first."""
        owners = {
            str(root.absolute()): tool.name
            for tool in self.tools
            for root in tool.store_roots(self.env, self.home)
        }
        return sorted(owners.items(), key=lambda item: len(item[0]), reverse=True)

    def _owner(self, path: str) -> tuple[str, str] | None:
        """(tool, root) of the store a path lies in."""
        for root, tool in self._owners:
            if path == root or path.startswith(root + os.sep):
                return tool, root
        return None

    def _capture(self, db: sqlite3.Connection, only: None) -> bool:
        if self.apart:
            return self._run(lambda: scan_apart(self.env), full=True, lock=False)
        return self._run(
            lambda: scan(db, self.env, self.home, tools=self.tools, only=only),
            full=True,
        )

    def _run(self, capture: Callable[[], ScanReport], full: bool, lock: bool = True) -> bool:
        try:
            with scan_lock(self.data, wait=True) if lock else nullcontext():
                report = capture()
        except Exception:
            log.exception("capture failed; a full scan follows in %.0f s", RETRY)
            return False
        self.ticks += 1
        _report(report, full)
        if self.after_capture is not None and report.read:
            self.after_capture(report)
        return True


def scan_apart(env: Mapping[str, str]) -> ScanReport:
    """`tether scan --json` in a child process, which takes the scan lock itself: what a
    full scan holds of every file (the archive's rows, the listings) goes with the child,
    and the watcher's memory stays as it was, however large the stores grow."""
    import json
    import subprocess
    import sys

    from tether.capture.ingest import Problem

    done = subprocess.run(
        [sys.executable, "-m", "tether", "scan", "--json"],
        env={**env, "TETHER_WATCH_ON_DEMAND": "0"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        start_new_session=True,  # a Ctrl-C stops the watcher after it, as after a capture
        check=False,
    )
    try:  # the report comes first; a problem line may follow it
        said, _ = json.JSONDecoder().raw_decode(done.stdout.decode())
        return ScanReport(
            files=said["files"],
            read=said["read"],
            sessions_added=said["sessions_added"],
            sessions_updated=said["sessions_updated"],
            bytes_read=said["bytes_read"],
            skipped=said["skipped_lines"],
            repaired=said["repaired_lines"],
            failed=[Problem(**p) for p in said["failed"]],
            skipped_in=[Problem(**p) for p in said["skipped_in"]],
            missing=said["missing"],
            seconds=said["seconds"],
        )
    except (ValueError, KeyError, TypeError):
        why = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise RuntimeError(f"scan exited {done.returncode}: {' '.join(why)}") from None


def _report(report: ScanReport, full: bool) -> None:
    if not (report.read or report.failed or report.skipped or full):
        return
    log.info(
        "%s: %d file(s) read, %d session(s) added, %d updated, %d byte(s), %.0f ms",
        "full scan" if full else "captured",
        report.read,
        report.sessions_added,
        report.sessions_updated,
        report.bytes_read,
        report.seconds * 1000,
    )
    line = report.problem_line()
    if line:
        log.warning("%s", line)


class Word:
    """What the watcher tells the answers (tether.capture.fresh.watcher_covers), in
    $TETHER_HOME/watch.state: that it is ready (its first full scan done, every store
    watched), which stores it watches, its heartbeat, and the bursts of events it has been
    told of (pending) and has captured (done)."""

    def __init__(self, data: Path, env: Mapping[str, str], home: Path) -> None:
        from tether.capture.folders import roots_key

        self.data = data
        self.key = roots_key(env, str(home))
        self.pending = self.done = 0
        self.ready = False
        self.beaten = time.monotonic()
        self._lock = threading.Lock()

    def write(self) -> None:
        with self._lock:
            self.beaten = time.monotonic()
            try:
                write_state(self.data, os.getpid(), self.pending, self.done, self.ready, self.key)
            except OSError as exc:  # the answers then check for themselves
                log.warning("cannot write %s: %s", self.data / "watch.state", exc)

    def told(self, generation: int) -> None:
        """A burst of events began (on the observer's thread)."""
        self.pending = generation
        self.write()

    def captured(self, generation: int) -> None:
        if generation > self.done:
            self.done = generation
            self.write()

    def settle(self, ready: bool) -> None:
        if ready != self.ready:
            self.ready = ready
            self.write()

    def gone(self) -> None:
        with suppress(OSError):
            (self.data / "watch.state").unlink()
