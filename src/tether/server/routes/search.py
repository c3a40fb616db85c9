"""`GET /api/v1/search?q=…`: full-text search over the sessions you may see, best first,
one hit per session. FTS5 on SQLite, PostgreSQL's own full-text search (a tsvector per
piece of text, GIN-indexed) at scale; words match whole, `"two words"` is a phrase, `word*`
a prefix on SQLite, `-word` excludes on PostgreSQL, and `OR` works on both.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    column,
    func,
    literal_column,
    select,
    table,
)

from tether.server.auth import Authenticated
from tether.server.db import transaction
from tether.server.errors import bad_request
from tether.server.routes.sessions import handed_to, head_dict, heads
from tether.server.schema import search_docs, sessions
from tether.server.scope import visible_sessions

router = APIRouter(tags=["search"])
NEWEST = 5_000
"""A search ranks the newest this many pieces of text its words are in (a common word is
in nearly every session: ranking them all took seconds), as `tether web` does."""
SNIPPET_OPTIONS = "StartSel=«,StopSel=»,MaxFragments=1,MaxWords=24,MinWords=8"
_TOKEN = re.compile(r'"[^"]*"|\S+')
Narrow = tuple[ColumnElement[bool], ...]
"""Conditions on `sessions` a search must also meet (a tool, a person, …)."""


def fts5_query(query: str) -> str:
    """Each word as an FTS5 string (so `file.py` and `foo-bar` search as typed)."""
    out = []
    for token in _TOKEN.findall(query):
        if token in ("AND", "OR", "NOT"):
            out.append(token)
            continue
        star = token.endswith("*") and len(token) > 1
        word = token[:-1] if star else token
        if len(word) >= 2 and word[0] == word[-1] == '"':
            word = word[1:-1]
        out.append('"' + word.replace('"', '""') + '"' + ("*" if star else ""))
    return " ".join(out)


def _matching(connection: Connection, query: str, user_id: int, narrow: Narrow) -> Any:
    """SELECT (piece id, session pk, rank) of the newest NEWEST pieces of text that match
    `query` in the sessions `user_id` may see (and that meet `narrow`), as a subquery."""
    visible = search_docs.c.session_pk.in_(
        select(sessions.c.pk).where(visible_sessions(user_id), *narrow)
    )
    if connection.dialect.name == "postgresql":
        words = func.websearch_to_tsquery("simple", query)
        tsv: ColumnElement[Any] = literal_column("search_docs.tsv")
        found = (
            select(
                search_docs.c.id,
                search_docs.c.session_pk,
                (-func.ts_rank(tsv, words)).label("rank"),
            )
            .where(tsv.op("@@")(words), visible)
            .order_by(search_docs.c.id.desc())
        )
    else:
        fts = table("search_fts", column("rowid"), column("rank"))
        found = (
            select(search_docs.c.id, search_docs.c.session_pk, fts.c.rank)
            .select_from(fts.join(search_docs, search_docs.c.id == fts.c.rowid))
            .where(literal_column("search_fts").op("MATCH")(fts5_query(query)), visible)
            .order_by(fts.c.rowid.desc())  # the index's own order: no sort, no rank of the rest
        )
    return found.limit(NEWEST).subquery()


def _ranked(
    connection: Connection, query: str, user_id: int, narrow: Narrow, limit: int
) -> tuple[list[tuple[int, int]], bool]:
    """(piece id, session pk) of the best piece of each of the `limit` best sessions among
    the newest matching pieces, best first; and whether there were NEWEST of them (or more:
    only the newest were ranked)."""
    newest = _matching(connection, query, user_id, narrow)
    each = select(
        newest.c.id,
        newest.c.session_pk,
        newest.c.rank,
        func.row_number()
        .over(partition_by=newest.c.session_pk, order_by=newest.c.rank)
        .label("nth"),
        func.count().over().label("found"),
    ).subquery()
    statement = (
        select(each.c.id, each.c.session_pk, each.c.found)
        .where(each.c.nth == 1)
        .order_by(each.c.rank)
        .limit(limit)
    )
    rows = connection.execute(statement).all()
    return [(int(piece), int(pk)) for piece, pk, _ in rows], bool(rows and rows[0][2] >= NEWEST)


def _snippets(connection: Connection, query: str, pieces: list[int]) -> dict[int, str]:
    """Each piece's snippet around the words: made for one page of hits only (a snippet
    reads its whole piece, up to 256 KB)."""
    if connection.dialect.name == "postgresql":
        words = func.websearch_to_tsquery("simple", query)
        snippet = func.ts_headline(
            "simple", search_docs.c.text, words, SNIPPET_OPTIONS, type_=String
        )
        statement = select(search_docs.c.id, snippet).where(search_docs.c.id.in_(pieces))
    else:
        fts = table("search_fts", column("rowid"))
        snippet = func.snippet(literal_column("search_fts"), 0, "«", "»", "…", 16, type_=String)
        statement = select(fts.c.rowid, snippet).where(
            literal_column("search_fts").op("MATCH")(fts5_query(query)), fts.c.rowid.in_(pieces)
        )
    return {int(piece): str(text) for piece, text in connection.execute(statement)}


CAPPED_HEADER = "Tether-Search-Capped"
"""Set (to NEWEST) on a search's answer when its words are in more places than it ranks."""


@router.get("/search")
def search(
    who: Authenticated,
    request: Request,
    response: Response,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[dict[str, Any]]:
    """Sessions you may see whose text matches `q`, best first, with a snippet each. When
    the words are in more than 5,000 places, only the newest 5,000 are ranked, and the
    answer's `Tether-Search-Capped` header says so."""
    if not q.strip():
        raise bad_request("the search query is empty")
    with transaction(request.app.state.tether.engine, reading=True) as connection:
        hits, capped = search_heads(connection, q, who.user_id, limit=limit)
    if capped:
        response.headers[CAPPED_HEADER] = str(NEWEST)
    return hits


def search_heads(
    connection: Connection, q: str, user_id: int, narrow: Narrow = (), limit: int = 20
) -> tuple[list[dict[str, Any]], bool]:
    """The heads of the sessions `user_id` may see that match `q`, best first, each with a
    `snippet` (the API's route, the web pages and the MCP tools); and whether only the
    newest NEWEST places the words are in were ranked."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        ranked, capped = _ranked(connection, q, user_id, narrow, limit)
    except (OperationalError, ProgrammingError) as exc:
        if connection.dialect.name == "sqlite" and "fts5" in str(exc.orig).lower():
            raise bad_request(f"cannot search for {q!r}: {exc.orig}") from None
        raise
    best = {pk: piece for piece, pk in ranked}
    if not best:
        return [], capped
    snippets = _snippets(connection, q, list(best.values()))
    rows = connection.execute(heads(user_id).where(sessions.c.pk.in_(list(best)))).all()
    handed = handed_to(connection, user_id)
    found = {row._mapping["pk"]: row for row in rows}
    hits = []
    for pk, piece in best.items():
        if pk in found:
            hit = head_dict(found[pk], user_id, handed)
            hit["snippet"] = snippets.get(piece, "")
            hits.append(hit)
    return hits, capped
