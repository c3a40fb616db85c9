"""Reading the archive a page at a time: a session's messages from a position with each
part cut to a size, one part whole, a search inside one session, counts and the projects.

For readers that must answer at once whatever a session's size (the web pages; anything
else that shows a session in bounded pieces): no query here reads a whole session.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

import orjson

from tether.archive.query import (
    BadQuery,
    Filters,
    NotFound,
    _quoted,
    _session_where,
    query_error,
)
from tether.archive.store import SESSION_COLUMNS, part_from_row, session_dict
from tether.formats.tether_json import part_json

PART_TEXT = 4096
"""Characters of a part's text a page shows; the rest is one click away."""
PAGE_TEXT = 262_144
"""Characters of text one page holds at most (it always holds one message)."""
PAGE_MESSAGES = 50


@dataclass
class MessagePage:
    """Messages of one session in order, from `start` (a seq), each part cut to a size."""

    messages: list[dict[str, Any]]
    total: int
    """Messages in the session."""
    position: int
    """How many messages come before the first of this page."""
    next_seq: int | None
    prev_seq: int | None
    last_seq: int | None
    """Where the last page starts."""
    first_seq: int | None = None
    cut: list[str] = field(default_factory=list)


def count_sessions(db: sqlite3.Connection, f: Filters) -> int:
    where, args = _session_where(f)
    if not f.include_empty:
        where.append("s.message_count > 0")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return int(db.execute(f"SELECT COUNT(*) FROM sessions s {clause}", args).fetchone()[0])


def facets(db: sqlite3.Connection) -> dict[str, list[tuple[str, int]]]:
    """The values the session filters can take, with how many sessions have each: tools,
    models and projects, most used first."""
    live = "WHERE message_count > 0"
    tools = db.execute(
        f"SELECT tool, COUNT(*) n FROM sessions {live} GROUP BY tool ORDER BY n DESC, tool"
    ).fetchall()
    models = db.execute(
        "SELECT j.value, COUNT(*) n FROM sessions s, json_each(s.models) j"
        " WHERE s.message_count > 0 AND s.models != '[]'"
        " GROUP BY j.value ORDER BY n DESC, j.value"
    ).fetchall()
    projects = db.execute(
        f"SELECT project, COUNT(*) n FROM sessions {live} AND project IS NOT NULL"
        " GROUP BY project ORDER BY n DESC, project"
    ).fetchall()
    return {"tools": tools, "models": models, "projects": projects}


