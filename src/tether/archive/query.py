"""Reading the archive: list sessions, find one by any id, full-text search.

Cheap to import (no dataclasses, re or orjson at import time): `list`, `show` and `search`
answer through here without loading more than sqlite3 (tether.commands.quick).
"""

from __future__ import annotations

import sqlite3

from tether.archive.rows import SESSION_COLUMNS, session_dict
from tether.errors import NotFoundError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs an answer a millisecond to import
    from typing import Any

    from tether.archive.names import Named


class NotFound(NotFoundError, LookupError):
    pass


class Ambiguous(UsageError, LookupError):
    pass


class BadQuery(UsageError, ValueError):
    pass


class Filters:
    """Which sessions (or hits) a query wants. A plain class, not a dataclass: importing
    dataclasses costs a `list` answer as much as the rest of it."""

    __slots__ = (
        "include_empty",
        "limit",
        "model",
        "newest",
        "offset",
        "project",
        "role",
        "since",
        "tool",
        "until",
    )

    def __init__(
        self,
        tool: str | None = None,
        project: str | None = None,
        since: str | None = None,
        role: str | None = None,
        limit: int = 50,
        include_empty: bool = False,
        offset: int = 0,
        model: str | None = None,
        until: str | None = None,
        newest: int | None = None,
    ) -> None:
        self.tool = tool
        self.project = project
        self.since = since
        self.role = role
        self.limit = limit
        self.include_empty = include_empty
        """List sessions with no user, assistant or tool message too (stubs, aborted
        starts)."""
        self.offset = offset
        """Skip this many results first (the pages of `tether web`)."""
        self.model = model
        """Only sessions in which this model answered."""
        self.until = until
        """Sessions updated before this time (ISO 8601, exclusive)."""
        self.newest = newest
        """Search without other filters: rank only the newest this many places the words
        appear (ranking every place a word in every session appears takes seconds)."""

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Filters({values})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Filters):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was


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
    from tether.archive.lineage import annotate

    return annotate(db, [session_dict(r) for r in session_rows(db, f)])


def session_rows(db: sqlite3.Connection, f: Filters) -> list[tuple[Any, ...]]:
    """The sessions rows (SESSION_COLUMNS) `list` shows, most recently updated first."""
    where, args = _session_where(f)
    if not f.include_empty:
        where.append("s.message_count > 0")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return db.execute(
        f"SELECT {SESSION_COLUMNS} FROM sessions s {clause}"
        " ORDER BY s.updated_at DESC NULLS LAST, s.pk DESC LIMIT ? OFFSET ?",
        (*args, f.limit, f.offset),
    ).fetchall()


def find_session(db: sqlite3.Connection, ident: str) -> tuple[int, dict[str, Any]]:
    """A session by tether id, a name (an alias, or a checkpoint's session), a unique
    prefix of its tether id, or the tool's own session id."""
    pk, row, _ = find_named(db, ident)
    return pk, row


def find_named(db: sqlite3.Connection, ident: str) -> tuple[int, dict[str, Any], Named | None]:
    """find_session, and the name `ident` is when it is one (a checkpoint names a point)."""
    row, kind = find_session_row(db, ident)
    named = None
    if kind is not None:
        from tether.archive.names import lookup

        named = lookup(db, ident.strip())
    return row[0], session_dict(row), named


def find_session_row(db: sqlite3.Connection, ident: str) -> tuple[tuple[Any, ...], str | None]:
    """The sessions row (SESSION_COLUMNS) of find_session's session, and the kind of name
    (alias, checkpoint) `ident` is, None when it is an id. Without tether.archive.names,
    which the quick answers do not load."""
    ident = ident.strip()
    if not ident:
        raise UsageError("give a session id")
    named = (
        db.execute("SELECT kind, session_id FROM names WHERE name = ?", (ident,)).fetchone()
        if len(ident) < 64
        else None
    )
    if named is not None:
        row = db.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", (named[1],)
        ).fetchone()
        if row is None:
            raise NotFound(f"{ident!r} names a session that is no longer in the archive")
        return row, named[0]
    return _find_by_id(db, ident), None


