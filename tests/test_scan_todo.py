"""tether.capture.todo: a scan's files packed, each Found made again exactly as it was."""

from __future__ import annotations

import os
from pathlib import Path

from tether.capture.ingest import FileStat, Found, Known
from tether.capture.todo import Todo
from tether.tools.base import Source
from tether.tools.registry import TOOLS


def _known(path: str) -> Known:
    return Known(7, "claude", "jsonl", "scan", 3, 1, 2, 3, 10, b"x", 0, None, None, None, None)


def test_a_todo_gives_back_each_found_as_it_was_in_path_order(tmp_path: Path) -> None:
    claude, codex = TOOLS["claude"], TOOLS["codex"]
    odd = os.fsdecode(b"\xff-bad.jsonl")  # a name that is no UTF-8 (surrogate escapes)

    def members(_: object) -> list[object]:
        return []

    given = [
        (claude, Source(tmp_path / "p" / "b.jsonl", "jsonl", "b"), None),
        (codex, Source(tmp_path / "r" / "rollout-x.jsonl", "jsonl", "uuid-1"), None),
        (claude, Source(tmp_path / "p" / "a.jsonl", "jsonl", None), _known("a")),
        (claude, Source(tmp_path / "p" / odd, "jsonl", "\udcff\x00id"), None),
        (codex, Source(tmp_path / "db.sqlite", "container", None, members), None),  # type: ignore[arg-type]
    ]
    todo = Todo()
    for n, (tool, source, row) in enumerate(given):
        todo.add(tool, source, FileStat(100 + n, 10**18 + n, 2**40 + n, 0o100644), row)
    assert len(todo) == len(given)
    assert todo.total() == sum(100 + n for n in range(len(given)))
    todo.sort()
    expected = sorted(
        (
            Found(tool, source, FileStat(100 + n, 10**18 + n, 2**40 + n, 0o100644), row)
            for n, (tool, source, row) in enumerate(given)
        ),
        key=lambda found: found.path,
    )
    assert [found.path for found in todo] == [found.path for found in expected]
    for at, (got, want) in enumerate(zip(todo, expected, strict=True)):
        assert got.item() == want.item()
        assert got.size == want.size == todo.size(at)
        assert todo.path(at) == want.path
    # No object per file: the two files of one folder share their folder's string.
    assert len(todo.folders) == 3 and len(todo.tools) == 2
    assert set(todo.extra) == {
        at for at, found in enumerate(todo) if found.row or found.members or odd in found.path
    }
    assert todo[-1].path == todo[len(todo) - 1].path
    assert [found.path for found in todo[1:3]] == [found.path for found in expected[1:3]]
