"""The web pages' `Source` on the server (tether.web.source): each signed-in user sees what
tether.server.scope lets them see, filters by person and team, hands sessions on and reads
their inbox. The pages themselves are tether.web's, the same as `tether web` serves.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from tether.archive import pages
from tether.errors import NotFoundError
from tether.server.held import Held
from tether.server.routes.search import NEWEST
from tether.server.views import Sessions, as_row, narrowing
from tether.web.source import (
    Facets,
    Feature,
    Lineage,
    Messages,
    Page,
    Row,
    SessionFilters,
    Viewer,
)

FACETS_FOR = 60.0
"""Seconds a user's filters' counts are kept at most."""
FACETS_KEPT = 1000
"""Users whose counts are kept at once (the oldest kept go first)."""


@dataclass(frozen=True, slots=True)
class Member(Viewer):
    """A signed-in user of the server."""

    user_id: int = 0


class PagesSource:
    """What the server's pages read, for the member signed in."""

    features: frozenset[Feature] = frozenset({"people", "handoff", "inbox"})

    def __init__(self, engine: Engine, held: Held) -> None:
        self.engine = engine
        self.held = held
        self._facets: dict[int, tuple[tuple[Any, ...], Facets]] = {}
        self._lock = threading.Lock()

    def _of(self, viewer: Viewer) -> Sessions:
        if not isinstance(viewer, Member) or viewer.user_id <= 0:
            raise NotFoundError("sign in to see sessions")
        return Sessions(self.engine, self.held, viewer.user_id)

    def sessions(self, viewer: Viewer, filters: SessionFilters, offset: int, limit: int) -> Page:
        rows, total = self._of(viewer).listed(narrowing(filters), offset, limit)
        return Page(rows, offset, limit, offset + len(rows) < total, total)

    def facets(self, viewer: Viewer) -> Facets:
        """Counted again only when what the user sees may have changed (or a minute has
        passed): over 25,000 sessions the counts cost more than the rest of a page."""
        sessions = self._of(viewer)
        key = (*sessions.seen_mark(), int(time.monotonic() // FACETS_FOR))
        with self._lock:
            kept = self._facets.get(sessions.user_id)
        if kept is not None and kept[0] == key:
            return kept[1]
        found = sessions.facets()
        facets = Facets(
            found["tools"], found["models"], found["projects"], found["people"], found["teams"]
        )
        with self._lock:
            if len(self._facets) >= FACETS_KEPT:
                self._facets.pop(next(iter(self._facets)))
            self._facets[sessions.user_id] = (key, facets)
        return facets

    def search(
        self, viewer: Viewer, query: str, filters: SessionFilters, offset: int, limit: int
    ) -> Page:
        sessions, narrow = self._of(viewer), narrowing(filters)
        found, capped = sessions.search(query, narrow, offset + limit + 1)
        rows = [
            as_row(head)
            | {
                "session_id": head["session_id"],
                "message_id": None,
                "role": "",
                "timestamp": head["updated_at"],
                "kind": "",
                "snippet": head["snippet"],
            }
            for head in found[offset : offset + limit]
        ]
        notes = []
        if capped:
            notes.append(
                f"The words are in {NEWEST:,} places or more: these are the best of the"
                f" {NEWEST:,} newest. More words or a filter narrow the search."
            )
        if filters.role:
            notes.append("The server searches whole sessions: the role filter is not used here.")
        return Page(rows, offset, limit, len(found) > offset + limit, note=" ".join(notes) or None)

    def session(self, viewer: Viewer, ident: str) -> Row:
        head, _ = self._of(viewer).find(ident)
        return as_row(head)

    def messages(self, viewer: Viewer, session_id: str, start: int | None) -> Messages:
        with self._of(viewer).archive(session_id) as (_, db, pk):
            page = pages.message_page(db, pk, start)
        return Messages(
            page.messages, page.total, page.position, page.next_seq, page.prev_seq, page.last_seq
        )

    def part(self, viewer: Viewer, session_id: str, seq: int, index: int) -> Row:
        with self._of(viewer).archive(session_id) as (_, db, pk):
            return pages.whole_part(db, pk, seq, index)

    def search_session(
        self, viewer: Viewer, session_id: str, query: str, offset: int, limit: int
    ) -> Page:
        with self._of(viewer).archive(session_id) as (_, db, pk):
            rows = pages.search_session(db, pk, query, offset, limit + 1)
        return Page(rows[:limit], offset, limit, len(rows) > limit)

    def lineage(self, viewer: Viewer, session_id: str) -> Lineage:
        parent, children, handed = self._of(viewer).related(session_id)
        return Lineage(parent=parent, children=children, handoffs=handed)

    def projects(self, viewer: Viewer) -> list[Row]:
        return self._of(viewer).projects()

    def teams(self, viewer: Viewer) -> list[Row]:
        return []  # teams of agents run on a machine; the server keeps teams of people

    def team(self, viewer: Viewer, key: str) -> Row:
        raise NotFoundError("teams of agents are on the machines that ran them (`tether web`)")

    def inbox(self, viewer: Viewer) -> list[Row]:
        from tether.server.db import transaction
        from tether.server.routes.handoffs import inbox_of

        user_id = self._of(viewer).user_id
        with transaction(self.engine, reading=True) as connection:
            handed = inbox_of(connection, user_id)
        return [
            {"from": item["from"], "note": item["note"], "at": item["created_at"]}
            | {"session": as_row(item["session"]), "id": item["id"]}
            for item in handed
        ]

    def people(self, viewer: Viewer) -> list[str]:
        return self._of(viewer).people(viewer.name)

    def handoff(self, viewer: Viewer, session_id: str, to: str, note: str) -> Row:
        from tether.server.db import transaction
        from tether.server.errors import ApiError
        from tether.server.routes.handoffs import record_handoff

        sessions = self._of(viewer)
        head, _ = sessions.find(session_id)
        if head["via"] != "own":
            raise NotFoundError("only its owner can hand a session on")
        try:
            with transaction(self.engine) as connection:
                done = record_handoff(
                    connection, sessions.user_id, viewer.name, head["session_id"], to.strip(),
                    note.strip()[:4000] or None,
                )  # fmt: skip
        except ApiError as exc:
            raise NotFoundError(exc.message) from None
        return {"from": viewer.name, "note": done["note"], "at": done["created_at"]} | {
            "session": as_row(head)
        }
