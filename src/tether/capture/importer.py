"""`tether import`: native session files (or tether JSON exports) from anywhere."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tether.capture.ingest import (
    Problem,
    ScanReport,
    describe,
    load_known,
    read_sessions,
    readers,
    sessions_in,
    up_to_date,
)
from tether.files import read_head
from tether.tools.base import Source, Tool

HEAD = 16384


@dataclass
class ImportReport:
    sessions: list[int] = field(default_factory=list)
    unrecognised: list[str] = field(default_factory=list)
    scan: ScanReport = field(default_factory=ScanReport)


def recognise(path: Path) -> tuple[Tool, Source] | None:
    """Which reader's format this file is in, from its name and first bytes; OSError when
    it cannot be read (NotRegularFile for a FIFO, a device, a socket or a folder)."""
    head = read_head(path, HEAD)
    for tool in readers().values():
        source = tool.sniff(path, head)
        if source is not None:
            return tool, source
    return None


def _files(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        yield root
        return
    for folder, dirs, files in os.walk(root):  # does not follow directory symlinks: no loops
        dirs.sort()
        for name in sorted(files):
            yield Path(folder) / name


def import_paths(db: sqlite3.Connection, paths: list[Path]) -> ImportReport:
    report = ImportReport()
    known = load_known(db)
    for given in paths:
        root = given.expanduser().absolute()
        if not root.exists():
            report.scan.failed.append(Problem(str(root), "no such file or folder"))
            continue
        for path in _files(root):
            try:
                found = recognise(path)
            except OSError as exc:
                report.scan.failed.append(Problem(str(path), describe(exc)))
                continue
            if found is None:
                if not root.is_dir():
                    report.unrecognised.append(str(path))
                continue
            tool, source = found
            try:
                st = path.stat()
            except OSError as exc:
                report.scan.failed.append(Problem(str(path), describe(exc)))
                continue
            row = known.get(str(path))
            pks = sessions_in(db, str(path)) if up_to_date(row, source, st) else []
            if not pks:
                pks = read_sessions(db, tool, source, st, row, report.scan, origin="import")
            report.sessions.extend(pks)
    return report
