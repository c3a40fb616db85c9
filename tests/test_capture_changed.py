"""Capture of what changed: a file renamed or compressed keeps its one session, and a scan
limited to the paths a watcher saw change reads those and leaves the rest alone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import orjson
import zstandard

from tests.conftest import FIXTURES, checksums, run
from tests.stores import (
    CLAUDE_ID,
    CODEX_ID,
    append,
    claude_prompt,
    codex_prompt,
    place_claude,
    place_codex,
)
from tether.archive.db import connect
from tether.capture.scan import Changed, read_files, scan
from tether.paths import db_path, tether_home


def as_json(*args: str) -> Any:
    return orjson.loads(run(*args).stdout)


def sessions() -> list[tuple[str, int]]:
    return sorted(
        (s["native_id"], s["message_count"]) for s in as_json("list", "--json", "-a", "--no-scan")
    )


def test_compressed_rollout_keeps_its_one_session(isolated_home: Path) -> None:
    rollout = place_codex(isolated_home)
    run("scan")
    listed = sessions()
    before = as_json("show", CODEX_ID, "--json")
    packed = rollout.with_name(rollout.name + ".zst")
    packed.write_bytes(zstandard.ZstdCompressor().compress(rollout.read_bytes()))
    run("scan")  # both present: the plain file is the one Codex still appends to
    rollout.unlink()
    report = as_json("scan", "--json")
    assert report["sessions_added"] == 0 and report["missing"] == 1
    assert sessions() == listed
    assert as_json("show", CODEX_ID, "--json")["messages"] == before["messages"]


def test_archived_rollout_keeps_its_one_session(isolated_home: Path) -> None:
    rollout = place_codex(isolated_home)
    run("scan")
    listed = sessions()
    before = as_json("show", CODEX_ID, "--json")
    archived = isolated_home / ".codex" / "archived_sessions"
    archived.mkdir()
    rollout.rename(archived / rollout.name)  # what `codex archive` does
    assert as_json("scan", "--json")["sessions_added"] == 0
    assert sessions() == listed
    assert as_json("show", CODEX_ID, "--json")["messages"] == before["messages"]


def test_changed_paths_limit_what_is_read(isolated_home: Path) -> None:
    transcript = place_claude(isolated_home)
    rollout = place_codex(isolated_home)
    run("scan")
    counts = dict(sessions())
    append(transcript, claude_prompt(transcript, "only the watched line"))
    append(rollout, codex_prompt("a line nobody reported", 99))
    fresh = place_claude(
        isolated_home, FIXTURES / "claude" / "real_entire_ee_e770a56988_0.jsonl", "fresh"
    )
    before = checksums(isolated_home)
    db = connect(db_path(tether_home()))
    try:
        report = scan(db, os.environ, isolated_home, only=Changed([transcript]))
    finally:
        db.close()
    assert checksums(isolated_home) == before
    # The reported file, and a file the archive never saw; not the unreported change.
    assert report.read == 2 and report.missing == 0
    after = dict(sessions())
    assert after[CLAUDE_ID] == counts[CLAUDE_ID] + 1
    assert after[CODEX_ID] == counts[CODEX_ID]
    assert any(native == "fresh" or fresh.stem in native for native in after)
    assert as_json("scan", "--json")["read"] == 1  # the full scan still finds the rest
    assert dict(sessions())[CODEX_ID] == counts[CODEX_ID] + 1


def test_changed_folder_covers_what_is_in_it(isolated_home: Path) -> None:
    transcript = place_claude(isolated_home)
    run("scan")
    append(transcript, claude_prompt(transcript, "seen through the folder"))
    db = connect(db_path(tether_home()))
    try:
        report = scan(db, os.environ, isolated_home, only=Changed([isolated_home / ".claude"]))
    finally:
        db.close()
    assert report.read == 1
    assert len(as_json("search", "folder", "--json", "--no-scan")) == 1


def test_partial_scan_marks_deletions_under_its_roots_and_spares_imports(
    isolated_home: Path, tmp_path: Path
) -> None:
    transcript = place_claude(isolated_home)
    rollout = place_codex(isolated_home)
    backup = tmp_path / "backup"
    backup.mkdir()
    other = FIXTURES / "claude" / "real_entire_ee_e770a56988_0.jsonl"
    shutil.copy(other, backup / other.name)
    run("import", str(backup))
    run("scan")
    transcript.unlink()
    (backup / other.name).unlink()
    db = connect(db_path(tether_home()))
    try:
        report = scan(db, os.environ, isolated_home, only=Changed([transcript, rollout]))
        missing = dict(db.execute("SELECT path, missing_since IS NOT NULL FROM sources"))
    finally:
        db.close()
    assert missing[str(transcript)] and not missing[str(rollout)]
    assert not missing[str(backup / other.name)]  # imports are for the full scan to judge
    assert report.missing == 1
    assert len(sessions()) == 3  # the archive keeps what the tool deleted


def test_changed_matches_files_folders_and_roots(tmp_path: Path) -> None:
    root = tmp_path / ".claude"
    changed = Changed([root / "projects" / "p" / "a.jsonl", tmp_path / "elsewhere"])
    assert changed.touches(root)
    assert not changed.touches(tmp_path / ".codex")
    assert Changed([tmp_path]).touches(root)  # a folder above the root
    assert not Changed([tmp_path / ".claude-old"]).touches(root)
    assert changed.covers(str(root / "projects" / "p" / "a.jsonl"))
    assert not changed.covers(str(root / "projects" / "p" / "b.jsonl"))
    assert Changed([root / "projects"]).covers(str(root / "projects" / "p" / "b.jsonl"))
    assert not Changed([root / "proj"]).covers(str(root / "projects" / "p" / "b.jsonl"))


def test_read_files_reads_listed_files_without_a_listing(isolated_home: Path) -> None:
    transcript = place_claude(isolated_home)
    rollout = place_codex(isolated_home)
    found: dict[str, Any] = {}
    db = connect(db_path(tether_home()))
    try:
        scan(db, os.environ, isolated_home, found=found)
        assert {p: (tool.name, src.native_id) for p, (tool, src) in found.items()} == {
            str(transcript): ("claude", CLAUDE_ID),
            str(rollout): ("codex", CODEX_ID),
        }
        counts = dict(sessions())
        append(transcript, claude_prompt(transcript, "read alone"))
        append(rollout, codex_prompt("not asked for", 98))
        report = read_files(db, [found[str(transcript)]])
        assert (report.read, report.files) == (1, 1)
        assert read_files(db, [found[str(transcript)]]).read == 0  # unchanged now
        transcript.unlink()
        gone = read_files(db, [found[str(transcript)]])
        assert (gone.files, gone.failed) == (0, [])  # left to scan, which marks it missing
    finally:
        db.close()
    after = dict(sessions())
    assert after == {CLAUDE_ID: counts[CLAUDE_ID] + 1, CODEX_ID: counts[CODEX_ID]}
    assert len(as_json("search", "alone", "--json", "--no-scan")) == 1
