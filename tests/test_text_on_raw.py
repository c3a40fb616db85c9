"""Blocks of text compressed against the raw bytes they were read from (tether.archive.parttext,
migration m012): every answer is what plain blocks give, the raw bytes a block is based on
cannot go before the block lets go of them, and a file read again, shrunk, grown or staged
by a parallel scan keeps its text readable."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.stores import place_claude
from tests.test_parttext import answers, orphan_blocks, session_parts
from tests.test_staging import count_take_overs, fill
from tether.archive import parttext, store
from tether.archive.db import connect
from tether.archive.room import prune, sessions_room
from tether.capture import ingest, staging
from tether.capture.reindex import reindex
from tether.capture.scan import scan
from tether.tools import facts as facts_common

UNBASED = (
    "SELECT COUNT(*) FROM part_blocks b WHERE base_source IS NOT NULL AND NOT EXISTS"
    " (SELECT 1 FROM raw_chunks r WHERE r.source_id = b.base_source"
    " AND r.generation = b.base_generation AND r.seq = b.base_seq)"
)
"""Blocks whose base is not in the archive: there must never be one."""


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Raw chunks, flushes and blocks a few KB each: a file spans many chunks, a chunk many
    flushes, and parts are read back (merged, replaced) while their chunk is still collected."""
    monkeypatch.setattr(facts_common, "PLATFORM", "linux")
    monkeypatch.setattr(ingest, "CHUNK", 8 << 10)
    monkeypatch.setattr(store, "FLUSH_BYTES", 3 << 10)
    monkeypatch.setattr(parttext, "BLOCK_BYTES", 2 << 10)
    monkeypatch.setenv("TETHER_SCAN_WORKERS", "0")


def scanned(home: Path, folder: Path) -> sqlite3.Connection:
    db = connect(folder / "tether.db")
    report = scan(db, {"HOME": str(home)}, home)
    assert not report.failed, report.failed
    return db


