"""tether's command line: thin commands over functions that return results.

Only click is imported at start-up; each command imports what it needs, so `--help` and
the read commands start fast. Human output goes through tether.render, JSON straight out.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from tether import __version__

if TYPE_CHECKING:
    import sqlite3

    from tether.ingest import ScanReport
    from tether.model import Session

F = TypeVar("F", bound=Callable[..., Any])
TOOL_NAMES = (
    "claude, codex, gemini, copilot, cursor, cline, roo, kilo, opencode, qwen, antigravity,"
    " amp, aider"
)


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"tether: error: {message}", err=True)
    sys.exit(code)


def emit_json(value: Any) -> None:
    import orjson

    sys.stdout.buffer.write(orjson.dumps(value) + b"\n")
    sys.stdout.flush()


@contextmanager
def archive() -> Iterator[sqlite3.Connection]:
    from tether.db import StoreError, connect
    from tether.paths import db_path, tether_home

    try:
        db = connect(db_path(tether_home()))
    except (StoreError, OSError, RuntimeError) as exc:
        fail(str(exc))
    try:
        yield db
    finally:
        db.close()


def run_scan(db: sqlite3.Connection, wait: bool, show_progress: bool) -> ScanReport:
    from tether.capture import scan, scan_lock
    from tether.ingest import ScanReport
    from tether.paths import tether_home, user_home

    with scan_lock(tether_home(), wait=wait) as got:
        if not got:
            return ScanReport(locked=True)
        if show_progress and sys.stderr.isatty():
            from tether.render import progress_bar

            with progress_bar() as progress:
                return scan(db, os.environ, user_home(), progress=progress)
        return scan(db, os.environ, user_home())


def auto_scan(db: sqlite3.Connection, skip: bool) -> None:
    """Keep results fresh before reading: stat-only when nothing changed."""
    if skip:
        return
    report = run_scan(db, wait=False, show_progress=False)
    line = report.problem_line()
    if line:
        click.echo(line, err=True)


def tool_option(f: F) -> F:
    return click.option(
        "--tool", "-t", "tool", metavar="TOOL", help=f"Only this tool ({TOOL_NAMES})."
    )(f)


def resolve_tool(name: str | None) -> str | None:
    if name is None:
        return None
    from tether.registry import UnknownTool, get_tool

    try:
        return get_tool(name).name
    except UnknownTool as exc:
        fail(str(exc), 2)


def resolve_since(value: str | None) -> str | None:
    if value is None:
        return None
    from tether.dates import parse_since

    try:
        return parse_since(value)
    except ValueError as exc:
        fail(str(exc), 2)


def here_root() -> str:
    """The project root of the current folder: git top-level, else the folder itself (as
    auto-resume finds it: `--here` and the shims agree on what a project is)."""
    from tether.statefile import project_root

    return project_root(str(Path.cwd()))


# Commands that live in their own modules under tether/commands, loaded only when run:
# name -> (module, attribute, one-line help shown by `tether --help`). A new command
# family is one module and one line here; nothing of it is imported to start up.
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "convert": (
        "tether.commands.convert",
        "convert",
        "Write a session as a new native session of another tool.",
    ),
    "resume": (
        "tether.commands.convert",
        "resume",
        "Continue a session in its own tool or in another one.",
    ),
    "fork": ("tether.commands.convert", "fork", "A new native session with the same history."),
    "watch": ("tether.commands.watch", "watch", "Capture new messages as the tools write them."),
    "daemon": ("tether.commands.watch", "daemon", "Run the watcher in the background, at login."),
    "init": ("tether.commands.autoresume", "init", "Print the lines that put shims on PATH."),
    "shim": ("tether.commands.autoresume", "shim", "Install, remove or list auto-resume shims."),
    "status": ("tether.commands.autoresume", "status", "Which session each tool resumes here."),
    "reset": ("tether.commands.autoresume", "reset", "The next launch here starts a new session."),
    "team": ("tether.commands.team", "team", "Named teams of agents, started and resumed in tmux."),
}


class Group(click.Group):
    """Commands in the order they are declared; LAZY_COMMANDS imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.commands, *(name for name in LAZY_COMMANDS if name not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is not None or cmd_name not in LAZY_COMMANDS:
            return command
        import importlib

        module, attribute, _ = LAZY_COMMANDS[cmd_name]
        loaded = getattr(importlib.import_module(module), attribute)
        if not isinstance(loaded, click.Command):
            raise TypeError(f"{module}.{attribute} is not a click command")
        return loaded

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Like click's, but lazy commands show their help from the table, unimported."""
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                command = self.commands[name]
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
            else:
                rows.append((name, LAZY_COMMANDS[name][2]))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="tether")
