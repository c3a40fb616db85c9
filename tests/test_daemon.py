"""`tether daemon`: the watcher in the background (a real detached process), its pid file and
log, and the login service it installs (written under the test's own HOME; the service
manager is never called for real)."""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import eventually, run
from tests.stores import append, claude_prompt, place_claude
from tests.test_watch import hits, quiet_log, spawn_watcher
from tether.capture import daemon, watch
from tether.capture.fresh import running_pid
from tether.paths import tether_home

__all__ = ["quiet_log"]  # the autouse fixture, for this module too


def status() -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(run("daemon", "status", "--json").stdout)
    return result


@pytest.fixture
def stop_daemon(isolated_home: Path) -> Iterator[None]:
    yield
    daemon.stop(tether_home())


def test_start_status_logs_stop(isolated_home: Path, stop_daemon: None) -> None:
    transcript = place_claude(isolated_home)
    assert status()["running"] is False
    started = run("daemon", "start").stdout
    pid = status()["pid"]
    assert started == f"watcher started (pid {pid})\n" and pid != os.getpid()
    state = status()
    assert state["running"] and state["started_at"]
    assert state["log_file"] == str(tether_home() / "watch.log")
    # Its first full scan (a child process) done: the line below is an event's capture.
    eventually(lambda: " ready\n" in _state_text(), "the watcher ready")
    append(transcript, claude_prompt(transcript, "backgrounded bilby"))
    eventually(lambda: hits("bilby"), "a line searchable through the daemon")
    eventually(lambda: "captured: 1 file(s)" in run("daemon", "logs").stdout, "the log says so")
    again = run("daemon", "start").stdout
    assert f"already running (pid {pid})" in again and status()["pid"] == pid
    assert run("watch", ok=False).exit_code == daemon.ALREADY_RUNNING
    assert run("daemon", "stop").stdout == f"watcher stopped (pid {pid})\n"
    assert status()["running"] is False and running_pid(tether_home()) is None
    assert "stopped" in run("daemon", "logs", "-n", "1").stdout
    assert run("daemon", "stop").stdout == "no watcher was running\n"


def _state_text() -> str:
    path = tether_home() / "watch.state"
    return path.read_text() if path.exists() else ""


def test_a_stale_pid_file_is_no_watcher(isolated_home: Path) -> None:
    bystander = subprocess.Popen(["sleep", "30"])
    try:
        data = tether_home()
        data.mkdir(parents=True)
        (data / "watch.pid").write_text(f"{bystander.pid}\n")  # left by a watcher killed -9
        assert status()["running"] is False
        assert run("daemon", "stop").stdout == "no watcher was running\n"
        assert bystander.poll() is None  # never signalled: its pid was not the lock holder's
    finally:
        bystander.kill()
        bystander.wait()


def test_a_start_that_fails_says_why(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(daemon, "watch_argv", lambda data: [sys.executable, "-c", "boom("])
    failed = run("daemon", "start", ok=False)
    assert failed.exit_code == 1 and "SyntaxError" in failed.stderr


def test_the_log_rotates_by_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "LOG_BYTES", 2000)
    path = tmp_path / "logs" / "watch.log"
    watch.configure_logging(path)
    try:
        for i in range(200):
            watch.log.info("captured: line %d", i)
    finally:
        for handler in watch.log.handlers:
            handler.close()
        watch.log.handlers.clear()
    assert path.stat().st_size <= 2000
    backups = sorted(p.name for p in path.parent.iterdir() if p.name != "watch.log")
    assert backups == [f"watch.log.{i}" for i in range(1, watch.LOG_BACKUPS + 1)]
    assert "line 199" in path.read_text()


def test_logs_tail_and_follow_across_rotation(isolated_home: Path) -> None:
    log = tether_home() / "watch.log"
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"line {i}\n" for i in range(30)))
    assert run("daemon", "logs", "-n", "3").stdout == "line 27\nline 28\nline 29\n"
    seen: list[str] = []
    lines = daemon.follow(log, 0.01)  # from now on

    def read() -> None:
        for line in lines:
            seen.append(line)
            if line == "rotated 1":
                return  # the last line this test writes: no thread is left behind

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    with log.open("a") as fh:
        fh.write("after 1\nafter")
    eventually(lambda: seen == ["after 1"], "the new whole line, not the partial one")
    with log.open("a") as fh:
        fh.write(" 2\n")
    log.rename(log.with_name("watch.log.1"))
    log.write_text("rotated 1\n")
    eventually(lambda: seen == ["after 1", "after 2", "rotated 1"], "lines across rotation")
    reader.join(5)
    assert not reader.is_alive()


