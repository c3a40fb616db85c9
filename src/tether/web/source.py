"""What the web pages read, behind one interface: `Source`. `tether web` serves a
`LocalSource` (tether.web.local, the archive on this machine); the team server serves its
own, scoped to the signed-in person. Every page is made from what these methods return,
and its `.json` twin is that same data.

Rules for an implementation:
- Every method takes the `Viewer` the auth policy let in, and answers only with what that
  viewer may see: a session they may not see is a `NotFoundError` (404), never a 403.
- Errors are tether's own: NotFoundError (404), UsageError (400: a bad query, an ambiguous
  id prefix), ConflictError (409); anything else is a 500.
- Methods are plain (blocking) functions; the app calls them in a worker thread.
- Rows are plain JSON values, shaped as the CLI's `--json` prints them (README, "JSON"),
  so a page can show what `tether list`, `search` and `show` show. The app redacts secrets
  in everything it sends, whatever the source did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Feature = Literal["people", "handoff", "inbox"]
"""What only some sources can do: filter by person and team, hand a session to someone,
list what was handed to the viewer. The pages offer them only where the source says so."""

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking, as the auth policy established it."""

    name: str
    """Shown in the page header ("you" on the laptop)."""
    csrf_token: str
    """Goes with every form that changes something; the app checks it on the way back."""
    teams: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SessionFilters:
    """Which sessions: each set field narrows the list (all are ANDed)."""

    tool: str | None = None
    project: str | None = None
    """This folder or below."""
    model: str | None = None
    since: str | None = None
    """Updated at or after (ISO 8601)."""
    until: str | None = None
    """Updated before (ISO 8601)."""
    person: str | None = None
    """On the server: pushed by this person."""
    team: str | None = None
    """On the server: shared with this team."""
    role: str | None = None
    """Search only: messages of this role."""


@dataclass(frozen=True, slots=True)
class Page:
    """One page of rows; `more` when rows follow. `total` when counting is cheap."""

    rows: list[Row]
    offset: int
    limit: int
    more: bool
    total: int | None = None
    note: str | None = None
    """Something the viewer should know about these rows (a search ranked in part)."""


@dataclass(frozen=True, slots=True)
class Facets:
    """The values the list's filters offer, most used first: (value, sessions)."""

    tools: list[tuple[str, int]]
    models: list[tuple[str, int]]
    projects: list[tuple[str, int]]
    people: list[tuple[str, int]] = field(default_factory=list)
    teams: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Messages:
    """A page of one session's messages, in order, from the message with seq `start`.

    Each message: `seq` (its place: a stable anchor), `role`, `timestamp`, `model`,
    `parts`. Each part as in the session format (`type`: text, reasoning, tool_call,
    tool_result, attachment, with that type's keys), plus `index` (its place in the
    message), `size` (characters of its text whole) and `cut` (the page holds only the
    start of it: `Source.part` gives it whole). A tool call too large to read into a page
    has `input: null` and `input_text` (its values, cut).
    """

    messages: list[Row]
    total: int
    position: int
    """Messages before the first of this page."""
    next_seq: int | None
    prev_seq: int | None
    last_seq: int | None


@dataclass(frozen=True, slots=True)
class Lineage:
    """How a session relates to others: each entry a session row (as `list` prints it)
    where the session is known, else `{"id": …}` alone."""

    parent: Row | None = None
    """The session this one was forked from or runs as a sub-agent of."""
    children: list[Row] = field(default_factory=list)
    """Sub-agents and forks of this session."""
    teams: list[Row] = field(default_factory=list)
    """Teams with an agent on this session: `team`, `key`, `agent`."""
    moved_from: list[Row] = field(default_factory=list)
    """Sessions an agent ran on before it moved to this one (`tool`, `native_id`, `id`)."""
    handoffs: list[Row] = field(default_factory=list)
    """On the server: `from`, `to`, `note`, `at`, `id` (the session handed on)."""


class Source(Protocol):
    """Everything the pages read (and the few changes they make), for one viewer."""

    features: frozenset[Feature]

    def sessions(self, viewer: Viewer, filters: SessionFilters, offset: int, limit: int) -> Page:
        """Sessions, most recently updated first; rows as `tether list --json`."""
        ...

    def facets(self, viewer: Viewer) -> Facets: ...

    def search(
        self, viewer: Viewer, query: str, filters: SessionFilters, offset: int, limit: int
    ) -> Page:
        """Hits for `query` (tether's search syntax), best first; rows as
        `tether search --json` (`snippet` marks the match with « and »)."""
        ...

    def session(self, viewer: Viewer, ident: str) -> Row:
        """One session by tether id, unique prefix, or the tool's own id; a row as
        `tether list --json`. NotFoundError, or UsageError for a prefix of several."""
        ...

    def messages(self, viewer: Viewer, session_id: str, start: int | None) -> Messages:
        """A page of the session's messages from seq `start` (None: the first)."""
        ...

    def part(self, viewer: Viewer, session_id: str, seq: int, index: int) -> Row:
        """One part whole (as in `Messages`, never cut)."""
        ...

    def search_session(
        self, viewer: Viewer, session_id: str, query: str, offset: int, limit: int
    ) -> Page:
        """The parts of one session that match, in order: `seq`, `index`, `role`,
        `timestamp`, `kind`, `snippet`."""
        ...

    def lineage(self, viewer: Viewer, session_id: str) -> Lineage: ...

    def projects(self, viewer: Viewer) -> list[Row]:
        """Each: `project`, `sessions`, `messages`, `updated_at`, `tools` (tool: sessions)."""
        ...

    def teams(self, viewer: Viewer) -> list[Row]:
        """Teams of agents, most recently started first. Each: `team`, `project`, `key`
        (what `team` takes: a word fit for a URL), `started_at`, `stopped_at`, `agents`
        (each: `name`, `tool`, `native_id`, `id`: the tether id of its session or None,
        `started_at`, `moved_from` (as in Lineage), `session`: its row or None)."""
        ...

    def team(self, viewer: Viewer, key: str) -> Row:
        """One team by its `key`, as `teams` lists it."""
        ...

    def inbox(self, viewer: Viewer) -> list[Row]:
        """Handoffs to the viewer, newest first: `from`, `note`, `at`, `session` (a row)."""
        ...

    def people(self, viewer: Viewer) -> list[str]:
        """Whom the viewer may hand a session to."""
        ...

    def handoff(self, viewer: Viewer, session_id: str, to: str, note: str) -> Row:
        """Hand the session to `to`; the handoff as `inbox` lists it."""
        ...
