"""How much room the archive takes (by tool, project and age), and pruning old sessions
from it: explicit only, never automatic.

A session's room is its raw native bytes as the archive keeps them (compressed) and the
text of its parts (indexed for search); the database file also holds the index and
SQLite's own pages, which `storage` reports whole.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tether.archive import parttext

AGES = ((30, "under 30 days"), (90, "30-90 days"), (180, "90-180 days"), (365, "180-365 days"))
OLDEST = "over a year"
CHUNK = 400


@dataclass
class Room:
    pk: int
    id: str
    tool: str
    native_id: str
    project: str | None
    updated_at: str | None
    raw_bytes: int = 0
    text_bytes: int = 0

    @property
    def bytes(self) -> int:
        return self.raw_bytes + self.text_bytes


def sessions_room(
    db: sqlite3.Connection, where: str = "", args: tuple[Any, ...] = ()
) -> list[Room]:
    """Every session (of `where`, over `sessions s`) with the room it takes."""
    rooms = {
        pk: Room(pk, sid, tool, native_id, project, updated)
        for pk, sid, tool, native_id, project, updated in db.execute(
            "SELECT s.pk, s.id, s.tool, s.native_id, s.project, s.updated_at FROM sessions s"
            f" {where}",
            args,
        )
    }
    for pk, raw in db.execute(
        "SELECT src.session_pk, SUM(LENGTH(r.data)) FROM raw_chunks r"
        " JOIN sources src ON src.id = r.source_id WHERE src.session_pk IS NOT NULL"
        " GROUP BY src.session_pk"
    ):
        if pk in rooms:
            rooms[pk].raw_bytes = int(raw or 0)
    # The text's bytes as its rows say, without opening a block to count them: UTF-8, a few
    # per cent more where a based block keeps it escaped (tether.archive.parttext).
    for pk, text in db.execute(
        "SELECT m.session_pk, SUM(p.text_len + IFNULL(p.data_len, 0))"
        " FROM part_rows p JOIN messages m ON m.pk = p.message_pk GROUP BY m.session_pk"
    ):
        if pk in rooms:
            rooms[pk].text_bytes = int(text or 0)
    return list(rooms.values())


def age_of(updated_at: str | None, now: datetime) -> str:
    """Which age bucket a session's last update falls in."""
    try:
        when = datetime.fromisoformat((updated_at or "").replace("Z", "+00:00"))
    except ValueError:
        return OLDEST
    days = (now - (when if when.tzinfo else when.replace(tzinfo=UTC))).days
    return next((label for limit, label in AGES if days < limit), OLDEST)


def summary(rooms: list[Room], now: datetime, top: int = 20) -> dict[str, Any]:
    """Sessions and bytes by tool, by project (the `top` largest) and by age."""

    def grouped(key: Any) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for room in rooms:
            entry = out.setdefault(key(room), [0, 0])
            entry[0] += 1
            entry[1] += room.bytes
        return out

    def rows(groups: dict[str, list[int]], label: str) -> list[dict[str, Any]]:
        return [{label: k, "sessions": v[0], "bytes": v[1]} for k, v in groups.items()]

    by_tool = sorted(rows(grouped(lambda r: r.tool), "tool"), key=lambda r: -r["bytes"])
    by_project = sorted(
        rows(grouped(lambda r: r.project or ""), "project"), key=lambda r: -r["bytes"]
    )
    ages = grouped(lambda r: age_of(r.updated_at, now))
    order = [label for _, label in AGES] + [OLDEST]
    by_age = [{"age": a, "sessions": ages[a][0], "bytes": ages[a][1]} for a in order if a in ages]
    return {
        "sessions": len(rooms),
        "bytes": sum(r.bytes for r in rooms),
        "raw_bytes": sum(r.raw_bytes for r in rooms),
        "text_bytes": sum(r.text_bytes for r in rooms),
        "by_tool": by_tool,
        "by_project": by_project[:top],
        "by_age": by_age,
    }


def older_than(
    db: sqlite3.Connection, cutoff: str, tool: str | None, project: str | None
) -> list[Room]:
    """The sessions last updated before `cutoff` (ISO UTC), of `tool` and below `project`."""
    from tether.archive.query import like_prefix

    where = ["(s.updated_at < ? OR s.updated_at IS NULL)"]
    args: list[Any] = [cutoff]
    if tool:
        where.append("s.tool = ?")
        args.append(tool)
    if project:
        folder = project.rstrip("/") or "/"
        where.append("(s.project = ? OR s.project LIKE ? ESCAPE '\\')")
        args += [folder, like_prefix(folder.rstrip("/") + "/")]
    return sessions_room(db, "WHERE " + " AND ".join(where), tuple(args))


def prune(db: sqlite3.Connection, rooms: list[Room]) -> None:
    """Remove these sessions from the archive: their messages, parts and search index,
    their raw bytes and names. A source whose file its tool still keeps stays listed
    (without its bytes), so that scans do not read it again while it is unchanged."""
    for start in range(0, len(rooms), CHUNK):
        pks = [room.pk for room in rooms[start : start + CHUNK]]
        ids = [room.id for room in rooms[start : start + CHUNK]]
        marks = ",".join("?" * len(pks))
        in_messages = f"message_pk IN (SELECT pk FROM messages WHERE session_pk IN ({marks}))"
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "INSERT INTO parts_fts(parts_fts, rowid, text)"
                f" SELECT 'delete', pk, text FROM parts WHERE {in_messages}",
                pks,
            )
            db.execute(f"DELETE FROM part_rows WHERE {in_messages}", pks)
            db.execute(f"DELETE FROM messages WHERE session_pk IN ({marks})", pks)
            sources = f"SELECT id FROM sources WHERE session_pk IN ({marks})"
            for (source_id,) in db.execute(sources, pks).fetchall():
                parttext.drop_raw(db, source_id)
            db.execute(
                f"DELETE FROM sources WHERE session_pk IN ({marks}) AND missing_since IS NOT NULL",
                pks,
            )
            db.execute(f"UPDATE sources SET session_pk = NULL WHERE session_pk IN ({marks})", pks)
            db.execute(f"DELETE FROM names WHERE session_id IN ({marks})", ids)
            db.execute(f"DELETE FROM sessions WHERE pk IN ({marks})", pks)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def cutoff_of(age: str, now: datetime) -> str:
    """`180d`, `26w`, `6m` (30 days a month), `1y`: the instant that far before `now`."""
    from tether.errors import UsageError

    text = age.strip().lower()
    units = {"d": 1, "w": 7, "m": 30, "y": 365}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise UsageError(f"cannot read the age {age!r}: give days, weeks, months or years (180d)")
    when = now - timedelta(days=int(text[:-1]) * units[text[-1]])
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
