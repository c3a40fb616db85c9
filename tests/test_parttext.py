"""The parts' text in compressed blocks (tether.archive.parttext, migration m011): every reader
gets what the plain table gave, an archive main's code wrote converts without a change to any
answer, and a block goes with its last part."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.stores import place_claude
from tests.test_staging import WORDS, fill
from tether.archive import parttext
from tether.archive.db import connect, mark_key
from tether.archive.documents import session_document
from tether.archive.pages import message_page
from tether.archive.query import Filters, search
from tether.archive.store import load_session
from tether.capture.marks import ArchivedMarks
from tether.capture.reindex import reindex
from tether.capture.scan import scan
from tether.tools import facts as facts_common

PARTS_BEFORE_M011 = """
CREATE TABLE plain_parts (
    pk INTEGER PRIMARY KEY,
    message_pk INTEGER NOT NULL REFERENCES messages(pk) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    data TEXT
)"""
"""`parts` as m001 made it (main at add4041 wrote it so, and read it plain)."""


@pytest.fixture(autouse=True)
def linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(facts_common, "PLATFORM", "linux")


@pytest.fixture
def archive_file(isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An archive of every tool's fixtures and a small generated corpus."""
    monkeypatch.setenv("TETHER_SCAN_WORKERS", "0")
    fill(isolated_home)
    path = tmp_path / "archive" / "tether.db"
    db = connect(path)
    scan(db, {"HOME": str(isolated_home)}, isolated_home)
    db.close()
    return path


def as_main_wrote_it(path: Path) -> list[tuple[int, str]]:
    """Put the archive back in the layout of main before m011: a plain `parts` table (same
    rows, same index), record marks as text. Returns the (source, mark) rows it made up."""
    db = sqlite3.connect(path, isolation_level=None)
    parttext.register(db)
    db.execute(PARTS_BEFORE_M011)
    db.execute("INSERT INTO plain_parts SELECT * FROM parts ORDER BY pk")
    db.execute("DROP VIEW parts")
    db.execute("DROP TRIGGER raw_chunks_based")  # m012's, on the blocks m011 made
    db.execute("DROP TABLE part_rows")
    db.execute("DROP TABLE part_blocks")
    db.execute("ALTER TABLE plain_parts RENAME TO parts")
    db.execute("CREATE INDEX parts_message ON parts(message_pk, seq)")
    sources = [r[0] for r in db.execute("SELECT id FROM sources ORDER BY id")]
    marks = [(s, f"{s:08x}-uuid:{n}:c0ffee{n}") for s in sources for n in range(3)]
    db.execute("DROP TABLE record_marks")
    db.execute(
        "CREATE TABLE record_marks (source_id INTEGER NOT NULL REFERENCES sources(id)"
        " ON DELETE CASCADE, mark TEXT NOT NULL, PRIMARY KEY (source_id, mark)) WITHOUT ROWID"
    )
    db.executemany("INSERT INTO record_marks VALUES (?, ?)", marks)
    db.execute(
        "DELETE FROM migrations WHERE name IN"
        " ('m011_compact_parts_and_marks', 'm012_text_on_raw_bytes',"
        " 'm013_texts_as_raw_bytes_hold_them')"
    )
    db.close()
    return marks


def answers(db: sqlite3.Connection) -> dict[str, Any]:
    """What every reader of parts gives: the rows, each session loaded, its JSON document and
    its first web page, search hits with their snippets, and the index's own check."""
    out: dict[str, Any] = {"parts": db.execute("SELECT * FROM parts ORDER BY pk").fetchall()}
    for (pk,) in db.execute("SELECT pk FROM sessions ORDER BY pk").fetchall():
        out[f"session {pk}"] = load_session(db, pk)
        out[f"document {pk}"] = "".join(session_document(db, pk))
        out[f"page {pk}"] = message_page(db, pk, None)
    for word in [*WORDS, '"readable café"', "caf* NOT json"]:
        out[f"search {word}"] = search(db, word, Filters(limit=200))
    db.execute("INSERT INTO parts_fts(parts_fts, rank) VALUES ('integrity-check', 1)")
    return out


def test_an_archive_main_wrote_converts_with_every_answer_unchanged(
    archive_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parttext, "CONVERT_ROWS", 37)  # many rounds, sessions cut across them
    marks = as_main_wrote_it(archive_file)
    plain = sqlite3.connect(archive_file, isolation_level=None)
    assert plain.execute("SELECT type FROM sqlite_master WHERE name = 'parts'").fetchone() == (
        "table",
    )
    before = answers(plain)
    plain.close()
    assert len(before["parts"]) > 500 and any(v for k, v in before.items() if "search" in k)

    db = connect(archive_file)  # runs m011
    assert db.execute("SELECT type FROM sqlite_master WHERE name = 'parts'").fetchone() == ("view",)
    after = answers(db)
    assert after == before
    assert db.execute("SELECT COUNT(*) FROM part_blocks").fetchone()[0] < len(after["parts"]) / 3
    # The marks read before the upgrade still say a record was read.
    kept = db.execute("SELECT source_id, mark FROM record_marks ORDER BY 1, 2").fetchall()
    assert kept == sorted((s, mark_key(m)) for s, m in marks)
    source, mark = marks[-1]
    assert ArchivedMarks(db, source, earlier=True).read_before(mark)
    assert not ArchivedMarks(db, source, earlier=True).read_before(mark + "x")
    db.close()


