"""Who is asking: device tokens, one-time enrolment codes, and the dependency every route
that reads or writes a user's data takes (`Caller`).

A device token is `tt_<id>_<secret>`: the id finds the device, the secret (256 random bits)
is kept as its sha256, and a slow hash would add nothing to a secret that long. An
enrolment code is short enough to type, so it is kept as an argon2 hash, is good for one
use until it expires, and is void after a few wrong tries.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import Engine, select, update

from tether.server.db import now, transaction
from tether.server.errors import ApiError
from tether.server.schema import devices, users

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
"""No 0/O, 1/I/L, U: a code is read off one screen and typed on another."""
CODE_GROUPS = 4
MAX_CODE_FAILURES = 5
TOKEN = re.compile(r"tt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
NAME = re.compile(r"[a-z][a-z0-9._-]{0,63}")
"""A user, team or device name: lower case, starting with a letter, at most 64."""
SEEN_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class Caller:
    """The user (and device) a request comes from."""

    user_id: int
    user: str
    device_id: int
    device: str


def new_code() -> str:
    groups = ("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(CODE_GROUPS))
    return "-".join(groups)


def normal_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch in CODE_ALPHABET)


def hash_code(code: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(normal_code(code))


def code_matches(stored: str, code: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(stored, normal_code(code))
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> tuple[str, str, str]:
    """(token, its id, the hash kept of its secret)."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return f"tt_{token_id}_{secret}", token_id, secret_hash(secret)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def find_caller(engine: Engine, authorization: str | None) -> Caller:
    """The caller a bearer token names; 401 when it names none."""
    if not authorization:
        raise unauthorized("no token: log in first (`tether login URL`)")
    scheme, _, value = authorization.partition(" ")
    match = TOKEN.fullmatch(value.strip()) if scheme.lower() == "bearer" else None
    if match is None:
        raise unauthorized("the token is malformed: log in again (`tether login URL`)")
    token_id, secret = match.groups()
    with transaction(engine, reading=True) as connection:
        row = connection.execute(
            select(
                devices.c.id,
                devices.c.name,
                devices.c.token_hash,
                devices.c.last_seen_at,
                users.c.id,
                users.c.name,
            )
            .join(users, users.c.id == devices.c.user_id)
            .where(devices.c.token_id == token_id)
        ).first()
    if row is None or not hmac.compare_digest(row[2], secret_hash(secret)):
        raise unauthorized("the token is not valid (revoked or mistyped): log in again")
    caller = Caller(user_id=row[4], user=row[5], device_id=row[0], device=row[1])
    seen = row[3]
    if seen is None or _aware(seen) < now() - SEEN_EVERY:
        with transaction(engine) as connection:
            connection.execute(
                update(devices).where(devices.c.id == caller.device_id).values(last_seen_at=now())
            )
    return caller


def _aware(when: datetime) -> datetime:
    """SQLite gives naive datetimes back: they are UTC."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Caller:
    """The dependency every user route takes: the caller, or 401."""
    return find_caller(request.app.state.tether.engine, authorization)


Authenticated = Annotated[Caller, Depends(caller)]
