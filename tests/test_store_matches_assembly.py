"""The database applies a reader's ops exactly as the in-memory Assembly does (the readers'
own tests use Assembly), whole and when the file arrives in pieces."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tether.archive import store
from tether.archive.assemble import Assembly
from tether.archive.db import connect
from tether.archive.store import load_session
from tether.capture.feed import FileFeed
from tether.capture.importer import import_paths, recognise
from tether.formats.tether_json import session_json

JSONL = sorted(p for p in FIXTURES.rglob("*.jsonl") if recognise(p) is not None)


def assembled(path: Path) -> dict[str, object]:
    found = recognise(path)
    assert found is not None
    tool, source = found
    assembly = Assembly(tool.name, source.native_id)
    assembly.apply(tool.read(FileFeed(source), {}))
    return session_json(assembly.session())


def stored(db_file: Path, path: Path) -> dict[str, object]:
    db = connect(db_file)
    report = import_paths(db, [path])
    assert report.sessions, report
    return session_json(load_session(db, report.sessions[-1]))


def test_there_are_fixtures_of_every_tool() -> None:
    tools = {recognise(p)[0].name for p in JSONL}  # type: ignore[index]
    assert {"claude", "codex", "copilot"} <= tools


@pytest.mark.parametrize("path", JSONL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_database_equals_assembly(path: Path, tmp_path: Path) -> None:
    expected = assembled(path)
    got = stored(tmp_path / "t.db", path)
    assert got["messages"] == expected["messages"]


@pytest.mark.parametrize("path", JSONL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_database_equals_assembly_when_read_in_pieces(path: Path, tmp_path: Path) -> None:
    expected = assembled(path)
    lines = path.read_bytes().splitlines(keepends=True)
    copy = tmp_path / "copy" / path.name
    copy.parent.mkdir()
    db_file = tmp_path / "t.db"
    cuts = sorted({len(lines) // 3, 2 * len(lines) // 3, len(lines)})
    done = 0
    for cut in cuts:
        with copy.open("ab") as fh:
            fh.write(b"".join(lines[done:cut]))
        done = cut
        if recognise(copy) is not None:  # a first piece may be too short to tell its tool
            got = stored(db_file, copy)
    assert got["messages"] == expected["messages"]


@pytest.mark.parametrize("path", JSONL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_database_equals_assembly_when_every_part_is_flushed_at_once(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer flushes at FLUSH_BYTES of buffered text (a session of long parts is not held
    whole): merges and replacements of messages already written come out the same."""
    monkeypatch.setattr(store, "FLUSH_BYTES", 1)
    expected = assembled(path)
    got = stored(tmp_path / "t.db", path)
    assert got["messages"] == expected["messages"]
