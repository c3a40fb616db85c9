"""A small driver for tmux: one session per team, one window per agent, over subprocess.

Every agent's window stays open when its program exits (remain-on-exit), so its last output
and exit status can still be read; `respawn` starts a program again in the same window.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tether.errors import TetherError

INSTALL_HINT = "install it with `apt install tmux` (Debian, Ubuntu) or `brew install tmux` (macOS)"
STOP_GRACE = 10.0
"""Seconds the agents get to exit on SIGTERM before they are killed."""
PANE_FIELDS = (
    *("window_name", "pane_id", "pane_dead", "pane_dead_status", "window_activity", "pane_pid"),
    *("pane_dead_signal", "pid"),
)
PANE_FORMAT = "\t".join("#{" + name + "}" for name in PANE_FIELDS)
REAP_WAIT = 1.0
"""Seconds `panes` waits for the exit status of a program that has just exited."""


class TmuxError(TetherError):
    """tmux is missing or refused a command; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Pane:
    window: str
    pane_id: str
    running: bool
    exit_status: int | None
    activity: float | None
    """When the window last showed output (epoch seconds)."""
    pid: int | None = None
    """The program's process id: it leads its own process group."""


IN_FOLDER = 'cd -- "$1" || exit 126; shift; exec "$@"'
"""Runs the program in its folder: tmux expands formats (`#(command)` runs a command) in a
start folder given with -c, and a folder's name is anyone's to choose, so it is never
given to tmux as one; only as an argument of this, which tmux passes on as it is."""


def escape(word: str) -> str:
    """tmux ends a command at an argument ending in ';'; a backslash before it keeps it."""
    return word[:-1] + "\\;" if word.endswith(";") else word


def in_folder(cwd: str, argv: Sequence[str]) -> list[str]:
    """`argv`, run in `cwd` by /bin/sh (which then execs it: the program leads the pane)."""
    return ["/bin/sh", "-c", IN_FOLDER, "tether-agent", cwd, *argv]


class Tmux:
    """The tmux of `path` (else PATH), run with `env` (else tether's own environment)."""

    def __init__(self, binary: str, env: Mapping[str, str] | None = None) -> None:
        self.binary = binary
        self.env = dict(env) if env is not None else None

    @classmethod
    def find(cls, env: Mapping[str, str]) -> Tmux:
        binary = shutil.which("tmux", path=env.get("PATH"))
        if binary is None:
            raise TmuxError(f"tmux is not installed: {INSTALL_HINT}")
        return cls(binary, env)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [self.binary, *args],
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as exc:
            raise TmuxError(f"could not run tmux ({exc}): {INSTALL_HINT}") from exc

    def check(self, *args: str) -> str:
        done = self.run(*args)
        if done.returncode != 0:
            detail = " ".join(done.stderr.split()) or f"exit {done.returncode}"
            raise TmuxError(f"tmux {args[0]} failed: {detail}")
        return done.stdout

    def has_session(self, session: str) -> bool:
        return self.run("has-session", "-t", f"={session}").returncode == 0

    def open(
        self,
        session: str,
        window: str,
        cwd: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
    ) -> str:
        """Run argv in a new window (in a new session if there is none); its pane id.

        Setting remain-on-exit in the same tmux command leaves no moment in which a
        program that exits at once could take its window, and its output, with it.
        """
        if self.has_session(session):
            create = ["new-window", "-d", "-t", f"={session}:", "-n", window]
        else:
            create = ["new-session", "-d", "-s", session, "-n", window]
        command = [*create, "-P", "-F", "#{pane_id}", *_env_flags(env), "--", *in_folder(cwd, argv)]
        keep = ["set-option", "-w", "-t", f"={session}:={window}", "remain-on-exit", "on"]
        out = self.check(*(escape(word) for word in command), ";", *keep)
        return out.strip()

    def respawn(
        self, pane_id: str, cwd: str, argv: Sequence[str], env: Mapping[str, str] | None = None
    ) -> None:
        """Run argv again in a window whose program has exited."""
        command = [
            "respawn-pane",
            "-k",
            "-t",
            pane_id,
            *_env_flags(env),
            "--",
            *in_folder(cwd, argv),
        ]
        self.check(*(escape(word) for word in command))

    def panes(self, session: str) -> dict[str, Pane]:
        """The first pane of every window of `session`, by window name ({} if none).

        tmux built with libutempter (Debian's) can miss the SIGCHLD of a program that exits
        at once: the pane's terminal closes first, and utempter's helper runs with SIGCHLD at
        its default, which drops it. The window is dead, but tmux learns the exit status (and
        reaps the program) only at the next SIGCHLD it gets: `panes` sends it one.
        """
        panes, server, waiting = self._list_panes(session)
        deadline = time.monotonic() + REAP_WAIT
        while waiting and server and time.monotonic() < deadline:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(server, signal.SIGCHLD)
            time.sleep(0.02)
            panes, server, waiting = self._list_panes(session)
        return panes

    def _list_panes(self, session: str) -> tuple[dict[str, Pane], int | None, bool]:
        """The panes, the tmux server's pid, and whether a dead one has no exit yet."""
        done = self.run("list-panes", "-s", "-t", f"={session}", "-F", PANE_FORMAT)
        panes: dict[str, Pane] = {}
        server, waiting = None, False
        for line in done.stdout.splitlines() if done.returncode == 0 else []:
            fields = line.split("\t")
            if len(fields) != len(PANE_FIELDS) or fields[0] in panes:
                continue
            window, pane_id, dead, status, activity, pid, killed_by, server_pid = fields
            panes[window] = Pane(
                window=window,
                pane_id=pane_id,
                running=dead != "1",
                exit_status=int(status) if status.lstrip("-").isdigit() else None,
                activity=float(activity) if activity.isdigit() else None,
                pid=int(pid) if pid.isdigit() else None,
            )
            waiting = waiting or (dead == "1" and not status and not killed_by)
            server = int(server_pid) if server_pid.isdigit() else server
        return panes, server, waiting

    def kill_session(self, session: str) -> bool:
        """Close the session: tmux hangs up every program in it. False if there was none."""
        return self.run("kill-session", "-t", f"={session}").returncode == 0

    def stop_session(self, session: str, grace: float = STOP_GRACE) -> bool:
        """End every program of the session, then close it; False if there was none.

        A hang-up alone is not enough: Gemini CLI outlives its window on SIGHUP and would
        write on to its session behind the resumed one. Each program gets SIGTERM (to its
        whole process group), `grace` seconds to exit, and SIGKILL after that.
        """
        groups = [pane.pid for pane in self.panes(session).values() if pane.running and pane.pid]
        _signal_groups(groups, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while groups and time.monotonic() < deadline:
            time.sleep(0.1)
            groups = [pid for pid in groups if _group_alive(pid)]
        closed = self.kill_session(session)
        _signal_groups(groups, signal.SIGKILL)
        return closed


def _signal_groups(groups: list[int], signum: signal.Signals) -> None:
    for pid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signum)


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs; a zombie (ended, not yet reaped by the
    tmux server, which may take seconds) does not count where /proc tells them apart."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def _env_flags(env: Mapping[str, str] | None) -> list[str]:
    return [flag for key, value in (env or {}).items() for flag in ("-e", f"{key}={value}")]
