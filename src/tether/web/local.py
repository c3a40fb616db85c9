"""The pages' Source for `tether web`: the archive on this machine, read-only, and the teams
recorded in the projects it knows. One viewer (you) sees everything.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

from tether.archive import pages
from tether.archive.db import connect, store_errors
from tether.archive.query import (
    Filters,
    NotFound,
    capped,
    find_session,
    list_sessions,
    search,
)
from tether.errors import UsageError
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

NEWEST = 5_000
"""A search with no filter ranks the newest this many places its words appear."""
FACETS_FOR = 60.0
"""Seconds the filters' counts are kept at most."""


class NotHere(UsageError):
    """What only the team server does (handing a session to someone)."""


class LocalSource:
    """The archive at `path`, opened read-only once per worker thread; `roots`: project
    folders to look for teams in besides those of the archive's sessions."""

    features: frozenset[Feature] = frozenset()

    def __init__(self, path: Path, roots: tuple[Path, ...] = ()) -> None:
        self.path = path
        self.roots = roots
        self._local = threading.local()
        self._lock = threading.Lock()
        self._facets: tuple[tuple[Any, ...], Facets] | None = None

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.path, readonly=True)
        with store_errors(self.path):
            yield db

    # sessions ------------------------------------------------------------------------
    def sessions(self, viewer: Viewer, filters: SessionFilters, offset: int, limit: int) -> Page:
        f = _filters(filters, offset, limit + 1)
        with self._db() as db:
            rows = list_sessions(db, f)
            if any(getattr(filters, field.name) for field in fields(filters)):
                total = pages.count_sessions(db, f)
            else:  # counted with the filters' values already (a scan of every session)
                total = sum(count for _, count in self.facets(viewer).tools)
        return Page(rows[:limit], offset, limit, len(rows) > limit, total)

    def facets(self, viewer: Viewer) -> Facets:
        """Counted again only when a session was added or grew (or a minute has passed):
        counting models over 25,000 sessions costs more than the rest of a page."""
        with self._db() as db:
            mark = db.execute("SELECT MAX(pk), MAX(updated_at) FROM sessions").fetchone()
            key = (*mark, int(time.monotonic() // FACETS_FOR))
            with self._lock:
                if self._facets is not None and self._facets[0] == key:
                    return self._facets[1]
            found = pages.facets(db)
        facets = Facets(found["tools"], found["models"], found["projects"])
        with self._lock:
            self._facets = (key, facets)
        return facets

    def search(
        self, viewer: Viewer, query: str, filters: SessionFilters, offset: int, limit: int
    ) -> Page:
        f = _filters(filters, offset, limit + 1)
        f.role = filters.role
        f.newest = NEWEST
        with self._db() as db:
            rows = search(db, query, f)
            unfiltered = not any(getattr(filters, f.name) for f in fields(filters))
            note = None
            if unfiltered and capped(db, query, NEWEST):
                note = (
                    f"The words are in more than {NEWEST:,} places: these are the best of the"
                    f" {NEWEST:,} newest. More words or a filter narrow the search."
                )
        return Page(rows[:limit], offset, limit, len(rows) > limit, note=note)

    def session(self, viewer: Viewer, ident: str) -> Row:
        with self._db() as db:
            _, row = find_session(db, ident)
        return row

    def _pk(self, db: sqlite3.Connection, session_id: str) -> int:
        found = db.execute("SELECT pk FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if found is None:
            raise NotFound(f"no session {session_id!r}")
        return int(found[0])

    def messages(self, viewer: Viewer, session_id: str, start: int | None) -> Messages:
        with self._db() as db:
            page = pages.message_page(db, self._pk(db, session_id), start)
        return Messages(
            page.messages, page.total, page.position, page.next_seq, page.prev_seq, page.last_seq
        )

    def part(self, viewer: Viewer, session_id: str, seq: int, index: int) -> Row:
        with self._db() as db:
            return pages.whole_part(db, self._pk(db, session_id), seq, index)

    def search_session(
        self, viewer: Viewer, session_id: str, query: str, offset: int, limit: int
    ) -> Page:
        with self._db() as db:
            rows = pages.search_session(db, self._pk(db, session_id), query, offset, limit + 1)
        return Page(rows[:limit], offset, limit, len(rows) > limit)

    def lineage(self, viewer: Viewer, session_id: str) -> Lineage:
        with self._db() as db:
            (parent_id,) = db.execute(
                "SELECT parent_id FROM sessions WHERE id = ?", (session_id,)
            ).fetchone() or (None,)
            children = pages.children(db, session_id)
            parent = None
            if parent_id:
                parent = pages.sessions_by_id(db, [parent_id]).get(parent_id, {"id": parent_id})
        teams: list[Row] = []
        moved: list[Row] = []
        for team in self.teams(viewer):
            for agent in team["agents"]:
                if agent["id"] == session_id:
                    teams.append({"team": team["team"], "key": team["key"], "agent": agent["name"]})
                    moved += agent["moved_from"]
        return Lineage(parent=parent, children=children, teams=teams, moved_from=moved)

    def projects(self, viewer: Viewer) -> list[Row]:
        with self._db() as db:
            return pages.projects(db)

    # teams ---------------------------------------------------------------------------
    def teams(self, viewer: Viewer) -> list[Row]:
        with self._db() as db:
            known = [row[0] for row in db.execute("SELECT DISTINCT project FROM sessions")]
            found = [team for root in self._team_roots(known) for team in _teams_of(root)]
            ids = [agent["id"] for team in found for agent in team["agents"] if agent["id"]]
            rows = pages.sessions_by_id(db, ids)
        for team in found:
            for agent in team["agents"]:
                agent["session"] = rows.get(agent["id"] or "")
        return sorted(found, key=lambda t: (t["started_at"] or "", t["team"]), reverse=True)

    def _team_roots(self, projects: list[str | None]) -> list[Path]:
        roots = dict.fromkeys([*self.roots, *(Path(p) for p in projects if p)])
        return [root for root in roots if (root / ".tether" / "teams").is_dir()]

    def team(self, viewer: Viewer, key: str) -> Row:
        for team in self.teams(viewer):
            if team["key"] == key:
                return team
        raise NotFound(f"no team {key!r}: see the teams page")

    # the server's ----------------------------------------------------------------------
    def inbox(self, viewer: Viewer) -> list[Row]:
        return []

    def people(self, viewer: Viewer) -> list[str]:
        return []

    def handoff(self, viewer: Viewer, session_id: str, to: str, note: str) -> Row:
        raise NotHere("handing a session to someone takes the tether server (tether push)")


def _filters(given: SessionFilters, offset: int, limit: int) -> Filters:
    return Filters(
        tool=given.tool,
        project=given.project,
        since=given.since,
        until=given.until,
        model=given.model,
        offset=offset,
        limit=limit,
    )


def team_key(root: Path, name: str) -> str:
    """A team's name and its project, as one word for a URL: `NAME~<8 hex of the root>`."""
    return f"{name}~{hashlib.sha256(str(root).encode()).hexdigest()[:8]}"


def _teams_of(root: Path) -> list[Row]:
    """The teams a project defines or ran; one that cannot be read is left out (its
    project's `tether team` says why)."""
    from tether.model import session_id
    from tether.teams.runner import TeamError, load_record
    from tether.teams.teamfile import TeamFileError, defined_teams, load_team, teams_dir

    names = set(defined_teams(root)) | {path.stem for path in teams_dir(root).glob("*.json")}
    out: list[Row] = []
    for name in sorted(names):
        try:
            record = load_record(root, name)
            agents: list[dict[str, Any]]
            if record is not None:
                agents = [
                    {
                        "name": a.name,
                        "tool": a.tool,
                        "native_id": a.native_id,
                        "id": session_id(a.tool, a.native_id) if a.native_id else None,
                        "started_at": a.started_at,
                        "moved_from": [_moved(entry) for entry in a.moved_from],
                    }
                    for a in record.agents
                ]
            else:
                defined = load_team(root, name)
                agents = [
                    {"name": a.name, "tool": a.tool, "native_id": None, "id": None}
                    | {"started_at": None, "moved_from": []}
                    for a in defined.agents
                ]
        except (TeamError, TeamFileError):
            continue
        started = [a["started_at"] for a in agents if a["started_at"]]
        out.append(
            {
                "team": name,
                "project": str(root),
                "key": team_key(root, name),
                "started_at": min(started) if started else None,
                "stopped_at": record.stopped_at if record else None,
                "agents": agents,
            }
        )
    return out


def _moved(entry: dict[str, str]) -> Row:
    from tether.model import session_id

    tool, native_id = str(entry.get("tool", "")), str(entry.get("native_id", ""))
    return {"tool": tool, "native_id": native_id, "id": session_id(tool, native_id)}
