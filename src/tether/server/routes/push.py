"""Pushing sessions: one (`PUT /sessions/{id}`) or many in one request and one transaction
(`POST /sessions`): each its manifest of chunks, its fields, its search text.

A push names the revision it builds on (`base`): the server takes it when that is the one it
holds, and answers 409 for that session (keeping both sides as they were) when another
device moved it meanwhile. Pushing the revision the server already holds changes nothing: a
retry after any failure is safe. Change numbers are taken last, just before the commit, so
the counter's lock is held for a moment, not for the whole push.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tether.server.auth import Authenticated, Caller
from tether.server.db import next_changes, now, transaction
from tether.server.errors import ApiError, bad_request, not_found
from tether.server.schema import (
    chunk_owners,
    chunks,
    search_docs,
    session_chunks,
    session_sources,
    sessions,
    team_members,
    teams,
)
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
MAX_BATCH_SESSIONS = 500
MAX_BATCH_JSON = 64 << 20
"""Largest batch of sessions once decompressed."""
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


class SessionPush(SessionIn):
    session_id: Hash


class BatchIn(BaseModel):
    sessions: Annotated[list[SessionPush], Field(min_length=1, max_length=MAX_BATCH_SESSIONS)]


class BatchOut(BaseModel):
    results: list[dict[str, Any]]
    """Per session, in order: `session_id`, `revision`, `change`, `unchanged`; or
    `session_id`, `error`, `kind` for one that was not taken (the others were)."""


@router.put("/sessions/{session_id}", response_model=PushOut)
def push(session_id: str, body: SessionIn, who: Authenticated, request: Request) -> PushOut:
    """Push your session `session_id` (tether's id: sha256 of tool and native id)."""
    item = (
        SessionPush(session_id=session_id, **body.model_dump())
        if wire.is_hash(session_id)
        else None
    )
    if item is None:
        raise bad_request("the session id is not the hash of its tool and native id")
    result = push_many(request.app.state.tether.engine, who, [item])[0]
    _read_back(request, who, [result])
    if "error" in result:
        raise ApiError(result["status"], result["kind"], result["error"])
    return PushOut(**result)


@router.post(
    "/sessions",
    response_model=BatchOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": BatchIn.model_json_schema()}},
            "description": "JSON, zstd-compressed when Content-Encoding says `zstd`.",
        }
    },
)
async def push_batch(who: Authenticated, request: Request) -> BatchOut:
    """Push many of your sessions in one transaction; each is taken or refused on its own.
    The body may be zstd-compressed (`Content-Encoding: zstd`): search text is most of it."""
    from fastapi.concurrency import run_in_threadpool
    from pydantic import ValidationError

    data = await request.body()
    if request.headers.get("content-encoding") == "zstd":
        try:
            data = wire.decompress(data, limit=MAX_BATCH_JSON)
        except wire.BadBatch as exc:
            raise bad_request(f"bad compressed body: {exc}") from None
    try:
        body = BatchIn.model_validate_json(data)
    except ValidationError as exc:
        errors = exc.errors()
        where = ".".join(str(part) for part in errors[0]["loc"]) if errors else ""
        reason = errors[0]["msg"] if errors else "invalid"
        raise bad_request(f"bad request: {where}: {reason}"[:300]) from None
    engine = request.app.state.tether.engine
    results = await run_in_threadpool(push_many, engine, who, body.sessions)
    _read_back(request, who, results)
    for result in results:
        result.pop("status", None)
    return BatchOut(results=results)


Manifest = list[wire.SourceManifest]


def _read_back(request: Request, who: Caller, results: list[dict[str, Any]]) -> None:
    """Queue the sessions this push changed (committed by now) to be read back for the web
    pages in the background: the answer does not wait for it."""
    held = getattr(request.app.state, "held", None)
    changed = [r["session_id"] for r in results if "error" not in r and not r["unchanged"]]
    if held is not None and changed:
        held.prepare(who.user_id, changed)


def push_many(engine: Engine, who: Caller, items: list[SessionPush]) -> list[dict[str, Any]]:
    """Take each session (or say why not), all in one transaction."""
    prepared: list[tuple[SessionPush, Manifest, str] | dict[str, Any]] = []
    for item in items:
        expected = hashlib.sha256(f"{item.tool}\0{item.native_id}".encode()).hexdigest()
        sources: Manifest = [(s.name, str(s.mode), list(s.chunks)) for s in item.sources]
        if item.session_id != expected:
            prepared.append(
                _refused(
                    item, bad_request("the session id is not the hash of its tool and native id")
                )
            )
        elif sum(n for _, _, refs in sources for _, n in refs) > wire.MAX_SESSION_RAW:
            message = f"the session's files come to more than {wire.MAX_SESSION_RAW} bytes"
            prepared.append(_refused(item, bad_request(message)))
        else:
            prepared.append((item, sources, wire.revision(sources)))
    prepared = _require_chunks(engine, who, prepared)
    try:
        with transaction(engine) as connection:
            results: list[dict[str, Any]] = []
            written: list[tuple[int, dict[str, Any]]] = []
            for entry in prepared:
                if isinstance(entry, dict):
                    results.append(entry)
                    continue
                item, sources, revision = entry
                try:
                    pk, result = _write(connection, who, item, sources, revision)
                except ApiError as exc:
                    results.append(_refused(item, exc))
                    continue
                results.append(result)
                if pk is not None:
                    written.append((pk, result))
            _number(connection, written)
    except IntegrityError:
        raise ApiError(
            409, "conflict", "a session was pushed from elsewhere at the same time: retry"
        ) from None
    return results


