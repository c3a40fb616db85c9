"""A parallel scan (worker processes, staging databases, take-over) leaves the archive exactly
as a serial scan does: every row of every table, key for key, the raw archive and the index.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import FIXTURES
from tests.stores import place_claude
from tests.test_all_tools import lay_out_every_tool
from tests.test_bench_corpus import gen_corpus
from tether.archive.db import connect
from tether.capture import ingest, staging
from tether.capture import scan as capture
from tether.capture.ingest import ScanReport
from tether.capture.scan import scan
from tether.capture.todo import Todo
from tether.tools import facts as facts_common

TABLES = {
    "sessions": "pk",
    "sources": "id",
    "messages": "pk",
    "parts": "pk",
    "raw_chunks": "source_id, generation, seq",
    "record_marks": "source_id, mark",
}
WORDS = ["the", "error", "pytest", "refactor", "main", "file", "caf*", "json"]


@pytest.fixture(autouse=True)
def linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(facts_common, "PLATFORM", "linux")


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stage everything new, two files per staging database, whatever its size, in forked
    workers (they see the test's patches) even if an earlier test left a thread behind."""
    monkeypatch.setattr(staging, "MIN_BYTES", 0)
    monkeypatch.setattr(staging, "CHUNK_FILES", 2)
    monkeypatch.setenv("TETHER_SCAN_WORKERS", "2")
    monkeypatch.setattr(staging, "_context", lambda: multiprocessing.get_context("fork"))


def fill(home: Path) -> None:
    """Thirteen tools' layouts (containers among them), a small generated corpus, a Gemini
    session and its resume stub (same id, two files), and a file of bad lines."""
    lay_out_every_tool(home)
    corpus = home.parent / "corpus"
    assert gen_corpus.main([str(corpus), "--scale", "0.004"]) == 0
    shutil.copytree(corpus / "home", home, dirs_exist_ok=True)
    chats = home / ".gemini" / "tmp" / "myproj" / "chats"
    shutil.copy(
        FIXTURES / "gemini" / "cli061_resume_stub.jsonl",
        chats / "session-2026-11-21T19-46-11111111.jsonl",
    )
    bad = home / ".claude" / "projects" / "-tmp-bad" / "00000000-0000-4000-8000-00000000000b.jsonl"
    bad.parent.mkdir(parents=True)
    line = orjson.dumps(
        {
            "type": "user",
            "uuid": "u1",
            "parentUuid": None,
            "sessionId": "00000000-0000-4000-8000-00000000000b",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "message": {"role": "user", "content": "readable café"},
        }
    )
    bad.write_bytes(line + b"\n{not json\n[1]\n" + line.replace(b"caf\xc3\xa9", b"caf\xe9"))


def archive(path: Path) -> sqlite3.Connection:
    return connect(path / "tether.db")


def run_scan(db: sqlite3.Connection, home: Path) -> ScanReport:
    return scan(db, {"HOME": str(home)}, home)


def dump(db: sqlite3.Connection) -> dict[str, Any]:
    """Every row of the archive's tables (but the time each file was scanned), the index's
    answers, and its own integrity check."""
    out: dict[str, Any] = {}
    for table, order in TABLES.items():
        cursor = db.execute(f"SELECT * FROM {table} ORDER BY {order}")
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor]
        for row in rows:
            row.pop("scanned_at", None)
        out[table] = rows
    for word in WORDS:
        out[f"search {word}"] = db.execute(
            "SELECT rowid FROM parts_fts WHERE parts_fts MATCH ? ORDER BY rowid", (word,)
        ).fetchall()
    db.execute("INSERT INTO parts_fts(parts_fts, rank) VALUES ('integrity-check', 1)")
    return out


def summary(report: ScanReport) -> dict[str, Any]:
    data = report.as_dict()
    data.pop("seconds")
    data["failed"] = sorted(p["path"] for p in data["failed"])
    data["skipped_in"] = sorted(p["path"] for p in data["skipped_in"])
    return data


