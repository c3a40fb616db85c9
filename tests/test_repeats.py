"""A record written twice under one id (a uuid, an event id, a step index, a bubble id) is
one message, however far apart the copies are and whether the copy comes in the same read
or a later one. Real files, each record line repeated in place and again at the end."""

from __future__ import annotations

import collections
import sqlite3
from pathlib import Path

import orjson
import pytest

from tests.conftest import run
from tests.fuzzing import Seed, seeds
from tests.stores import CLAUDE_ID, append, place_claude
from tests.test_fuzz import _source
from tether.archive.db import migrate
from tether.capture.ingest import ScanReport, read_sessions, readers

ID_FIELDS = ("uuid", "id", "step_index", "bubble", "blob")
"""What names a record in each format (a Cursor member line holds its bubble, or its blob)."""
DEDUPLICATED = {"claude", "copilot", "qwen", "antigravity", "cursor", "gemini"}
LIVE_AGAIN = {"gemini"}
"""Where a record written again after a rewind dropped it is live again (Gemini's log)."""
SMALL = 200_000


def parts(seed: Seed, data: bytes, folder: Path) -> collections.Counter[tuple[str, str]]:
    folder.mkdir(parents=True)
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(db)
        source, path = _source(seed, data, folder)
        report = ScanReport()
        read_sessions(db, readers()[seed.tool], source, path.stat(), None, report)
        assert not report.failed
        rows = db.execute(
            "SELECT m.role, p.text FROM parts p JOIN messages m ON m.pk = p.message_pk"
        )
        return collections.Counter(rows)
    finally:
        db.close()


def with_ids(data: bytes) -> list[bytes]:
    out = []
    for line in data.split(b"\n"):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict) and any(record.get(f) not in (None, "") for f in ID_FIELDS):
            out.append(line)
    return out


@pytest.fixture(scope="module")
def repeatable(tmp_path_factory: pytest.TempPathFactory) -> list[Seed]:
    found = [
        s
        for s in seeds(tmp_path_factory.mktemp("seeds"))
        if s.lines and s.tool in DEDUPLICATED and len(s.data) < SMALL and with_ids(s.data)
    ]
    transcripts = {s.name for s in found if s.tool == "cursor" and s.member_of is None}
    assert not transcripts, "cursor-agent transcript lines carry no id"
    assert {s.tool for s in found} == DEDUPLICATED
    return found


def test_every_record_repeated_is_read_once(repeatable: list[Seed], tmp_path: Path) -> None:
    for n, seed in enumerate(repeatable):
        lines = [line for line in seed.data.split(b"\n") if line.strip()]
        named = set(with_ids(seed.data))
        doubled = [copy for line in lines for copy in ([line, line] if line in named else [line])]
        replayed = [*lines, *(line for line in lines if line in named)]
        want = parts(seed, seed.data, tmp_path / f"{n}")
        cases = [("in place", doubled), ("replayed at the end", replayed)]
        for label, changed in cases[: 1 if seed.tool in LIVE_AGAIN else 2]:
            got = parts(seed, b"\n".join(changed) + b"\n", tmp_path / f"{n}-{label}")
            assert got == want, f"{seed.tool} {seed.name}, each record {label}: {got - want}"


def test_a_repeat_appended_after_a_capture_adds_nothing(isolated_home: Path) -> None:
    path = place_claude(isolated_home)
    run("scan")
    before = orjson.loads(run("show", CLAUDE_ID, "--json", "--no-scan").stdout)["messages"]
    append(path, b"".join(line + b"\n" for line in path.read_bytes().splitlines()[:6]))
    run("scan")
    after = orjson.loads(run("show", CLAUDE_ID, "--json", "--no-scan").stdout)["messages"]
    assert after == before


def test_records_that_only_share_an_id_are_both_read(tmp_path: Path) -> None:
    """Not a repeat: a redacted file's placeholder ids, a response in two parts."""
    first = {"type": "user", "uuid": "[trimmed]", "sessionId": "s", "message": {"content": "a"}}
    second = {**first, "message": {"content": "b"}}
    seed = Seed("claude", "s.jsonl", b"", "jsonl")
    data = b"".join(orjson.dumps(r) + b"\n" for r in (first, second, first))
    assert sorted(text for _, text in parts(seed, data, tmp_path / "c")) == ["a", "b"]
