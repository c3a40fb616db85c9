"""`tether reindex`: re-read every archived source from its raw bytes with today's readers."""

from __future__ import annotations

import io
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tether.archive.store import Applier, dumps
from tether.capture.feed import FileFeed, read_guarded
from tether.capture.history import archived_bytes, keep_dropped
from tether.capture.ingest import Problem, describe, readers
from tether.capture.marks import ArchivedMarks, forget
from tether.tools.base import Source


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
        db.execute("BEGIN IMMEDIATE")
        try:
            forget(db, source_id)
            marks = ArchivedMarks(db, source_id, earlier=False)
            feed = FileFeed(source, stream=io.BytesIO(data), marks=marks)
            applier = Applier(db, tool, source, session_pk, fresh=True)
            applier.run(read_guarded(tool, feed, state))
            marks.save()
            keep_dropped(db, tool, source, source_id, session_pk)
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
            report.failed.append(Problem(path, describe(exc)))
            continue
        report.sessions += 1
        report.skipped += feed.skipped
    db.execute("INSERT INTO parts_fts(parts_fts) VALUES ('optimize')")
    return report