def main() -> None:
    """Keep every AI coding session: capture, search, export.

    tether reads the sessions that Claude Code, Codex CLI, Gemini CLI, Copilot CLI,
    Cursor, Cline, Roo Code, Kilo Code, opencode, Qwen Code, Antigravity, Amp and Aider
    leave on disk into one archive that outlives the tools' own clean-up, and finds
    anything said in any of them in milliseconds. Native files are only ever read.

    \b
    Start with:
      tether scan                 capture everything new
      tether list --here          this project's sessions, newest first
      tether search "flaky test"  find where something was said
      tether show ID              read one session (ID: any unique prefix)

    Data lives in $TETHER_HOME (else the platform's user data folder).
    """


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but problems.")
def scan(as_json: bool, quiet: bool) -> None:
    """Capture every new or changed session from every tool found.

    Files already captured and unchanged cost one stat; a file that grew is read from
    where the last scan stopped. Exit code 1 when a file or line could not be read
    (`tether doctor` says which and why).
    """
    with archive() as db:
        report = run_scan(db, wait=True, show_progress=not (as_json or quiet))
    if as_json:
        emit_json(report.as_dict())
    elif not quiet:
        from tether.render import print_scan

        print_scan(report)
    line = report.problem_line()
    if line:
        click.echo(line, err=True)
        sys.exit(1)


@main.command(name="list")
@tool_option
@click.option("--project", "-p", metavar="PATH", help="Only sessions in this folder or below.")
@click.option("--here", is_flag=True, help="Only sessions of the current project (git root).")
@click.option("--since", metavar="DATE", help="Updated since DATE (2026-11-01, 3d, 12h, 2w).")
@click.option("--limit", "-n", default=50, show_default=True, help="At most this many.")
@click.option("--all", "-a", "show_all", is_flag=True, help="Also sessions with no messages.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--no-scan", is_flag=True, help="Do not look for new sessions first.")
def list_(
    tool: str | None,
    project: str | None,
    here: bool,
    since: str | None,
    limit: int,
    show_all: bool,
    as_json: bool,
    no_scan: bool,
) -> None:
    """List captured sessions, most recently updated first."""
    from tether.query import Filters, list_sessions

    if here:
        project = here_root()
    elif project:
        project = str(Path(project).expanduser().absolute())
    filters = Filters(
        tool=resolve_tool(tool),
        project=project,
        since=resolve_since(since),
        limit=limit,
        include_empty=show_all,
    )
    with archive() as db:
        auto_scan(db, no_scan)
        rows = list_sessions(db, filters)
    if as_json:
        emit_json(rows)
    else:
        from tether.render import print_sessions

        print_sessions(rows)


@main.command()
@click.argument("ident", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="The session and its messages as JSON.")
@click.option("--full", is_flag=True, help="Show tool inputs and outputs whole.")
@click.option("--no-scan", is_flag=True, help="Do not look for new sessions first.")
def show(ident: str, as_json: bool, full: bool, no_scan: bool) -> None:
    """Show one session.

    ID is the tether id, any unique prefix of it, or the tool's own session id.
    """
    session_json = _load(ident, no_scan)
    if as_json:
        emit_json(session_json)
    else:
        from tether.render import print_session

        print_session(session_json, full=full)


def _load(ident: str, no_scan: bool) -> dict[str, Any]:
    from tether.formats.tether_json import session_json

    return session_json(load_or_fail(ident, no_scan))


def load_or_fail(ident: str, no_scan: bool) -> Session:
    """The session ID names (after a scan, unless no_scan), or a one-line error."""
    from tether.query import Ambiguous, NotFound, find_session
    from tether.store import load_session

    with archive() as db:
        auto_scan(db, no_scan)
        try:
            pk, _ = find_session(db, ident)
        except (NotFound, Ambiguous) as exc:
            fail(str(exc))
        return load_session(db, pk)


