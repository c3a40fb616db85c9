"""Capture: find every native session file and read what is new into the archive.

A file whose size, mtime and inode are unchanged costs one stat. The others are read by
tether.capture.ingest, in a few large transactions, or on every core when much is new
(tether.capture.staging). A file gone from its store is marked missing, never dropped from the
archive. A watcher's partial scan looks only at what it saw change (Changed).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tether.capture.folders import Folders, sources_in
from tether.capture.ingest import (
    Known,
    Problem,
    Progress,
    ScanReport,
    Tally,
    load_known,
    now_iso,
    read_batch,
    readers,
    up_to_date,
)
from tether.capture.staging import clear_leftovers, forked_early, read_all
from tether.capture.todo import Todo
from tether.files import read_head
from tether.tools.base import (
    Source,
    Tool,
)
from tether.tools.listing import entries, is_dir
from tether.tools.registry import TOOLS

HEAD = 16384


@contextmanager
def scan_lock(home: Path, wait: bool, timeout: float | None = None) -> Iterator[bool]:
    """One capture at a time per archive; yields False when busy and not waiting (or not
    free within `timeout` seconds)."""
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / "scan.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _take(fd, wait, timeout):
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _take(fd: int, wait: bool, timeout: float | None) -> bool:
    if wait and timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True
    deadline = time.monotonic() + (timeout if wait and timeout is not None else 0.0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)


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
    The caller holds the scan lock (scan_lock): a killed scan's staging databases are
    removed first.
    """
    started = time.perf_counter()
    listed_at = time.time_ns()
    report = ScanReport()
    clear_leftovers(db)
    every_tool = tools is None or {tool.name for tool in tools} >= set(TOOLS)
    tools = list(TOOLS.values()) if tools is None else tools
    known = load_known(db)
    first = only is None and not known
    with forked_early(lambda enough: first and _holds(env, home, tools, enough)) as pool:
        seen: set[str] = set()
        scanned_roots: list[tuple[str, str]] = []
        folders = Folders()
        todo = Todo()
        for tool in tools:
            for root in tool.store_roots(env, home):
                if only is None:
                    folders.root(tool.name, root)
                if (only is not None and not only.touches(root)) or not root.is_dir():
                    continue
                scanned_roots.append((tool.name, str(root) + os.sep))
                for source in tool.discover(root):
                    key = str(source.path)
                    if key in seen:
                        continue
                    seen.add(key)
                    if only is None:
                        folders.above(tool.name, root, source.path)
                    if found is not None:
                        found[key] = (tool, source)
                    row = known.get(key)
                    # A file the archive lacks is always looked at: it may have been hidden by
                    # a sibling that just went (a .jsonl.zst once its plain .jsonl is deleted).
                    if only is None or row is None or row.missing_since or only.covers(key):
                        _consider(tool, source, row, todo, report)
        if only is None:
            _imported_again(known, seen, todo, report)
        # Before reading: a file renamed or compressed (Codex archive, .jsonl -> .jsonl.zst)
        # takes its session over from the old path instead of forking a copy of it.
        report.missing = _mark_missing(db, known, seen, scanned_roots, imports=only is None)
        seen.clear()  # every path listed: 6 MB of 25,000, not needed while they are read
        # In name order: a tool's later file that reuses a session id (Gemini's resume stub)
        # comes after the file that holds the session, so the session keeps its own id.
        todo.sort()
        if todo:
            read_all(db, todo, report, Tally(todo.total(), progress), pool)
    if only is None:
        if report.sessions_added:
            _late_roots(db, env, home, tools, scanned_roots, listed_at, folders, report, found)
        folders.remember(db, listed_at, env, home, every_tool)
    report.seconds = time.perf_counter() - started
    return report


def _imported_again(
    known: dict[str, Known], seen: set[str], todo: Todo, report: ScanReport
) -> None:
    """Look again at the files imported before (outside any store) that are still there."""
    all_readers = readers()
    for path, imported in known.items():
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


