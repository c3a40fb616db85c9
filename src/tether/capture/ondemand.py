"""A watcher started on demand: the first answer that finds none starts one, detached.

An answer beside a live watcher reads the archive without looking at the stores
(tether.capture.fresh.watcher_covers); one without must check the stores itself, which
costs an import of the capture machinery when anything changed. So an answer that found
no watcher running, once it has made the archive fresh itself, starts `tether watch
--idle-exit N` in the background (as `tether daemon start` would, without waiting for it);
the answers after it are served beside it. Each answer that relies on the watcher touches
watch.used; a watcher started so exits once nobody has relied on it for N seconds (30
minutes unless TETHER_WATCH_IDLE says otherwise). A watcher the user started never exits on
idle.

Off with TETHER_WATCH_ON_DEMAND=0, or `on_demand = false` under `[watch]` in
$TETHER_HOME/config.toml (the variable wins). Cheap to import: os and time only; the
config is read only when a watcher would be started.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

SWITCH = "TETHER_WATCH_ON_DEMAND"
IDLE_VARIABLE = "TETHER_WATCH_IDLE"
IDLE = 1800.0
"""Seconds a watcher started on demand lives on with no answer relying on it."""
USED_FILE = "watch.used"
"""Its mtime says when an answer last relied on a watcher."""
STARTED_FILE = "watch.started"
"""Its mtime says when an answer last started a watcher; flock'ed while one starts one."""
START_EVERY = 30.0
"""Seconds before an answer starts another watcher, when the last one it started is not
running (it failed, or it is still importing): never one per answer."""
CONFIG_LIMIT = 1 << 20
MARK_FILE = "watch.ondemand"
"""Holds the pid of the running watcher when an answer started it (`daemon start` replaces
such a watcher with one that never exits on idle)."""


def mark_used(data: str) -> None:
    """Say that an answer relied on the watcher now (one utime; never raises, never
    waits: the file is made with O_NONBLOCK, so a FIFO put in its place is left alone)."""
    path = os.path.join(data, USED_FILE)
    try:
        os.utime(path, follow_symlinks=False)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | os.O_NOFOLLOW
            os.close(os.open(path, flags, 0o600))
    except OSError:
        pass


def last_used(data: str) -> float:
    """When an answer last relied on a watcher (epoch seconds; 0 when never)."""
    try:
        return os.stat(os.path.join(data, USED_FILE), follow_symlinks=False).st_mtime
    except OSError:
        return 0.0


def mark_started_on_demand(data: str, pid: int) -> None:
    """Said by a watcher started on demand, once it holds the watcher lock."""
    from tether.statefile import write_atomic

    write_atomic(os.path.join(data, MARK_FILE), f"{pid}\n", mode=0o600, sync=False)


def started_on_demand(data: str, pid: int) -> bool:
    """Whether the watcher with this pid (the one holding the lock) was started on demand."""
    from tether.files import read_regular

    try:
        return read_regular(os.path.join(data, MARK_FILE), 64).strip() == str(pid).encode()
    except OSError:
        return False


def enabled(env: Mapping[str, str], data: str) -> bool:
    """Whether answers start a watcher: the variable, else config.toml, else yes."""
    said = env.get(SWITCH, "").strip().lower()
    if said:
        return said not in ("0", "false", "no", "off")
    return _configured(data) is not False


def _configured(data: str) -> bool | None:
    """`[watch] on_demand` in config.toml, None when it says nothing (or cannot be read:
    the commands that read it whole say why)."""
    from tether.files import read_regular

    try:
        raw = read_regular(os.path.join(data, "config.toml"), CONFIG_LIMIT)
    except OSError:
        return None
    if b"on_demand" not in raw:
        return None  # the common case: no need to load tomllib
    import tomllib

    try:
        config = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    watch = config.get("watch")
    value = watch.get("on_demand") if isinstance(watch, dict) else None
    return value if isinstance(value, bool) else None


def idle_seconds(env: Mapping[str, str]) -> float:
    """How long a watcher started on demand lives unused (TETHER_WATCH_IDLE, seconds)."""
    try:
        value = float(env.get(IDLE_VARIABLE, "") or IDLE)
    except ValueError:
        return IDLE
    return value if value > 0 else IDLE


def start_watcher(data: str, env: Mapping[str, str]) -> bool:
    """Start `tether watch --idle-exit N` detached, unless another answer started one in
    the last START_EVERY seconds or is starting one now; whether this one did. The
    watcher's own lock (watch.pid) still decides which of two runs. Never raises, never
    waits: freshness does not depend on it."""
    import stat

    path = os.path.join(data, STARTED_FILE)
    try:
        import fcntl

        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | os.O_NOFOLLOW, 0o600)
    except (OSError, ImportError):  # no fcntl (Windows): the answers check for themselves
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not _log_writable(data):
            return False
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        st = os.fstat(fd)  # as the answer that held the lock before us left it
        if st.st_size > 0 and abs(time.time() - st.st_mtime) < START_EVERY:
            return False
        _spawn(data, env)
        os.pwrite(fd, b"started\n", 0)  # a size: a stamp, not a file just made
        os.utime(fd)
        return True
    except (OSError, AttributeError, NotImplementedError):  # BlockingIOError: another answer
        return False
    finally:
        os.close(fd)


def _log_writable(data: str) -> bool:
    """No log, or a regular file: the watcher would wait forever on a FIFO put there,
    and the next answer would start another."""
    import stat

    try:
        return stat.S_ISREG(os.lstat(os.path.join(data, "watch.log")).st_mode)
    except FileNotFoundError:
        return True
    except OSError:
        return False


def watch_argv(data: str, env: Mapping[str, str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tether",
        "watch",
        "--log-file",
        os.path.join(data, "watch.log"),
        "--idle-exit",
        f"{idle_seconds(env):g}",
    ]


def _spawn(data: str, env: Mapping[str, str]) -> None:
    """posix_spawn (no fork of this process's memory), in a session of its own (no
    terminal's Ctrl-C reaches it), nothing of ours open in it: its stdout and stderr are
    not the answer's pipes, which a caller reads to the end."""
    null = os.devnull
    err = os.path.join(data, "watch.err")
    os.posix_spawn(
        sys.executable,
        watch_argv(data, env),
        dict(env),
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, null, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, null, os.O_WRONLY, 0),
            # O_NONBLOCK: a FIFO there fails the start instead of hanging it (and us).
            (os.POSIX_SPAWN_OPEN, 2, err, _ERR_FLAGS, 0o600),
        ],
        setsid=True,
    )


_ERR_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | os.O_NOFOLLOW
