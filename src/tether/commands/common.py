"""What every command family shares: the archive, a fresh scan, options, JSON out.

Errors are raised (tether.errors), never printed here: `main` reports them, one line each.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tether.tools import facts

if TYPE_CHECKING:
    import sqlite3

    from tether.archive.query import Filters
    from tether.capture.ingest import ScanReport
    from tether.model import Session

F = TypeVar("F", bound=Callable[..., Any])
Command = Callable[..., None]
TOOL_NAMES = ", ".join(facts.NAMES)


def emit_json(value: Any) -> None:
    import orjson

    sys.stdout.buffer.write(orjson.dumps(value) + b"\n")
    sys.stdout.flush()


@contextmanager
def archive() -> Iterator[sqlite3.Connection]:
    """The archive, opened (made or migrated if need be) and closed after; trouble with its
    file (locked past the wait, read-only, full, damaged) is raised as a StoreError."""
    from tether.archive.db import connect, store_errors
    from tether.paths import db_path, tether_home

    path = db_path(tether_home())
    db = connect(path)
    try:
        with store_errors(path):
            yield db
    finally:
        db.close()


def run_scan(db: sqlite3.Connection, wait: bool, show_progress: bool) -> ScanReport:
    from tether.capture.ingest import ScanReport
    from tether.capture.scan import scan, scan_lock
    from tether.paths import tether_home, user_home

    with scan_lock(tether_home(), wait=wait) as got:
        if not got:
            return ScanReport(locked=True)
        if show_progress and sys.stderr.isatty():
            from tether.commands.render import progress_bar

            with progress_bar() as progress:
                return scan(db, os.environ, user_home(), progress=progress)
        return scan(db, os.environ, user_home())


def auto_scan(db: sqlite3.Connection, skip: bool) -> None:
    """Keep results fresh before reading (tether.capture.fresh): a live watcher's word, else
    a stat per store folder and per recently written file."""
    if skip:
        return
    from tether.capture.fresh import fresh
    from tether.paths import data_dir, user_home_str

    report = fresh(db, data_dir(), os.environ, user_home_str())
    line = report.problem_line() if report is not None else None
    if line:
        click.echo(f"tether: {line}", err=True)


def tool_option(f: F) -> F:
    return click.option(
        "--tool", "-t", "tool", metavar="TOOL", help=f"Only this tool ({TOOL_NAMES})."
    )(f)


def resolve_tool(name: str | None) -> str | None:
    if name is None:
        return None
    from tether.tools.registry import get_tool

    return get_tool(name).name


def session_filters(limit: int, counted: str) -> Callable[[Command], Command]:
    """The options of list and search: which sessions (--tool, --project, --here, --since,
    --limit: at most `limit` `counted` by default), --json and --no-scan. The command gets
    them as `filters` (a query.Filters), `as_json` and `no_scan`."""

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def run(
            *args: Any,
            tool: str | None,
            project: str | None,
            here: bool,
            since: str | None,
            limit: int,
            **rest: Any,
        ) -> None:
            command(*args, filters=to_filters(tool, project, here, since, limit), **rest)

        options = [
            tool_option,
            click.option(
                "--project", "-p", metavar="PATH", help="Only sessions in this folder or below."
            ),
            click.option("--here", is_flag=True, help="Only sessions of this project (git root)."),
            click.option(
                "--since", metavar="DATE", help="Sessions updated since DATE (2026-11-01, 3d, 12h)."
            ),
            click.option(
                "--limit",
                "-n",
                default=limit,
                show_default=True,
                help=f"At most this many {counted}.",
            ),
            click.option("--json", "as_json", is_flag=True, help="Print a JSON array."),
            click.option("--no-scan", is_flag=True, help="Do not look for new sessions first."),
        ]
        for option in reversed(options):
            run = option(run)
        return run

    return decorate


def to_filters(
    tool: str | None, project: str | None, here: bool, since: str | None, limit: int
) -> Filters:
    """The sessions the options name: --here is the current project (as the shims find
    it), --project a folder and all below it."""
    from tether.archive.query import Filters

    if here:
        project = here_root()
    elif project:
        project = str(Path(project).expanduser().absolute())
    if since is not None:
        from tether.dates import parse_since

        since = parse_since(since)
    return Filters(tool=resolve_tool(tool), project=project, since=since, limit=limit)


def here_root() -> str:
    """The project root of the current folder: git top-level, else the folder itself (as
    auto-resume finds it: `--here` and the shims agree on what a project is)."""
    from tether.statefile import project_root

    return project_root(str(Path.cwd()))


def named_session(ident: str, no_scan: bool) -> Session:
    """The session ID names (after a scan, unless no_scan); NotFound or Ambiguous if none or
    several. A checkpoint's name gives the session as it was at that point."""
    from tether.archive.names import at_checkpoint
    from tether.archive.query import find_named
    from tether.archive.store import load_session

    with archive() as db:
        auto_scan(db, no_scan)
        pk, _, named = find_named(db, ident)
        session = load_session(db, pk)
    if named is not None and named.kind == "checkpoint":
        return at_checkpoint(session, named)
    return session
