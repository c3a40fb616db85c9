"""`tether watch` and `tether daemon`: capture sessions as the tools write them."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from tether.commands.common import emit_json
from tether.errors import TetherError

if TYPE_CHECKING:
    from tether.capture.daemon import ServiceReport
    from tether.capture.ingest import ScanReport


def _data() -> Path:
    from tether.paths import tether_home

    return tether_home()


@click.command()
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Log here, rotated by size, instead of to stderr (what the daemon does).",
)
@click.option(
    "--rescan",
    type=click.FloatRange(min=0),
    default=600,
    show_default=True,
    help="Seconds between full scans, a safety net for missed events (0: never).",
)
@click.option(
    "--idle-exit",
    type=click.FloatRange(min=0),
    default=0,
    metavar="SECONDS",
    help="Exit once no answer has relied on the watcher for this long (0: never); what"
    " a watcher that `list`, `search` or `show` started on demand does.",
)
def watch(log_file: Path | None, rescan: float, idle_exit: float) -> None:
    """Capture new messages as the tools write them, until Ctrl-C.

    Watches every tool's store (and, for a store not made yet, the folder it will appear
    in), and captures what changed as `tether scan` would: new messages are searchable
    within a second. One watcher at a time; `tether daemon start` runs it in the background.
    """
    from tether.archive.db import StoreError
    from tether.capture.watch import AlreadyWatching, Watcher, configure_logging, log, watch_lock
    from tether.paths import user_home

    data = _data()
    configure_logging(log_file)
    if idle_exit:
        os.chdir("/")  # started by an answer, in its folder: hold no folder of the user's
    try:
        with watch_lock(data):
            if idle_exit:
                from tether.capture.ondemand import mark_started_on_demand

                mark_started_on_demand(str(data), os.getpid())
            watcher = Watcher(
                data,
                os.environ,
                user_home(),
                rescan=rescan,
                after_capture=_auto(),
                idle_exit=idle_exit,
                apart=True,
            )
            _stop_on_signals(watcher.stop)
            watcher.run()
    except AlreadyWatching as exc:
        if idle_exit:  # started on demand beside one that runs: what it was for is done
            log.info("not started on demand: %s", exc)
            return
        raise
    except (StoreError, OSError) as exc:
        if log_file is not None:  # the daemon's log says why it stopped, too
            log.error("%s", exc)
        raise


def _auto() -> Callable[[ScanReport], None] | None:
    """Auto-push after each capture, when `tether sync auto on` said so."""
    from tether.sync.auto import hook

    return hook()


def _stop_on_signals(stop: Callable[[], None]) -> None:
    """SIGTERM and Ctrl-C end the watcher after the capture in progress; a second Ctrl-C
    interrupts it (a capture is one transaction: nothing half-written stays)."""
    asked = False

    def handle(signum: int, frame: FrameType | None) -> None:
        nonlocal asked
        if asked and signum == signal.SIGINT:
            raise KeyboardInterrupt
        asked = True
        stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


@click.group()
def daemon() -> None:
    """Run the watcher in the background, and at login.

    \b
    tether daemon start        run `tether watch` detached
    tether daemon status       is it running? (--json)
    tether daemon logs -f      what it captured
    tether daemon stop
    tether daemon install      start it at login (systemd user unit / launchd agent)
    tether daemon uninstall
    """


@daemon.command()
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def start(as_json: bool) -> None:
    """Start the watcher in the background (log: $TETHER_HOME/watch.log)."""
    from tether.capture.daemon import start as start_watcher
    from tether.capture.watch import AlreadyWatching

    pid: int | None
    try:
        pid, started = start_watcher(_data(), os.environ), True
    except AlreadyWatching as exc:  # what start is for is done: not an error
        pid, started = exc.pid, False
        if not as_json:
            click.echo(f"tether: {exc}")
    if as_json:
        emit_json({"pid": pid, "started": started})
    elif started:
        click.echo(f"watcher started (pid {pid})")


@daemon.command()
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def stop(as_json: bool) -> None:
    """Stop the running watcher (SIGTERM, then wait for it)."""
    from tether.capture.daemon import stop as stop_watcher

    pid = stop_watcher(_data())
    if as_json:
        emit_json({"pid": pid, "stopped": pid is not None})
    else:
        click.echo("no watcher was running" if pid is None else f"watcher stopped (pid {pid})")


@daemon.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json: bool) -> None:
    """Whether a watcher is running, its log, and the login service."""
    from tether.capture.daemon import status as watcher_status
    from tether.paths import user_home

    state = watcher_status(_data(), os.environ, user_home())
    if as_json:
        emit_json(state)
        return
    if state["running"]:
        click.echo(f"running: pid {state['pid']}, since {state['started_at']}")
    else:
        click.echo("not running")
    click.echo(f"log: {state['log_file']}")
    unit = state["service"]
    click.echo(f"{unit['kind']}: {unit['path']} ({'' if unit['installed'] else 'not '}installed)")


@daemon.command()
@click.option("--lines", "-n", default=20, show_default=True, help="How many lines.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines, until Ctrl-C.")
def logs(lines: int, follow: bool) -> None:
    """Show the end of the watcher's log."""
    from tether.capture.daemon import follow as follow_log
    from tether.capture.daemon import tail
    from tether.capture.watch import LOG_FILE

    path = _data() / LOG_FILE
    for line in tail(path, lines):
        click.echo(line)
    if not follow:
        if not path.exists():
            click.echo(f"tether: no log yet at {path}", err=True)
        return
    try:
        for line in follow_log(path):
            click.echo(line)
            sys.stdout.flush()
    except KeyboardInterrupt:
        return


@daemon.command()
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
def install(as_json: bool) -> None:
    """Run the watcher at login: a systemd user unit (Linux) or a launchd agent (macOS)."""
    from tether.capture.daemon import install as install_service
    from tether.paths import user_home

    report = install_service(os.environ, user_home(), _data())
    _print_service(report, as_json, "installed")


@daemon.command()
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
def uninstall(as_json: bool) -> None:
    """Stop running the watcher at login, and remove its unit or agent."""
    from tether.capture.daemon import uninstall as uninstall_service
    from tether.paths import user_home

    report = uninstall_service(os.environ, user_home(), _data())
    if not report.changed and not as_json:
        click.echo(f"nothing to remove: no {report.kind} service at {report.path}")
        return
    _print_service(report, as_json, "removed")


def _print_service(report: ServiceReport, as_json: bool, done: str) -> None:
    if as_json:
        emit_json(report.as_dict())
    else:
        click.echo(f"{report.kind} service {done}: {report.path}")
        if report.stopped_pid:
            click.echo(f"stopped the watcher started by hand (pid {report.stopped_pid})")
        for command in report.ran:
            click.echo(f"ran: {command}")
        if report.to_run:
            click.echo("to finish, run:")
            for command in report.to_run:
                click.echo(f"  {command}")
    if report.error:
        raise TetherError(report.error)
