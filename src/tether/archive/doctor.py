"""`tether doctor`: which stores were found where, what was skipped and why; with `deep`,
the health of the database file and of the search index.

Those two checks read the whole archive (15 s for the bench's 10x archive, 25,000 sessions,
and more with every year of history), so they run only when asked for: what a user runs
doctor for most, the files that could not be read and why, answers in a second at any size.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson

from tether.archive.query import like_prefix
from tether.tools.registry import TOOLS


def diagnose(
    db: sqlite3.Connection,
    db_file: Path,
    env: Mapping[str, str],
    home: Path,
    deep: bool = False,
    step: Callable[[str], None] = lambda what: None,
) -> dict[str, Any]:
    """The diagnosis (`tether doctor --json`); `deep`: check the database and the search
    index too (health values "ok" or what is wrong, None when not checked), each check
    announced to `step` before it starts."""
    stores = []
    for tool in TOOLS.values():
        for root in tool.store_roots(env, home):
            prefix = like_prefix(str(root).rstrip("/") + "/")
            files, sessions = db.execute(
                "SELECT COUNT(*), COUNT(DISTINCT session_pk) FROM sources"
                " WHERE tool = ? AND path LIKE ? ESCAPE '\\'",
                (tool.name, prefix),
            ).fetchone()
            stores.append(
                {
                    "tool": tool.name,
                    "root": str(root),
                    "found": root.is_dir(),
                    "files": files,
                    "sessions": sessions,
                }
            )
    problems = []
    rows = db.execute(
        "SELECT tool, path, mode, size, offset, skipped, repaired, reasons, error, missing_since"
        " FROM sources WHERE error IS NOT NULL OR skipped > 0 OR repaired > 0"
        " OR missing_since IS NOT NULL OR (mode = 'jsonl' AND size > offset) ORDER BY path"
    )
    for tool, path, mode, size, offset, skipped, repaired, reasons, error, missing in rows:
        item: dict[str, Any] = {"tool": tool, "path": path}
        if error:
            item["error"] = error
        if skipped:
            item["skipped_lines"] = skipped
        if repaired:
            item["repaired_lines"] = repaired
        if reasons:
            item["reasons"] = orjson.loads(reasons)
        if mode == "jsonl" and size is not None and size > offset and not error:
            item["pending_bytes"] = size - offset
            item["note"] = "a last line still being written (or cut short): read once complete"
        if missing:
            item["missing_since"] = missing
            item["note"] = "deleted by its tool; kept in the archive"
        problems.append(item)
    counts = {
        name: db.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]
        for name in ("sessions", "messages", "parts", "sources")
    }
    archived = db.execute(
        "SELECT COALESCE(SUM(length), 0), COALESCE(SUM(length(data)), 0) FROM raw_chunks"
    ).fetchone()
    return {
        "archive": {
            "path": str(db_file),
            "bytes": db_file.stat().st_size if db_file.exists() else 0,
            "raw_bytes": archived[0],
            "raw_compressed_bytes": archived[1],
            **counts,
        },
        "health": _health(db, deep, step),
        "stores": stores,
        "problems": problems,
    }


def _health(db: sqlite3.Connection, deep: bool, step: Callable[[str], None]) -> dict[str, Any]:
    migrations = [r[0] for r in db.execute("SELECT name FROM migrations ORDER BY name")]
    if not deep:
        return {"database": None, "search_index": None, "migrations": migrations}
    step("checking the database file")
    check = db.execute("PRAGMA quick_check").fetchone()[0]
    step("checking the search index against every text it indexes")
    try:
        db.execute("INSERT INTO parts_fts(parts_fts, rank) VALUES ('integrity-check', 1)")
        fts = "ok"
    except sqlite3.DatabaseError as exc:
        if exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            raise  # busy, not damaged: the archive's caller says so
        fts = str(exc)
    return {"database": check, "search_index": fts, "migrations": migrations}
