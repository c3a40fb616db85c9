"""Fresh answers without a scan of the whole history (tether.capture.fresh): a live watcher's
word, else one stat per store folder and per recently written file, and a full scan when
due. Real files laid out as the tools lay them out, written as the tools write."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import DEADLINE, FIXTURES, eventually, run
from tests.stores import append, claude_prompt, codex_prompt, place_claude, place_codex
from tether.archive.db import connect
from tether.capture import fresh as freshness
from tether.capture.watch import watch_lock
from tether.paths import data_dir, db_path, tether_home, user_home_str

OTHER_CLAUDE = FIXTURES / "claude" / "real_entire_dc_49cb8a2a42_0.jsonl"
OLD = 1_000_000_000.0
"""A time long before any check (2001): the stores as they stand after years."""


def age(home: Path) -> None:
    """Every folder and file written long ago, as a store's are after years of use."""
    for path in [home, *home.rglob("*")]:
        os.utime(path, (OLD, OLD), follow_symlinks=False)


def found(word: str) -> bool:
    """`search WORD --json` as a user types it (the check runs first)."""
    return bool(orjson.loads(run("search", word, "--json").stdout))


@pytest.fixture
def scanned(isolated_home: Path) -> Iterator[Path]:
    transcript = place_claude(isolated_home)
    place_codex(isolated_home)
    age(isolated_home)
    os.utime(transcript)  # the session being written today
    run("scan")
    yield transcript


