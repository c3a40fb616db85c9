"""`tether scan`, `import`, `reindex` and `doctor`: native files into the archive, and its
health."""

from __future__ import annotations

import os
from pathlib import Path

import click

from tether.commands.common import archive, emit_json, run_scan
from tether.errors import TetherError


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but problems.")
@click.option(
    "--if-idle",
    is_flag=True,
    hidden=True,
    help="Do nothing when another capture is running (the background scan answers start).",
)
def scan(as_json: bool, quiet: bool, if_idle: bool) -> None:
    """Capture every new or changed session from every tool found.

    Files already captured and unchanged cost one stat; a file that grew is read from
    where the last scan stopped. Exit code 1 when a file or line could not be read
    (`tether doctor` says which and why).
    """
    with archive() as db:
        report = run_scan(db, wait=not if_idle, show_progress=not (as_json or quiet))
    if as_json:
        emit_json(report.as_dict())
    elif not quiet:
        from tether.commands.render import print_scan

        print_scan(report)
    line = report.problem_line()
    if line:
        raise TetherError(line)


@click.command(name="import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_(paths: tuple[Path, ...], as_json: bool) -> None:
    """Import session files or folders from anywhere.

    Native files of any supported tool (a Claude .jsonl, a Codex rollout, a Gemini
    session, a Copilot events.jsonl) or tether JSON exports. The raw bytes are archived,
    so the session stays even if the file goes away.
    """
    from tether.capture.importer import import_paths
    from tether.capture.scan import scan_lock
    from tether.paths import tether_home

    with archive() as db, scan_lock(tether_home(), wait=True):
        report = import_paths(db, list(paths))
        from tether.archive.names import with_names
        from tether.archive.query import list_sessions_by_pk

        sessions = with_names(db, list_sessions_by_pk(db, report.sessions))
    if as_json:
        emit_json(
            {
                "sessions": sessions,
                "unrecognised": report.unrecognised,
                "failed": [p.__dict__ for p in report.scan.failed],
            }
        )
    elif sessions:
        from tether.commands.render import print_sessions

        print_sessions(sessions)
    problems = []
    if report.unrecognised:
        more = len(report.unrecognised) - 1
        problems.append(
            f"not a session file tether can read: {report.unrecognised[0]}"
            + (f" (and {more} more)" if more else "")
        )
    line = report.scan.problem_line()
    if line:
        problems.append(line)
    if problems:
        raise TetherError("; ".join(problems))
    if not sessions:
        raise TetherError("no session files found in " + ", ".join(str(p) for p in paths))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def reindex(as_json: bool) -> None:
    """Re-read every archived session from its raw bytes with today's readers.

    Use it after upgrading tether: sessions whose files the tools deleted long ago
    benefit from parser improvements too.
    """
    from tether.capture.reindex import reindex as run_reindex
    from tether.capture.scan import scan_lock
    from tether.paths import tether_home

    with archive() as db, scan_lock(tether_home(), wait=True):
        report = run_reindex(db)
    if as_json:
        emit_json(
            {
                "sessions": report.sessions,
                "skipped": report.skipped,
                "failed": [p.__dict__ for p in report.failed],
            }
        )
    else:
        click.echo(f"re-read {report.sessions} session(s)", err=True)
    if report.failed:
        first = report.failed[0]
        raise TetherError(
            f"could not re-read {len(report.failed)} file(s) (first: {first.path}: {first.message})"
        )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the diagnosis as JSON.")
@click.option(
    "--deep",
    is_flag=True,
    help="Also check the database file and the search index. This reads the whole archive"
    " (about 15 s a GB).",
)
def doctor(as_json: bool, deep: bool) -> None:
    """Which stores were found where, what was skipped and why; index health with --deep."""
    from tether.archive.doctor import diagnose
    from tether.commands.render import console
    from tether.paths import db_path, tether_home, user_home

    with archive() as db, console(stderr=True).status("looking at the stores…") as status:
        result = diagnose(
            db,
            db_path(tether_home()),
            os.environ,
            user_home(),
            deep,
            lambda what: status.update(f"{what}…"),
        )
    if as_json:
        emit_json(result)
    else:
        from tether.commands.render import print_doctor

        print_doctor(result)
    health = result["health"]
    if health["database"] not in (None, "ok") or health["search_index"] not in (None, "ok"):
        raise TetherError(
            f"the archive is damaged: database {health['database']},"
            f" search index {health['search_index']}"
        )
