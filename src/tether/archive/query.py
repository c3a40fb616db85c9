"""Reading the archive: list sessions, find one by any id, full-text search."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tether.archive.lineage import annotate
from tether.archive.names import lookup
from tether.archive.store import SESSION_COLUMNS, session_dict
from tether.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    from tether.archive.names import Named


class NotFound(NotFoundError, LookupError):
    pass


class Ambiguous(UsageError, LookupError):
    pass


class BadQuery(UsageError, ValueError):
    pass


@dataclass
class Filters:
    tool: str | None = None
    project: str | None = None
    since: str | None = None
    role: str | None = None
    limit: int = 50
    include_empty: bool = False
    """List sessions with no user, assistant or tool message too (stubs, aborted starts)."""
    offset: int = 0
    """Skip this many results first (the pages of `tether web`)."""
    model: str | None = None
    """Only sessions in which this model answered."""
    until: str | None = None
    """Sessions updated before this time (ISO 8601, exclusive)."""
    newest: int | None = None
    """Search without other filters: rank only the newest this many places the words
    appear (ranking every place a word in every session appears takes seconds)."""


def like_prefix(text: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') matching strings that start with `text`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _session_where(f: Filters, alias: str = "s") -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    if f.tool:
        where.append(f"{alias}.tool = ?")
        args.append(f.tool)
    if f.project:
        project = f.project.rstrip("/") or "/"
        where.append(f"({alias}.project = ? OR {alias}.project LIKE ? ESCAPE '\\')")
        args += [project, like_prefix(project.rstrip("/") + "/")]
    if f.since:
        where.append(f"{alias}.updated_at >= ?")
        args.append(f.since)
    if f.until:
        where.append(f"{alias}.updated_at < ?")
        args.append(f.until)
    if f.model:  # LIKE first: it rules out most sessions without parsing their JSON
        where.append(
            f"{alias}.models LIKE ? ESCAPE '\\'"
            f" AND EXISTS (SELECT 1 FROM json_each({alias}.models) WHERE value = ?)"
        )
        args += ["%" + like_prefix(f'"{f.model}"')[:-1] + "%", f.model]
    return where, args


def session_conditions(f: Filters, alias: str = "s") -> tuple[list[str], list[Any]]:
    """The SQL conditions (joined with AND) and their arguments that pick the sessions of
    `f` (tool, project, since) from the sessions table under `alias`."""
    return _session_where(f, alias)


def list_sessions(db: sqlite3.Connection, f: Filters) -> list[dict[str, Any]]:
    where, args = _session_where(f)
    if not f.include_empty:
        where.append("s.message_count > 0")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = db.execute(
        f"SELECT {SESSION_COLUMNS} FROM sessions s {clause}"
        " ORDER BY s.updated_at DESC NULLS LAST, s.pk DESC LIMIT ? OFFSET ?",
        (*args, f.limit, f.offset),
    )
    return annotate(db, [session_dict(r) for r in rows])


def find_session(db: sqlite3.Connection, ident: str) -> tuple[int, dict[str, Any]]:
    """A session by tether id, a name (an alias, or a checkpoint's session), a unique
    prefix of its tether id, or the tool's own session id."""
    pk, row, _ = find_named(db, ident)
    return pk, row


def find_named(db: sqlite3.Connection, ident: str) -> tuple[int, dict[str, Any], Named | None]:
    """find_session, and the name `ident` is when it is one (a checkpoint names a point)."""
    ident = ident.strip()
    if not ident:
        raise UsageError("give a session id")
    named = lookup(db, ident) if len(ident) < 64 else None
    if named is not None:
        row = db.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", (named.session_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"{ident!r} names a session that is no longer in the archive")
        return row[0], session_dict(row), named
    pk, row = _find_by_id(db, ident)
    return pk, row, None


def _find_by_id(db: sqlite3.Connection, ident: str) -> tuple[int, dict[str, Any]]:
    rows = db.execute(
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ? OR native_id = ?", (ident, ident)
    ).fetchall()
    if not rows and re.fullmatch(r"[0-9a-fA-F]{4,64}", ident):
        rows = db.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id >= ? AND id < ? LIMIT 10",
            (ident.lower(), ident.lower() + "g"),
        ).fetchall()
    if not rows:
        rows = db.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE native_id LIKE ? ESCAPE '\\' LIMIT 10",
            (like_prefix(ident),),
        ).fetchall()
    if not rows:
        raise NotFound(f"no session matches {ident!r}: see `tether list`")
    if len(rows) > 1:
        ids = ", ".join(f"{r[1][:12]} ({r[2]} {r[3]})" for r in rows[:5])
        raise Ambiguous(f"{ident!r} matches {len(rows)} sessions: {ids}; give more characters")
    return rows[0][0], session_dict(rows[0])


_TOKEN = re.compile(r'"[^"]*"|\S+')
_OPERATORS = {"AND", "OR", "NOT", "NEAR"}


