"""Fresh answers without a scan of the whole history.

Before `list`, `show` and `search` answer, the archive must hold what the tools wrote up to
a moment ago. Three ways, cheapest first:

1. A live watcher (`tether watch`, the daemon) already captures every write: its state file
   says it is ready, alive (its lock is held, its heartbeat recent) and watching the same
   stores. The answer reads the archive as it is, after waiting for any capture the watcher
   owes (at most WATCHER_WAIT seconds).
2. Else a quick check whose cost does not grow with untouched history: one `stat` per store
   folder (a new, deleted or renamed file changes its folder's mtime; a tool appending to
   a file does not), and one per recently active file (its recorded mtime within HOT): what
   changed is captured, folder by folder, without listing the rest of the store.
3. A full scan when due (the last one is older than FULL_EVERY, or the stores moved): an
   append to a file quiet for longer than HOT (a session resumed after weeks) is caught
   there. It runs in the background, detached, and never delays the answer; it runs in
   the foreground only when the archive has never been scanned with these stores.

Cheap to import: os, time, sqlite3 and tether.files; the capture machinery loads only
when something changed.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import time

from tether.files import open_fd, read_head

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from pathlib import Path

    from tether.capture.ingest import ScanReport
    from tether.tools.base import Source, Tool

HOT = 7 * 24 * 3600 * 10**9
"""A file written within this many nanoseconds is stat'ed by every quick check."""
FULL_EVERY = 600.0
"""Seconds after which a quick check starts a full scan in the background."""
LOCK_WAIT = 5.0
"""Seconds a quick check that found changes waits for another capture to finish."""
WATCHER_WAIT = 2.0
"""Seconds an answer waits for a live watcher to capture what it has been told of."""
STATE_FILE = "watch.state"
HEARTBEAT = 60.0
"""Seconds between a watcher's heartbeats; one older than three of them is a hung watcher."""
FULL_SCAN_MARK = "scan.lock"
"""Its mtime says when a background full scan was last started."""


# ---------------------------------------------------------------- the watcher's word


def watcher_covers(data: str, key: str, wait: float = WATCHER_WAIT) -> bool:
    """Whether a live, ready watcher of these stores captures everything: then the archive
    is as fresh as the watcher's last capture, which this waits for when the watcher has
    been told of writes it has not captured yet."""
    state = read_state(data)
    if state is None:
        return False
    pid, beat, pending, done, ready, watched = state
    if not ready or watched != key or time.time() - beat > 3 * HEARTBEAT:
        return False
    if running_pid(data) != pid:  # dead, or a new watcher not ready yet
        return False
    deadline = time.monotonic() + wait
    while done < pending:
        if time.monotonic() > deadline:
            return False  # a capture that does not end: check for ourselves
        time.sleep(0.005)
        again = read_state(data)
        if again is None or again[0] != pid:
            return False
        done = again[3]
    return True


def read_state(data: str) -> tuple[int, float, int, int, bool, str] | None:
    """(pid, heartbeat time, pending, done, ready, roots key) from the watcher's state file,
    None when there is none or it cannot be read whole."""
    try:
        raw = read_head(os.path.join(data, STATE_FILE), 1 << 16)
    except OSError:  # none, or no regular file (a FIFO put there is never waited on)
        return None
    head, sep, key = raw.decode("utf-8", "replace").partition("\n")
    fields = head.split()
    if not sep or len(fields) != 6 or fields[0] != "tether-watch" or not key.endswith("\n"):
        return None
    try:
        pid, beat, pending, done = int(fields[1]), float(fields[2]), int(fields[3]), int(fields[4])
    except ValueError:
        return None
    return pid, beat, pending, done, fields[5] == "ready", key[:-1]


def write_state(data: Path, pid: int, pending: int, done: int, ready: bool, key: str) -> None:
    """The watcher's word, replaced whole (a reader never sees half of it)."""
    text = (
        f"tether-watch {pid} {time.time():.3f} {pending} {done}"
        f" {'ready' if ready else 'starting'}\n{key}\n"
    )
    path = data / STATE_FILE
    temp = data / f".{STATE_FILE}.{pid}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode("utf-8", "surrogateescape"))
    finally:
        os.close(fd)
    os.replace(temp, path)


def running_pid(data: str | Path) -> int | None:
    """The pid of the watcher that holds watch.pid locked (the kernel drops the lock with
    the watcher's process, however it ends), else None (0: it is just starting)."""
    import fcntl

    try:
        fd = open_fd(os.path.join(data, "watch.pid"))
    except OSError:  # none, or no regular file: no watcher made this, none holds it
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return pid_in(fd) or 0
        return None
    finally:
        os.close(fd)  # closing drops our own lock, if we got it


