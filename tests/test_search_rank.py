"""Search ranks apart from its joins (tether.archive.query._best), by bm25() sorted by SQLite
rather than by FTS5's rank column: the same hits, in the same order, as one query that joins
while it sorts by the rank column (ties in the order the parts were captured), page after
page, and the same through a filter (the joined path), less what it leaves out. On real
layouts of every tool and a generated corpus."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from tests.test_parttext import WORDS
from tests.test_staging import fill
from tether.archive.db import connect
from tether.archive.query import Filters, _quoted, search_rows
from tether.capture.scan import scan

QUERIES = [*WORDS, "the", "error", "test OR file", "fix NOT the", '"readable café"', "caf*"]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    home = tmp_path_factory.mktemp("rank") / "home"
    home.mkdir()
    fill(home)
    archive = connect(home.parent / "tether.db")
    scan(archive, {"HOME": str(home)}, home)
    yield archive
    archive.close()


def joined(db: sqlite3.Connection, query: str, limit: int, offset: int) -> list[tuple[object, ...]]:
    """The hits as one query sorts them by FTS5's rank column while it joins."""
    return db.execute(
        "SELECT s.id, s.tool, s.native_id, s.project, s.title, s.first_prompt, s.created_at,"
        " s.updated_at, s.message_count, s.models, m.seq, m.role, m.timestamp, p.kind,"
        " snippet(parts_fts, 0, '«', '»', '…', 16)"
        " FROM parts_fts JOIN parts p ON p.pk = parts_fts.rowid"
        " JOIN messages m ON m.pk = p.message_pk JOIN sessions s ON s.pk = m.session_pk"
        " WHERE parts_fts MATCH ? ORDER BY parts_fts.rank, parts_fts.rowid LIMIT ? OFFSET ?",
        (_quoted(query), limit, offset),
    ).fetchall()


@pytest.mark.parametrize("query", QUERIES)
def test_the_hits_and_their_order_are_those_of_the_joined_query(
    db: sqlite3.Connection, query: str
) -> None:
    every = search_rows(db, query, Filters(limit=500))
    assert every == joined(db, query, 500, 0)
    pages = [search_rows(db, query, Filters(limit=7, offset=at)) for at in range(0, 70, 7)]
    assert [hit for page in pages for hit in page] == every[:70]
    # A filter takes the joined path: the same hits, less those it leaves out, in order.
    since = "2026-03-01"
    kept = [hit for hit in every if hit[7] is not None and hit[7] >= since]
    assert search_rows(db, query, Filters(limit=500, since=since)) == kept


def test_common_words_have_hits_to_order(db: sqlite3.Connection) -> None:
    """The test above compares orders, not empty lists."""
    for word in ("the", "error"):
        hits = search_rows(db, word, Filters(limit=500))
        assert 30 < len(hits) < 500  # all of them, a page at a time above
        assert 0 < len([hit for hit in hits if (hit[7] or "") >= "2026-03-01"]) < len(hits)
