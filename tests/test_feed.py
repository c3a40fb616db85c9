"""Reading native files tolerantly: offsets, partial lines, bad lines, invalid UTF-8."""

from __future__ import annotations

from pathlib import Path

import pytest
import zstandard

from tether.capture.feed import FileFeed
from tether.tools.base import FormatError, Source


def feed(path: Path, start: int = 0) -> FileFeed:
    return FileFeed(Source(path, "jsonl"), start=start)


def test_reads_objects_and_counts_every_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"a": 1}\nnot json\n[1, 2]\n\n{"text": "caf\xe9 ok"}\n{"a": 2}\n')
    f = feed(path)
    records = list(f.records())
    assert records == [{"a": 1}, {"text": "caf\ufffd ok"}, {"a": 2}]
    assert f.skipped == 2
    assert f.repaired == 1
    assert any("invalid JSON" in r for r in f.reasons)
    assert any("list, not an object" in r for r in f.reasons)
    assert f.end == path.stat().st_size


def test_partial_last_line_is_left_for_the_next_read(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2, "b"')
    f = feed(path)
    assert list(f.records()) == [{"a": 1}]
    assert f.end == 9
    assert f.skipped == 0
    with path.open("ab") as fh:
        fh.write(b': 3}\n{"a": 4}\n')
    g = feed(path, start=f.end)
    assert list(g.records()) == [{"a": 2, "b": 3}, {"a": 4}]
    assert g.end == path.stat().st_size


def test_complete_last_line_without_newline_is_read(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2}')
    f = feed(path)
    assert list(f.records()) == [{"a": 1}, {"a": 2}]
    assert f.end == path.stat().st_size


def test_lines_longer_than_a_block(tmp_path: Path) -> None:
    big = "x" * (3 << 20)
    path = tmp_path / "s.jsonl"
    path.write_text(f'{{"t": "{big}"}}\n{{"a": 1}}\n')
    f = feed(path)
    records = list(f.records())
    assert len(records) == 2 and records[0]["t"] == big


def test_sink_receives_exactly_the_consumed_bytes(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    data = b'{"a": 1}\nbad\n{"a": 2}\n{"partial'
    path.write_bytes(data)
    got = bytearray()
    f = FileFeed(Source(path, "jsonl"), sink=got.extend)
    list(f.records())
    assert bytes(got) == data[: f.end] == data[: data.index(b'{"partial')]


def test_zstd_files_are_read_transparently(tmp_path: Path) -> None:
    path = tmp_path / "rollout.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(b'{"a": 1}\n{"a": 2}\n'))
    assert list(feed(path).records()) == [{"a": 1}, {"a": 2}]


def test_document_errors_are_format_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    with pytest.raises(FormatError, match="empty"):
        FileFeed(Source(empty, "document")).document()
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{"messages": [')
    with pytest.raises(FormatError, match="not valid JSON"):
        FileFeed(Source(broken, "document")).document()
