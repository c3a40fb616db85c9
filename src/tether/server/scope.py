"""What a user may see: the one place the server decides it, for every route (and for the
web view and MCP answers mounted on the same app).

A user sees the sessions they pushed, those pushed to a team they belong to, and those
handed to them. A chunk is theirs when they uploaded it or a session they see holds it;
anything else does not exist as far as they can tell (404, never 403).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, or_, select

from tether.server.schema import chunk_owners, handoffs, session_chunks, sessions, team_members


def visible_sessions(user_id: int, indexed: bool = True) -> ColumnElement[bool]:
    """A condition on `sessions` rows: those `user_id` may see. `indexed=False` is the same
    rows, written (`column + 0`) so the database filters a scan in another index's order
    (newest first) instead of gathering them by owner, team and handoff and sorting them
    all: far cheaper for a page of a user who sees much of the table."""
    owner: ColumnElement[int] = sessions.c.owner_id
    team: ColumnElement[int | None] = sessions.c.team_id
    pk: ColumnElement[int] = sessions.c.pk
    if not indexed:
        owner, team, pk = owner + 0, team + 0, pk + 0
    return or_(
        owner == user_id,
        team.in_(select(team_members.c.team_id).where(team_members.c.user_id == user_id)),
        pk.in_(select(handoffs.c.session_pk).where(handoffs.c.to_id == user_id)),
    )


def visible_chunk(user_id: int, digest_column: ColumnElement[str]) -> ColumnElement[bool]:
    """A condition: the chunk named by `digest_column` is one `user_id` may read."""
    uploaded = exists().where(
        chunk_owners.c.user_id == user_id, chunk_owners.c.hash == digest_column
    )
    held = exists().where(
        session_chunks.c.hash == digest_column,
        session_chunks.c.session_pk == sessions.c.pk,
        visible_sessions(user_id),
    )
    return or_(uploaded, held)