def block_bytes(db: sqlite3.Connection) -> tuple[int, int, int]:
    """(blocks, blocks with a base, compressed bytes of all)."""
    row = db.execute(
        "SELECT COUNT(*), COUNT(base_source), SUM(LENGTH(data)) FROM part_blocks"
    ).fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def test_every_answer_is_what_plain_blocks_give(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(isolated_home)
    based = scanned(isolated_home, tmp_path / "based")
    with monkeypatch.context() as patch:
        patch.setattr(parttext, "BASE_MIN", 1 << 60)  # no raw bytes are base enough
        plain = scanned(isolated_home, tmp_path / "plain")
    blocks, with_base, size = block_bytes(based)
    _, plain_with_base, plain_size = block_bytes(plain)
    assert plain_with_base == 0 and with_base > blocks * 0.8 and blocks > 50
    assert size < plain_size * 0.6, (size, plain_size)
    assert based.execute(UNBASED).fetchone() == (0,)
    assert answers(based) == answers(plain)
    based.close()
    plain.close()


def test_raw_bytes_a_block_is_based_on_stay_until_it_lets_go(
    isolated_home: Path, tmp_path: Path
) -> None:
    place_claude(isolated_home)
    db = scanned(isolated_home, tmp_path)
    before = answers(db)
    (source,) = db.execute("SELECT DISTINCT base_source FROM part_blocks").fetchone()
    with pytest.raises(sqlite3.IntegrityError, match="base of compressed text"):
        db.execute("DELETE FROM raw_chunks WHERE source_id = ?", (source,))
    with pytest.raises(sqlite3.IntegrityError, match="base of compressed text"):
        db.execute("DELETE FROM sources WHERE id = ?", (source,))  # its chunks by cascade
    assert answers(db) == before
    db.execute("BEGIN")
    assert parttext.release(db, source) > 0
    assert db.execute("SELECT COUNT(base_source) FROM part_blocks").fetchone() == (0,)
    assert orphan_blocks(db) == 0
    db.execute("DELETE FROM raw_chunks WHERE source_id = ?", (source,))
    db.execute("COMMIT")
    assert answers(db) == before  # the text no longer needs the raw bytes
    db.close()


def test_pruning_a_session_takes_its_raw_bytes_and_leaves_the_rest_readable(
    isolated_home: Path, tmp_path: Path
) -> None:
    fill(isolated_home)
    db = scanned(isolated_home, tmp_path)
    before = session_parts(db)
    rooms = sessions_room(db, "", ())
    gone = rooms[: len(rooms) // 2]
    prune(db, gone)
    after = session_parts(db)
    assert after == {sid: parts for sid, parts in before.items() if sid not in {r.id for r in gone}}
    assert db.execute(UNBASED).fetchone() == (0,)
    assert orphan_blocks(db) == 0
    db.close()


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def read_again_shrunk_and_grown(home: Path, folder: Path) -> list[Any]:
    """The session's parts after each change to its file: grown (an append, packed with the
    session's last block against the new chunk), rewritten as large (read again whole: the
    old generation's bytes go), shrunk (read again whole: the old generation stays, history
    the tool dropped), then reindexed from the raw bytes."""
    path = place_claude(home)
    whole = lines(path)
    assert len(whole) > 12
    path.write_bytes(b"".join(whole[:-4]))
    db = scanned(home, folder)
    seen = []
    for step, data, generations in [
        ("grown", b"".join(whole), 1),
        ("rewritten", whole[1] + whole[0] + b"".join(whole[2:]), 1),
        ("shrunk", b"".join(whole[:6]), 2),
    ]:
        path.write_bytes(data)
        assert scan(db, {"HOME": str(home)}, home).read == 1, step
        assert db.execute("SELECT COUNT(DISTINCT generation) FROM raw_chunks").fetchone() == (
            generations,
        ), step
        assert db.execute(UNBASED).fetchone() == (0,), step
        assert orphan_blocks(db) == 0, step
        db.execute("INSERT INTO parts_fts(parts_fts, rank) VALUES ('integrity-check', 1)")
        seen.append(session_parts(db))
    assert not reindex(db).failed
    assert db.execute(UNBASED).fetchone() == (0,)
    seen.append(session_parts(db))
    db.close()
    path.unlink()
    return seen


def test_a_file_read_again_shrunk_or_grown_keeps_its_text(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    based = read_again_shrunk_and_grown(isolated_home, tmp_path / "based")
    with monkeypatch.context() as patch:
        patch.setattr(parttext, "BASE_MIN", 1 << 60)
        plain = read_again_shrunk_and_grown(isolated_home, tmp_path / "plain")
    assert based == plain
    assert based[-1] == based[-2]  # reindex: the same text again
    # Grown: what the same file read once, new, gives.
    place_claude(isolated_home)
    fresh = scanned(isolated_home, tmp_path / "fresh")
    assert based[0] == session_parts(fresh)
    fresh.close()


def test_a_parallel_scan_s_blocks_are_based_on_the_archive_s_chunks(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(isolated_home)
    serial = scanned(isolated_home, tmp_path / "serial")
    monkeypatch.setattr(staging, "MIN_BYTES", 0)
    monkeypatch.setattr(staging, "CHUNK_FILES", 2)
    monkeypatch.setenv("TETHER_SCAN_WORKERS", "2")
    monkeypatch.setattr(staging, "_context", lambda: multiprocessing.get_context("fork"))
    taken = count_take_overs(monkeypatch)
    parallel = scanned(isolated_home, tmp_path / "parallel")
    assert len(taken) > 5 and all(taken), "every staging database was taken over"
    assert block_bytes(parallel)[1] > 50
    assert parallel.execute(UNBASED).fetchone() == (0,)
    expected: Any = session_parts(serial)
    assert session_parts(parallel) == expected
    serial.close()
    parallel.close()


def test_a_read_that_fails_leaves_no_raw_bytes_collected(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes left registered under a closed connection's id would be read, as a block's base,
    by the next connection given that id (a flaky failure once, after a test like this)."""

    def deny(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError("denied")

    place_claude(isolated_home)
    monkeypatch.setattr(ingest, "FileFeed", deny)
    db = connect(tmp_path / "tether.db")
    assert scan(db, {"HOME": str(isolated_home)}, isolated_home).failed
    assert not parttext._COLLECTING
    db.close()


def test_the_first_prompt_is_the_same_read_back_or_kept_as_written(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`finish` takes a session's first prompt from the texts it wrote (without opening their
    block) or reads it back: the same either way, for every tool's sessions."""
    fill(isolated_home)
    kept = scanned(isolated_home, tmp_path / "kept")
    with monkeypatch.context() as patch:
        patch.setattr(store, "TEXTS_KEPT", 0)
        read = scanned(isolated_home, tmp_path / "read")
    query = "SELECT id, first_prompt FROM sessions ORDER BY id"
    prompts = kept.execute(query).fetchall()
    assert prompts == read.execute(query).fetchall()
    assert sum(1 for _, prompt in prompts if prompt) > 20
    kept.close()
    read.close()


def test_reindex_compresses_plain_blocks_against_the_raw_bytes(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An archive whose blocks were written alone (before m012) gets the smaller blocks from
    `tether reindex`, with every answer the same."""
    fill(isolated_home)
    with monkeypatch.context() as patch:
        patch.setattr(parttext, "BASE_MIN", 1 << 60)
        db = scanned(isolated_home, tmp_path)
    before = session_parts(db)  # reindex writes the parts again, under new pks
    _, with_base, size = block_bytes(db)
    assert with_base == 0
    assert not reindex(db).failed
    blocks, with_base, smaller = block_bytes(db)
    assert with_base > blocks * 0.8 and smaller < size * 0.6, (with_base, blocks, smaller, size)
    assert db.execute(UNBASED).fetchone() == (0,)
    assert session_parts(db) == before
    db.execute("INSERT INTO parts_fts(parts_fts, rank) VALUES ('integrity-check', 1)")
    db.close()


TRICKY = [
    'a quote " a backslash \\ a newline \n a tab \t a return \r',
    'a backslash and an n, not a newline: \\n, nor a quote: \\"',
    "café ☕ 𝄞 🧪 and U+2028 \u2028 U+2029 \u2029 and controls \x01 \x1f \x7f",
    "ends with a backslash \\",
    "plain words with no escape at all, kept as they are",
]


def claude_session(path: Path, ensure_ascii: bool) -> None:
    """A Claude Code session whose prompts and replies are TRICKY, written with non-ASCII as
    it is or as \\u escapes (the raw bytes then differ from the text's own escaping)."""
    import json

    records = []
    for n, text in enumerate(TRICKY * 3):
        role = "user" if n % 2 == 0 else "assistant"
        content: Any = text if role == "user" else [{"type": "text", "text": text}]
        records.append(
            {
                "parentUuid": f"u{n - 1}" if n else None,
                "isSidechain": False,
                "type": role,
                "message": {"role": role, "content": content},
                "uuid": f"u{n}",
                "timestamp": f"2026-01-01T00:00:{n:02d}.000Z",
                "sessionId": path.stem,
                "cwd": "/tmp/p",
            }
        )
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=ensure_ascii) + "\n" for r in records),
        encoding="utf-8",
    )


@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_texts_of_every_kind_of_character_come_back_from_escaped_blocks(
    isolated_home: Path, tmp_path: Path, ensure_ascii: bool
) -> None:
    path = place_claude(isolated_home)
    claude_session(path, ensure_ascii)
    db = scanned(isolated_home, tmp_path)
    forms = db.execute("SELECT form, COUNT(*) FROM part_blocks GROUP BY form").fetchall()
    assert forms == [(parttext.ESCAPED, forms[0][1])], forms  # every block based and escaped
    texts = [r[0] for r in db.execute("SELECT text FROM parts ORDER BY pk")]
    assert texts == TRICKY * 3
    hits = db.execute(
        "SELECT COUNT(*) FROM parts_fts WHERE parts_fts MATCH '\"café\" OR backslash'"
    ).fetchone()
    assert hits == (12,)
    db.execute("INSERT INTO parts_fts(parts_fts, rank) VALUES ('integrity-check', 1)")
    db.close()


def test_based_blocks_written_before_m013_read_as_they_were(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Blocks based on raw bytes whose texts are kept plain (m012's, form NULL) give the
    same answers as the escaped blocks they are made from here."""
    fill(isolated_home)
    claude_session(place_claude(isolated_home, sid="0d5c4a52-0000-4000-8000-00000000e5c4"), False)
    db = scanned(isolated_home, tmp_path)
    before = answers(db)
    assert any("\\" in part[4] for part in before["parts"])  # texts an unescape would change
    module = parttext.zstd()
    blocks = db.execute(
        "SELECT b.id, r.data, b.base_at, b.base_length FROM part_blocks b JOIN raw_chunks r"
        " ON r.source_id = b.base_source AND r.generation = b.base_generation"
        " AND r.seq = b.base_seq WHERE b.form = ?",
        (parttext.ESCAPED,),
    ).fetchall()
    assert len(blocks) > 50
    for block, chunk, at, length in blocks:
        base = module.ZstdDecompressor().decompress(chunk)[at : at + length]
        dictionary = module.ZstdCompressionDict(base, dict_type=module.DICT_TYPE_RAWCONTENT)
        rows = db.execute(
            "SELECT pk, text, data FROM parts WHERE pk IN"
            " (SELECT pk FROM part_rows WHERE block = ?) ORDER BY pk",
            (block,),
        ).fetchall()
        plain, places = bytearray(), []
        for pk, text, data in rows:
            places.append((len(plain), len(text.encode()), pk))
            plain += text.encode() + (data or "").encode()
        packed = module.ZstdCompressor(dict_data=dictionary, write_checksum=True).compress(plain)
        db.execute("UPDATE part_blocks SET data = ?, form = NULL WHERE id = ?", (packed, block))
        db.executemany("UPDATE part_rows SET at = ?, text_len = ? WHERE pk = ?", places)
    db.close()
    db = connect(tmp_path / "tether.db")
    assert db.execute("SELECT COUNT(*) FROM part_blocks WHERE form IS NOT NULL").fetchone() == (0,)
    assert answers(db) == before
    db.close()


def test_raw_chunks_move_to_full_pages_with_every_answer_and_the_guard_kept(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """m014: an archive whose raw chunks are in a table WITHOUT ROWID (m003's) moves them into
    a rowid table a few at a time: same chunks, same answers, the guard still refuses."""
    from tether.archive import db as archive_db

    monkeypatch.setattr(archive_db, "MOVE_CHUNKS", 3)  # many rounds
    fill(isolated_home)
    db = scanned(isolated_home, tmp_path)
    db.executescript(
        """
        DROP TRIGGER raw_chunks_based;
        CREATE TABLE old_chunks (source_id INTEGER NOT NULL REFERENCES sources(id)
            ON DELETE CASCADE, generation INTEGER NOT NULL, seq INTEGER NOT NULL,
            offset INTEGER NOT NULL, length INTEGER NOT NULL, data BLOB NOT NULL,
            PRIMARY KEY (source_id, generation, seq)) WITHOUT ROWID;
        INSERT INTO old_chunks SELECT * FROM raw_chunks;
        DROP TABLE raw_chunks;
        ALTER TABLE old_chunks RENAME TO raw_chunks;
        DELETE FROM migrations WHERE name = 'm014_raw_chunks_fill_their_pages';
        """
    )
    archive_db._script(db, parttext.GUARD)
    chunks = db.execute("SELECT * FROM raw_chunks ORDER BY 1, 2, 3").fetchall()
    assert len(chunks) > 3 * 10
    before = answers(db)
    db.close()
    db = connect(tmp_path / "tether.db")
    (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'raw_chunks'").fetchone()
    assert "WITHOUT ROWID" not in sql
    assert db.execute("SELECT * FROM raw_chunks ORDER BY 1, 2, 3").fetchall() == chunks
    assert answers(db) == before
    assert db.execute(UNBASED).fetchone() == (0,)
    (source,) = db.execute("SELECT base_source FROM part_blocks WHERE base_source > 0").fetchone()
    with pytest.raises(sqlite3.IntegrityError, match="base of compressed text"):
        db.execute("DELETE FROM sources WHERE id = ?", (source,))
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.execute("INSERT INTO raw_chunks SELECT * FROM raw_chunks LIMIT 1")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
