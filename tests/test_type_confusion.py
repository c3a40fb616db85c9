"""A field of an unexpected type (`{"type": []}`, a Codex `payload.type` that is an object, a
Gemini `$set.messages[].type` that is a list) costs its line, never the file, and never
freezes a session: lines appended after it are read by the next scan. A reader that fails on
one record for any reason costs that record only."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import run
from tests.fuzzing import Seed, _nodes, _replace, seeds
from tests.stores import CLAUDE_ID, append, claude_prompt, place_claude, place_codex
from tests.test_fuzz import _lines, capture, kept_by_both
from tether.tools import claude

ODD = ([], {}, 0, None, {"type": []})


def texts_of(ident: str) -> list[str]:
    shown = orjson.loads(run("show", ident, "--json", "--no-scan").stdout)
    return [p.get("text") or "" for m in shown["messages"] for p in m["parts"]]


def test_a_line_of_odd_type_costs_only_that_line(isolated_home: Path) -> None:
    path = place_claude(isolated_home)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([*lines[:3], b'{"type": [], "uuid": "x"}\n', *lines[3:]]))
    scanned = run("scan", ok=False)
    assert scanned.exit_code == 1 and "1 line(s) skipped" in scanned.stderr
    assert "I'll review the changes in this branch compared to main." in texts_of(CLAUDE_ID)
    (problem,) = orjson.loads(run("doctor", "--json").stdout)["problems"]
    assert problem["reasons"] == ["unknown record type a JSON list"]


def test_a_bad_line_appended_after_a_capture_freezes_nothing(isolated_home: Path) -> None:
    path = place_claude(isolated_home)
    run("scan")
    append(path, b'{"type": {"a": 1}, "sessionId": []}\n' + claude_prompt(path, "after the bad"))
    scanned = run("scan", ok=False)
    assert "1 line(s) skipped" in scanned.stderr
    assert "after the bad" in texts_of(CLAUDE_ID)
    append(path, claude_prompt(path, "and later still"))
    run("scan")
    assert texts_of(CLAUDE_ID)[-2:] == ["after the bad", "and later still"]


def test_a_reader_that_fails_on_one_record_skips_it_and_goes_on(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any exception a reader raises on a record (a bug of tomorrow's) costs the record:
    capture goes on from the next line, at the first read and at an append."""
    real_user = claude._Reader._user

    def fragile(self: Any, rec: dict[str, Any]) -> Any:
        if "explode" in orjson.dumps(rec.get("message")).decode():
            raise KeyError("a reader bug")
        return real_user(self, rec)

    monkeypatch.setattr(claude._Reader, "_user", fragile)
    path = place_claude(isolated_home)
    append(path, claude_prompt(path, "explode") + claude_prompt(path, "after"))
    assert "1 line(s) skipped" in run("scan", ok=False).stderr
    assert texts_of(CLAUDE_ID)[-1] == "after"
    append(path, claude_prompt(path, "explode again") + claude_prompt(path, "still read"))
    assert "1 line(s) skipped" in run("scan", ok=False).stderr
    assert texts_of(CLAUDE_ID)[-2:] == ["after", "still read"]
    (problem,) = orjson.loads(run("doctor", "--json").stdout)["problems"]
    assert problem["skipped_lines"] == 2
    assert "the reader failed at test_type_confusion.py" in problem["reasons"][0]
    assert "KeyError: 'a reader bug'" in problem["reasons"][0]


def test_the_issue_s_examples(isolated_home: Path) -> None:
    """Codex `payload.type` of another type, in a session's middle: the rest is kept."""
    path = place_codex(isolated_home)
    lines = path.read_bytes().splitlines(keepends=True)
    for at, value in ((2, []), (4, {"x": 1})):
        record = orjson.loads(lines[at])
        record["payload"]["type"] = value
        lines[at] = orjson.dumps(record) + b"\n"
    path.write_bytes(b"".join(lines))
    result = run("scan", ok=False)
    assert "unreadable" not in result.stderr
    assert len(orjson.loads(run("list", "--json", "--no-scan").stdout)) == 1


@pytest.fixture(scope="module")
def line_seeds(tmp_path_factory: pytest.TempPathFactory) -> list[Seed]:
    return [s for s in seeds(tmp_path_factory.mktemp("seeds")) if s.lines]


def test_every_type_field_of_every_reader_may_be_of_any_type(
    line_seeds: list[Seed], tmp_path: Path
) -> None:
    """Every JSONL reader: in a few lines of each real file, every `type` field (of the
    record, its payload, its messages, their content blocks) made a list, an object, a
    number or null. The file is kept, and every other line's messages with it."""
    for n, seed in enumerate(line_seeds):
        original = capture(seed, seed.data, tmp_path / f"{n}-original")
        lines = [line + b"\n" for line in seed.data.split(b"\n")]
        typed = [i for i, line in enumerate(lines) if b'"type"' in line and _object(line)]
        for k, at in enumerate(random.Random(seed.name).sample(typed, min(len(typed), 4))):
            value = orjson.loads(lines[at])
            for path in [p for p in _nodes(value) if p and p[-1] == "type"]:
                value = _replace(value, path, ODD[(n + k) % len(ODD)])
            mutated = [*lines[:at], orjson.dumps(value) + b"\n", *lines[at + 1 :]]
            folder = tmp_path / f"{n}-{k}"
            got = capture(seed, b"".join(mutated), folder / "mutated")
            want = capture(seed, b"".join(lines[:at] + lines[at + 1 :]), folder / "baseline")
            where = f"{seed.tool} {seed.name} line {at}"
            assert not got.failed, f"{where}: {got.failed}"
            assert not [r for r in got.reasons if "reader failed" in r], f"{where}: {got.reasons}"
            assert kept_by_both(original, want, [lines[at]]) <= _lines(got.texts), where


def _object(line: bytes) -> bool:
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:  # a fixture's torn line (two records run together)
        return False
