"""`POST /api/v1/enrol` (a one-time code becomes a device token) and `GET /api/v1/me`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import insert, select, update

from tether.server.auth import Authenticated, code_matches, new_token, unauthorized
from tether.server.db import now, transaction
from tether.server.schema import devices, team_members, teams, users

router = APIRouter(tags=["enrol"])
NamePattern = Annotated[str, Field(pattern=r"^[a-z][a-z0-9._-]{0,63}$")]
BAD_CODE = (
    "the user or code is not valid (mistyped, used or expired): ask the server's operator"
    " for a new code (`tether server user add NAME --again`)"
)


class EnrolIn(BaseModel):
    user: NamePattern
    code: Annotated[str, Field(min_length=4, max_length=64)]
    device: NamePattern


class EnrolOut(BaseModel):
    token: str
    user: str
    device: str


class Me(BaseModel):
    user: str
    device: str
    teams: list[str]


@router.post("/enrol", response_model=EnrolOut)
def enrol(body: EnrolIn, request: Request) -> EnrolOut:
    """Exchange a one-time enrolment code for this device's token (shown once)."""
    from tether.server.auth import MAX_CODE_FAILURES

    engine = request.app.state.tether.engine
    with transaction(engine) as connection:
        row = connection.execute(
            select(
                users.c.id, users.c.code_hash, users.c.code_expires_at, users.c.code_failures
            ).where(users.c.name == body.user)
        ).first()
        if row is None or row[1] is None or row[3] >= MAX_CODE_FAILURES or _expired(row[2]):
            raise unauthorized(BAD_CODE)
        user_id, code_hash = row[0], row[1]
    if not code_matches(code_hash, body.code):
        with transaction(engine) as connection:
            connection.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(code_failures=users.c.code_failures + 1)
            )
        raise unauthorized(BAD_CODE)
    token, token_id, token_hash = new_token()
    with transaction(engine) as connection:
        # Used once: a second enrolment with the same code finds no hash (or another one).
        used = connection.execute(
            update(users)
            .where(users.c.id == user_id, users.c.code_hash == code_hash)
            .values(code_hash=None, code_expires_at=None)
        ).rowcount
        if not used:
            raise unauthorized(BAD_CODE)
        connection.execute(
            insert(devices).values(
                user_id=user_id,
                name=body.device,
                token_id=token_id,
                token_hash=token_hash,
                created_at=now(),
                last_seen_at=now(),
            )
        )
    return EnrolOut(token=token, user=body.user, device=body.device)


def _expired(when: datetime | None) -> bool:
    if when is None:
        return True
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when < now()


@router.get("/me", response_model=Me)
def me(who: Authenticated, request: Request) -> Me:
    """Who this token is: user, device, teams."""
    with transaction(request.app.state.tether.engine, reading=True) as connection:
        names = connection.execute(
            select(teams.c.name)
            .join(team_members, team_members.c.team_id == teams.c.id)
            .where(team_members.c.user_id == who.user_id)
            .order_by(teams.c.name)
        ).scalars()
        return Me(user=who.user, device=who.device, teams=list(names))
