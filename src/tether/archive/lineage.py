"""Lineage: which session continues which, and where a pulled session came from.

A session is never merged into another: resumed in another tool, on another machine or by a
teammate, the continuation is a session of its own, linked here to the one it continues
(`continues`) and, when it was pulled from a tether server, to who pushed it from where
(`pushed_by`: `user@device`).
"""

from __future__ import annotations

import sqlite3

TYPE_CHECKING = False
if TYPE_CHECKING:  # the quick `list` reads lineage: typing costs it a millisecond to import
    from typing import Any

HOWS = ("resume", "convert", "fork", "handoff")


def record(db: sqlite3.Connection, session_id: str, parent_id: str, how: str) -> None:
    """Session `session_id` continues `parent_id` (the first record of a session wins)."""
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    db.execute(
        "INSERT OR IGNORE INTO lineage (session_id, parent_id, how, created_at)"
        " VALUES (?, ?, ?, ?)",
        (session_id, parent_id, how, stamp),
    )


def of(db: sqlite3.Connection, session_id: str) -> dict[str, Any]:
    """What the archive knows of one session's lineage: `continues` (id, how),
    `continued_by` (ids and how, oldest first) and `pulled` (server, owner, device)."""
    row = db.execute(
        "SELECT parent_id, how FROM lineage WHERE session_id = ?", (session_id,)
    ).fetchone()
    children = db.execute(
        "SELECT session_id, how FROM lineage WHERE parent_id = ? ORDER BY created_at",
        (session_id,),
    ).fetchall()
    pulled = db.execute(
        "SELECT server, owner, device, git_remote FROM pulled WHERE session_id = ?",
        (session_id,),
    ).fetchone()
    return {
        "continues": {"id": row[0], "how": row[1]} if row else None,
        "continued_by": [{"id": child, "how": how} for child, how in children],
        "pulled": (
            {"server": pulled[0], "owner": pulled[1], "device": pulled[2], "git_remote": pulled[3]}
            if pulled
            else None
        ),
    }


def annotate(db: sqlite3.Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add `continues` (the tether id it continues, else None) and `pushed_by` (`user@device`
    of a pulled session, else None) to session rows as `list` prints them."""
    parents, pushers = links(db, [row["id"] for row in rows])
    for row in rows:
        row["continues"] = parents.get(row["id"])
        row["pushed_by"] = pushers.get(row["id"])
    return rows


def links(db: sqlite3.Connection, ids: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Of these sessions: the tether id each continues, and `user@device` of each pulled
    one (those with neither are left out)."""
    parents: dict[str, str] = {}
    pushers: dict[str, str] = {}
    for at in range(0, len(ids), 500):
        group = ids[at : at + 500]
        marks = ",".join("?" * len(group))
        parents.update(
            db.execute(
                f"SELECT session_id, parent_id FROM lineage WHERE session_id IN ({marks})", group
            ).fetchall()
        )
        for sid, owner, device in db.execute(
            f"SELECT session_id, owner, device FROM pulled WHERE session_id IN ({marks})", group
        ):
            pushers[sid] = f"{owner}@{device}" if device else owner
    return parents, pushers
