"""`tether reindex`: re-read every archived source from its raw bytes with today's readers."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tether.archive import parttext
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
            base = _bases(db, source_id, data, feed)
            applier = Applier(db, tool, source, session_pk, fresh=True, base=base)
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


def _bases(
    db: sqlite3.Connection, source_id: int, data: bytes, feed: FileFeed
) -> Callable[[], parttext.Base | None]:
    """The raw bytes the parts written at each flush were read from, in the chunks `data`
    is made of: text rewritten by reindex is compressed against them as a scan's is."""
    (generation,) = db.execute(
        "SELECT generation FROM sources WHERE id = ?", (source_id,)
    ).fetchone()
    chunks = db.execute(
        "SELECT seq, length FROM raw_chunks WHERE source_id = ? AND generation = ? ORDER BY seq",
        (source_id, generation),
    ).fetchall()

    def base() -> parttext.Base | None:
        read = feed.position  # in `data`: the bytes of every record handed out so far
        skipped = 0
        for seq, length in chunks:
            if read <= skipped + length:
                end = read - skipped
                at = max(0, end - parttext.BASE_MAX)
                return (source_id, generation, seq, at, data[skipped + at : skipped + end])
            skipped += length
        return None

    return base
