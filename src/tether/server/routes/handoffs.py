"""Handoffs: give a session of yours to a teammate, who finds it in their inbox.

A handoff lets its recipient see that session (and its chunks) from then on, and moves the
session forward in the change feed so that their next sync brings it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.orm import aliased

from tether.server.auth import Authenticated
from tether.server.db import next_changes, now, transaction
from tether.server.errors import not_found
from tether.server.routes.sessions import handed_to, head_dict, heads
from tether.server.schema import handoffs, sessions, users

router = APIRouter(tags=["handoffs"])


class HandoffIn(BaseModel):
    session_id: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    to: Annotated[str, Field(pattern=r"^[a-z][a-z0-9._-]{0,63}$")]
    note: Annotated[str, Field(max_length=4000)] | None = None


@router.post("/handoffs", status_code=201)
def hand_off(body: HandoffIn, who: Authenticated, request: Request) -> dict[str, Any]:
    """Hand your session to user `to`, with an optional note."""
    with transaction(request.app.state.tether.engine) as connection:
        return record_handoff(
            connection, who.user_id, who.user, body.session_id, body.to, body.note
        )


def record_handoff(
    connection: Connection, user_id: int, user: str, session_id: str, to: str, note: str | None
) -> dict[str, Any]:
    """Hand `user`'s session to `to` (the API's route and the web pages' form)."""
    pk = connection.execute(
        select(sessions.c.pk).where(
            sessions.c.owner_id == user_id, sessions.c.session_id == session_id
        )
    ).scalar()
    if pk is None:
        raise not_found("you have pushed no such session: `tether push ID` first")
    to_id = connection.execute(select(users.c.id).where(users.c.name == to)).scalar()
    if to_id is None:
        raise not_found(f"no user named {to!r} on this server")
    created = now()
    handoff_id = connection.execute(
        insert(handoffs)
        .values(session_pk=pk, from_id=user_id, to_id=to_id, note=note, created_at=created)
        .returning(handoffs.c.id)
    ).scalar_one()
    connection.execute(
        update(sessions).where(sessions.c.pk == pk).values(change=next_changes(connection))
    )
    return {
        "id": handoff_id,
        "session_id": session_id,
        "from": user,
        "to": to,
        "note": note,
        "created_at": created.isoformat(),
    }


INBOX = 200
"""Handoffs an inbox shows, the newest: anyone on the server may hand you sessions, and a
million of them must not make your inbox (or `tether inbox`, which pulls each) unusable."""


@router.get("/inbox")
def inbox(who: Authenticated, request: Request) -> list[dict[str, Any]]:
    """Sessions handed to you, newest first, with who handed them and their note."""
    with transaction(request.app.state.tether.engine, reading=True) as connection:
        return inbox_of(connection, who.user_id)


def inbox_of(connection: Connection, user_id: int) -> list[dict[str, Any]]:
    """The handoffs to `user_id`, newest first, each with its session's head."""
    sender = aliased(users)
    rows = connection.execute(
        select(
            handoffs.c.id,
            sender.c.name,
            handoffs.c.note,
            handoffs.c.created_at,
            handoffs.c.received_at,
            handoffs.c.session_pk,
        )
        .join(sender, sender.c.id == handoffs.c.from_id)
        .where(handoffs.c.to_id == user_id)
        .order_by(handoffs.c.created_at.desc(), handoffs.c.id.desc())
        .limit(INBOX)
    ).all()
    pks = [row[5] for row in rows]
    found = {
        row._mapping["pk"]: row
        for row in connection.execute(heads(user_id).where(sessions.c.pk.in_(pks)))
    }
    handed = handed_to(connection, user_id)
    return [
        {
            "id": handoff_id,
            "from": sender_name,
            "note": note,
            "created_at": created.isoformat() if created else None,
            "received_at": received.isoformat() if received else None,
            "session": head_dict(found[pk], user_id, handed),
        }
        for handoff_id, sender_name, note, created, received, pk in rows
        if pk in found
    ]


@router.post("/handoffs/{handoff_id}/received", status_code=204)
def received(
    handoff_id: Annotated[int, Path(ge=1, le=2**31 - 1)], who: Authenticated, request: Request
) -> Response:
    """Mark a handoff to you as received (pulled into your archive)."""
    with transaction(request.app.state.tether.engine) as connection:
        done = connection.execute(
            update(handoffs)
            .where(handoffs.c.id == handoff_id, handoffs.c.to_id == who.user_id)
            .values(received_at=now())
        ).rowcount
    if not done:
        raise not_found("no such handoff")
    return Response(status_code=204)
