"""The watcher in the background: start, stop, status and logs, and the login service that
keeps it running (a systemd user unit on Linux, a launchd agent on macOS)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from tether.capture.fresh import running_pid
from tether.capture.watch import LOG_FILE, PID_FILE, AlreadyWatching
from tether.errors import TetherError
from tether.files import replace

ERR_FILE = "watch.err"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
UNIT = "tether.service"
AGENT = "dev.tether.watch"
ALREADY_RUNNING = AlreadyWatching.exit_code
"""Exit code of `tether watch` when another watcher holds the lock: not worth a restart."""


class DaemonError(TetherError):
    pass


def watch_argv(data: Path) -> list[str]:
    return [sys.executable, "-m", "tether", "watch", "--log-file", str(data / LOG_FILE)]


def start(data: Path, env: Mapping[str, str]) -> int:
    """Run `tether watch` detached; returns its pid once it holds the watcher lock. A
    watcher an answer started on demand (which exits on idle) is replaced."""
    from tether.capture.ondemand import started_on_demand

    pid = running_pid(data)
    if pid and started_on_demand(str(data), pid):
        stop(data)
        pid = running_pid(data)
    if pid is not None:
        raise AlreadyWatching(pid)
    data.mkdir(parents=True, exist_ok=True)
    err = data / ERR_FILE
    with err.open("wb") as fh:
        child = subprocess.Popen(
            watch_argv(data),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=fh,
            start_new_session=True,
            cwd="/",
            env=dict(env),
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if running_pid(data) == child.pid:
            return child.pid
        code = child.poll()
        if code is not None:
            said = err.read_text(errors="replace").strip().splitlines()[-3:]
            raise DaemonError(f"the watcher exited with code {code}: " + " / ".join(said))
        time.sleep(0.05)
    raise DaemonError(f"the watcher did not start within {START_TIMEOUT:.0f} s: see {err}")


def stop(data: Path) -> int | None:
    """SIGTERM the running watcher and wait for it to let go of its lock; its pid, or None
    when no watcher was running. Only a pid read from the held lock is ever signalled."""
    pid = running_pid(data)
    deadline = time.monotonic() + STOP_TIMEOUT
    while pid == 0 and time.monotonic() < deadline:  # starting: its pid is on the way
        time.sleep(0.02)
        pid = running_pid(data)
    if not pid:
        return None
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return pid
    while time.monotonic() < deadline:
        if running_pid(data) is None:
            return pid
        time.sleep(0.05)
    raise DaemonError(f"the watcher (pid {pid}) did not stop within {STOP_TIMEOUT:.0f} s")


def status(data: Path, env: Mapping[str, str], home: Path) -> dict[str, Any]:
    pid = running_pid(data)
    started = None
    if pid is not None:
        with_stamp = (data / PID_FILE).stat().st_mtime
        started = datetime.fromtimestamp(with_stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    unit = service(env, home, data)
    return {
        "running": pid is not None,
        "pid": pid or None,
        "started_at": started,
        "log_file": str(data / LOG_FILE),
        "service": {"kind": unit.kind, "path": str(unit.path), "installed": unit.path.exists()},
    }


# ---------------------------------------------------------------- logs


def tail(path: Path, lines: int) -> list[str]:
    """The last `lines` lines of a log (a missing log has none)."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - 256 * max(lines, 1) - 4096))
            data = fh.read()
    except OSError:
        return []
    text = data.decode(errors="replace").splitlines()
    return text[-lines:] if lines > 0 else []


def follow(path: Path, poll: float = 0.25) -> Iterator[str]:
    """Lines appended to a log from this call on, across its rotation; never ends."""
    fh = _open(path)
    if fh is not None:
        fh.seek(0, os.SEEK_END)
    return _follow(path, fh, poll)


def _follow(path: Path, fh: BinaryIO | None, poll: float) -> Iterator[str]:
    while True:
        if fh is None:
            fh = _open(path)  # made after we began (or rotated): all of it is new
        if fh is not None:
            yield from _complete_lines(fh)
            try:
                rotated = path.stat().st_ino != os.fstat(fh.fileno()).st_ino
            except OSError:
                rotated = True
            if rotated:
                yield from _complete_lines(fh)
                fh.close()
                fh = None
                continue
        time.sleep(poll)


def _open(path: Path) -> BinaryIO | None:
    try:
        return path.open("rb")
    except OSError:
        return None


def _complete_lines(fh: BinaryIO) -> Iterator[str]:
    for raw in iter(fh.readline, b""):
        if not raw.endswith(b"\n"):  # still being written: read it whole next time
            fh.seek(-len(raw), os.SEEK_CUR)
            return
        yield raw.decode(errors="replace").rstrip("\n")


# ---------------------------------------------------------------- the login service


@dataclass
class Service:
    kind: Literal["systemd", "launchd"]
    path: Path
    text: bytes
    enable: list[list[str]]
    disable: list[list[str]]
    reload: list[list[str]] = field(default_factory=list)