def _holds(env: Mapping[str, str], home: Path, tools: list[Tool], enough: int) -> bool:
    """Whether the stores hold `enough` bytes of files: listed until they do (a first scan
    decides so whether to fork its workers before the listing it keeps)."""
    total = 0
    for _, _, source in discover_all(env, home, tools):
        try:
            total += source.path.stat().st_size
        except OSError:
            continue
        if total >= enough:
            return True
    return False


def _late_roots(
    db: sqlite3.Connection,
    env: Mapping[str, str],
    home: Path,
    tools: list[Tool],
    scanned: list[tuple[str, str]],
    listed_at: int,
    folders: Folders,
    report: ScanReport,
    found: dict[str, tuple[Tool, Source]] | None,
) -> None:
    """The stores that the sessions just read made known (Aider keeps its history in each
    project: a project first seen in another tool's session is one), listed whole now, so
    that one scan finds them."""
    more = ScopedScan(db)
    for tool in tools:
        for root in tool.store_roots(env, home):
            if (tool.name, str(root) + os.sep) not in scanned and root.is_dir():
                folders.root(tool.name, root)
                more.folder(tool, root, root, whole=True)
    if not more.listed:
        return
    late = more.run(listed_at)
    folders.found.update(more.folders.found)
    report.merge(late)
    if found is not None:
        found.update(more.listed)


def read_files(db: sqlite3.Connection, files: list[tuple[Tool, Source]]) -> ScanReport:
    """Read these files where they changed, as scan would, but without listing any store:
    the watcher's appends to files a scan listed. A file gone meanwhile is left to scan."""
    started = time.perf_counter()
    report = ScanReport()
    known = load_known(db, [str(source.path) for _, source in files])
    todo = Todo()
    for tool, source in files:
        if os.path.lexists(source.path):
            _consider(tool, source, known.get(str(source.path)), todo, report)
    todo.sort()
    if todo:
        read_batch(db, [found.item() for found in todo], report)
    report.seconds = time.perf_counter() - started
    return report


def _reopen(tool: Tool, path: Path, mode: str) -> Source | None:
    """The source of a file imported before; a container is recognised again by its tool."""
    if mode != "container":
        return Source(path, "jsonl" if mode == "jsonl" else "document")
    try:
        head = read_head(path, HEAD)
    except OSError:
        return None  # a file replaced by a FIFO, say: marked missing, kept in the archive
    source = tool.sniff(path, head)
    return source if source is not None and source.members is not None else None


