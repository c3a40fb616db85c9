"""`tether list`, `show`, `search` and `export`: reading the archive."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tether.commands.common import archive, auto_scan, emit_json, named_session, session_filters

if TYPE_CHECKING:
    from tether.archive.query import Filters


@click.command(name="list")
@session_filters(limit=50, counted="sessions")
@click.option("--all", "-a", "show_all", is_flag=True, help="Also sessions with no messages.")
def list_(filters: Filters, show_all: bool, as_json: bool, no_scan: bool) -> None:
    """List captured sessions, most recently updated first, with their names
    (`tether alias`) and checkpoints (`tether checkpoint`)."""
    from tether.archive.names import with_names
    from tether.archive.query import list_sessions

    filters.include_empty = show_all
    with archive() as db:
        auto_scan(db, no_scan)
        rows = with_names(db, list_sessions(db, filters))
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
        from tether.archive import lineage
        from tether.commands.render import print_session

        with archive() as db:
            links = lineage.of(db, session_json["session"]["id"])
        print_session(session_json, full=full, links=links)


def _load(ident: str, no_scan: bool) -> dict[str, Any]:
    from tether.formats.tether_json import session_json

    return session_json(named_session(ident, no_scan))


@click.command()
@click.argument("query", nargs=-1, required=True)
@session_filters(limit=20, counted="hits")
@click.option(
    "--role",
    "-r",
    type=click.Choice(["user", "assistant", "system", "tool"]),
    help="Only messages of this role (tool: tool outputs).",
)
def search(
    query: tuple[str, ...], filters: Filters, role: str | None, as_json: bool, no_scan: bool
) -> None:
    """Full-text search over every message, tool call and tool output.

    \b
    Words match whole words, in any order:   tether search flaky test
    A phrase:                                tether search '"connection refused"'
    A prefix:                                tether search 'migrat*'
    Either / not:                            tether search redis OR memcached
    """
    from tether.archive.query import search as run_search

    filters.role = role
    with archive() as db:
        auto_scan(db, no_scan)
        hits = run_search(db, " ".join(query), filters)
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
    from tether.errors import ConflictError
    from tether.files import write_new

    try:
        write_new(output, data)
    except FileExistsError:
        raise ConflictError(
            f"{output} exists already: choose another name (nothing was overwritten)"
        ) from None
    click.echo(f"wrote {output}", err=True)
