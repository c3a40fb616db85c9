"""Names a user gives sessions: an alias names a session, a checkpoint a point in one (its
last message when it was set). Both share one namespace: a name is unique, and stands
wherever a session id does (tether.archive.query.find_named).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, replace
from typing import Any, Literal

from tether.archive.rows import names_of
from tether.errors import ConflictError, UsageError
from tether.model import Message, Session

Kind = Literal["alias", "checkpoint"]
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,63}")
HEX_RE = re.compile(r"[0-9a-fA-F]+")


class BadName(UsageError, ValueError):
    """A name that could not stand for a session (its shape, or it reads as an id)."""


class NameTaken(ConflictError):
    """The name is another session's already."""


class CheckpointGone(ConflictError):
    """The session no longer has the point a checkpoint names (it was rewound or re-read)."""


@dataclass(frozen=True)
class Named:
    name: str
    kind: Kind
    session_id: str
    messages: int | None = None
    """A checkpoint: how many of the session's messages it keeps."""
    last_message: str | None = None
    created_at: str | None = None


def check_name(db: sqlite3.Connection, name: str) -> str:
    """`name` when it can name a session: a letter, then letters, digits, `.`, `_` or `-`
    (at most 64), not all hex digits (an id prefix) and no session's own id."""
    if not NAME_RE.fullmatch(name):
        raise BadName(
            f"bad name {name!r}: start with a letter, then letters, digits, '.', '_' or '-'"
            " (at most 64)"
        )
    if HEX_RE.fullmatch(name):
        raise BadName(f"{name!r} reads as a session id prefix: add a letter beyond a-f")
    if db.execute("SELECT 1 FROM sessions WHERE native_id = ?", (name,)).fetchone():
        raise BadName(f"{name!r} is a session's own id already")
    return name


def lookup(db: sqlite3.Connection, name: str) -> Named | None:
    row = db.execute(
        "SELECT name, kind, session_id, messages, last_message, created_at FROM names"
        " WHERE name = ?",
        (name,),
    ).fetchone()
    return Named(*row) if row else None


def add(db: sqlite3.Connection, named: Named) -> Named:
    """Record `named`; NameTaken when the name is another session's or point's already
    (giving a session the alias it has is no change)."""
    check_name(db, named.name)
    existing = lookup(db, named.name)
    if existing is not None:
        if existing.kind == named.kind == "alias" and existing.session_id == named.session_id:
            return existing
        raise NameTaken(
            f"{named.name!r} names another {existing.kind} already: "
            f"`tether alias {named.name} --clear` frees it"
        )
    db.execute(
        "INSERT INTO names (name, session_id, kind, messages, last_message, created_at)"
        " VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        (named.name, named.session_id, named.kind, named.messages, named.last_message),
    )
    found = lookup(db, named.name)
    assert found is not None
    return found


def remove(db: sqlite3.Connection, name: str, kind: Kind) -> Named | None:
    """Forget the name of this kind; what it was, or None when there was none."""
    found = lookup(db, name)
    if found is None or found.kind != kind:
        return None
    db.execute("DELETE FROM names WHERE name = ?", (name,))
    return found


def remove_all(db: sqlite3.Connection, session_id: str, kind: Kind) -> list[str]:
    """Forget every name of this kind the session has; the names."""
    gone = [
        row[0]
        for row in db.execute(
            "SELECT name FROM names WHERE session_id = ? AND kind = ? ORDER BY name",
            (session_id, kind),
        )
    ]
    db.execute("DELETE FROM names WHERE session_id = ? AND kind = ?", (session_id, kind))
    return gone


def with_names(db: sqlite3.Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Session rows (as `tether list` prints them) with their `names` and `checkpoints`."""
    named = names_of(db, [row["id"] for row in rows])
    for row in rows:
        row.update(named.get(row["id"], {"names": [], "checkpoints": []}))
    return rows


def every_name(db: sqlite3.Connection) -> list[Named]:
    return [
        Named(*row)
        for row in db.execute(
            "SELECT name, kind, session_id, messages, last_message, created_at FROM names"
            " ORDER BY name"
        )
    ]


def fingerprint(message: Message) -> str:
    """What a checkpoint remembers of its last message, to know it again."""
    return f"{message.role}|{message.timestamp or ''}|{message.native_id or ''}"


def at_checkpoint(session: Session, named: Named) -> Session:
    """The session as it was at the checkpoint: its first `messages` messages."""
    count = named.messages or 0
    kept = session.messages[:count]
    if len(kept) < count or (kept and fingerprint(kept[-1]) != named.last_message):
        raise CheckpointGone(
            f"session {session.id[:12]} no longer has the point checkpoint {named.name!r}"
            " names (the tool rewound or rewrote it)"
        )
    stamp = kept[-1].timestamp if kept else session.created_at
    native = {**session.native, "checkpoint": named.name}
    return replace(session, messages=kept, updated_at=stamp, native=native)
