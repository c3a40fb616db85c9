"""What the server's users may see, as the web pages and the MCP tools ask for it: lists,
filters and search from the server's database (scoped by tether.server.scope), and a
session's messages from its pushed bytes read back (tether.server.held).

`Sessions` answers for one user id; `PagesSource` (the web pages' `Source`) and the MCP
tools' source are thin shapes over it.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, func, or_, select

from tether.errors import NotFoundError, UsageError
from tether.server.db import transaction
from tether.server.held import Held, HeldSession
from tether.server.routes.search import Narrow, search_heads
from tether.server.routes.sessions import handed_to, head_dict, heads
from tether.server.schema import handoffs, sessions, teams, users
from tether.server.scope import visible_sessions

Row = dict[str, Any]


def narrowing(filters: Any) -> Narrow:
    """Conditions on `sessions` for each filter set on `filters` (the pages' SessionFilters
    or the archive's Filters: tool, project, model, since, until, and person and team)."""
    given = {
        key: getattr(filters, key, None)
        for key in ("tool", "project", "model", "since", "until", "person", "team")
    }
    out: list[ColumnElement[bool]] = []
    if given["tool"]:
        out.append(sessions.c.tool == given["tool"])
    if given["project"]:
        project = str(given["project"])
        below = project.rstrip("/") + "/"
        out.append(
            or_(
                sessions.c.project == project,
                func.substr(sessions.c.project, 1, len(below)) == below,
            )
        )
    if given["model"]:
        out.append(sessions.c.models.contains(json.dumps(given["model"])))
    if given["since"]:
        out.append(sessions.c.updated_at >= given["since"])
    if given["until"]:
        out.append(sessions.c.updated_at < given["until"])
    if given["person"]:
        named = select(users.c.id).where(users.c.name == given["person"])
        out.append(sessions.c.owner_id.in_(named))
    if given["team"]:
        out.append(sessions.c.team_id.in_(select(teams.c.id).where(teams.c.name == given["team"])))
    return tuple(out)


def as_row(head: Row) -> Row:
    """A server head as `tether list --json` prints a session (and who pushed it)."""
    return {
        "id": head["session_id"],
        "tool": head["tool"],
        "native_id": head["native_id"],
        "project": head["project"],
        "cwd": head["cwd"],
        "git_branch": head["git_branch"],
        "git_commit": head["git_commit"],
        "title": head["title"],
        "created_at": head["created_at"],
        "updated_at": head["updated_at"],
        "message_count": head["message_count"],
        "models": head["models"],
        "usage": None,
        "parent_id": head["parent_id"],
        "names": [],
        "checkpoints": [],
        "continues": head["parent_id"] if head["parent_how"] else None,
        "pushed_by": f"{head['owner']}@{head['device'] or '?'}",
        "owner": head["owner"],
        "team": head["team"],
        "via": head["via"],
    }


class Sessions:
    """The sessions user `user_id` may see."""

    def __init__(self, engine: Engine, held: Held, user_id: int) -> None:
        self.engine = engine
        self.held = held
        self.user_id = user_id

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with transaction(self.engine, reading=True) as connection:
            yield connection

    def _heads(self, connection: Connection, query: Any) -> list[Row]:
        handed = handed_to(connection, self.user_id)
        return [head_dict(row, self.user_id, handed) for row in connection.execute(query)]

    def listed(self, narrow: Narrow, offset: int, limit: int) -> tuple[list[Row], int]:
        """(rows, how many in all), most recently updated first."""
        with self._reading() as connection:
            visible, most = self._visible(connection)
            total = self._count(connection, narrow, indexed=not most) if narrow else visible
            scan = total > 0 and (offset + limit) * self._largest(connection) < total * total
            rows = self._heads(
                connection,
                heads(self.user_id, indexed=not scan)
                .where(*narrow)
                .order_by(sessions.c.updated_at.desc(), sessions.c.pk.desc())
                .offset(offset)
                .limit(limit),
            )
        return [as_row(row) for row in rows], total

    def _count(self, connection: Connection, narrow: Narrow = (), indexed: bool = True) -> int:
        query = select(func.count()).where(visible_sessions(self.user_id, indexed), *narrow)
        return int(connection.execute(query.select_from(sessions)).scalar_one())

    def _visible(self, connection: Connection) -> tuple[int, bool]:
        """(how many sessions the user sees, whether that is most of the table). For most,
        one pass over the table beats fetching each row by owner, team and handoff; and a
        page newest first is cheaper read in `updated_at` order, skipping what is not
        theirs (about page end x all / matching rows), than all matching sorted."""
        visible = self._count(connection)
        return visible, 3 * visible > self._largest(connection)

    @staticmethod
    def _largest(connection: Connection) -> int:
        """About how many sessions the server holds (its highest row number: no scan)."""
        return int(connection.execute(select(func.max(sessions.c.pk))).scalar() or 0)

    def search(self, query: str, narrow: Narrow, limit: int) -> tuple[list[Row], bool]:
        """(hits, whether only the newest places the words are in were ranked)."""
        with self._reading() as connection:
            return search_heads(connection, query, self.user_id, narrow, limit)

    def find(self, ident: str) -> tuple[Row, HeldSession]:
        """One session by tether id, unique prefix or the tool's own id: yours before a
        teammate's copy of it, then the newest push. NotFoundError, or UsageError for a
        prefix of several."""
        ident = ident.strip()
        if not ident or len(ident) > 256:
            raise NotFoundError(f"no session {ident[:80]!r} that you may see")
        found = self._matching(ident)
        if len({row["session_id"] for row, _ in found}) > 1:
            raise UsageError(f"{ident!r} is the start of several sessions' ids: give more of it")
        if not found:
            raise NotFoundError(f"no session {ident[:80]!r} that you may see")
        found.sort(key=lambda item: (item[0]["via"] != "own", -int(item[0]["change"])))
        return found[0]

    def _matching(self, ident: str) -> list[tuple[Row, HeldSession]]:
        exact = or_(sessions.c.session_id == ident, sessions.c.native_id == ident)
        query = heads(self.user_id).where(exact)
        with self._reading() as connection:
            rows = connection.execute(query).all()
            if not rows and len(ident) >= 4 and all(c in "0123456789abcdef" for c in ident):
                prefix = and_(sessions.c.session_id >= ident, sessions.c.session_id < ident + "g")
                rows = connection.execute(heads(self.user_id).where(prefix).limit(20)).all()
            handed = handed_to(connection, self.user_id)
        out = []
        for row in rows:
            data = row._mapping
            key = HeldSession(
                pk=data["pk"],
                owner_id=data["owner_id"],
                session_id=data["session_id"],
                tool=data["tool"],
                native_id=data["native_id"],
                revision=data["revision"],
            )
            out.append((head_dict(row, self.user_id, handed), key))
        return out

    @contextmanager
    def archive(self, ident: str) -> Iterator[tuple[Row, sqlite3.Connection, int]]:
        """A session's head, its archive read back, and its pk in that archive."""
        head, key = self.find(ident)
        with self.held.open(key) as db:
            found = db.execute("SELECT pk FROM sessions WHERE id = ?", (key.session_id,)).fetchone()
            if found is None:
                raise NotFoundError("this session's files hold no session tether can read")
            yield head, db, int(found[0])

    def seen_mark(self) -> tuple[Any, ...]:
        """What changes when what this user sees may have: the last change number (every
        push and handoff takes one), the users (a removed user's sessions go) and the teams
        the user is in."""
        from tether.server.schema import counter, team_members

        with self._reading() as connection:
            mark = connection.execute(
                select(
                    select(counter.c.value).scalar_subquery(),
                    select(func.count()).select_from(users).scalar_subquery(),
                    select(func.max(users.c.id)).scalar_subquery(),
                )
            ).one()
            mine = connection.execute(
                select(team_members.c.team_id).where(team_members.c.user_id == self.user_id)
            ).scalars()
            return (*mark, *sorted(mine))

    def facets(self) -> dict[str, list[tuple[str, int]]]:
        """Each filter's values with their sessions, most first. The database counts the
        sessions per distinct (tool, models, project, owner, team): a few hundred rows to
        add up here, not one per session."""
        counts: dict[str, Counter[str]] = {
            k: Counter() for k in ("tools", "models", "projects", "people", "teams")
        }
        c = sessions.c
        with self._reading() as connection:
            _, scan = self._visible(connection)
            query = (
                select(c.tool, c.models, c.project, users.c.name, teams.c.name, func.count())
                .join(users, users.c.id == c.owner_id)
                .outerjoin(teams, teams.c.id == c.team_id)
                .where(visible_sessions(self.user_id, indexed=not scan))
                .group_by(c.tool, c.models, c.project, users.c.name, teams.c.name)
            )
            for tool, models, project, owner, team, n in connection.execute(query):
                counts["tools"][tool] += n
                for model in set(json.loads(models or "[]")):
                    counts["models"][model] += n
                counts["people"][owner] += n
                if project:
                    counts["projects"][project] += n
                if team:
                    counts["teams"][team] += n
        return {key: counter.most_common() for key, counter in counts.items()}

    def related(self, session_id: str) -> tuple[Row | None, list[Row], list[Row]]:
        """(its parent's row, its children's rows, the handoffs of it you took part in)."""
        sender, receiver = users.alias("sender"), users.alias("receiver")
        with self._reading() as connection:
            own = connection.execute(
                heads(self.user_id).where(sessions.c.session_id == session_id)
            ).first()
            parent_id = own._mapping["parent_id"] if own is not None else None
            parent = None
            if parent_id:
                found = self._heads(
                    connection, heads(self.user_id).where(sessions.c.session_id == parent_id)
                )
                parent = as_row(found[0]) if found else {"id": parent_id}
            children = self._heads(
                connection, heads(self.user_id).where(sessions.c.parent_id == session_id)
            )
            handed = connection.execute(
                select(sender.c.name, receiver.c.name, handoffs.c.note, handoffs.c.created_at)
                .join(sessions, sessions.c.pk == handoffs.c.session_pk)
                .join(sender, sender.c.id == handoffs.c.from_id)
                .join(receiver, receiver.c.id == handoffs.c.to_id)
                .where(
                    sessions.c.session_id == session_id,
                    or_(handoffs.c.from_id == self.user_id, handoffs.c.to_id == self.user_id),
                )
                .order_by(handoffs.c.created_at)
            ).all()
        moves = [
            {
                "from": a,
                "to": b,
                "note": note,
                "at": at.isoformat() if at else None,
                "id": session_id,
            }
            for a, b, note, at in handed
        ]
        return parent, [as_row(child) for child in children], moves

    def projects(self) -> list[Row]:
        out: dict[str, Row] = {}
        with self._reading() as connection:
            _, scan = self._visible(connection)
            query = (
                select(
                    sessions.c.project,
                    sessions.c.tool,
                    func.count(),
                    func.sum(sessions.c.message_count),
                    func.max(sessions.c.updated_at),
                )
                .where(visible_sessions(self.user_id, not scan), sessions.c.project.is_not(None))
                .group_by(sessions.c.project, sessions.c.tool)
            )
            for project, tool, count, messages, updated in connection.execute(query):
                entry = out.setdefault(
                    project,
                    {
                        "project": project,
                        "sessions": 0,
                        "messages": 0,
                        "updated_at": None,
                        "tools": {},
                    },
                )
                entry["sessions"] += count
                entry["messages"] += int(messages or 0)
                entry["updated_at"] = max(entry["updated_at"] or "", updated or "") or None
                entry["tools"][tool] = count
        return sorted(out.values(), key=lambda p: p["updated_at"] or "", reverse=True)

    def people(self, user: str) -> list[str]:
        """Everyone on the server but `user`, teammates first."""
        from tether.server.schema import team_members

        mine = select(team_members.c.team_id).where(team_members.c.user_id == self.user_id)
        mates = select(team_members.c.user_id).where(team_members.c.team_id.in_(mine))
        with self._reading() as connection:
            rows = connection.execute(
                select(users.c.name, users.c.id.in_(mates)).where(users.c.name != user)
            ).all()
        return [name for name, _ in sorted(rows, key=lambda r: (not r[1], r[0]))]
