"""`tether summary`: what a session did, or what happened in a period across every tool,
from the recorded tool calls alone (no model is asked)."""

from __future__ import annotations

from typing import Any

import click

from tether.commands.common import archive, auto_scan, emit_json, here_root, tool_option
from tether.errors import UsageError

SHOWN = 10
"""Items of a list printed for a person; --json has them all."""


@click.command()
@click.argument("ident", metavar="[ID]", required=False)
@click.option("--today", is_flag=True, help="What happened today (since 00:00 UTC).")
@click.option("--since", metavar="DATE", help="What happened since DATE (2026-11-01, 3d, 12h).")
@click.option("--project", "-p", metavar="PATH", help="Only sessions in this folder or below.")
@click.option("--here", is_flag=True, help="Only sessions of this project (git root).")
@tool_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--no-scan", is_flag=True, help="Do not look for new sessions first.")
def summary(
    ident: str | None,
    today: bool,
    since: str | None,
    project: str | None,
    here: bool,
    tool: str | None,
    as_json: bool,
    no_scan: bool,
) -> None:
    """What a session did: files read, written and edited, commands and their exit codes,
    test runs and their results, packages installed, errors, duration and tokens.

    \b
      tether summary 3f9a2c            one session (any unique prefix, or the tool's own id)
      tether summary --today           every tool's sessions today, and their totals
      tether summary --since 3d --here this project's last three days

    Built from the tool calls each tool recorded (the same actions in every tool's
    words: Claude's Edit, Codex's apply_patch, Gemini's replace), never by asking a model.
    """
    period = today or since is not None
    if bool(ident) == period:
        raise UsageError("name one session (ID) or a period (--today, --since 3d)")
    if ident and (project or here or tool):
        raise UsageError("--project, --here and --tool choose sessions of a period, not of an ID")
    if today and since is not None:
        raise UsageError("give --today or --since, not both")
    result = _session(ident, no_scan) if ident else _period(since, project, here, tool, no_scan)
    if as_json:
        emit_json(result)
    elif ident:
        print_summary(result)
    else:
        print_period(result)


def _session(ident: str, no_scan: bool) -> dict[str, Any]:
    from tether.archive.lineage import annotate
    from tether.archive.names import with_names
    from tether.archive.query import find_session
    from tether.archive.store import iter_messages
    from tether.summary.session import summarize

    with archive() as db:
        auto_scan(db, no_scan)
        pk, info = find_session(db, ident)
        [info] = with_names(db, annotate(db, [info]))  # as `tether list` prints a session
        return summarize(info, (m for _, m in iter_messages(db, pk))).as_dict()


def _period(
    since: str | None, project: str | None, here: bool, tool: str | None, no_scan: bool
) -> dict[str, Any]:
    from tether.commands.common import to_filters
    from tether.summary.period import summarize_period

    filters = to_filters(tool, project, False, since or "today", -1)
    if here:
        filters.project = here_root()
    assert filters.since is not None
    with archive() as db:
        auto_scan(db, no_scan)
        return summarize_period(db, filters.since, filters.project, filters.tool)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def count(n: int) -> str:
    """12,345 -> 12.3k: token counts at a glance."""
    for size, unit in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def tokens_line(tokens: dict[str, int]) -> str:
    return (
        f"{count(tokens['total'])} tokens (input {count(tokens['input'])}, cache read "
        f"{count(tokens['cache_read'])}, cache write {count(tokens['cache_write'])}, "
        f"output {count(tokens['output'])})"
    )


def _listed(title: str, items: list[str]) -> None:
    if not items:
        return
    click.echo(f"{title} ({len(items)}):")
    for item in items[:SHOWN]:
        click.echo(f"  {item}")
    if len(items) > SHOWN:
        click.echo(f"  … and {len(items) - SHOWN} more (--json has them all)")


def _test_text(run: dict[str, Any]) -> str:
    counts = ", ".join(
        f"{run[key]} {key}" for key in ("passed", "failed", "skipped", "errors") if run[key]
    )
    return f"{run['outcome']:<7} {run['runner']}: {counts or 'no counts'}  $ {run['command']}"


def print_summary(result: dict[str, Any]) -> None:
    from tether.commands.render import short_path, when

    info, counts = result["session"], result["counts"]
    click.echo(f"{info['id'][:12]}  {info['tool']}  {info['title'] or ''}".rstrip())
    click.echo(f"  {short_path(info['project'])}  {when(result['started_at'])}".rstrip())
    click.echo(
        f"  {duration(result['duration_seconds'])}, {counts['user_messages']} prompts, "
        f"{counts['assistant_messages']} replies, {counts['tool_calls']} tool calls"
    )
    click.echo(f"  {tokens_line(result['tokens'])}")
    for how, title in (("edit", "Edited"), ("write", "Written"), ("delete", "Deleted")):
        _listed(title, result["files"][how])
    _listed("Read", result["files"]["read"])
    commands = result["commands"]
    failed = sum(c["failed"] for c in commands)
    _listed(
        f"Commands, {failed} failed" if failed else "Commands",
        [f"{_exit(c)}  {c['command'].splitlines()[0]}" for c in commands],
    )
    _listed("Test runs", [_test_text(run) for run in result["tests"]])
    _listed(
        "Packages installed",
        [
            f"{p['manager']}: {' '.join(p['packages']) or '(the project)'}"
            for p in result["packages"]
        ],
    )
    _listed("Errors", [f"{e['tool_call']}: {e['message']}" for e in result["errors"]])


def _exit(command: dict[str, Any]) -> str:
    code = command["exit_code"]
    mark = "✗" if command["failed"] else "✓" if code == 0 else " "
    return f"{mark} {'exit ' + str(code) if code is not None else '':<7}"


def print_period(result: dict[str, Any]) -> None:
    from tether.commands.render import print_table, short_path, when

    totals = result["totals"]
    where = f" in {short_path(result['project'])}" if result["project"] else ""
    click.echo(f"Since {when(result['since'])}{where}: {totals['sessions']} session(s)")
    if not totals["sessions"]:
        return
    tools = ", ".join(f"{tool} {n}" for tool, n in totals["by_tool"].items())
    tests = totals["tests"]
    click.echo(
        f"  {tools}; {duration(totals['duration_seconds'])} in all; "
        f"{totals['commands']} commands ({totals['failed_commands']} failed); "
        f"{tests['runs']} test runs ({tests['failed']} failed); {totals['errors']} errors"
    )
    click.echo(f"  {tokens_line(totals['tokens'])}")
    click.echo("")
    print_table(
        ["ID", "TOOL", "STARTED", "TIME", "EDITED", "CMDS", "TESTS", "TITLE"],
        [
            [
                s["id"][:12],
                s["tool"],
                when(s["started_at"]),
                duration(s["duration_seconds"]),
                str(s["files"]["edit"] + s["files"]["write"]),
                f"{s['commands']}"
                + (f" ({s['failed_commands']}✗)" if s["failed_commands"] else ""),
                f"{s['tests']['runs']}"
                + (f" ({s['tests']['failed']}✗)" if s["tests"]["failed"] else ""),
                s["title"] or "",
            ]
            for s in result["sessions"]
        ],
        right={3, 4},
        styles={0: "36"},
        fit=7,
    )
    click.echo("")
    _listed("Files changed", [*totals["files"]["edit"], *totals["files"]["write"]])
    _listed("Packages installed", totals["packages"])


def _failed(total: int, failed: int) -> str:
    return f"{total} ({failed}✗)" if failed else str(total)
