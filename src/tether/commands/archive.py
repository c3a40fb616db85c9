"""`tether list`, `show`, `search` and `export`: reading the archive."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from tether.commands.common import (
    archive,
    auto_scan,
    emit_json,
    fail,
    here_root,
    load_or_fail,
    resolve_since,
    resolve_tool,
    tool_option,
)


@click.command(name="list")
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
    from tether.archive.query import Filters, list_sessions

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
        from tether.commands.render import print_sessions

        print_sessions(rows)


@click.command()
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
        from tether.commands.render import print_session

        print_session(session_json, full=full)


def _load(ident: str, no_scan: bool) -> dict[str, Any]:
    from tether.formats.tether_json import session_json

    return session_json(load_or_fail(ident, no_scan))


@click.command()
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
    from tether.archive.query import BadQuery, Filters
    from tether.archive.query import search as run_search

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
        from tether.commands.render import print_hits

        print_hits(hits)


@click.command()
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
        from tether.redact import redact_doc

        doc = redact_doc(doc)
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
