"""What every tool adapter provides, and the operations a reader emits.

A reader never touches the database: it turns records into `Op`s (put a message, rewind,
reset, set session fields) and capture applies them, in one place, for every tool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from tether.errors import TetherError
from tether.model import Message

Capability = Literal["read", "write", "resume", "autoresume"]
SourceMode = Literal["jsonl", "document", "container"]
MemberMode = Literal["jsonl", "document"]


class FormatError(TetherError):
    """The file is not in a format this reader knows; the message says what was expected."""


@dataclass(frozen=True, slots=True)
class Member:
    """One session inside a file that holds many (a tool's SQLite database).

    Capture reads it as a source of its own, `<file>#<key>`, from the bytes `load` returns
    (the session's own records, say as JSON lines): they are what `read` gets in its feed,
    what the archive keeps, and what `tether reindex` reads again.
    """

    key: str
    """The session's native id: unique within the file, without `/`."""
    version: str
    """Changes whenever the session does (its updated-at, a row count): an unchanged
    version is not loaded again."""
    load: Callable[[], bytes]
    mode: MemberMode = "jsonl"


Members = Callable[[Callable[[str], None]], Iterator[Member]]
"""Lists the sessions in a container file; given `skip(reason)` to count what it cannot list."""


@dataclass(frozen=True, slots=True)
class Source:
    """One native file that holds (part of) one session, or many sessions (a container)."""

    path: Path
    mode: SourceMode
    """jsonl: read incrementally from the last offset; document: re-read whole when changed;
    container: a file of many sessions, listed by `members` whenever the file changed."""
    native_id: str | None = None
    """The session's native id when the path alone says it (else the reader sets it by Meta)."""
    members: Members | None = None
    """Set on a container (and only there)."""


def member_path(container: Path, key: str) -> Path:
    """The path a member's source is known by: the container's path, `#`, the key."""
    return container.with_name(f"{container.name}#{key.replace('/', '%2F')}")


@dataclass(slots=True)
class Put:
    """Add the message under `key`, or update the one already there.

    merge=False replaces an existing message with this key (Gemini rewrites a record);
    merge=True appends the parts to it (Claude splits one API response over several lines).
    """

    key: str
    message: Message
    merge: bool = False


@dataclass(slots=True)
class Rewind:
    """Drop the message with this key and every message after it (Gemini `$rewindTo`)."""

    key: str


@dataclass(slots=True)
class Reset:
    """Drop every message read so far: a checkpoint that replaces the whole history."""


@dataclass(slots=True)
class Meta:
    """Session fields learnt from the file; None leaves a field as it was."""

    native_id: str | None = None
    tool: str | None = None
    """Only for tether's own JSON format, whose sessions keep the tool they came from."""
    title: str | None = None
    cwd: str | None = None
    project: str | None = None
    git_branch: str | None = None
    git_commit: str | None = None
    parent_native_id: str | None = None
    """Native id (same tool) of the session this one is a sub-agent or fork of."""
    created_at: str | None = None
    updated_at: str | None = None
    native: dict[str, Any] = field(default_factory=dict)
    """Merged into the session's native dict (version, originator, agent type, …)."""


Op = Put | Rewind | Reset | Meta


class Feed(Protocol):
    """What capture hands a reader: the file's content from where the last read stopped."""

    source: Source
    start: int
    """Byte offset this read starts at (0 on a first or full read)."""

    def records(self) -> Iterator[dict[str, Any]]:
        """Every JSON-object line from `start`; bad lines are skipped and counted already."""
        ...

    def document(self) -> Any:
        """The whole file decoded as one JSON value; raises FormatError when it is not JSON."""
        ...

    def text(self) -> str:
        """The whole file as text (invalid UTF-8 replaced, and counted)."""
        ...

    def skip(self, reason: str) -> None:
        """Count a record the reader could not use; `reason` is shown by `tether doctor`."""
        ...

    def first(self, record_id: Any) -> bool:
        """Whether the record `records` handed out last, named `record_id` (a uuid, an
        event id), is read for the first time: False for a record written twice (the same
        id and the same bytes), in this read or an earlier one of the file. Two records that
        only share an id are both first. True when the record has no id to tell by."""
        ...


class Tool(Protocol):
    """One external AI coding tool. Modules under tools/ satisfy this as modules."""

    name: str
    """Command-line name: claude, codex, gemini, … (tether.tools.facts.NAMES)."""
    display_name: str
    aliases: tuple[str, ...]
    capabilities: frozenset[Capability]

    def store_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """Where this tool keeps sessions, honouring its own environment overrides."""
        ...

    def discover(self, root: Path) -> Iterator[Source]:
        """Every session file under one store root; cheap (directory listing only)."""
        ...

    def sniff(self, path: Path, head: bytes) -> Source | None:
        """For `tether import`: a Source when this file is this tool's format, else None."""
        ...

    def read(self, feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
        """Turn the feed into ops. `state` persists between incremental reads of one file:
        keep in it (JSON-serialisable) whatever later lines need (merge keys, counters)."""
        ...
