"""Sessions: push one (its manifest of chunks, its fields, its search text), list and read
what you may see, and the changes since a cursor (one round trip for a sync with nothing new).

A push names the revision it builds on (`base`): the server takes it when that is the one it
holds, and answers 409 (keeping both sides as they were) when another device moved the
session meanwhile. Pushing the revision the server already holds changes nothing: a retry
after any failure is safe.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tether.server.auth import Authenticated, Caller
from tether.server.db import next_change, now, transaction
from tether.server.errors import ApiError, bad_request, not_found
from tether.server.schema import (
    chunk_owners,
    chunks,
    handoffs,
    search_docs,
    session_chunks,
    session_sources,
    sessions,
    team_members,
    teams,
    users,
)
from tether.server.scope import visible_sessions
from tether.sync import wire

router = APIRouter(tags=["sessions"])

Hash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9._-]{0,63}$")]
FileName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._#%-]{0,199}$")]
Short = Annotated[str, Field(max_length=4096)]
MAX_PIECE = 256 << 10
MAX_PIECES = 64
MAX_SOURCES = 64
MAX_CHUNKS = 100_000
GROUP = 500


class SourceIn(BaseModel):
    name: FileName
    mode: Literal["jsonl", "document"]
    chunks: Annotated[
        list[tuple[Hash, Annotated[int, Field(ge=1, le=wire.MAX_CHUNK)]]],
        Field(max_length=MAX_CHUNKS),
    ]


class TextIn(BaseModel):
    start: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    """Pieces from this one on are replaced by `pieces` (0: the whole text anew)."""
    pieces: Annotated[
        list[Annotated[str, Field(max_length=MAX_PIECE)]], Field(max_length=MAX_PIECES)
    ] = []


class SessionIn(BaseModel):
    base: Hash | None = None
    tool: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")]
    native_id: Annotated[str, Field(min_length=1, max_length=256)]
    title: Short | None = None
    project: Short | None = None
    cwd: Short | None = None
    git_branch: Short | None = None
    git_commit: Annotated[str, Field(max_length=64)] | None = None
    git_remote: Short | None = None
    created_at: Annotated[str, Field(max_length=40)] | None = None
    updated_at: Annotated[str, Field(max_length=40)] | None = None
    message_count: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    models: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=50)] = []
    parent_id: Hash | None = None
    parent_how: Literal["resume", "convert", "fork", "handoff"] | None = None
    team: Name | None = None
    sources: Annotated[list[SourceIn], Field(min_length=1, max_length=MAX_SOURCES)]
    text: TextIn = TextIn()


class PushOut(BaseModel):
    revision: str
    change: int
    unchanged: bool


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


def heads(user_id: int) -> Any:
    """SELECT of the session heads `user_id` may see (join of sessions, owner, team)."""
    return (
        select(*HEAD_COLUMNS)
        .select_from(sessions)
        .join(users, users.c.id == sessions.c.owner_id)
        .outerjoin(teams, teams.c.id == sessions.c.team_id)
        .where(visible_sessions(user_id))
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


@router.put("/sessions/{session_id}", response_model=PushOut)
def push(session_id: str, body: SessionIn, who: Authenticated, request: Request) -> PushOut:
    """Push your session `session_id` (tether's id: sha256 of tool and native id)."""
    expected = hashlib.sha256(f"{body.tool}\0{body.native_id}".encode()).hexdigest()
    if session_id != expected:
        raise bad_request("the session id is not the hash of its tool and native id")
    sources: list[wire.SourceManifest] = [
        (s.name, str(s.mode), list(s.chunks)) for s in body.sources
    ]
    revision = wire.revision(sources)
    engine: Engine = request.app.state.tether.engine
    _require_chunks(engine, who, sources)
    try:
        with transaction(engine) as connection:
            return _commit(connection, who, session_id, body, sources, revision)
    except IntegrityError:
        raise ApiError(
            409, "conflict", "the session was pushed from elsewhere at the same time: retry"
        ) from None


def _require_chunks(engine: Engine, who: Caller, sources: list[wire.SourceManifest]) -> None:
    """Every chunk named is one the caller sent, with the length it is said to have."""
    wanted: dict[str, int] = {}
    for _name, _mode, refs in sources:
        for digest, length in refs:
            if wanted.setdefault(digest, length) != length:
                raise bad_request(f"chunk {digest[:12]}… is named with two lengths")
    names = list(wanted)
    sizes: dict[str, int] = {}
    with transaction(engine, reading=True) as connection:
        for at in range(0, len(names), GROUP):
            rows = connection.execute(
                select(chunks.c.hash, chunks.c.size)
                .join(chunk_owners, chunk_owners.c.hash == chunks.c.hash)
                .where(
                    chunk_owners.c.user_id == who.user_id, chunks.c.hash.in_(names[at : at + GROUP])
                )
            )
            sizes.update((row[0], row[1]) for row in rows)
    absent = [digest for digest in names if digest not in sizes]
    if absent:
        raise ApiError(
            409, "missing_chunks", f"{len(absent)} chunk(s) not uploaded yet: send them first"
        )
    wrong = [digest for digest in names if sizes[digest] != wanted[digest]]
    if wrong:
        raise bad_request(f"chunk {wrong[0][:12]}… is not {wanted[wrong[0]]} bytes long")


def _commit(
    connection: Connection,
    who: Caller,
    session_id: str,
    body: SessionIn,
    sources: list[wire.SourceManifest],
    revision: str,
) -> PushOut:
    current = connection.execute(
        select(sessions.c.pk, sessions.c.revision, sessions.c.change, sessions.c.device_name)
        .where(sessions.c.owner_id == who.user_id, sessions.c.session_id == session_id)
        .with_for_update()
    ).first()
    if current is not None and current[1] == revision:
        return PushOut(revision=revision, change=current[2], unchanged=True)
    if current is not None and body.base != current[1]:
        raise ApiError(
            409,
            "conflict",
            f"this session was pushed from {current[3] or 'another device'} with other"
            " content since this device last pushed it; nothing was overwritten",
        )
    team_id = _team_of(connection, who, body.team)
    change = next_change(connection)
    fields = {
        "tool": body.tool,
        "native_id": body.native_id,
        "title": body.title,
        "project": body.project,
        "cwd": body.cwd,
        "git_branch": body.git_branch,
        "git_commit": body.git_commit,
        "git_remote": body.git_remote,
        "created_at": body.created_at,
        "updated_at": body.updated_at,
        "message_count": body.message_count,
        "models": _json(body.models),
        "parent_id": body.parent_id,
        "parent_how": body.parent_how,
        "device_id": who.device_id,
        "device_name": who.device,
        "team_id": team_id,
        "revision": revision,
        "bytes": sum(length for _, _, refs in sources for _, length in refs),
        "text_pieces": body.text.start + len(body.text.pieces),
        "pushed_at": now(),
        "change": change,
    }
    if current is None:
        pk = connection.execute(
            insert(sessions)
            .values(owner_id=who.user_id, session_id=session_id, **fields)
            .returning(sessions.c.pk)
        ).scalar_one()
    else:
        pk = current[0]
        connection.execute(update(sessions).where(sessions.c.pk == pk).values(**fields))
    _write_manifest(connection, pk, sources)
    _write_text(connection, pk, body.text)
    return PushOut(revision=revision, change=change, unchanged=False)


def _json(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


def _team_of(connection: Connection, who: Caller, team: str | None) -> int | None:
    if team is None:
        return None
    found = connection.execute(
        select(teams.c.id)
        .join(team_members, team_members.c.team_id == teams.c.id)
        .where(teams.c.name == team, team_members.c.user_id == who.user_id)
    ).first()
    if found is None:
        raise not_found(f"you are in no team named {team!r}")
    return int(found[0])


def _write_manifest(connection: Connection, pk: int, sources: list[wire.SourceManifest]) -> None:
    connection.execute(delete(session_chunks).where(session_chunks.c.session_pk == pk))
    connection.execute(delete(session_sources).where(session_sources.c.session_pk == pk))
    source_rows = []
    chunk_rows = []
    for idx, (name, mode, refs) in enumerate(sources):
        offset = 0
        for seq, (digest, length) in enumerate(refs):
            chunk_rows.append(
                {
                    "session_pk": pk,
                    "idx": idx,
                    "seq": seq,
                    "hash": digest,
                    "offset": offset,
                    "length": length,
                }
            )
            offset += length
        source_rows.append(
            {"session_pk": pk, "idx": idx, "name": name, "mode": mode, "size": offset}
        )
    connection.execute(insert(session_sources), source_rows)
    if chunk_rows:
        connection.execute(insert(session_chunks), chunk_rows)


def _write_text(connection: Connection, pk: int, text: TextIn) -> None:
    connection.execute(
        delete(search_docs).where(search_docs.c.session_pk == pk, search_docs.c.seq >= text.start)
    )
    rows = [
        {"session_pk": pk, "seq": text.start + at, "text": piece.replace("\x00", "")}
        for at, piece in enumerate(text.pieces)
        if piece
    ]
    if rows:
        connection.execute(insert(search_docs), rows)


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