@pytest.fixture
def serial(isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The serial scan of the same home, for comparison: (report, dump)."""

    def scan_serially() -> tuple[dict[str, Any], dict[str, Any]]:
        monkeypatch.setenv("TETHER_SCAN_WORKERS", "0")
        folder = tmp_path / "serial"
        shutil.rmtree(folder, ignore_errors=True)
        db = archive(folder)
        report = run_scan(db, isolated_home)
        result = summary(report), dump(db)
        db.close()
        monkeypatch.setenv("TETHER_SCAN_WORKERS", "2")
        return result

    yield scan_serially


def count_take_overs(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What each take-over of a staging database returned, in order."""
    taken: list[bool] = []
    real = staging.take_over

    def counting(db: sqlite3.Connection, path: Path) -> bool:
        taken.append(real(db, path))
        return taken[-1]

    monkeypatch.setattr(staging, "take_over", counting)
    return taken


def test_plan_keeps_the_order_and_reads_known_files_and_containers_serially(
    isolated_home: Path,
) -> None:
    fill(isolated_home)
    todo = Todo()
    report = ScanReport()
    for tool, _root, source in capture.discover_all(
        {}, isolated_home, list(capture.TOOLS.values())
    ):
        capture._consider(tool, source, None, todo, report)
    todo.sort()
    paths = [found.path for found in todo]
    assert paths == sorted(paths)
    steps = staging.plan(todo)
    assert [at for _, places in steps for at in places] == list(range(len(todo)))
    assert any(not staged for staged, _ in steps), "the layouts hold containers"
    for staged, places in steps:
        assert all(staging.stageable(todo[at]) == staged for at in places)
        if staged:
            assert len(places) <= staging.CHUNK_FILES


@pytest.mark.usefixtures("parallel")
@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_parallel_scan_leaves_the_archive_a_serial_scan_does(
    isolated_home: Path, tmp_path: Path, serial: Any, monkeypatch: pytest.MonkeyPatch, start: str
) -> None:
    """spawn: how macOS starts workers, and Linux beside the watcher's threads."""
    monkeypatch.setattr(staging, "_context", lambda: multiprocessing.get_context(start))
    fill(isolated_home)
    expected_report, expected = serial()
    taken = count_take_overs(monkeypatch)
    db = archive(tmp_path / "parallel")
    report = run_scan(db, isolated_home)
    assert summary(report) == expected_report
    assert report.skipped_in, "bad lines and an opaque Cursor blob: counted the same"
    assert taken and all(taken), "every staging database was taken over"
    got = dump(db)
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == expected[key], key
    assert len(got["sessions"]) > 20 and got["search the"]
    assert not (tmp_path / "parallel" / "staging").exists()
    # Nothing new now: the second scan reads nothing either way.
    assert run_scan(db, isolated_home).read == 0
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()


@pytest.mark.usefixtures("parallel")
def test_sessions_the_archive_already_holds_are_read_serially(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A staged session whose id the archive has (the same session at a second path, the
    Gemini stub in a later chunk): its staging database is dropped, and read serially."""
    first = place_claude(isolated_home)
    for name in ("serial", "parallel"):
        db = archive(tmp_path / name)
        run_scan(db, isolated_home)
        db.close()
    fill(isolated_home)
    copy = first.parent.parent / "-elsewhere" / first.name
    copy.parent.mkdir()
    shutil.copy(first, copy)

    monkeypatch.setenv("TETHER_SCAN_WORKERS", "0")
    db = archive(tmp_path / "serial")
    expected_report = summary(run_scan(db, isolated_home))
    expected = dump(db)
    db.close()

    monkeypatch.setenv("TETHER_SCAN_WORKERS", "2")
    taken = count_take_overs(monkeypatch)
    db = archive(tmp_path / "parallel")
    report = run_scan(db, isolated_home)
    assert False in taken and True in taken
    assert summary(report) == expected_report
    assert dump(db) == expected
    ids = [
        r[0]
        for r in db.execute(
            "SELECT native_id FROM sessions WHERE native_id LIKE ?", (f"{first.stem}%",)
        )
    ]
    assert len(ids) == 2 and any("#" in i for i in ids), "both copies kept, never merged"
    db.close()


def dying_stage(path: str, jobs: list[staging.Job]) -> ScanReport:
    os._exit(3)  # a worker killed mid-read (out of memory, say)


@pytest.mark.usefixtures("parallel")
def test_a_worker_that_dies_costs_nothing(
    isolated_home: Path, tmp_path: Path, serial: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(isolated_home)
    expected_report, expected = serial()
    monkeypatch.setattr(staging, "stage", dying_stage)
    db = archive(tmp_path / "parallel")
    report = run_scan(db, isolated_home)
    assert summary(report) == expected_report
    assert dump(db) == expected
    assert not (tmp_path / "parallel" / "staging").exists()
    db.close()


@pytest.mark.usefixtures("parallel")
def test_an_unreadable_file_in_a_worker_is_recorded_as_a_serial_scan_records_it(
    isolated_home: Path, tmp_path: Path, serial: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(isolated_home)
    victim = next((isolated_home / ".codex" / "sessions").rglob("*.jsonl"))
    real_feed = ingest.FileFeed

    def deny(source: Any, *args: Any, **kwargs: Any) -> Any:
        if source.path == victim:
            raise PermissionError(13, "Permission denied", str(victim))
        return real_feed(source, *args, **kwargs)

    monkeypatch.setattr(ingest, "FileFeed", deny)  # forked workers inherit it
    expected_report, expected = serial()
    assert str(victim) in expected_report["failed"]
    db = archive(tmp_path / "parallel")
    report = run_scan(db, isolated_home)
    assert summary(report) == expected_report
    assert dump(db) == expected
    db.close()


def test_small_scans_and_one_core_stay_serial(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(isolated_home)

    def no_pool(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a small scan must not start worker processes")

    monkeypatch.setattr(staging, "_run", no_pool)
    monkeypatch.setattr(staging, "_workers", no_pool)
    db = archive(tmp_path / "small")
    assert run_scan(db, isolated_home).read > 20  # under MIN_BYTES
    db.close()
    monkeypatch.setattr(staging, "MIN_BYTES", 0)
    monkeypatch.setenv("TETHER_SCAN_WORKERS", "1")
    db = archive(tmp_path / "one-core")
    assert run_scan(db, isolated_home).read > 20
    db.close()


@pytest.mark.usefixtures("parallel")
def test_a_first_scan_forks_its_workers_before_it_lists_the_stores(
    isolated_home: Path, tmp_path: Path, serial: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers forked after the listing each carried a copy of it: a first scan's memory grew
    with the stores. They are forked once, before, and read as late-forked workers did."""
    monkeypatch.setattr(staging, "MIN_BYTES", 200_000)  # below the corpus, above no store
    fill(isolated_home)
    expected_report, expected = serial()
    events: list[str] = []
    real_workers, real_consider = staging._workers, capture._consider

    def workers(count: int, given: Any) -> Any:
        events.append("fork" if given is None else "reuse")
        return real_workers(count, given)

    def consider(*args: Any) -> None:
        events.append("list")
        real_consider(*args)

    monkeypatch.setattr(staging, "_workers", workers)
    monkeypatch.setattr(capture, "_consider", consider)
    db = archive(tmp_path / "parallel")
    report = run_scan(db, isolated_home)
    assert [e for e in events if e != "list"] == ["fork", "reuse"]
    assert events.index("fork") < events.index("list")
    assert summary(report) == expected_report
    assert dump(db) == expected
    events.clear()
    place_claude(isolated_home)  # the archive is not empty now: no early fork
    run_scan(db, isolated_home)
    assert "fork" not in events and "reuse" not in events
    db.close()


KILLED_SCAN = """
import os, sys, time
from pathlib import Path
from tether.archive.db import connect
from tether.capture import scan, staging

staging.MIN_BYTES = 0
staging.CHUNK_FILES = 1
staging.take_over = lambda db, path: time.sleep(600)  # the workers stage; the scan waits
db = connect(Path(sys.argv[1]))
scan.scan(db, os.environ, Path(os.environ["HOME"]))
"""


def test_a_killed_scan_s_staging_databases_go_at_the_next_scan(
    isolated_home: Path, tmp_path: Path
) -> None:
    """kill -9 leaves staging databases; the next scan, however small, removes them."""
    place_claude(isolated_home)
    fill(isolated_home)
    data = tmp_path / "archive"
    env = {**os.environ, "TETHER_SCAN_WORKERS": "2"}
    scanning = subprocess.Popen(
        [sys.executable, "-c", KILLED_SCAN, str(data / "tether.db")],
        env=env,
        start_new_session=True,  # its workers too get the kill
    )
    try:
        deadline = time.monotonic() + 60
        while not list((data / "staging").glob("*.db")):
            assert scanning.poll() is None and time.monotonic() < deadline, "no staging database"
            time.sleep(0.05)
    finally:
        os.killpg(scanning.pid, signal.SIGKILL)
        scanning.wait()
    assert list((data / "staging").glob("*.db"))
    db = connect(data / "tether.db")
    try:
        scan(db, {}, tmp_path / "an-empty-home")  # nothing to read: no parallel scan
    finally:
        db.close()
    assert not (data / "staging").exists()
