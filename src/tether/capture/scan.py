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

from tether.capture.ingest import (
    Item,
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
from tether.capture.staging import clear_leftovers, read_all
from tether.files import read_head
from tether.tools.base import (
    Source,
    Tool,
)
from tether.tools.registry import TOOLS

HEAD = 16384


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
    report = ScanReport()
    clear_leftovers(db)
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
        read_all(db, todo, report, Tally(sum(item[2].st_size for item in todo), progress))
    report.seconds = time.perf_counter() - started
    return report


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
        head = read_head(path, HEAD)
    except OSError:
        return None  # a file replaced by a FIFO, say: marked missing, kept in the archive
    source = tool.sniff(path, head)
    return source if source is not None and source.members is not None else None


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