@pytest.fixture
def no_full_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any full scan or whole-store listing of Claude's store: what a quick check
    finds, it finds without them."""
    from tether.capture import scan as scan_module
    from tether.tools import claude

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a full scan or a whole store listed")

    monkeypatch.setattr(scan_module, "scan", refuse)
    monkeypatch.setattr(claude, "discover", refuse)
    monkeypatch.setattr(freshness, "start_full_scan", lambda data, env: None)


def check() -> Any:
    db = connect(db_path(tether_home()))
    try:
        return freshness.fresh(db, data_dir(), os.environ, user_home_str())
    finally:
        db.close()


def test_an_append_to_a_session_being_written_is_found(scanned: Path, no_full_scan: None) -> None:
    append(scanned, claude_prompt(scanned, "freshly appended quokka"))
    report = check()
    assert report is not None and report.read == 1
    assert found("quokka")


def test_a_new_session_in_a_known_folder_is_found_by_listing_that_folder(
    scanned: Path, no_full_scan: None
) -> None:
    newcomer = scanned.with_name("11111111-2222-4333-8444-555555555555.jsonl")
    newcomer.write_bytes(OTHER_CLAUDE.read_bytes().rstrip(b"\n") + b"\n")
    append(newcomer, claude_prompt(newcomer, "brand new wallaby"))
    assert found("wallaby")


def test_a_new_project_folder_is_found(scanned: Path, no_full_scan: None) -> None:
    project = scanned.parent.with_name("-home-dev-src-newproject")
    project.mkdir()
    newcomer = project / "11111111-2222-4333-8444-666666666666.jsonl"
    newcomer.write_bytes(OTHER_CLAUDE.read_bytes().rstrip(b"\n") + b"\n")
    append(newcomer, claude_prompt(newcomer, "faraway bilby"))
    assert found("bilby")


def test_a_deleted_session_stays_and_is_marked_missing(scanned: Path, no_full_scan: None) -> None:
    scanned.unlink()
    check()
    db = connect(db_path(tether_home()))
    try:
        (missing,) = db.execute(
            "SELECT missing_since FROM sources WHERE path = ?", (str(scanned),)
        ).fetchone()
    finally:
        db.close()
    assert missing is not None


def test_nothing_changed_reads_nothing_and_writes_nothing(
    scanned: Path, no_full_scan: None
) -> None:
    db_file = db_path(tether_home())

    def written() -> tuple[int, int, int]:
        wal = Path(f"{db_file}-wal")
        return (
            db_file.stat().st_mtime_ns,
            db_file.stat().st_size,
            wal.exists() and wal.stat().st_size,
        )

    before = written()
    assert check() is None
    assert written() == before


def test_a_session_resumed_after_weeks_waits_for_the_full_scan(
    scanned: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rollout = next((scanned.parents[3] / ".codex").rglob("*.jsonl"))  # written in 2001
    from tests.stores import codex_prompt

    started: list[str] = []
    monkeypatch.setattr(freshness, "start_full_scan", lambda data, env: started.append(data))
    monkeypatch.setattr(freshness, "FULL_EVERY", 0.0)
    append(rollout, codex_prompt("resumed echidna", 901))
    os.utime(rollout.parent, (OLD, OLD))  # an append leaves its folder as it was
    assert not found("echidna"), "a file quiet for longer than HOT is not stat'ed"
    assert started, "…but the full scan that finds it is started"
    run("scan")  # what that background scan does
    assert found("echidna")


def test_a_full_scan_is_started_in_the_background_when_due(
    scanned: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    spawned: list[list[str]] = []
    monkeypatch.setattr(os, "posix_spawn", lambda exe, argv, env, **kw: spawned.append(argv))
    monkeypatch.setattr(freshness, "FULL_EVERY", 0.0)
    check()
    assert spawned and spawned[0][-4:] == ["tether", "scan", "--quiet", "--if-idle"]
    monkeypatch.setattr(freshness, "FULL_EVERY", 600.0)
    spawned.clear()
    check()  # just started one: not due again
    assert not spawned


def test_stores_moved_elsewhere_get_a_full_scan(
    scanned: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "codex-elsewhere"
    (elsewhere / "sessions").mkdir(parents=True)
    monkeypatch.setenv("CODEX_HOME", str(elsewhere))
    assert check() is not None  # the scan that learns the new places
    db = connect(db_path(tether_home()))
    try:
        roots = {r[0] for r in db.execute("SELECT root FROM folders WHERE tool = 'codex'")}
    finally:
        db.close()
    assert roots == {str(elsewhere)}


def test_a_file_of_stores_no_longer_scanned_is_not_checked_again_and_again(
    scanned: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """CODEX_HOME set for one scan, unset after: the session written there stays in the
    archive, and when it grows the quick check leaves it to a scan of those stores. It once
    reported it changed at every answer and captured nothing (its folder is not listed):
    every answer paid for the capture machinery."""
    elsewhere = tmp_path / "codex-elsewhere"
    session = place_codex(elsewhere)
    monkeypatch.setenv("CODEX_HOME", str(elsewhere / ".codex"))
    assert check() is not None  # the stores moved: a full scan
    monkeypatch.delenv("CODEX_HOME")
    assert check() is not None  # and moved back
    append(session, codex_prompt("grown where nobody scans", 90))
    db = connect(db_path(tether_home()))
    try:
        kept = db.execute("SELECT count(*) FROM sources WHERE path = ?", (str(session),))
        assert kept.fetchone() == (1,)
        assert freshness.changed_files(db, time.time_ns()) == []
    finally:
        db.close()
    append(scanned, claude_prompt(scanned, "still found here"))
    db = connect(db_path(tether_home()))
    try:
        assert freshness.changed_files(db, time.time_ns()) == [(str(scanned), "claude")]
    finally:
        db.close()


def ready_word(data: Path, pending: int = 1, done: int = 1) -> None:
    key = freshness_key()
    freshness.write_state(data, os.getpid(), pending, done, True, key)


def freshness_key() -> str:
    from tether.capture.folders import roots_key

    return roots_key(os.environ, user_home_str())


def test_a_live_ready_watcher_is_taken_at_its_word(
    scanned: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse() -> None:
        raise AssertionError("the stores were looked at beside a live watcher")

    data = tether_home()
    looks = freshness.changed_folders
    with watch_lock(data):
        ready_word(data)
        monkeypatch.setattr(freshness, "changed_folders", lambda db: refuse())
        assert check() is None
    # The watcher died (its lock is free): the word it left says nothing.
    monkeypatch.setattr(freshness, "changed_folders", looks)
    append(scanned, claude_prompt(scanned, "after the watcher died"))
    assert found("died")


def test_a_watcher_of_other_stores_or_not_ready_is_not_trusted(scanned: Path) -> None:
    data = tether_home()
    with watch_lock(data):
        freshness.write_state(data, os.getpid(), 0, 0, False, freshness_key())
        assert not freshness.watcher_covers(str(data), freshness_key())
        freshness.write_state(data, os.getpid(), 0, 0, True, "another home")
        assert not freshness.watcher_covers(str(data), freshness_key())
        freshness.write_state(data, os.getpid() + 1, 0, 0, True, freshness_key())
        assert not freshness.watcher_covers(str(data), freshness_key())


def test_an_answer_waits_for_what_the_watcher_owes(scanned: Path) -> None:
    data = tether_home()
    with watch_lock(data):
        ready_word(data, pending=2, done=1)
        assert not freshness.watcher_covers(str(data), freshness_key(), wait=0.05)
        timer = threading.Timer(0.1, lambda: ready_word(data, pending=2, done=2))
        timer.start()
        started = time.monotonic()
        assert freshness.watcher_covers(str(data), freshness_key(), wait=DEADLINE)
        assert time.monotonic() - started >= 0.09
        timer.join()


def test_the_watcher_says_when_it_is_ready_and_what_it_owes(isolated_home: Path) -> None:
    from tether.capture.watch import Watcher

    transcript = place_claude(isolated_home)
    data = tether_home()
    with watch_lock(data):
        watcher = Watcher(data, os.environ, isolated_home, quiet=0.03, max_delay=0.15, rescan=0)
        thread = threading.Thread(target=watcher.run, daemon=True)
        thread.start()
        try:
            assert watcher.ready.wait(DEADLINE)
            eventually(lambda: freshness.watcher_covers(str(data), freshness_key()), "ready")
            append(transcript, claude_prompt(transcript, "told and captured"))
            eventually(lambda: (freshness.read_state(str(data)) or (0, 0, 0))[2] >= 1, "told")
            assert freshness.watcher_covers(str(data), freshness_key(), wait=DEADLINE)
            db = connect(db_path(data))
            try:
                hit = db.execute(
                    "SELECT COUNT(*) FROM parts_fts WHERE parts_fts MATCH 'captured'"
                ).fetchone()[0]
            finally:
                db.close()
            assert hit, "what the watcher owed was captured before it said so"
            newcomer = transcript.with_name("11111111-2222-4333-8444-777777777777.jsonl")
            newcomer.write_bytes(OTHER_CLAUDE.read_bytes().rstrip(b"\n") + b"\n")
            append(newcomer, claude_prompt(newcomer, "created beside a watcher"))
            eventually(
                lambda: (
                    freshness.watcher_covers(str(data), freshness_key())
                    and orjson.loads(run("search", "beside", "--json", "--no-scan").stdout)
                ),
                "a new file captured by listing its folder",
            )
        finally:
            watcher.stop()
            thread.join(DEADLINE)
    assert freshness.read_state(str(data)) is None, "a stopped watcher leaves no word"


def test_an_archive_from_before_migrates_and_is_checked(isolated_home: Path) -> None:
    """An archive written before these tables existed: the first answer scans fully once,
    later ones check."""
    place_claude(isolated_home)
    age(isolated_home)
    run("scan")
    db = connect(db_path(tether_home()))
    try:
        db.execute("DROP TABLE folders")
        db.execute("DROP TABLE scan_state")
        db.execute("DROP INDEX sources_mtime")
        db.execute("DELETE FROM migrations WHERE name = 'm010_folders_and_recent_files'")
    finally:
        db.close()
    assert check() is not None  # migrated, then the one full scan
    assert check() is None


def test_the_quick_check_does_not_walk_untouched_history(scanned: Path) -> None:
    """The recent files are found through their mtime index: the work (SQLite's VM steps)
    is the same with 1,000 or 20,000 files untouched for years in the archive (it once
    walked every row, its planner taking the container index for `IS NULL`)."""
    db = connect(db_path(tether_home()))

    def steps_with(old_files: int) -> int:
        db.executemany(
            "INSERT INTO sources (tool, path, mode, size, mtime_ns, inode)"
            " VALUES ('claude', ?, 'file', 1, 1000000000, 1)",
            ((f"/nowhere/old-{old_files}-{n}.jsonl",) for n in range(old_files)),
        )
        db.commit()
        steps = [0]

        def count() -> int:
            steps[0] += 1
            return 0

        db.set_progress_handler(count, 100)
        try:
            freshness.changed_files(db, time.time_ns())
        finally:
            db.set_progress_handler(None, 100)
        return steps[0]

    try:
        few, many = steps_with(1_000), steps_with(19_000)
    finally:
        db.close()
    assert many <= few + 5, (few, many)


SERIAL_CAPTURE_NEEDS_NOT = frozenset(
    {"zstandard", "multiprocessing", "concurrent.futures", "shutil", "threading", "traceback"}
    | {"base64", "click", "rich"}
)
"""What a parallel scan, a failed read or a rare block needs, and a quick capture does not
(zstandard's C backend is loaded alone, without its package's __init__)."""


def test_capturing_an_append_imports_no_other_tool_s_reader(scanned: Path) -> None:
    """A quick check that finds one Claude file changed loads Claude's reader alone, in a
    process of its own as a user's `search` is (the other twelve were half its imports),
    and none of what only a parallel scan or a failure needs."""
    append(scanned, claude_prompt(scanned, "freshly appended wombat"))
    code = (
        "import sys; from tether.cli import run; sys.argv = ['tether'] + sys.argv[1:]\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "from tether.tools.registry import MODULES\n"
        "readers = sorted(set(MODULES.values()) & set(sys.modules))\n"
        f"heavy = sorted(set({sorted(SERIAL_CAPTURE_NEEDS_NOT)!r}) & set(sys.modules))\n"
        "sys.stderr.write(repr(heavy) + repr(readers))"
    )
    env = {**os.environ, "TETHER_WATCH_ON_DEMAND": "0"}
    done = subprocess.run(
        [sys.executable, "-c", code, "search", "wombat", "--json"],
        capture_output=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert len(orjson.loads(done.stdout)) == 1  # captured, and found
    assert done.stderr.decode().endswith("[]['tether.tools.claude']"), done.stderr[-500:]


def test_each_change_is_found_once_then_the_check_finds_nothing(
    scanned: Path, no_full_scan: None
) -> None:
    """A session deleted, a project folder removed, a session appended to: the check that
    finds them captures them, and once the folders' mtimes are older than the slack a
    listing allows for coarse clocks (tether.capture.folders.SLACK), the next one finds
    nothing left to do: a change reported again and again costs every answer the capture
    machinery."""
    import shutil

    project = scanned.parent.with_name("-home-dev-src-shortlived")
    project.mkdir()
    newcomer = project / "11111111-2222-4333-8444-777777777777.jsonl"
    newcomer.write_bytes(OTHER_CLAUDE.read_bytes().rstrip(b"\n") + b"\n")
    assert check() is not None
    db = connect(db_path(tether_home()))
    try:
        for change in (
            lambda: append(scanned, claude_prompt(scanned, "appended quokka")),
            lambda: shutil.rmtree(project),
            scanned.unlink,
        ):
            change()
            assert check() is not None
            for folder in [project.parent, *project.parent.iterdir()]:  # SLACK later
                os.utime(folder, (OLD, OLD))
            now = time.time_ns()
            assert (freshness.changed_folders(db), freshness.changed_files(db, now)) == ([], [])
            assert check() is None
    finally:
        db.close()
