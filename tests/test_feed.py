"""Reading native files tolerantly: offsets, partial lines, bad lines, invalid UTF-8."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zstandard

from tether.archive.store import MAX_DEPTH
from tether.capture import feed as feed_module
from tether.capture.feed import FileFeed, feed_from_bytes, read_guarded
from tether.model import Message, Text
from tether.tools.base import FormatError, Op, Put, Source


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


def test_a_line_longer_than_the_limit_is_skipped_and_archived(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file with no newline for gigabytes (sparse, a decompression bomb) never fills
    memory: past MAX_LINE the line is passed over to its end, counted, and still archived."""
    monkeypatch.setattr(feed_module, "MAX_LINE", 1000)
    monkeypatch.setattr(feed_module, "BLOCK", 256)
    data = b'{"a": 1}\n' + b"x" * 5000 + b'\n{"a": 2}\n' + b"y" * 3000
    path = tmp_path / "s.jsonl"
    path.write_bytes(data)
    got = bytearray()
    f = FileFeed(Source(path, "jsonl"), sink=got.extend)
    assert list(f.records()) == [{"a": 1}, {"a": 2}]
    assert f.skipped == 2 and f.reasons[0] == "line at byte 9 longer than 1000 bytes"
    assert bytes(got) == data and f.end == len(data)


def test_values_nested_deeper_than_the_archive_keeps_are_cut_not_the_line() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    line = b'{"type": "user", "deep": ' + deep + b', "text": "[[[\\"kept\\""}\n'
    f = feed_from_bytes(Source(Path("s.jsonl"), "jsonl"), line)
    (record,) = list(f.records())
    assert record["type"] == "user" and record["text"] == '[[["kept"'
    assert str(record["deep"]).count("[") == MAX_DEPTH  # the last one opens the note
    assert f"nested deeper than {MAX_DEPTH} levels" in str(record["deep"]) and f.repaired == 1


def test_records_go_on_after_a_reader_failed_on_one() -> None:
    """The feed keeps its place outside the generator: a reader run again goes on from the
    record after the one it failed on, and the bytes consumed are the whole file."""
    data = b'{"n": 1}\n{"n": 2}\n{"n": 3}\n'
    got = bytearray()
    f = FileFeed(Source(Path("s.jsonl"), "jsonl"), stream=io.BytesIO(data), sink=got.extend)
    first = f.records()
    assert next(first) == {"n": 1} and next(first) == {"n": 2}
    del first  # the reader failed on record 2
    assert f.taken_at == 9 and f.position == 18
    assert list(f.records()) == [{"n": 3}]
    assert bytes(got) == data and f.end == len(data)


class Fragile:
    """A reader that raises on some records, and keys its messages by a count in `state`."""

    name = "fragile"

    def __init__(self, finish_fails: bool = False) -> None:
        self.finish_fails = finish_fails

    def read(self, feed: Any, state: dict[str, Any]) -> Iterator[Op]:
        if feed.start == 0:
            state.clear()
        for rec in feed.records():
            if rec.get("boom"):
                raise ValueError(rec["boom"])
            state["n"] = state.get("n", 0) + 1
            yield Put(str(state["n"]), Message("user", [Text(str(rec["text"]))]))
        if self.finish_fails:
            raise RuntimeError("after the last record")


def test_a_guarded_read_skips_the_records_a_reader_fails_on() -> None:
    data = b'{"text": "a"}\n{"boom": "one"}\n{"boom": "two"}\n{"text": "b"}\n'
    f = feed_from_bytes(Source(Path("s.jsonl"), "jsonl"), data)
    ops = list(read_guarded(Fragile(), f, {}))  # type: ignore[arg-type]
    assert [(op.key, op.message.parts[0].text) for op in ops] == [("1", "a"), ("2", "b")]
    assert f.skipped == 2 and f.end == len(data)
    assert "line at byte 14: the reader failed at test_feed.py:" in f.reasons[0]
    assert f.reasons[0].endswith("ValueError: one")


def test_a_failure_no_record_explains_fails_the_file() -> None:
    f = feed_from_bytes(Source(Path("s.jsonl"), "jsonl"), b'{"text": "a"}\n')
    with pytest.raises(RuntimeError, match="after the last record"):
        list(read_guarded(Fragile(finish_fails=True), f, {}))  # type: ignore[arg-type]
