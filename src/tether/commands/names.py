"""`tether alias` and `tether checkpoint`: names for sessions and for points in them, usable
wherever a session id is (show, export, resume, convert, fork, team files)."""

from __future__ import annotations

from typing import Any

import click

from tether.commands.common import archive, auto_scan, emit_json
from tether.errors import UsageError


@click.command()
@click.argument("ident", metavar="ID")
@click.argument("name", required=False)
@click.option("--clear", is_flag=True, help="Forget the alias ID (or every alias of session ID).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--no-scan", is_flag=True, help="Do not look for new sessions first.")
def alias(ident: str, name: str | None, clear: bool, as_json: bool, no_scan: bool) -> None:
    """Give session ID a NAME, usable wherever an id is; names are unique.

    \b
      tether alias 3f2a auth-refactor      then: tether resume auth-refactor
      tether alias auth-refactor --clear   forget the name (the session stays)
    """
    from tether.archive.names import Named, add, remove, remove_all
    from tether.archive.query import find_named

    with archive() as db:
        auto_scan(db, no_scan)
        _pk, row, named = find_named(db, ident)
        _one_of(name, clear)
        if clear:
            if named is not None and named.kind == "alias":
                removed = [named.name] if remove(db, named.name, "alias") else []
            else:
                removed = remove_all(db, row["id"], "alias")
            result = _result(None, "alias", row, removed=removed)
        else:
            assert name is not None
            add(db, Named(name, "alias", row["id"]))
            result = _result(name, "alias", row)
    _print(result, as_json)


@click.command()
@click.argument("ident", metavar="ID")
@click.argument("name", required=False)
@click.option("--clear", is_flag=True, help="Forget the checkpoint ID.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--no-scan", is_flag=True, help="Do not look for new sessions first.")
def checkpoint(ident: str, name: str | None, clear: bool, as_json: bool, no_scan: bool) -> None:
    """Name the point session ID is at now (its last message) NAME.

    `tether resume NAME [--in TOOL]` and `tether fork NAME` then continue from that point
    as a new native session, however far the session went on since.

    \b
      tether checkpoint 3f2a before-migration
      tether resume before-migration --in codex
      tether checkpoint before-migration --clear
    """
    from tether.archive.names import Named, add, fingerprint, remove
    from tether.archive.query import find_named
    from tether.archive.store import load_session

    with archive() as db:
        auto_scan(db, no_scan)
        pk, row, named = find_named(db, ident)
        _one_of(name, clear)
        if clear:
            if named is None or remove(db, named.name, "checkpoint") is None:
                raise UsageError(f"{ident!r} is no checkpoint: `tether list` shows them")
            result = _result(None, "checkpoint", row, removed=[named.name])
        else:
            assert name is not None
            session = load_session(db, pk)
            if not session.messages:
                raise UsageError(f"session {row['id'][:12]} has no message to name a point at")
            last = session.messages[-1]
            point = Named(name, "checkpoint", row["id"], len(session.messages), fingerprint(last))
            add(db, point)
            result = _result(name, "checkpoint", row, messages=len(session.messages))
            result["timestamp"] = last.timestamp
    _print(result, as_json)


def _one_of(name: str | None, clear: bool) -> None:
    if clear == (name is not None):
        raise UsageError("give a NAME to set, or --clear to forget one (not both)")


def _result(
    name: str | None,
    kind: str,
    row: dict[str, Any],
    removed: list[str] | None = None,
    messages: int | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind,
        "session": {"id": row["id"], "tool": row["tool"], "native_id": row["native_id"]},
        "messages": messages,
        "timestamp": None,
        "removed": removed or [],
    }


def _print(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(result)
        return
    session = result["session"]
    where = f"{session['tool']} session {session['id'][:12]} ({session['native_id']})"
    if result["name"] is None:
        gone = ", ".join(result["removed"]) or "nothing"
        click.echo(f"forgot {gone} ({where})")
    elif result["kind"] == "alias":
        click.echo(f"{result['name']}: {where}")
    else:
        click.echo(f"{result['name']}: {where} at message {result['messages']}")