def projects(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every project with its sessions per tool and when it was last worked on, newest
    first."""
    rows = db.execute(
        "SELECT project, tool, COUNT(*), MAX(updated_at), SUM(message_count) FROM sessions"
        " WHERE message_count > 0 AND project IS NOT NULL GROUP BY project, tool"
    ).fetchall()
    found: dict[str, dict[str, Any]] = {}
    for project, tool, count, updated, messages in rows:
        entry = found.setdefault(
            project,
            {"project": project, "sessions": 0, "messages": 0, "updated_at": None, "tools": {}},
        )
        entry["sessions"] += count
        entry["messages"] += messages or 0
        entry["tools"][tool] = count
        if updated and (entry["updated_at"] is None or updated > entry["updated_at"]):
            entry["updated_at"] = updated
    return sorted(found.values(), key=lambda e: e["updated_at"] or "", reverse=True)


def children(db: sqlite3.Connection, session_id: str) -> list[dict[str, Any]]:
    """Sessions forked from, or run as sub-agents of, this one (rows as `list` prints)."""
    rows = db.execute(
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE parent_id = ? ORDER BY created_at, pk",
        (session_id,),
    )
    return [session_dict(row) for row in rows]


def sessions_by_id(db: sqlite3.Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The rows of these sessions (those the archive has), by tether id."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return {}
    rows = db.execute(
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id IN ({','.join('?' * len(unique))})",
        unique,
    )
    return {row[1]: session_dict(row) for row in rows}


def message_page(
    db: sqlite3.Connection,
    session_pk: int,
    start: int | None,
    limit: int = PAGE_MESSAGES,
    part_text: int = PART_TEXT,
    page_text: int = PAGE_TEXT,
) -> MessagePage:
    """The messages from seq `start` (None: the first), at most `limit` and about
    `page_text` characters; each part's text cut to `part_text` characters (a cut part says
    its whole `size` and `cut: true`)."""
    total, first_seq = db.execute(
        "SELECT COUNT(*), MIN(seq) FROM messages WHERE session_pk = ?", (session_pk,)
    ).fetchone()
    if start is None or first_seq is None or start < first_seq:
        start = first_seq if first_seq is not None else 0
    rows = db.execute(
        "SELECT pk, seq, role, timestamp, model FROM messages"
        " WHERE session_pk = ? AND seq >= ? ORDER BY seq LIMIT ?",
        (session_pk, start, limit + 1),
    ).fetchall()
    parts = _parts(db, [row[0] for row in rows[:limit]], part_text)
    messages: list[dict[str, Any]] = []
    used = 0
    next_seq = rows[limit][1] if len(rows) > limit else None
    for pk, seq, role, timestamp, model in rows[:limit]:
        these = parts.get(pk, [])
        size = sum(_shown(part) for part in these)
        if messages and used + size > page_text:
            next_seq = seq
            break
        used += size
        messages.append(
            {"seq": seq, "role": role, "timestamp": timestamp, "model": model, "parts": these}
        )
    position = _before(db, session_pk, messages[0]["seq"] if messages else start)
    return MessagePage(
        messages=messages,
        total=total,
        position=position,
        next_seq=next_seq,
        prev_seq=_back(db, session_pk, messages[0]["seq"], limit) if position else None,
        last_seq=_last_start(db, session_pk, limit),
        first_seq=first_seq,
    )


def _before(db: sqlite3.Connection, session_pk: int, seq: int) -> int:
    return int(
        db.execute(
            "SELECT COUNT(*) FROM messages WHERE session_pk = ? AND seq < ?", (session_pk, seq)
        ).fetchone()[0]
    )


def _back(db: sqlite3.Connection, session_pk: int, seq: int, limit: int) -> int | None:
    """Where the page before the one starting at `seq` starts."""
    rows = db.execute(
        "SELECT seq FROM messages WHERE session_pk = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
        (session_pk, seq, limit),
    ).fetchall()
    return rows[-1][0] if rows else None


def _last_start(db: sqlite3.Connection, session_pk: int, limit: int) -> int | None:
    rows = db.execute(
        "SELECT seq FROM messages WHERE session_pk = ? ORDER BY seq DESC LIMIT ?",
        (session_pk, limit),
    ).fetchall()
    return rows[-1][0] if rows else None


def _shown(part: dict[str, Any]) -> int:
    text = part.get("text") or part.get("output") or ""
    return len(text) + len(part.get("input_text") or "")


_PART_SQL = (
    "SELECT p.message_pk, p.seq, p.kind, substr(p.text, 1, :cut), length(p.text),"
    " CASE WHEN p.kind = 'tool_call' AND length(p.data) <= :data THEN p.data END,"
    " json_extract(p.data, '$.name'), json_extract(p.data, '$.id'),"
    " json_extract(p.data, '$.call_id'), json_extract(p.data, '$.is_error'),"
    " json_extract(p.data, '$.media_type'), json_extract(p.data, '$.uri'),"
    " CASE WHEN length(json_extract(p.data, '$.data')) <= :data"
    " THEN json_extract(p.data, '$.data') END, length(json_extract(p.data, '$.data'))"
    " FROM parts p WHERE p.message_pk IN ({marks}) ORDER BY p.message_pk, p.seq"
)
DATA_LIMIT = 1 << 20
"""A tool call's input or an attachment's data larger than this is not read into a page."""


def _parts(
    db: sqlite3.Connection, message_pks: list[int], cut: int
) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    if not message_pks:
        return out
    params: dict[str, Any] = {"cut": cut, "data": DATA_LIMIT}
    named = {f"m{i}": pk for i, pk in enumerate(message_pks)}
    sql = _PART_SQL.format(marks=",".join(f":{key}" for key in named))
    for row in db.execute(sql, {**params, **named}):
        out.setdefault(row[0], []).append(_part(row, cut))
    return out


def _part(row: tuple[Any, ...], cut: int) -> dict[str, Any]:
    _, seq, kind, text, size, data, name, call, call_id, is_error, media, uri, blob, blob_size = row
    part: dict[str, Any] = {"index": seq, "type": kind, "size": size, "cut": size > cut}
    if kind in ("text", "reasoning"):
        part["text"] = text
    elif kind == "tool_call":
        part.update(id=call, name=name)
        if data is not None:
            part["input"] = orjson.loads(data).get("input")
            part["cut"] = False
        else:  # too large to read: its searchable text, cut, stands in for it
            part["input"] = None
            part["input_text"] = text
            part["cut"] = True
    elif kind == "tool_result":
        part.update(call_id=call_id, output=text, is_error=bool(is_error))
    else:
        part.update(
            media_type=media, name=text or None, uri=uri, data=blob, data_size=blob_size or 0
        )
        part["cut"] = blob is None and bool(blob_size)
    return part


def whole_part(db: sqlite3.Connection, session_pk: int, seq: int, index: int) -> dict[str, Any]:
    """One part of message `seq`, whole."""
    row = db.execute(
        "SELECT p.kind, p.text, p.data FROM parts p JOIN messages m ON m.pk = p.message_pk"
        " WHERE m.session_pk = ? AND m.seq = ? AND p.seq = ?",
        (session_pk, seq, index),
    ).fetchone()
    if row is None:
        raise NotFound(f"no part {index} in message {seq} of this session")
    part = part_json(part_from_row(*row))
    part.pop("native", None)
    return {"index": index, "size": len(row[1]), "cut": False, **part}


def search_session(
    db: sqlite3.Connection, session_pk: int, query: str, offset: int = 0, limit: int = 50
) -> list[dict[str, Any]]:
    """The parts of one session that match `query` (tether's search syntax), in the order
    they were captured, each with its message's seq and a snippet (the match between « and
    »)."""
    if not query.strip():
        raise BadQuery("the search query is empty")
    low, high = db.execute(
        "SELECT MIN(p.pk), MAX(p.pk) FROM messages m JOIN parts p ON p.message_pk = m.pk"
        " WHERE m.session_pk = ?",
        (session_pk,),
    ).fetchone()
    if low is None:
        return []
    # The session's parts lie between its smallest and largest part key: FTS5 walks only
    # that range, in key order, and stops at the limit (a common word in a 50 MB session
    # costs a page of hits, not all of them).
    sql = (
        "SELECT m.seq, m.role, m.timestamp, p.seq, p.kind,"
        " snippet(parts_fts, 0, '«', '»', '…', 16)"
        " FROM parts_fts JOIN parts p ON p.pk = parts_fts.rowid"
        " JOIN messages m ON m.pk = p.message_pk"
        " WHERE parts_fts MATCH ? AND parts_fts.rowid BETWEEN ? AND ? AND m.session_pk = ?"
        " ORDER BY parts_fts.rowid LIMIT ? OFFSET ?"
    )
    try:
        rows = db.execute(sql, (_quoted(query), low, high, session_pk, limit, offset)).fetchall()
    except sqlite3.OperationalError as exc:
        raise query_error(query, exc) from None
    hits = [
        {"seq": r[0], "role": r[1], "timestamp": r[2], "index": r[3], "kind": r[4], "snippet": r[5]}
        for r in rows
    ]
    return sorted(hits, key=lambda hit: (hit["seq"], hit["index"]))