def service(
    env: Mapping[str, str], home: Path, data: Path, platform: str = sys.platform
) -> Service:
    """The unit (Linux) or agent (macOS) that runs `tether watch` at login."""
    variables = service_env(env, home, data)
    argv = watch_argv(data)
    if platform == "darwin":
        import plistlib

        path = home / "Library" / "LaunchAgents" / f"{AGENT}.plist"
        plist = {
            "Label": AGENT,
            "ProgramArguments": argv,
            "EnvironmentVariables": variables,
            "RunAtLoad": True,
            "KeepAlive": {"SuccessfulExit": False},
            "ThrottleInterval": 5,
            "ProcessType": "Background",
            "StandardErrorPath": str(data / ERR_FILE),
        }
        domain = f"gui/{os.getuid()}"
        return Service(
            "launchd",
            path,
            plistlib.dumps(plist),
            enable=[["launchctl", "bootstrap", domain, str(path)]],
            disable=[["launchctl", "bootout", domain, str(path)]],
        )
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    path = config / "systemd" / "user" / UNIT
    lines = [
        "[Unit]",
        "Description=tether: capture AI coding sessions as the tools write them",
        "",
        "[Service]",
        "Type=simple",
        "ExecStart=" + " ".join(_systemd_quote(arg) for arg in argv),
        *(f"Environment={_systemd_quote(f'{k}={v}')}" for k, v in variables.items()),
        "Restart=on-failure",
        "RestartSec=5",
        f"RestartPreventExitStatus={ALREADY_RUNNING}",
        "Nice=10",
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ]
    user = ["systemctl", "--user"]
    return Service(
        "systemd",
        path,
        "\n".join(lines).encode(),
        enable=[[*user, "daemon-reload"], [*user, "enable", "--now", UNIT]],
        disable=[[*user, "disable", "--now", UNIT]],
        reload=[[*user, "daemon-reload"]],
    )


def service_env(env: Mapping[str, str], home: Path, data: Path) -> dict[str, str]:
    """What the service needs of this shell's environment: the archive's folder, and each
    variable that moves some tool's store (CODEX_HOME, …), found by asking the tools."""
    from tether.tools.registry import TOOLS

    def roots(variables: Mapping[str, str]) -> list[list[Path]]:
        return [tool.store_roots(variables, home) for tool in TOOLS.values()]

    wanted = roots(env)
    keep = {
        name: value
        for name, value in env.items()
        if name not in ("HOME", "TETHER_HOME", "TETHER_TESTING")
        and roots({k: v for k, v in env.items() if k != name}) != wanted
    }
    return {"TETHER_HOME": str(data.absolute()), **dict(sorted(keep.items()))}


def _systemd_quote(arg: str) -> str:
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"' if any(c in arg for c in " \t\"\\'") else escaped


def manager_available(kind: str, env: Mapping[str, str]) -> bool:
    """systemctl with a user bus, or launchctl; never under the test suite."""
    if env.get("TETHER_TESTING"):
        return False
    if kind == "launchd":
        return shutil.which("launchctl") is not None
    if shutil.which("systemctl") is None:
        return False
    runtime = env.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    return bool(env.get("DBUS_SESSION_BUS_ADDRESS")) or (Path(runtime) / "bus").exists()


def run_manager(argv: list[str]) -> tuple[int, str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.returncode, (done.stderr or done.stdout).strip()


@dataclass
class ServiceReport:
    kind: str
    path: str
    changed: bool
    ran: list[str] = field(default_factory=list)
    to_run: list[str] = field(default_factory=list)
    error: str | None = None
    stopped_pid: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def install(env: Mapping[str, str], home: Path, data: Path) -> ServiceReport:
    """Write the unit or agent and, where its manager is reachable, enable and start it
    (a watcher started by `daemon start` hands over to it)."""
    unit = service(env, home, data)
    old = unit.path.read_bytes() if unit.path.exists() else None
    replace(unit.path, unit.text)
    report = ServiceReport(unit.kind, str(unit.path), changed=old != unit.text)
    if not manager_available(unit.kind, env):
        report.to_run = [" ".join(argv) for argv in unit.enable]
        return report
    report.stopped_pid = stop(data)
    _run_all(unit.enable, report)
    return report


def uninstall(env: Mapping[str, str], home: Path, data: Path) -> ServiceReport:
    unit = service(env, home, data)
    report = ServiceReport(unit.kind, str(unit.path), changed=unit.path.exists())
    if not report.changed:
        return report
    available = manager_available(unit.kind, env)
    if available:
        _run_all(unit.disable, report)
    else:
        report.to_run = [" ".join(argv) for argv in unit.disable]
    unit.path.unlink()
    if available and report.error is None:
        _run_all(unit.reload, report)
    return report


def _run_all(commands: list[list[str]], report: ServiceReport) -> None:
    for i, argv in enumerate(commands):
        code, said = run_manager(argv)
        if code != 0:
            report.error = f"`{' '.join(argv)}` failed ({code}): {said}"
            report.to_run = [" ".join(a) for a in commands[i:]]
            return
        report.ran.append(" ".join(argv))