def _consider(
    tool: Tool,
    source: Source,
    row: Known | None,
    todo: Todo,
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
    todo.add(tool, source, st, row)


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


class ScopedScan:
    """A scan of some folders and files only: what a quick check or the watcher saw change.
    Each folder is listed alone (with what lies below it), its files looked at as scan
    looks at them, and files gone from it marked missing; no other part of any store is
    listed, and only these files' rows are loaded."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.listed: dict[str, tuple[Tool, Source]] = {}
        self.scopes: list[tuple[str, str]] = []
        """(tool, folder + sep) whose files absent from the listing are missing."""
        self.direct: list[str] = []
        """Scopes listed only at their top: only their own files can be missing."""
        self.folders = Folders()

    def folder(self, tool: Tool, root: Path, folder: Path, whole: bool = False) -> None:
        """Look at what changed in this folder: all of it when it is a leaf of the folders
        a scan went through (a project's sessions, a day's rollouts), or `whole`; in a
        folder above others (the projects, a month), only its own files and the folders
        new in it (each folder below has its own mtime checked)."""
        self.folders.found[str(folder)] = (tool.name, str(root))
        below = set() if whole else self._known_below(str(folder))
        if not below or not folder.is_dir():
            self.scopes.append((tool.name, str(folder) + os.sep))
            if folder.is_dir():
                for source in sources_in(tool, root, folder):
                    self._list(tool, source)
                    self.folders.above(tool.name, root, source.path, within=folder)
            return
        self.direct.append(str(folder))
        self.scopes.append((tool.name, str(folder) + os.sep))
        for entry in entries(folder):
            if is_dir(entry, follow_symlinks=False):
                if entry.path not in below:
                    self.folder(tool, root, Path(entry.path))
            else:
                for source in sources_in(tool, root, Path(entry.path)):
                    self._list(tool, source)

    def _known_below(self, folder: str) -> set[str]:
        """The folders a scan went through right below this one."""
        upper = folder + chr(ord(os.sep) + 1)
        rows = self.db.execute(
            "SELECT path FROM folders WHERE path > ? AND path < ?", (folder + os.sep, upper)
        )
        return {path for (path,) in rows if os.path.dirname(path) == folder}

    def _list(self, tool: Tool, source: Source) -> None:
        self.listed.setdefault(str(source.path), (tool, source))

    def file(self, tool: Tool, path: Path) -> None:
        row = self.db.execute(
            "SELECT root FROM folders WHERE path = ?", (os.path.dirname(str(path)),)
        ).fetchone()
        if row is None:
            return  # not in a store folder a scan listed: the next full scan looks
        for source in sources_in(tool, Path(row[0]), path):
            self.listed.setdefault(str(source.path), (tool, source))

    def run(self, listed_at: int) -> ScanReport:
        started = time.perf_counter()
        report = ScanReport()
        known = load_known(self.db, list(self.listed))
        direct = set(self.direct)
        leaves = [prefix for _, prefix in self.scopes if prefix[:-1] not in direct]
        known.update(load_known_under(self.db, leaves))
        known.update(load_known_under(self.db, [f + os.sep for f in direct], direct=True))
        moved = self._moved_away([key for key in self.listed if key not in known])
        known.update(load_known(self.db, moved))
        scopes = [*self.scopes, *((known[path].tool, path) for path in moved if path in known)]
        todo = Todo()
        for key, (tool, source) in self.listed.items():
            _consider(tool, source, known.get(key), todo, report)
        report.missing = _mark_missing(self.db, known, set(self.listed), scopes, imports=False)
        todo.sort()
        if todo:
            read_all(self.db, todo, report, Tally(todo.total(), None))
        self.folders.record(self.db, listed_at, None, replace=False)
        report.seconds = time.perf_counter() - started
        return report

    def _moved_away(self, new: list[str]) -> list[str]:
        """The files the archive holds as present that these new files are (the same inode)
        and that are gone from their place: a session file moved out of a folder this scan
        does not list (`codex archive`, seen by the watcher before the move's other half) is
        marked missing first, so that its session moves with it rather than splitting."""
        out = []
        for path in new:
            try:
                inode = os.stat(path).st_ino
            except OSError:
                continue
            for (old,) in self.db.execute(
                "SELECT path FROM sources WHERE inode = ? AND path != ?"
                " AND missing_since IS NULL AND container_id IS NULL",
                (inode, path),
            ):
                try:
                    gone = os.stat(old).st_ino != inode
                except OSError:
                    gone = True
                if gone:
                    out.append(old)
        return out


def load_known_under(
    db: sqlite3.Connection, prefixes: list[str], direct: bool = False
) -> dict[str, Known]:
    """What the archive knows of the files below these folders (each given with its
    trailing separator); direct: of the files right in them only."""
    from tether.capture.ingest import KNOWN_COLUMNS

    out: dict[str, Known] = {}
    for prefix in prefixes:
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        for r in db.execute(
            f"SELECT {KNOWN_COLUMNS} FROM sources WHERE path >= ? AND path < ?", (prefix, upper)
        ):
            if not direct or os.sep not in r[0][len(prefix) :]:
                out[r[0]] = Known(*r[1:])
    return out
