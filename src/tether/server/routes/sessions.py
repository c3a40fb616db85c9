"""Sessions as you may see them: listed, one read whole (its files' chunk lists), and the
changes since a cursor (one round trip for a sync with nothing new). Pushing them is
tether.server.routes.push."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field
from sqlalchemy import Connection, and_, select

from tether.server.auth import Authenticated
from tether.server.db import transaction
from tether.server.errors import not_found
from tether.server.schema import handoffs, session_chunks, session_sources, sessions, teams, users
from tether.server.scope import visible_sessions
from tether.sync import wire

router = APIRouter(tags=["sessions"])

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9._-]{0,63}$")]

HEAD_COLUMNS = (
    users.c.name.label("owner"),
    sessions.c.session_id,
    sessions.c.tool,
    sessions.c.native_id,
    sessions.c.title,
    sessions.c.project,
    sessions.c.cwd,
    sessions.c.git_branch,
    sessions.c.git_commit,
    sessions.c.git_remote,
    sessions.c.created_at,
    sessions.c.updated_at,
    sessions.c.message_count,
    sessions.c.models,
    sessions.c.parent_id,
    sessions.c.parent_how,
    sessions.c.device_name.label("device"),
    teams.c.name.label("team"),
    sessions.c.revision,
    sessions.c.bytes,
    sessions.c.pushed_at,
    sessions.c.change,
    sessions.c.owner_id,
    sessions.c.pk,
)


def heads(user_id: int, indexed: bool = True) -> Any:
    """SELECT of the session heads `user_id` may see (join of sessions, owner, team);
    `indexed` as for tether.server.scope.visible_sessions."""
    return (
        select(*HEAD_COLUMNS)
        .select_from(sessions)
        .join(users, users.c.id == sessions.c.owner_id)
        .outerjoin(teams, teams.c.id == sessions.c.team_id)
        .where(visible_sessions(user_id, indexed))
    )


def head_dict(row: Any, user_id: int, handed: set[int] | None = None) -> dict[str, Any]:
    """A session head as the API gives it; `via`: how the caller sees it."""
    import json

    out = dict(row._mapping)
    owner_id, pk = out.pop("owner_id"), out.pop("pk")
    out["models"] = json.loads(out["models"] or "[]")
    out["pushed_at"] = out["pushed_at"].isoformat() if out["pushed_at"] else None
    out["via"] = "own" if owner_id == user_id else "handoff" if handed and pk in handed else "team"
    return out


def handed_to(connection: Connection, user_id: int) -> set[int]:
    return set(
        connection.execute(
            select(handoffs.c.session_pk).where(handoffs.c.to_id == user_id)
        ).scalars()
    )


@router.get("/sessions")
def list_sessions(
    who: Authenticated,
    request: Request,
    owner: Annotated[Name | None, Query()] = None,
    prefix: Annotated[str | None, Query(pattern=r"^[0-9a-f]{1,64}$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The sessions you may see, newest push first (`prefix`: of tether's id)."""
    query = heads(who.user_id)
    if owner is not None:
        query = query.where(users.c.name == owner)
    if prefix is not None:
        query = query.where(
            and_(sessions.c.session_id >= prefix, sessions.c.session_id < prefix + "g")
        )
    with transaction(request.app.state.tether.engine, reading=True) as connection:
        handed = handed_to(connection, who.user_id)
        rows = connection.execute(query.order_by(sessions.c.change.desc()).limit(limit)).all()
        return [head_dict(row, who.user_id, handed) for row in rows]


@router.get("/sessions/{owner}/{session_id}")
def get_session(
    owner: str, session_id: str, who: Authenticated, request: Request
) -> dict[str, Any]:
    """One session you may see: its head and its sources' chunk lists."""
    if not wire.is_hash(session_id):
        raise not_found("no such session")
    with transaction(request.app.state.tether.engine, reading=True) as connection:
        row = connection.execute(
            heads(who.user_id).where(users.c.name == owner, sessions.c.session_id == session_id)
        ).first()
        if row is None:
            raise not_found("no such session")
        out = head_dict(row, who.user_id, handed_to(connection, who.user_id))
        pk = row._mapping["pk"]
        sources = connection.execute(
            select(
                session_sources.c.idx,
                session_sources.c.name,
                session_sources.c.mode,
                session_sources.c.size,
            )
            .where(session_sources.c.session_pk == pk)
            .order_by(session_sources.c.idx)
        ).all()
        refs = connection.execute(
            select(session_chunks.c.idx, session_chunks.c.hash, session_chunks.c.length)
            .where(session_chunks.c.session_pk == pk)
            .order_by(session_chunks.c.idx, session_chunks.c.seq)
        ).all()
    out["sources"] = [
        {
            "name": name,
            "mode": mode,
            "size": size,
            "chunks": [[digest, length] for i, digest, length in refs if i == idx],
        }
        for idx, name, mode, size in sources
    ]
    return out


@router.get("/changes")
def changes(
    who: Authenticated,
    request: Request,
    since: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> dict[str, Any]:
    """Every session you may see that changed after change number `since`, oldest change
    first; `next` is the cursor to ask from next time, `more` whether to ask at once."""
    with transaction(request.app.state.tether.engine, reading=True) as connection:
        handed = handed_to(connection, who.user_id)
        rows = connection.execute(
            heads(who.user_id)
            .where(sessions.c.change > since)
            .order_by(sessions.c.change)
            .limit(limit + 1)
        ).all()
    page = rows[:limit]
    items = [head_dict(row, who.user_id, handed) for row in page]
    return {
        "changes": items,
        "next": items[-1]["change"] if items else since,
        "more": len(rows) > limit,
    }