@main.command()
@click.argument("query", nargs=-1, required=True)
@tool_option
@click.option("--project", "-p", metavar="PATH", help="Only sessions in this folder or below.")
@click.option("--here", is_flag=True, help="Only sessions of the current project (git root).")
@click.option(
    "--role",
    "-r",
    type=click.Choice(["user", "assistant", "system", "tool"]),
    help="Only messages of this role (tool: tool outputs).",
)
@click.option("--since", metavar="DATE", help="Sessions updated since DATE (2026-11-01, 3d).")
@click.option("--limit", "-n", default=20, show_default=True, help="At most this many hits.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--no-scan", is_flag=True, help="Do not look for new sessions first.")
def search(
    query: tuple[str, ...],
    tool: str | None,
    project: str | None,
    here: bool,
    role: str | None,
    since: str | None,
    limit: int,
    as_json: bool,
    no_scan: bool,
) -> None:
    """Full-text search over every message, tool call and tool output.

    \b
    Words match whole words, in any order:   tether search flaky test
    A phrase:                                tether search '"connection refused"'
    A prefix:                                tether search 'migrat*'
    Either / not:                            tether search redis OR memcached
    """
    from tether.query import BadQuery, Filters
    from tether.query import search as run_search

    if here:
        project = here_root()
    elif project:
        project = str(Path(project).expanduser().absolute())
    filters = Filters(
        tool=resolve_tool(tool),
        project=project,
        since=resolve_since(since),
        role=role,
        limit=limit,
    )
    with archive() as db:
        auto_scan(db, no_scan)
        try:
            hits = run_search(db, " ".join(query), filters)
        except BadQuery as exc:
            fail(str(exc), 2)
    if as_json:
        emit_json(hits)
    else:
        from tether.render import print_hits

        print_hits(hits)


@main.command()
@click.argument("ident", metavar="ID")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["md", "json", "html"]),
    default="md",
    show_default=True,
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
@click.option("--no-redact", is_flag=True, help="Keep secrets (API keys, tokens) as they are.")
@click.option("--no-scan", is_flag=True, help="Do not look for new sessions first.")
def export(ident: str, fmt: str, output: Path | None, no_redact: bool, no_scan: bool) -> None:
    """Export one session as Markdown, JSON or HTML.

    Secrets (API keys, tokens, private keys, passwords in URLs) are redacted unless
    --no-redact. JSON exports can be read back with `tether import`.
    """
    doc = _load(ident, no_scan)
    if not no_redact:
        from tether.redact import redact

        doc = redact(doc)
    if fmt == "json":
        import orjson

        data = orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
    elif fmt == "html":
        from tether.formats.html import to_html

        data = to_html(doc).encode()
    else:
        from tether.formats.markdown import to_markdown

        data = to_markdown(doc).encode()
    if output is None:
        sys.stdout.buffer.write(data)
        return
    from tether.files import write_new

    try:
        write_new(output, data)
    except FileExistsError:
        fail(f"{output} exists already: choose another name (nothing was overwritten)")
    click.echo(f"wrote {output}", err=True)


@main.command(name="import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_(paths: tuple[Path, ...], as_json: bool) -> None:
    """Import session files or folders from anywhere.

    Native files of any supported tool (a Claude .jsonl, a Codex rollout, a Gemini
    session, a Copilot events.jsonl) or tether JSON exports. The raw bytes are archived,
    so the session stays even if the file goes away.
    """
    from tether.capture import scan_lock
    from tether.importer import import_paths
    from tether.paths import tether_home

    with archive() as db, scan_lock(tether_home(), wait=True):
        report = import_paths(db, list(paths))
        from tether.query import list_sessions_by_pk

        sessions = list_sessions_by_pk(db, report.sessions)
    if as_json:
        emit_json(
            {
                "sessions": sessions,
                "unrecognised": report.unrecognised,
                "failed": [p.__dict__ for p in report.scan.failed],
            }
        )
    else:
        from tether.render import print_sessions

        if sessions:
            print_sessions(sessions)
        for path in report.unrecognised:
            click.echo(f"tether: not a session file tether can read: {path}", err=True)
    line = report.scan.problem_line()
    if line:
        click.echo(line, err=True)
    if report.unrecognised or report.scan.failed:
        sys.exit(1)
    if not sessions:
        fail("no session files found in " + ", ".join(str(p) for p in paths))


@main.command()
def reindex() -> None:
    """Re-read every archived session from its raw bytes with today's readers.

    Use it after upgrading tether: sessions whose files the tools deleted long ago
    benefit from parser improvements too.
    """
    from tether.capture import scan_lock
    from tether.paths import tether_home
    from tether.reindex import reindex as run_reindex

    with archive() as db, scan_lock(tether_home(), wait=True):
        report = run_reindex(db)
    click.echo(f"re-read {report.sessions} session(s)", err=True)
    for problem in report.failed:
        click.echo(f"tether: could not re-read {problem.path}: {problem.message}", err=True)
    if report.failed:
        sys.exit(1)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the diagnosis as JSON.")
def doctor(as_json: bool) -> None:
    """Which stores were found where, what was skipped and why, index health."""
    from tether.doctor import diagnose
    from tether.paths import db_path, tether_home, user_home

    with archive() as db:
        result = diagnose(db, db_path(tether_home()), os.environ, user_home())
    if as_json:
        emit_json(result)
    else:
        from tether.render import print_doctor

        print_doctor(result)
    if result["health"]["database"] != "ok" or result["health"]["search_index"] != "ok":
        sys.exit(1)
