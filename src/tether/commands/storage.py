"""`tether storage` and `tether prune`: the room the archive takes, and removing old
sessions from it (explicit only: tether never prunes by itself)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from tether.commands.common import archive, emit_json, resolve_tool
from tether.commands.render import print_table

if TYPE_CHECKING:
    import sqlite3


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def storage(as_json: bool) -> None:
    """How much room the archive takes, by tool, project and age.

    A session's room is its raw native bytes (compressed) and the text of its messages;
    the archive's file also holds the search index. `tether prune` removes old sessions.
    """
    from tether.archive.room import sessions_room, summary
    from tether.paths import db_path, tether_home

    path = db_path(tether_home())
    with archive() as db:
        rooms = sessions_room(db)
    result: dict[str, Any] = {
        "archive": {"path": str(path), "bytes": path.stat().st_size if path.exists() else 0},
        **summary(rooms, datetime.now(UTC)),
    }
    if as_json:
        emit_json(result)
        return
    click.echo(
        f"{result['archive']['path']}: {_size(result['archive']['bytes'])} on disk;"
        f" {result['sessions']} sessions hold {_size(result['bytes'])}"
        f" (raw {_size(result['raw_bytes'])}, text {_size(result['text_bytes'])})"
    )
    for label, key in (("TOOL", "by_tool"), ("PROJECT", "by_project"), ("AGE", "by_age")):
        field = label.lower()
        click.echo("")
        print_table(
            [label, "SESSIONS", "SIZE"],
            [
                [row[field] or "(none)", str(row["sessions"]), _size(row["bytes"])]
                for row in result[key]
            ],
            right={1, 2},
        )


@click.command()
@click.option(
    "--older-than",
    "age",
    required=True,
    metavar="AGE",
    help="Sessions last updated longer ago than this (180d, 26w, 6m, 1y).",
)
@click.option("--tool", "-t", metavar="TOOL", help="Only this tool's sessions.")
@click.option("--project", "-p", metavar="PATH", help="Only sessions in this folder or below.")
@click.option("--dry-run", is_flag=True, help="Say what would go, and remove nothing.")
@click.option("--vacuum", is_flag=True, help="Then shrink the archive's file (takes a while).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def prune(
    age: str, tool: str | None, project: str | None, dry_run: bool, vacuum: bool, as_json: bool
) -> None:
    """Remove sessions older than AGE from the archive (never automatic).

    Their messages, search index, raw bytes and names go; the tools' own files are not
    touched. A session whose file its tool still keeps is not captured again while that
    file is unchanged. Says what it removes and how much room that frees.

    \b
      tether prune --older-than 180d --dry-run
      tether prune --older-than 1y --tool claude
    """
    from pathlib import Path

    from tether.archive.room import cutoff_of, older_than, summary
    from tether.archive.room import prune as remove
    from tether.capture.scan import scan_lock
    from tether.paths import db_path, tether_home

    now = datetime.now(UTC)
    cutoff = cutoff_of(age, now)
    folder = str(Path(project).expanduser().absolute()) if project else None
    with archive() as db, scan_lock(tether_home(), wait=True):
        rooms = older_than(db, cutoff, resolve_tool(tool), folder)
        if not dry_run and rooms:
            remove(db, rooms)
        # Free pages are shrunk away even when nothing was pruned now: what an earlier prune,
        # a reindex or an upgrade of the archive left.
        vacuumed = vacuum and not dry_run and _free_pages(db) > 0
        if vacuumed:
            db.execute("VACUUM")
    freed = summary(rooms, now)
    result = {
        "dry_run": dry_run,
        "cutoff": cutoff,
        "sessions": len(rooms),
        "bytes": freed["bytes"],
        "by_tool": freed["by_tool"],
        "removed": [
            {
                "id": r.id,
                "tool": r.tool,
                "native_id": r.native_id,
                "project": r.project,
                "updated_at": r.updated_at,
                "bytes": r.bytes,
            }
            for r in rooms
        ],
        "vacuumed": vacuumed,
    }
    if as_json:
        emit_json(result)
        return
    verb = "would remove" if dry_run else "removed"
    tools = ", ".join(f"{t['tool']} {t['sessions']}" for t in freed["by_tool"]) or "none"
    click.echo(
        f"{verb} {len(rooms)} sessions last updated before {cutoff[:10]} ({tools}),"
        f" freeing {_size(freed['bytes'])}"
        + ("" if dry_run or vacuum or not rooms else "; the file keeps its size until --vacuum")
        + (
            f"; vacuumed: the archive's file is now {_size(db_path(tether_home()).stat().st_size)}"
            if vacuumed
            else ""
        )
    )


def _free_pages(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA freelist_count").fetchone()[0])