def _quoted(query: str) -> str:
    """Each word as an FTS5 string: `file.py`, `foo-bar` and `C++` search as typed."""
    out = []
    for token in _TOKEN.findall(query):
        if token in _OPERATORS:
            out.append(token)
            continue
        star = token.endswith("*") and len(token) > 1
        word = token[:-1] if star else token
        if word.startswith('"') and word.endswith('"') and len(word) >= 2:
            word = word[1:-1]
        out.append('"' + word.replace('"', '""') + '"' + ("*" if star else ""))
    return " ".join(out)


def query_error(query: str, exc: sqlite3.OperationalError) -> Exception:
    """What FTS5 said about `query`, as a BadQuery that points at the syntax; the error
    itself when it is the archive's trouble, not the query's."""
    if exc.sqlite_errorcode != sqlite3.SQLITE_ERROR:
        return exc
    return BadQuery(
        f"cannot search for {query!r}: {exc}. Words are matched whole; use word* for a"
        ' prefix, "two words" for a phrase, and AND / OR / NOT between words.'
    )


def search(db: sqlite3.Connection, query: str, f: Filters) -> list[dict[str, Any]]:
    """Parts matching an FTS5 query, best first, with their session and message."""
    if not query.strip():
        raise BadQuery("the search query is empty")
    where, args = _session_where(f)
    if f.role:
        where.append("m.role = ?")
        args.append(f.role)
    extra = f" AND {' AND '.join(where)}" if where else ""
    sql = (
        "SELECT s.id, s.tool, s.native_id, s.project, s.title, s.first_prompt, s.created_at,"
        " s.updated_at, s.message_count, s.models, m.seq, m.role, m.timestamp, p.kind,"
        " snippet(parts_fts, 0, '«', '»', '…', 16)"
        " FROM parts_fts JOIN parts p ON p.pk = parts_fts.rowid"
        " JOIN messages m ON m.pk = p.message_pk JOIN sessions s ON s.pk = m.session_pk"
        f" WHERE parts_fts MATCH ?{extra} ORDER BY parts_fts.rank LIMIT ? OFFSET ?"
    )
    try:
        if f.newest and not where:
            rows = _newest_best(db, sql, _quoted(query), f)
        else:
            rows = db.execute(sql, (_quoted(query), *args, f.limit, f.offset)).fetchall()
    except sqlite3.OperationalError as exc:
        raise query_error(query, exc) from None
    import orjson

    return [
        {
            "id": r[0],
            "session_id": r[0],
            "tool": r[1],
            "native_id": r[2],
            "project": r[3],
            "title": r[4] or r[5],
            "created_at": r[6],
            "updated_at": r[7],
            "message_count": r[8],
            "models": orjson.loads(r[9]) if r[9] else [],
            "message_id": f"{r[0]}:{r[10]}",
            "role": r[11],
            "timestamp": r[12],
            "kind": r[13],
            "snippet": r[14],
        }
        for r in rows
    ]


def _newest_best(db: sqlite3.Connection, sql: str, match: str, f: Filters) -> list[Any]:
    """`sql`'s rows for the best-ranked of the newest `f.newest` matching parts: the ranking
    runs over that many, and the snippets and joins over one page."""
    best = [
        row[0]
        for row in db.execute(
            "SELECT hit FROM (SELECT rowid AS hit, rank AS score FROM parts_fts"
            " WHERE parts_fts MATCH ? ORDER BY rowid DESC LIMIT ?) ORDER BY score LIMIT ? OFFSET ?",
            (match, f.newest, f.limit, f.offset),
        )
    ]
    if not best:
        return []
    marks = ",".join("?" * len(best))
    page = sql.replace(
        " ORDER BY parts_fts.rank LIMIT ? OFFSET ?", f" AND parts_fts.rowid IN ({marks})"
    )
    page = page.replace(" FROM parts_fts JOIN", ", parts_fts.rowid FROM parts_fts JOIN", 1)
    found = db.execute(page, (match, *best)).fetchall()
    order = {hit: at for at, hit in enumerate(best)}
    return [row[:-1] for row in sorted(found, key=lambda row: order[row[-1]])]


def capped(db: sqlite3.Connection, query: str, newest: int) -> bool:
    """Whether `query` matches more than `newest` parts (a search with Filters.newest then
    ranked only the newest of them)."""
    (count,) = db.execute(
        "SELECT COUNT(*) FROM (SELECT 1 FROM parts_fts WHERE parts_fts MATCH ? LIMIT ?)",
        (_quoted(query), newest + 1),
    ).fetchone()
    return bool(count > newest)


def list_sessions_by_pk(db: sqlite3.Connection, pks: list[int]) -> list[dict[str, Any]]:
    unique = list(dict.fromkeys(pks))
    rows = {
        r[0]: session_dict(r)
        for r in db.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE pk IN ({','.join('?' * len(unique))})",
            unique,
        )
    }
    return annotate(db, [rows[pk] for pk in unique if pk in rows])
