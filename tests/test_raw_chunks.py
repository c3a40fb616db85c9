"""The raw bytes a scan keeps of a file: every byte, in order, across chunks and appends, and
the tail that tells an append from a rewrite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import zstandard

from tests.stores import place_claude
from tether.archive.db import connect
from tether.capture import ingest
from tether.capture.scan import scan


def raw_bytes(db: sqlite3.Connection, path: Path) -> bytes:
    rows = db.execute(
        "SELECT c.offset, c.length, c.data FROM raw_chunks c JOIN sources s ON s.id = c.source_id"
        " WHERE s.path = ? AND c.generation = s.generation ORDER BY c.seq",
        (str(path),),
    ).fetchall()
    out = b""
    for offset, length, data in rows:
        assert offset == len(out)
        chunk = zstandard.ZstdDecompressor().decompress(data, max_output_size=length)
        assert len(chunk) == length
        out += chunk
    return out


def test_chunks_and_tail_hold_every_byte_across_appends(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "CHUNK", 1000)  # many chunks from one small file
    path = place_claude(isolated_home)
    db = connect(tmp_path / "tether.db")
    scan(db, {"HOME": str(isolated_home)}, isolated_home)
    data = path.read_bytes()
    assert len(data) > 3 * ingest.CHUNK
    assert raw_bytes(db, path) == data
    (tail,) = db.execute("SELECT tail FROM sources WHERE path = ?", (str(path),)).fetchone()
    assert tail == data[-ingest.TAIL :]
    first_line = data.split(b"\n", 1)[0] + b"\n"
    with path.open("ab") as fh:
        fh.write(first_line)  # an append: read from the offset, under the same generation
    report = scan(db, {"HOME": str(isolated_home)}, isolated_home)
    assert report.bytes_read == len(first_line)
    assert raw_bytes(db, path) == data + first_line
    (tail,) = db.execute("SELECT tail FROM sources WHERE path = ?", (str(path),)).fetchone()
    assert tail == (data + first_line)[-ingest.TAIL :]
    db.close()
