"""`tether storage` and `tether prune`: the room the archive takes by tool, project and age,
and pruning what is older than an age (dry run first), never a native byte."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import checksums, run
from tests.stores import CLAUDE_ID, CODEX_ID, place_claude, place_codex
from tests.test_json_output import SHAPES, assert_shape
from tether.archive.room import age_of, cutoff_of


def out(*args: str) -> Any:
    return json.loads(run(*args, "--json").stdout)


@pytest.fixture
def two_tools(isolated_home: Path) -> Path:
    place_claude(isolated_home)
    place_codex(isolated_home)
    run("scan")
    return isolated_home


def test_storage_says_how_much_room_each_tool_project_and_age_takes(two_tools: Path) -> None:
    room = out("storage")
    assert_shape(room, SHAPES["storage"], "storage")
    assert room["sessions"] == 2 and room["archive"]["bytes"] > room["bytes"] > 0
    assert room["bytes"] == room["raw_bytes"] + room["text_bytes"]
    assert {row["tool"] for row in room["by_tool"]} == {"claude", "codex"}
    assert sum(row["bytes"] for row in room["by_tool"]) == room["bytes"]
    assert sum(row["sessions"] for row in room["by_age"]) == 2
    assert "TOOL" in run("storage").stdout


def test_prune_dry_run_says_what_would_go_and_removes_nothing(two_tools: Path) -> None:
    before = checksums(two_tools)
    planned = out("prune", "--older-than", "1d", "--tool", "claude", "--dry-run")
    assert_shape(planned, SHAPES["prune"], "prune")
    assert planned["dry_run"] and [r["native_id"] for r in planned["removed"]] == [CLAUDE_ID]
    assert planned["bytes"] == planned["removed"][0]["bytes"] > 0
    assert len(out("list")) == 2
    assert "would remove 2 sessions" in run("prune", "--older-than", "1d", "--dry-run").stdout
    assert checksums(two_tools) == before


def test_prune_removes_old_sessions_with_their_index_and_names(two_tools: Path) -> None:
    before = checksums(two_tools)
    run("alias", CLAUDE_ID, "old-review")
    assert out("search", "competing")  # the claude session's words are indexed
    storage = out("storage")
    gone = out("prune", "--older-than", "1d", "--tool", "claude", "--vacuum")
    assert not gone["dry_run"] and gone["sessions"] == 1 and gone["vacuumed"]
    assert [r["native_id"] for r in out("list")] == [CODEX_ID]
    assert out("search", "competing") == []
    assert run("show", "old-review", ok=False).exit_code == 4
    after = out("storage")
    assert after["bytes"] == storage["bytes"] - gone["bytes"]
    # vacuumed: no free page is left (the session's rows shared their pages with others':
    # its text, compressed against its raw bytes, takes too little to free a page of them)
    assert after["archive"]["bytes"] <= storage["archive"]["bytes"]
    archive = sqlite3.connect(after["archive"]["path"])
    assert archive.execute("PRAGMA freelist_count").fetchone() == (0,)
    archive.close()
    # its file is still there, unchanged: scans do not take it back
    run("scan")
    assert [r["native_id"] for r in out("list")] == [CODEX_ID]
    assert checksums(two_tools) == before  # no native byte changed
    assert out("prune", "--older-than", "100y")["sessions"] == 0


def test_ages_and_bad_ages() -> None:
    now = datetime(2026, 12, 6, tzinfo=UTC)
    assert cutoff_of("180d", now) == "2026-06-09T00:00:00.000Z"
    assert cutoff_of("1y", now).startswith("2025-12-06")
    assert age_of("2026-12-01T00:00:00Z", now) == "under 30 days"
    assert age_of("2026-01-01T00:00:00Z", now) == "180-365 days"
    assert age_of(None, now) == "over a year"
    bad = run("prune", "--older-than", "soon", ok=False)
    assert bad.exit_code == 2 and "cannot read the age" in bad.output


def test_vacuum_shrinks_what_an_earlier_change_left_even_with_nothing_to_prune(
    two_tools: Path,
) -> None:
    """`prune --vacuum` is how the README says to shrink the file after an upgrade or a
    reindex: it vacuums whenever the archive has free pages, pruned or not."""
    assert run("reindex").exit_code == 0  # writes every part again: the old pages are free
    path = out("storage")["archive"]["path"]
    archive = sqlite3.connect(path)
    assert archive.execute("PRAGMA freelist_count").fetchone()[0] > 0
    said = run("prune", "--older-than", "100y", "--vacuum").stdout
    assert "removed 0 sessions" in said and "vacuumed: the archive's file is now" in said
    assert archive.execute("PRAGMA freelist_count").fetchone() == (0,)
    assert run("reindex").exit_code == 0
    gone = out("prune", "--older-than", "100y", "--vacuum")
    assert gone["sessions"] == 0 and gone["vacuumed"]
    assert archive.execute("PRAGMA freelist_count").fetchone() == (0,)
    assert not out("prune", "--older-than", "100y", "--vacuum")["vacuumed"]  # nothing to do
    archive.close()