def pid_in(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return int(text) if text.isdigit() else None


# ---------------------------------------------------------------- the quick check


def fresh(
    db: sqlite3.Connection, data: str, env: Mapping[str, str], home: str
) -> ScanReport | None:
    """Make the archive fresh for an answer (see the module's docstring); the report of
    what was captured for it, if anything was."""
    from tether.capture.folders import roots_key

    recorded = _state(db)
    names = recorded.get("roots_variables")
    key = roots_key(env, home, names.split(",") if names is not None else None)
    if watcher_covers(data, key):
        from tether.capture.ondemand import mark_used

        mark_used(data)
        return None
    started = time.time_ns()
    if recorded.get("roots_key") != key:
        return _locked(data, lambda: _full_scan(db, env, home))
    report = None
    folders = changed_folders(db)
    files = changed_files(db, started)
    if folders or files:
        report = _locked(data, lambda: capture_changes(db, folders, files, started))
    if not _start_watcher(data, env) and _due(recorded, data):
        start_full_scan(data, env)
    return report


def _start_watcher(data: str, env: Mapping[str, str]) -> bool:
    """Start a watcher on demand (tether.capture.ondemand) when none runs, now that the
    answer is fresh without it: the answers after it are served beside it. True when one
    was started (its first full scan stands for the one that may be due)."""
    if running_pid(data) is not None:
        return False  # running or starting, if not trusted: no second one
    from tether.capture import ondemand

    return ondemand.enabled(env, data) and ondemand.start_watcher(data, env)


def _state(db: sqlite3.Connection) -> dict[str, str]:
    try:
        return dict(db.execute("SELECT key, value FROM scan_state").fetchall())
    except sqlite3.OperationalError:  # an archive not migrated yet (read-only open)
        return {}


def changed_folders(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(folder, tool, store root) of every store folder whose entries changed since it was
    last listed (or that appeared, or went)."""
    out = []
    for path, tool, root, checked in db.execute("SELECT path, tool, root, checked_ns FROM folders"):
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            mtime = -1
        if (mtime < 0) != (checked < 0) or mtime > checked:
            out.append((path, tool, root))
    return out


def changed_files(db: sqlite3.Connection, now: int) -> list[tuple[str, str]]:
    """(path, tool) of every recently written file (recorded mtime within HOT) that is not
    as the archive last read it, in a store folder a scan listed (what ScopedScan.file can
    capture). A file of stores no longer scanned (CODEX_HOME set then, unset now) is left
    to be found again by a scan of those stores: reported changed and never captured, it
    cost every answer an import of the capture machinery for a week."""
    out = []
    listed = "SELECT 1 FROM folders WHERE path = ?"
    for path, tool, size, mtime, inode, version, mode in db.execute(
        "SELECT path, tool, size, mtime_ns, inode, version, mode FROM sources"
        # The unary + keeps SQLite off sources_container (container_id IS NULL holds for
        # nearly every row: a walk of all of them, 18 ms at 10x) and on sources_mtime.
        " WHERE mtime_ns >= ? AND missing_since IS NULL AND +container_id IS NULL",
        (now - HOT,),
    ):
        try:
            st = os.stat(path)
        except OSError:
            changed = True
        else:
            changed = (st.st_size, st.st_mtime_ns, st.st_ino) != (size, mtime, inode)
            changed = changed or (mode == "container" and version != _wal_version(path))
        if changed and db.execute(listed, (os.path.dirname(path),)).fetchone():
            out.append((path, tool))
    return out


def _wal_version(path: str) -> str:
    """As tether.capture.ingest.wal_version."""
    try:
        st = os.stat(path + "-wal")
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}"


def _due(recorded: dict[str, str], data: str) -> bool:
    last = float(recorded.get("full_scan_at") or 0)
    with contextlib.suppress(OSError):
        last = max(last, os.stat(os.path.join(data, FULL_SCAN_MARK)).st_mtime)
    return time.time() - last > FULL_EVERY


def start_full_scan(data: str, env: Mapping[str, str]) -> None:
    """`tether scan --quiet` in the background, detached, its output nowhere; it does nothing
    when another capture holds the lock. Never raises: freshness is best effort here."""
    try:
        mark = os.path.join(data, FULL_SCAN_MARK)
        os.close(os.open(mark, os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK, 0o600))
        os.utime(mark)
        null = os.devnull
        os.posix_spawn(
            sys.executable,
            [sys.executable, "-m", "tether", "scan", "--quiet", "--if-idle"],
            dict(env),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, null, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, null, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, null, os.O_WRONLY, 0),
            ],
            setsid=True,
        )
    except (OSError, AttributeError):  # no posix_spawn (Windows): the next answer tries
        pass


def _full_scan(db: sqlite3.Connection, env: Mapping[str, str], home: str) -> ScanReport:
    from pathlib import Path

    from tether.capture.scan import scan

    return scan(db, env, Path(home))


def _locked(data: str, capture: Callable[[], ScanReport]) -> ScanReport | None:
    """Run a capture under the scan lock, waiting LOCK_WAIT seconds at most for another one
    (the answer then reads what that one has captured so far)."""
    from pathlib import Path

    from tether.capture.scan import scan_lock

    with scan_lock(Path(data), wait=True, timeout=LOCK_WAIT) as got:
        return capture() if got else None


def capture_changes(
    db: sqlite3.Connection,
    folders: Iterable[tuple[str, str, str]],
    files: Iterable[tuple[str, str]],
    started: int,
    listed: dict[str, tuple[Tool, Source]] | None = None,
    whole: frozenset[str] = frozenset(),
) -> ScanReport:
    """Capture what changed: each folder is listed (it alone, with what lies below it) and
    its files looked at as scan does; each file is read where it changed. `started`: when
    the change was looked for (folders listed now are recorded as listed then); `whole`:
    folders to list with all that lies below them (made, or watched, anew)."""
    from pathlib import Path

    from tether.capture.scan import ScopedScan
    from tether.tools.registry import TOOLS

    scoped = ScopedScan(db)
    for folder, tool_name, root in folders:
        tool = TOOLS.get(tool_name)
        if tool is not None:
            scoped.folder(tool, Path(root), Path(folder), whole=folder in whole)
    for path, tool_name in files:
        tool = TOOLS.get(tool_name)
        if tool is not None:
            scoped.file(tool, Path(path))
    report = scoped.run(started)
    if listed is not None:
        listed.update(scoped.listed)
    return report