def session_parts(db: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    rows = db.execute(
        "SELECT s.id, m.key, p.seq, p.kind, p.text, p.data FROM parts p"
        " JOIN messages m ON m.pk = p.message_pk JOIN sessions s ON s.pk = m.session_pk"
        " ORDER BY s.id, m.seq, p.seq"
    )
    out: dict[str, list[tuple[Any, ...]]] = {}
    for sid, *row in rows:
        out.setdefault(sid, []).append(tuple(row))
    return out


def orphan_blocks(db: sqlite3.Connection) -> int:
    return int(
        db.execute(
            "SELECT COUNT(*) FROM part_blocks WHERE id NOT IN (SELECT block FROM part_rows)"
        ).fetchone()[0]
    )


def test_reindex_rewrites_the_same_text_and_leaves_no_block_behind(archive_file: Path) -> None:
    db = connect(archive_file)
    before = session_parts(db)
    blocks = db.execute("SELECT COUNT(*) FROM part_blocks").fetchone()[0]
    assert blocks and orphan_blocks(db) == 0
    # Blocks hold many parts: a session's, compressed together.
    assert blocks * 3 < db.execute("SELECT COUNT(*) FROM part_rows").fetchone()[0]
    report = reindex(db)
    assert not report.failed
    assert session_parts(db) == before
    assert orphan_blocks(db) == 0
    db.execute("INSERT INTO parts_fts(parts_fts, rank) VALUES ('integrity-check', 1)")
    db.close()


def test_plain_writes_to_the_view_and_a_reader_elsewhere(archive_file: Path) -> None:
    db = connect(archive_file)
    other = connect(archive_file, readonly=True)
    message_pk, pk = db.execute("SELECT message_pk, MAX(pk) FROM parts").fetchone()
    seen = other.execute("SELECT text FROM parts WHERE pk = ?", (pk,)).fetchone()  # cached
    db.execute(
        "INSERT INTO parts (pk, message_pk, seq, kind, text, data) VALUES (?, ?, 99, 'text', ?, ?)",
        (pk + 1, message_pk, "naïve text \x00 with a nul", None),
    )
    db.execute(
        "INSERT INTO parts (message_pk, seq, kind, text, data) VALUES (?, 100, 'tool_call', '', ?)",
        (message_pk, '{"name": "x"}'),
    )
    assert db.execute(
        "SELECT text, data FROM parts WHERE pk > ? ORDER BY pk", (pk,)
    ).fetchall() == [
        ("naïve text \x00 with a nul", None),
        ("", '{"name": "x"}'),
    ]
    db.execute("DELETE FROM parts WHERE pk >= ?", (pk,))
    assert orphan_blocks(db) == 0
    # The reader that cached the deleted part's block sees it gone, and a new one in its place.
    db.execute("INSERT INTO parts VALUES (?, ?, 7, 'text', 'replaced', NULL)", (pk, message_pk))
    assert seen is not None
    assert other.execute("SELECT text FROM parts WHERE pk = ?", (pk,)).fetchone() == ("replaced",)
    other.close()
    db.close()


def test_blocks_stop_at_their_size() -> None:
    big = "x" * (parttext.BLOCK_BYTES // 2)
    rows: list[parttext.PartRow] = [(n, 1, n, "text", big, None) for n in range(1, 6)]
    blocks, part_rows = parttext.pack(rows)
    assert len(blocks) == 3  # 2 + 2 + 1 halves of a block
    assert [r[5] for r in part_rows] == [0, len(big), 0, len(big), 0]
    assert len({r[4] for r in part_rows}) == 3


def test_a_session_captured_a_line_at_a_time_ends_in_one_block(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TETHER_SCAN_WORKERS", "0")
    sample = FIXTURES / "claude" / "agentsessions_small.jsonl"
    lines = sample.read_bytes().splitlines(keepends=True)
    path = place_claude(isolated_home, sample)
    env = {"HOME": str(isolated_home)}
    path.write_bytes(b"")
    db = connect(tmp_path / "live" / "tether.db")
    for line in lines:  # as the watcher sees it: one line more at each read
        with path.open("ab") as fh:
            fh.write(line if line.endswith(b"\n") else line + b"\n")
        scan(db, env, isolated_home)
    whole = connect(tmp_path / "whole" / "tether.db")
    scan(whole, env, isolated_home)
    assert session_parts(db) == session_parts(whole)
    assert len(session_parts(db)) == 1 and orphan_blocks(db) == 0
    # The text is far under a block: every append re-packed it with what came before.
    assert db.execute("SELECT COUNT(*) FROM part_blocks").fetchone()[0] == 1
    db.execute("INSERT INTO parts_fts(parts_fts, rank) VALUES ('integrity-check', 1)")
    db.close()
    whole.close()