def unit_lines(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out.setdefault(key, []).append(value)
    return out


def test_install_writes_a_systemd_unit_and_says_what_to_run(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "tether data"  # a space, a quote-worthy path
    monkeypatch.setenv("TETHER_HOME", str(data))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "my codex"))
    monkeypatch.setenv("UNRELATED_SETTING", "x")
    out = run("daemon", "install").stdout
    unit = isolated_home / ".config" / "systemd" / "user" / "tether.service"
    assert f"systemd service installed: {unit}" in out
    assert "systemctl --user enable --now tether.service" in out
    fields = unit_lines(unit)
    assert shlex.split(fields["ExecStart"][0]) == daemon.watch_argv(data)
    assert [shlex.split(e)[0] for e in fields["Environment"]] == [
        f"TETHER_HOME={data}",
        f"CODEX_HOME={tmp_path / 'my codex'}",
    ]
    assert fields["WantedBy"] == ["default.target"]
    assert status()["service"] == {"kind": "systemd", "path": str(unit), "installed": True}
    if shutil.which("systemd-analyze"):
        checked = subprocess.run(
            ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0 and "tether.service" not in checked.stderr, checked.stderr
    removed = run("daemon", "uninstall").stdout
    assert "systemctl --user disable --now tether.service" in removed and not unit.exists()
    assert "nothing to remove" in run("daemon", "uninstall").stdout


def test_install_enables_the_unit_and_takes_over_from_daemon_start(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def manager(argv: list[str]) -> tuple[int, str]:
        calls.append(argv)
        return 0, ""

    monkeypatch.setattr(daemon, "manager_available", lambda kind, env: True)
    monkeypatch.setattr(daemon, "run_manager", manager)
    child = spawn_watcher()
    try:
        report = orjson.loads(run("daemon", "install", "--json").stdout)
        assert child.wait(10) == 0  # stopped for the service's own watcher to start
    finally:
        if child.poll() is None:
            child.kill()
    assert report["stopped_pid"] == child.pid
    user = ["systemctl", "--user"]
    assert calls == [[*user, "daemon-reload"], [*user, "enable", "--now", "tether.service"]]
    assert report["ran"] == [" ".join(c) for c in calls] and report["to_run"] == []
    calls.clear()
    run("daemon", "uninstall")
    assert calls == [[*user, "disable", "--now", "tether.service"], [*user, "daemon-reload"]]

    monkeypatch.setattr(daemon, "run_manager", lambda argv: (1, "Failed to connect to bus"))
    failed = run("daemon", "install", ok=False)
    assert failed.exit_code == 1 and "Failed to connect to bus" in failed.stderr
    assert "systemctl --user enable --now tether.service" in failed.stdout


def test_launchd_agent_on_macos(isolated_home: Path) -> None:
    data = tether_home()
    agent = daemon.service({"CODEX_HOME": "/x/codex"}, isolated_home, data, platform="darwin")
    assert agent.path == isolated_home / "Library" / "LaunchAgents" / "dev.tether.watch.plist"
    plist = plistlib.loads(agent.text)
    assert plist["ProgramArguments"] == daemon.watch_argv(data)
    assert plist["EnvironmentVariables"] == {"TETHER_HOME": str(data), "CODEX_HOME": "/x/codex"}
    assert plist["RunAtLoad"] is True and plist["KeepAlive"] == {"SuccessfulExit": False}
    assert agent.enable == [["launchctl", "bootstrap", f"gui/{os.getuid()}", str(agent.path)]]
    assert agent.disable[0][:2] == ["launchctl", "bootout"]


def test_no_service_manager_under_the_tests() -> None:
    assert not daemon.manager_available("systemd", os.environ)
    assert not daemon.manager_available("launchd", os.environ)