def _refused(item: SessionPush, exc: ApiError) -> dict[str, Any]:
    return {
        "session_id": item.session_id,
        "error": exc.message,
        "kind": exc.kind,
        "status": exc.status,
    }


def _number(connection: Connection, written: list[tuple[int, dict[str, Any]]]) -> None:
    """Give the sessions written their change numbers, in order, last thing before the
    commit: the counter row stays locked only from here to the commit."""
    if not written:
        return
    first = next_changes(connection, len(written))
    for offset, (_pk, result) in enumerate(written):
        result["change"] = first + offset
    connection.execute(
        update(sessions)
        .where(sessions.c.pk == bindparam("target"))
        .values(change=bindparam("number")),
        [{"target": pk, "number": result["change"]} for pk, result in written],
    )


def _require_chunks(
    engine: Engine, who: Caller, prepared: list[tuple[SessionPush, Manifest, str] | dict[str, Any]]
) -> list[tuple[SessionPush, Manifest, str] | dict[str, Any]]:
    """Each session whose chunks are all ones the caller sent, with the lengths it says; the
    others refused (409 missing_chunks, or 400 for a wrong length)."""
    names = list(
        {
            digest
            for entry in prepared
            if not isinstance(entry, dict)
            for _name, _mode, refs in entry[1]
            for digest, _length in refs
        }
    )
    sizes: dict[str, int] = {}
    with transaction(engine, reading=True) as connection:
        for at in range(0, len(names), GROUP):
            rows = connection.execute(
                select(chunks.c.hash, chunks.c.size)
                .join(chunk_owners, chunk_owners.c.hash == chunks.c.hash)
                .where(
                    chunk_owners.c.user_id == who.user_id,
                    chunks.c.hash.in_(names[at : at + GROUP]),
                )
            )
            sizes.update((row[0], row[1]) for row in rows)
    out: list[tuple[SessionPush, Manifest, str] | dict[str, Any]] = []
    for entry in prepared:
        if isinstance(entry, dict):
            out.append(entry)
            continue
        refs = [ref for _name, _mode, source_refs in entry[1] for ref in source_refs]
        absent = sum(1 for digest, _ in refs if digest not in sizes)
        wrong = next((d for d, n in refs if d in sizes and sizes[d] != n), None)
        if absent:
            message = f"{absent} chunk(s) not uploaded yet: send them first"
            out.append(_refused(entry[0], ApiError(409, "missing_chunks", message)))
        elif wrong is not None:
            out.append(_refused(entry[0], bad_request(f"chunk {wrong[:12]}… has another length")))
        else:
            out.append(entry)
    return out


def _write(
    connection: Connection, who: Caller, item: SessionPush, sources: Manifest, revision: str
) -> tuple[int | None, dict[str, Any]]:
    """Write one session (its change number comes later); (its pk, or None when nothing
    changed, and the result)."""
    session_id = item.session_id
    current = connection.execute(
        select(sessions.c.pk, sessions.c.revision, sessions.c.change, sessions.c.device_name)
        .where(sessions.c.owner_id == who.user_id, sessions.c.session_id == session_id)
        .with_for_update()
    ).first()
    result: dict[str, Any] = {"session_id": session_id, "revision": revision}
    if current is not None and current[1] == revision:
        return None, {**result, "change": current[2], "unchanged": True}
    if current is not None and item.base != current[1]:
        raise ApiError(
            409,
            "conflict",
            f"this session was pushed from {current[3] or 'another device'} with other"
            " content since this device last pushed it; nothing was overwritten",
        )
    team_id = _team_of(connection, who, item.team)
    fields = _fields(item, who, team_id, sources, revision)
    if current is None:
        pk = connection.execute(
            insert(sessions)
            .values(owner_id=who.user_id, session_id=session_id, change=0, **fields)
            .returning(sessions.c.pk)
        ).scalar_one()
    else:
        pk = current[0]
        connection.execute(update(sessions).where(sessions.c.pk == pk).values(**fields))
    _write_manifest(connection, pk, sources)
    _write_text(connection, pk, item.text)
    return pk, {**result, "change": 0, "unchanged": False}


def _fields(
    item: SessionIn, who: Caller, team_id: int | None, sources: Manifest, revision: str
) -> dict[str, Any]:
    return {
        "tool": item.tool,
        "native_id": item.native_id,
        "title": item.title,
        "project": item.project,
        "cwd": item.cwd,
        "git_branch": item.git_branch,
        "git_commit": item.git_commit,
        "git_remote": item.git_remote,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "message_count": item.message_count,
        "models": _json(item.models),
        "parent_id": item.parent_id,
        "parent_how": item.parent_how,
        "device_id": who.device_id,
        "device_name": who.device,
        "team_id": team_id,
        "revision": revision,
        "bytes": sum(length for _, _, refs in sources for _, length in refs),
        "text_pieces": item.text.start + len(item.text.pieces),
        "pushed_at": now(),
    }


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


def _write_manifest(connection: Connection, pk: int, sources: Manifest) -> None:
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
