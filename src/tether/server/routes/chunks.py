"""Chunks: which of these do you lack, take these, give me these.

A chunk's name is the sha256 of its raw bytes; the server checks every upload against its
name before keeping it, so a chunk held is a chunk whose bytes are right. A chunk is yours
once you have sent its bytes (or through a session you may see that holds it): asking for
one that is not answers 404 and names nothing, so no one learns what others hold.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import Engine, select

from tether.server.auth import Authenticated, Caller
from tether.server.db import insert_or_ignore, now, transaction
from tether.server.errors import bad_request, not_found
from tether.server.runtime import Runtime
from tether.server.schema import chunk_owners, chunks
from tether.server.scope import visible_chunk
from tether.server.storage import object_key
from tether.sync import wire

router = APIRouter(tags=["chunks"])
Hash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Hashes = Annotated[list[Hash], Field(max_length=wire.MAX_HASHES)]
GROUP = 500
"""Hashes per query: under every database's limit on bound parameters."""


class HashesIn(BaseModel):
    hashes: Hashes


class MissingOut(BaseModel):
    missing: list[str]


class StoredOut(BaseModel):
    stored: int
    bytes: int


def owned(engine: Engine, user_id: int, names: list[str]) -> set[str]:
    """Which of these chunks the user holds (uploaded, or in a session they see)."""
    found: set[str] = set()
    with transaction(engine, reading=True) as connection:
        for at in range(0, len(names), GROUP):
            group = names[at : at + GROUP]
            found.update(
                connection.execute(
                    select(chunks.c.hash).where(
                        chunks.c.hash.in_(group), visible_chunk(user_id, chunks.c.hash)
                    )
                ).scalars()
            )
    return found


@router.post("/chunks/missing", response_model=MissingOut)
def missing(body: HashesIn, who: Authenticated, request: Request) -> MissingOut:
    """The hashes named that you hold no chunk of: send those."""
    names = list(dict.fromkeys(body.hashes))
    held = owned(request.app.state.tether.engine, who.user_id, names)
    return MissingOut(missing=[name for name in names if name not in held])


@router.post("/chunks", response_model=StoredOut)
async def upload(who: Authenticated, request: Request) -> StoredOut:
    """A batch of chunks (application/x-tether-chunks): each checked against its name."""
    body = await request.body()
    return await run_in_threadpool(_store, request.app.state.tether, who, body)


def _store(runtime: Runtime, who: Caller, body: bytes) -> StoredOut:
    engine, storage = runtime.engine, runtime.storage
    checked: list[tuple[str, int, bytes]] = []
    inflated = 0
    try:
        # Counted as they come: the limits stop a batch before it costs what they bound.
        for name, data in wire.unpack(body):
            if len(checked) >= wire.MAX_HASHES:
                raise bad_request("too many chunks in one batch: nothing kept")
            raw = wire.decompress(data)
            inflated += len(raw)
            if inflated > wire.MAX_BATCH_RAW:
                raise bad_request(
                    f"the batch inflates past {wire.MAX_BATCH_RAW} bytes: send fewer chunks"
                    " at once; nothing kept"
                )
            if wire.digest(raw) != name:
                raise bad_request(f"chunk {name[:12]}… does not match its bytes: nothing kept")
            checked.append((name, len(raw), data))
    except wire.BadBatch as exc:
        raise bad_request(f"bad chunk batch: {exc}: nothing kept") from None
    unique = {name: (size, data) for name, size, data in checked}
    with transaction(engine, reading=True) as connection:
        known = set(
            connection.execute(
                select(chunks.c.hash).where(chunks.c.hash.in_(list(unique)))
            ).scalars()
        )
    # Bytes first, rows after: a crash between leaves an unreferenced object, never a row
    # that names bytes the store lacks.
    for name, (_size, data) in unique.items():
        if name not in known or not storage.has(object_key(name)):
            storage.put(object_key(name), data)
    with transaction(engine) as connection:
        insert_or_ignore(
            connection,
            chunks,
            [
                {"hash": name, "size": size, "stored_size": len(data), "created_at": now()}
                for name, (size, data) in unique.items()
                if name not in known
            ],
        )
        insert_or_ignore(
            connection, chunk_owners, [{"user_id": who.user_id, "hash": name} for name in unique]
        )
    return StoredOut(stored=len(unique), bytes=sum(size for size, _ in unique.values()))


@router.post(
    "/chunks/fetch",
    response_class=Response,
    responses={200: {"content": {wire.CONTENT_TYPE: {}}}},
)
def fetch(body: HashesIn, who: Authenticated, request: Request) -> Response:
    """These chunks, as one batch; 404 when any is not yours (and nothing says which)."""
    runtime = request.app.state.tether
    names = list(dict.fromkeys(body.hashes))
    held = owned(runtime.engine, who.user_id, names)
    if len(held) != len(names):
        raise not_found("no such chunk")
    items: list[tuple[str, bytes]] = []
    total = 0
    for name in names:
        try:
            data = runtime.storage.get(object_key(name))
        except FileNotFoundError:
            raise not_found("no such chunk") from None
        total += len(data)
        if total > wire.MAX_BATCH:
            raise bad_request(f"ask for fewer chunks at once (over {wire.MAX_BATCH} bytes)")
        items.append((name, data))
    return Response(wire.pack(items), media_type=wire.CONTENT_TYPE)
