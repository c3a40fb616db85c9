"""`tether secrets scan`: which secrets the archive holds, by rule and where, never what.

The same detector redacts exports and conversions (tether.redact), so a finding here is
what `export` and `convert` would replace with `[REDACTED:<rule>]`.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import click

from tether.commands.common import archive, auto_scan, emit_json
from tether.errors import UsageError

_PLACE = re.compile(r"messages\[(\d+)\]\.(?:parts\[(\d+)\]\.)?(.*)")


@click.group()
def secrets() -> None:
    """Find the secrets in captured sessions (exports and conversions redact them)."""


@secrets.command()
@click.argument("ident", metavar="[ID]", required=False)
@click.option("--all", "-a", "every", is_flag=True, help="Scan every captured session.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--no-scan", is_flag=True, help="Do not look for new sessions first.")
def scan(ident: str | None, every: bool, as_json: bool, no_scan: bool) -> None:
    """Per rule, how many secrets and where: session, message, part and field.

    The secrets themselves are never printed. ID is any unique prefix of a tether id,
    or the tool's own session id; --all scans the whole archive.
    """
    if bool(ident) == every:
        raise UsageError("name one session (ID) or pass --all")
    findings, scanned = _scan(ident, no_scan)
    rules = Counter(f["rule"] for f in findings)
    result = {
        "sessions_scanned": scanned,
        "total": len(findings),
        "rules": dict(sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))),
        "findings": findings,
    }
    if as_json:
        emit_json(result)
    else:
        _print(result)


def _scan(ident: str | None, no_scan: bool) -> tuple[list[dict[str, Any]], int]:
    from tether.archive.query import Filters, find_session, list_sessions
    from tether.archive.store import load_session
    from tether.formats.tether_json import session_json
    from tether.redact import scan_doc

    findings: list[dict[str, Any]] = []
    with archive() as db:
        auto_scan(db, no_scan)
        if ident:
            pks = [find_session(db, ident)[0]]
        else:
            rows = list_sessions(db, Filters(limit=-1, include_empty=True))
            pks = [find_session(db, row["id"])[0] for row in rows]
        for pk in pks:
            doc = session_json(load_session(db, pk))
            findings += [_where(doc, found.rule, found.path) for found in scan_doc(doc)]
    return findings, len(pks)


def _where(doc: dict[str, Any], rule: str, path: str) -> dict[str, Any]:
    info = doc["session"]
    out: dict[str, Any] = {
        "rule": rule,
        "session_id": info["id"],
        "tool": info["tool"],
        "native_id": info["native_id"],
        "message": None,
        "part": None,
        "part_kind": None,
        "field": path,
    }
    place = _PLACE.fullmatch(path)
    if place:
        message, part, field = place.groups()
        out["message"] = int(message)
        out["field"] = field
        if part is not None:
            out["part"] = int(part)
            out["part_kind"] = doc["messages"][int(message)]["parts"][int(part)]["type"]
    return out


def _print(result: dict[str, Any]) -> None:
    scanned, total = result["sessions_scanned"], result["total"]
    click.echo(f"{total} secret(s) in {scanned} session(s)")
    if not total:
        return
    for rule, count in result["rules"].items():
        click.echo(f"  {count:>5}  {rule}")
    click.echo("")
    for f in result["findings"]:
        where = "session" if f["message"] is None else f"message {f['message']}"
        if f["part"] is not None:
            where += f", part {f['part']} ({f['part_kind']})"
        click.echo(f"{f['session_id'][:12]}  {f['rule']:<24}  {where}: {f['field']}")
