"""What the server's operator does on the server's own machine: users (each enrolled by a
one-time code), teams and their members. `tether server user|team …` calls these on the
database the settings name; no route reaches them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tether.errors import ConflictError, NotFoundError, UsageError
from tether.server.auth import NAME, hash_code, new_code
from tether.server.db import now, transaction
from tether.server.schema import devices, sessions, team_members, teams, users


def check_name(name: str, what: str) -> str:
    if not NAME.fullmatch(name):
        raise UsageError(
            f"{what} name {name!r} is not allowed: lower-case letters, digits, '.', '_' and"
            " '-', starting with a letter, at most 64"
        )
    return name


def add_user(engine: Engine, name: str, again: bool, code_hours: float) -> dict[str, Any]:
    """Make user `name` (or, with `again`, give an existing one a new code): the one-time
    enrolment code, shown once and kept only as a hash."""
    check_name(name, "a user")
    code = new_code()
    expires = now() + timedelta(hours=code_hours)
    fields = {"code_hash": hash_code(code), "code_expires_at": expires, "code_failures": 0}
    with transaction(engine) as connection:
        existing = connection.execute(select(users.c.id).where(users.c.name == name)).first()
        if existing is None:
            connection.execute(insert(users).values(name=name, created_at=now(), **fields))
        elif again:
            connection.execute(update(users).where(users.c.id == existing[0]).values(**fields))
        else:
            raise ConflictError(
                f"user {name!r} exists: `tether server user add {name} --again` gives a new code"
            )
    return {"user": name, "code": code, "expires_at": expires.isoformat()}


def list_users(engine: Engine) -> list[dict[str, Any]]:
    with transaction(engine, reading=True) as connection:
        device_count = select(func.count()).where(devices.c.user_id == users.c.id).scalar_subquery()
        session_count = (
            select(func.count()).where(sessions.c.owner_id == users.c.id).scalar_subquery()
        )
        rows = connection.execute(
            select(users.c.name, users.c.created_at, device_count, session_count).order_by(
                users.c.name
            )
        ).all()
        member_rows = connection.execute(
            select(users.c.name, teams.c.name)
            .join(team_members, team_members.c.user_id == users.c.id)
            .join(teams, teams.c.id == team_members.c.team_id)
            .order_by(teams.c.name)
        ).all()
    memberships: dict[str, list[str]] = {}
    for user, team in member_rows:
        memberships.setdefault(user, []).append(team)
    return [
        {
            "user": name,
            "created_at": created.isoformat() if created else None,
            "devices": device_total,
            "sessions": session_total,
            "teams": memberships.get(name, []),
        }
        for name, created, device_total, session_total in rows
    ]


def remove_user(engine: Engine, name: str) -> dict[str, Any]:
    """Remove a user with their devices (tokens stop working at once), sessions and handoffs."""
    with transaction(engine) as connection:
        user_id = _id_of(connection, users, name, "user")
        count = connection.execute(
            select(func.count()).where(sessions.c.owner_id == user_id)
        ).scalar_one()
        connection.execute(delete(users).where(users.c.id == user_id))
    return {"user": name, "removed": True, "sessions": count}


def add_team(engine: Engine, name: str) -> dict[str, Any]:
    check_name(name, "a team")
    try:
        with transaction(engine) as connection:
            connection.execute(insert(teams).values(name=name, created_at=now()))
    except IntegrityError:
        raise ConflictError(f"team {name!r} exists") from None
    return {"team": name, "members": []}


def set_member(engine: Engine, team: str, user: str, member: bool) -> dict[str, Any]:
    """Add `user` to `team` (member=True) or take them out; the team's members after."""
    with transaction(engine) as connection:
        team_id = _id_of(connection, teams, team, "team")
        user_id = _id_of(connection, users, user, "user")
        connection.execute(
            delete(team_members).where(
                team_members.c.team_id == team_id, team_members.c.user_id == user_id
            )
        )
        if member:
            connection.execute(insert(team_members).values(team_id=team_id, user_id=user_id))
        names = connection.execute(
            select(users.c.name)
            .join(team_members, team_members.c.user_id == users.c.id)
            .where(team_members.c.team_id == team_id)
            .order_by(users.c.name)
        ).scalars()
        return {"team": team, "members": list(names)}


def list_teams(engine: Engine) -> list[dict[str, Any]]:
    with transaction(engine, reading=True) as connection:
        rows = connection.execute(
            select(teams.c.name, users.c.name)
            .select_from(teams)
            .outerjoin(team_members, team_members.c.team_id == teams.c.id)
            .outerjoin(users, users.c.id == team_members.c.user_id)
            .order_by(teams.c.name, users.c.name)
        ).all()
    out: dict[str, list[str]] = {}
    for team, user in rows:
        out.setdefault(team, [])
        if user is not None:
            out[team].append(user)
    return [{"team": team, "members": members} for team, members in out.items()]


def _id_of(connection: Connection, table: Any, name: str, what: str) -> int:
    found = connection.execute(select(table.c.id).where(table.c.name == name)).first()
    if found is None:
        raise NotFoundError(f"no {what} named {name!r}")
    return int(found[0])