def _find_by_id(db: sqlite3.Connection, ident: str) -> tuple[Any, ...]:
    rows = db.execute(
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ? OR native_id = ?", (ident, ident)
    ).fetchall()
    if not rows and 4 <= len(ident) <= 64 and all(c in HEX for c in ident):
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
    found: tuple[Any, ...] = rows[0]
    return found


HEX = frozenset("0123456789abcdefABCDEF")
_OPERATORS = {"AND", "OR", "NOT", "NEAR"}


def _tokens(query: str) -> list[str]:
    """The query's words: a "quoted phrase" (up to the next quote) or a run of non-space
    characters, as the regular expression `"[^"]*"|\\S+` finds them (re costs a search
    more to import than the rest of its answer)."""
    out = []
    at, end = 0, len(query)
    while at < end:
        if query[at].isspace():
            at += 1
            continue
        close = query.find('"', at + 1) if query[at] == '"' else -1
        if close >= 0:
            out.append(query[at : close + 1])
            at = close + 1
            continue
        stop = at
        while stop < end and not query[stop].isspace():
            stop += 1
        out.append(query[at:stop])
        at = stop
    return out


def _quoted(query: str) -> str:
    """Each word as an FTS5 string: `file.py`, `foo-bar` and `C++` search as typed."""
    out = []
    for token in _tokens(query):
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
    return [hit_dict(r) for r in search_rows(db, query, f)]


def hit_dict(r: tuple[Any, ...]) -> dict[str, Any]:
    """A row of search_rows as the JSON contract's hit."""
    import orjson

    return {
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


BEST_FIRST = "bm25(parts_fts), parts_fts.rowid"
"""Hits best first (bm25, the rank column's value), equal scores in the order they were
captured: every path of a search orders them so, page after page. Sorted by SQLite rather
than by FTS5's rank column, which is twice as slow over many matches (a word in 435,000
places at the bench's 10x: 1.16 s against 0.57 s with a filter, 0.61 against 0.39 s
without)."""


def search_rows(db: sqlite3.Connection, query: str, f: Filters) -> list[tuple[Any, ...]]:
    """The rows of `search`'s hits: session id, tool, native id, project, title, first
    prompt, created, updated, message count, models (JSON), message seq, role, timestamp,
    part kind, snippet."""
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
        f" WHERE parts_fts MATCH ?{extra} ORDER BY {BEST_FIRST} LIMIT ? OFFSET ?"
    )
    try:
        if not where:
            match = _quoted(query)
            return _page(
                db, sql, match, _newest_best(db, match, f) if f.newest else _best(db, match, f)
            )
        return db.execute(sql, (_quoted(query), *args, f.limit, f.offset)).fetchall()
    except sqlite3.OperationalError as exc:
        raise query_error(query, exc) from None


def _best(db: sqlite3.Connection, match: str, f: Filters) -> list[int]:
    """The best-ranked matching parts of one page, best first: ranked apart from the joins,
    which then run over that page alone, as the snippets do."""
    return [
        row[0]
        for row in db.execute(
            f"SELECT rowid FROM parts_fts WHERE parts_fts MATCH ? ORDER BY {BEST_FIRST}"
            " LIMIT ? OFFSET ?",
            (match, f.limit, f.offset),
        )
    ]


def _newest_best(db: sqlite3.Connection, match: str, f: Filters) -> list[int]:
    """The best-ranked of the newest `f.newest` matching parts, one page of them, best
    first: the ranking runs over that many, and the snippets and joins over one page."""
    return [
        row[0]
        for row in db.execute(
            "SELECT hit FROM (SELECT rowid AS hit, bm25(parts_fts) AS score FROM parts_fts"
            " WHERE parts_fts MATCH ? ORDER BY rowid DESC LIMIT ?)"
            " ORDER BY score, hit LIMIT ? OFFSET ?",
            (match, f.newest, f.limit, f.offset),
        )
    ]


def _page(db: sqlite3.Connection, sql: str, match: str, best: list[int]) -> list[Any]:
    """`sql`'s rows for these parts, in this order."""
    if not best:
        return []
    marks = ",".join("?" * len(best))
    page = sql.replace(
        f" ORDER BY {BEST_FIRST} LIMIT ? OFFSET ?", f" AND parts_fts.rowid IN ({marks})"
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
    from tether.archive.lineage import annotate

    return annotate(db, [rows[pk] for pk in unique if pk in rows])
