"""A watcher started on demand (tether.capture.ondemand): the first answer that finds none
starts one, the answers after it are served beside it, and it exits once unused. Real
answers (`python -m tether …`, the quick path) and real watchers; every test stops what
it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import DEADLINE, eventually
from tests.stores import append, claude_prompt, place_claude, place_codex
from tether.archive.db import connect
from tether.capture import fresh as freshness
from tether.capture import ondemand
from tether.paths import data_dir, db_path, tether_home, user_home_str

ANSWER_TIMEOUT = 60.0
"""An answer that takes longer hangs (a FIFO waited on, a lock never let go)."""


def watchers() -> list[int]:
    """Pids of every `tether watch` of this test's archive (by its TETHER_HOME)."""
    wanted = f"TETHER_HOME={os.environ['TETHER_HOME']}".encode()
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"watch" in argv and wanted in environ and int(proc.name) != os.getpid():
            out.append(int(proc.name))
    return out


@pytest.fixture
def on_demand(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """On-demand watchers on, a Claude session being written, the archive scanned once;
    every watcher of this archive killed at the end."""
    monkeypatch.setenv(ondemand.SWITCH, "1")
    transcript = place_claude(isolated_home)
    place_codex(isolated_home)
    subprocess.run(
        [sys.executable, "-m", "tether", "scan", "--quiet"],
        check=True,
        env={**os.environ, ondemand.SWITCH: "0"},
        timeout=ANSWER_TIMEOUT,
    )
    try:
        yield transcript
    finally:
        for pid in watchers():
            os.kill(pid, signal.SIGKILL)
        eventually(lambda: not watchers(), "every watcher gone")


def answer(*args: str, env: dict[str, str] | None = None) -> Any:
    """`tether ARGS --json` as a user runs it, in its own process."""
    done = subprocess.run(
        [sys.executable, "-m", "tether", *args, "--json"],
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=ANSWER_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return orjson.loads(done.stdout)


def ready() -> int:
    """The pid of the live, ready watcher of these stores, once there is one."""
    key = freshness_key()
    data = data_dir()

    def check() -> int | None:
        state = freshness.read_state(data)
        if state is None or not state[4] or state[5] != key:
            return None
        return state[0] if freshness.running_pid(data) == state[0] else None

    return eventually(check, "a ready watcher")


def freshness_key() -> str:
    from tether.capture.folders import roots_key

    db = connect(db_path(tether_home()))
    try:
        names = dict(db.execute("SELECT key, value FROM scan_state")).get("roots_variables")
    finally:
        db.close()
    return roots_key(os.environ, user_home_str(), names.split(",") if names else None)


def words_found(word: str) -> bool:
    return bool(answer("search", word))


def test_the_first_answer_starts_one_and_the_next_is_served_beside_it(
    on_demand: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    append(on_demand, claude_prompt(on_demand, "first answer wombat"))
    assert words_found("wombat")  # fresh by its own check: nothing was running
    pid = ready()
    assert watchers() == [pid]
    log = (tether_home() / "watch.log").read_text()
    assert "started on demand" in log
    # Beside it, an answer looks at no store: the watcher's word, after what it owes.
    monkeypatch.setattr(freshness, "changed_files", _refuse)
    monkeypatch.setattr(freshness, "changed_folders", _refuse)
    append(on_demand, claude_prompt(on_demand, "second answer numbat"))
    before = ondemand.last_used(data_dir())
    time.sleep(0.05)
    eventually(lambda: _in_process_found("numbat"), "the line the watcher captured")
    assert ondemand.last_used(data_dir()) > before  # the answer said it relied on it
    assert watchers() == [pid]


def _refuse(*args: object) -> Any:
    raise AssertionError("an answer beside a ready watcher looked at the stores")


def _in_process_found(word: str) -> bool:
    from tether.archive.query import Filters, search_rows

    db = connect(db_path(tether_home()))
    try:
        assert freshness.fresh(db, data_dir(), os.environ, user_home_str()) is None
        return bool(search_rows(db, word, Filters(limit=5)))
    finally:
        db.close()


def test_two_answers_at_once_start_one_watcher(on_demand: Path) -> None:
    append(on_demand, claude_prompt(on_demand, "concurrent quoll"))
    argv = [sys.executable, "-m", "tether", "search", "quoll", "--json"]
    both = [subprocess.Popen(argv, stdout=subprocess.PIPE) for _ in range(2)]
    for proc in both:
        out, _ = proc.communicate(timeout=ANSWER_TIMEOUT)
        assert proc.returncode == 0 and orjson.loads(out)
    pid = ready()
    time.sleep(1.0)  # a second one would have said so by now
    assert watchers() == [pid]
    log = (tether_home() / "watch.log").read_text()
    assert log.count("started on demand") == 1
    assert "not started on demand" not in log  # the second answer started none at all


def test_a_killed_watcher_is_not_trusted(on_demand: Path) -> None:
    answer("list")
    pid = ready()
    os.kill(pid, signal.SIGKILL)
    eventually(lambda: freshness.running_pid(data_dir()) is None, "the lock let go")
    # Its state file still says ready; the line below reached no watcher.
    assert freshness.read_state(data_dir()) is not None
    append(on_demand, claude_prompt(on_demand, "after the kill bilby"))
    assert words_found("bilby")
    sessions = answer("list")
    assert sessions[0]["native_id"] == on_demand.stem


def test_an_unused_watcher_exits_and_the_next_answer_starts_another(
    on_demand: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ondemand.IDLE_VARIABLE, "3")
    answer("list")
    pid = ready()
    for _ in range(4):  # used every second: it stays past its idle time
        time.sleep(1.0)
        answer("list")
    assert freshness.running_pid(data_dir()) == pid
    eventually(lambda: freshness.running_pid(data_dir()) is None, "the idle watcher gone")
    assert freshness.read_state(data_dir()) is None
    assert "exiting" in (tether_home() / "watch.log").read_text()
    eventually(lambda: not watchers(), "its process gone")
    # The next answer checks for itself (fresh) and, once START_EVERY has passed since
    # the last start, starts another.
    started = tether_home() / ondemand.STARTED_FILE
    os.utime(started, (1.0, 1.0))
    append(on_demand, claude_prompt(on_demand, "after the idle exit dunnart"))
    assert words_found("dunnart")
    assert ready() != pid


def test_a_watcher_the_user_started_never_exits_on_idle(
    on_demand: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ondemand.IDLE_VARIABLE, "0.5")
    child = subprocess.Popen(
        [sys.executable, "-m", "tether", "watch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        pid = ready()
        assert pid == child.pid
        time.sleep(2.0)
        assert child.poll() is None and freshness.running_pid(data_dir()) == pid
        answer("list")  # beside it: no second one started
        assert watchers() == [pid]
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(DEADLINE)


@pytest.mark.parametrize("how", ["variable", "config"])
def test_switched_off_nothing_starts(
    on_demand: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "variable":
        monkeypatch.setenv(ondemand.SWITCH, "0")
    else:
        monkeypatch.delenv(ondemand.SWITCH)
        (tether_home() / "config.toml").write_text("[watch]\non_demand = false\n")
    append(on_demand, claude_prompt(on_demand, "switched off potoroo"))
    assert words_found("potoroo")
    time.sleep(1.0)
    assert watchers() == []
    assert not (tether_home() / ondemand.STARTED_FILE).exists()


def test_on_unless_switched_off(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = str(tether_home())
    tether_home().mkdir(parents=True)
    assert ondemand.enabled({}, data)
    assert not ondemand.enabled({ondemand.SWITCH: "off"}, data)
    (tether_home() / "config.toml").write_text('[watch]\non_demand = false\n[sync]\nx = "y"\n')
    assert not ondemand.enabled({}, data)
    assert ondemand.enabled({ondemand.SWITCH: "1"}, data)  # the variable wins
    (tether_home() / "config.toml").write_text("[watch\non_demand = \n")
    assert ondemand.enabled({}, data)  # unreadable: as if it said nothing
    assert ondemand.idle_seconds({ondemand.IDLE_VARIABLE: "5"}) == 5.0
    assert ondemand.idle_seconds({ondemand.IDLE_VARIABLE: "soon"}) == ondemand.IDLE


NAMES = ["watch.pid", "watch.state", "watch.started", "watch.used", "watch.log", "watch.err"]


@pytest.mark.parametrize("name", NAMES)
def test_a_fifo_in_place_of_a_watcher_file_hangs_no_answer(on_demand: Path, name: str) -> None:
    os.mkfifo(tether_home() / name)
    append(on_demand, claude_prompt(on_demand, f"beside a fifo {name.replace('.', '')}"))
    assert words_found(name.replace(".", ""))
    answer("list")
    if name in ("watch.log", "watch.err", "watch.started"):  # none started: none hangs
        time.sleep(0.5)
        assert watchers() == []


def test_a_stale_state_file_is_not_trusted(
    on_demand: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A state file that says ready, for these stores, with a recent heartbeat: of a
    watcher that is gone (no lock held)."""
    monkeypatch.setenv(ondemand.SWITCH, "0")
    freshness.write_state(tether_home(), 1, 0, 0, True, freshness_key())
    append(on_demand, claude_prompt(on_demand, "stale word bandicoot"))
    assert words_found("bandicoot")


def test_daemon_start_replaces_a_watcher_started_on_demand(on_demand: Path) -> None:
    """One that exits on idle is not what `daemon start` asks for: it takes its place."""
    answer("list")
    first = ready()
    assert ondemand.started_on_demand(data_dir(), first)
    said = answer("daemon", "start")
    assert said["started"] and said["pid"] != first
    assert ready() == said["pid"]
    assert not ondemand.started_on_demand(data_dir(), said["pid"])
    argv = Path(f"/proc/{said['pid']}/cmdline").read_bytes().split(b"\0")
    assert b"--idle-exit" not in argv
    assert answer("daemon", "start") == {"pid": said["pid"], "started": False}
