"""What each MCP tool does, against a Source: typed results (their TypedDicts are the output
schemas), redacted, and capped in size, each saying how to ask for more.

No MCP SDK here: tether.mcp.server puts these on it, for stdio here and for streamable HTTP
on the team server. What the tools do is imported when a tool is first called, not with the
types: `tether mcp serve` answers `initialize` and `tools/list` without the archive's
queries, the redaction rules or the summaries loaded (coding tools wait only so long for a
server: bench/mcp_start.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar

from typing_extensions import TypedDict  # pydantic reads it on 3.11 (typing.TypedDict: 3.12)

from tether.errors import UsageError

if TYPE_CHECKING:
    from tether.archive.query import Filters
    from tether.mcp.source import Source
    from tether.model import Message

DEFAULT_CHARS = 20_000
MAX_CHARS = 60_000
MAX_LIMIT = 50
CALL_CHARS = 600
RESULT_CHARS = 1_500
TEXT_CHARS = 6_000
LIST_MAX = 60
"""A list in a summary (files, commands, errors) keeps at most this many items."""
CANDIDATES = 200
"""Sessions a file's name is looked up in before their calls are checked."""


class SessionInfo(TypedDict):
    """A session: ids, tool, project folder, title, last update, size."""

    session_id: str
    tool: str
    native_id: str
    project: str | None
    title: str | None
    updated_at: str | None
    message_count: int


class Hit(TypedDict):
    """Where the words were found: the session, the message's role and time, and the text
    around the match (between « and »)."""

    session_id: str
    tool: str
    project: str | None
    title: str | None
    updated_at: str | None
    role: str
    timestamp: str | None
    snippet: str


class SearchResult(TypedDict):
    hits: list[Hit]
    more: str | None
    """How to get more, when there may be more."""


class RecentResult(TypedDict):
    project: str | None
    """The project whose sessions come first."""
    sessions: list[SessionInfo]
    more: str | None


class MessageText(TypedDict):
    """One message as text; tool calls and results as `[call NAME] input` and `[result]`."""

    index: int
    role: str
    timestamp: str | None
    text: str


class SessionPage(TypedDict):
    session: SessionInfo
    offset: int
    messages: list[MessageText]
    next_offset: int | None
    """Pass it as `offset` to read on; null at the end of the session."""
    more: str | None


class SummaryResult(TypedDict):
    """What a session did, from its tool calls (no model was asked)."""

    session: SessionInfo
    started_at: str | None
    ended_at: str | None
    duration_seconds: float | None
    counts: dict[str, int]
    files: dict[str, list[str]]
    commands: list[dict[str, Any]]
    tests: list[dict[str, Any]]
    packages: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    tokens: dict[str, int]
    truncated: list[str]
    """The lists cut to their last items (the full summary: `tether summary ID --json`)."""


class FileTouch(TypedDict):
    """A session that touched the file, and how many times it read, wrote, edited or
    deleted it."""

    session: SessionInfo
    paths: list[str]
    read: int
    write: int
    edit: int
    delete: int


class TouchingResult(TypedDict):
    path: str
    sessions: list[FileTouch]
    more: str | None


T = TypeVar("T")


def _redacted(value: T) -> T:
    from tether.redact import redact_value

    redacted: T = redact_value(value)
    return redacted


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def _filters(tool: str | None, project: str | None, since: str | None, limit: int) -> Filters:
    from tether.archive.query import Filters
    from tether.dates import parse_since
    from tether.tools.facts import resolve

    return Filters(
        tool=resolve(tool) if tool else None,
        project=project.rstrip("/") or "/" if project else None,
        since=parse_since(since) if since else None,
        limit=limit,
    )


def info(row: dict[str, Any]) -> SessionInfo:
    return {
        "session_id": row["id"],
        "tool": row["tool"],
        "native_id": row["native_id"],
        "project": row.get("project"),
        "title": row.get("title"),
        "updated_at": row.get("updated_at"),
        "message_count": int(row.get("message_count") or 0),
    }


def search_sessions(
    source: Source,
    query: str,
    tool: str | None = None,
    project: str | None = None,
    since: str | None = None,
    limit: int = 10,
) -> SearchResult:
    rows = source.search(query, _filters(tool, project, since, _limit(limit) + 1))
    hits: list[Hit] = [
        {
            "session_id": row["session_id"],
            "tool": row["tool"],
            "project": row["project"],
            "title": row["title"],
            "updated_at": row["updated_at"],
            "role": row["role"],
            "timestamp": row["timestamp"],
            "snippet": row["snippet"],
        }
        for row in rows[:limit]
    ]
    more = None
    if len(rows) > limit:
        more = (
            f"more hits: call search_sessions with limit={min(limit * 2, MAX_LIMIT)}, or "
            "narrow it with tool, project or since"
        )
    result: SearchResult = {"hits": hits, "more": more}
    return _redacted(result)


def recent_sessions(
    source: Source, here: str | None, project: str | None = None, limit: int = 10
) -> RecentResult:
    """This project's sessions first (the folder the server runs in, or `project`), then
    the others, most recently updated first."""
    where = project or here
    ours = source.sessions(_filters(None, where, None, _limit(limit) + 1)) if where else []
    rest: list[dict[str, Any]] = []
    if len(ours) < limit:
        seen = {row["id"] for row in ours}
        others = source.sessions(_filters(None, None, None, limit + len(ours) + 1))
        rest = [row for row in others if row["id"] not in seen]
    rows = [*ours, *rest]
    more = None
    if len(rows) > limit:
        more = f"more sessions: call recent_sessions with limit={min(limit * 2, MAX_LIMIT)}"
    result: RecentResult = {
        "project": where,
        "sessions": [info(row) for row in rows[:limit]],
        "more": more,
    }
    return _redacted(result)


def get_session(
    source: Source, session_id: str, offset: int = 0, max_chars: int = DEFAULT_CHARS
) -> SessionPage:
    """The session's messages as text from `offset`, up to `max_chars` characters."""
    if offset < 0:
        raise UsageError("offset must be 0 or more")
    if not 1_000 <= max_chars <= MAX_CHARS:
        raise UsageError(f"max_chars must be between 1000 and {MAX_CHARS}")
    row, messages = source.session(session_id)
    page: list[MessageText] = []
    used = 0
    next_offset = None
    for index, message in enumerate(messages):
        if index < offset:
            continue
        text = message_text(message)
        if page and used + len(text) > max_chars:
            next_offset = index
            break
        page.append({"index": index, "role": message.role, "timestamp": message.timestamp,
                     "text": text})  # fmt: skip
        used += len(text)
    more = None
    if next_offset is not None:
        more = (
            f"the session goes on: call get_session with session_id={row['id'][:16]} "
            f"offset={next_offset} (session_summary tells what it did in short)"
        )
    result: SessionPage = {
        "session": info(row),
        "offset": offset,
        "messages": page,
        "next_offset": next_offset,
        "more": more,
    }
    return _redacted(result)


def message_text(message: Message) -> str:
    """A message as text: its words whole (to TEXT_CHARS), calls and results shortened."""
    from tether.model import Attachment, Text, ToolCall, ToolResult

    pieces = []
    for part in message.parts:
        if isinstance(part, Text):
            pieces.append(_cut(part.text, TEXT_CHARS))
        elif isinstance(part, ToolCall):
            data = json.dumps(part.input, ensure_ascii=False, default=str)
            pieces.append(f"[call {part.name}] {_cut(data, CALL_CHARS)}")
        elif isinstance(part, ToolResult):
            mark = "[result, error]" if part.is_error else "[result]"
            pieces.append(f"{mark} {_cut(part.output, RESULT_CHARS)}")
        elif isinstance(part, Attachment):
            pieces.append(f"[attachment {part.media_type} {part.name or ''}]".rstrip())
    return "\n".join(pieces)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def session_summary(source: Source, session_id: str) -> SummaryResult:
    from tether.summary.session import summarize

    row, messages = source.session(session_id)
    full = summarize(row, messages).as_dict()
    truncated = []
    for key in ("commands", "tests", "packages", "errors"):
        if len(full[key]) > LIST_MAX:
            truncated.append(f"{key}: the last {LIST_MAX} of {len(full[key])}")
            full[key] = full[key][-LIST_MAX:]
    for how, paths in full["files"].items():
        if len(paths) > LIST_MAX:
            truncated.append(f"files.{how}: the last {LIST_MAX} of {len(paths)}")
            full["files"][how] = paths[-LIST_MAX:]
    result: SummaryResult = {
        "session": info(row),
        "started_at": full["started_at"],
        "ended_at": full["ended_at"],
        "duration_seconds": full["duration_seconds"],
        "counts": full["counts"],
        "files": full["files"],
        "commands": full["commands"],
        "tests": full["tests"],
        "packages": full["packages"],
        "errors": full["errors"],
        "tokens": full["tokens"],
        "truncated": truncated,
    }
    return _redacted(result)


def sessions_touching_file(source: Source, path: str, limit: int = 10) -> TouchingResult:
    """Sessions whose tool calls read, wrote, edited or deleted a file: `path` is matched
    as the end of the paths the calls name (`src/app.py` finds `/home/me/p/src/app.py`)."""
    wanted = PurePosixPath(path.strip()).parts
    if not wanted:
        raise UsageError("give a file path")
    hits = source.search(f'"{wanted[-1]}"', _filters(None, None, None, CANDIDATES))
    # A hit from the tether server names a session, not a part (kind None): its calls decide.
    candidates = dict.fromkeys(
        hit["session_id"] for hit in hits if hit.get("kind") in ("tool_call", None)
    )
    touches: list[FileTouch] = []
    for ident in candidates:
        row, messages = source.session(ident)
        touch = _touches(row, messages, wanted)
        if touch is not None:
            touches.append(touch)
        if len(touches) > limit:
            break
    touches.sort(key=lambda t: t["session"]["updated_at"] or "", reverse=True)
    more = None
    if len(touches) > limit:
        more = f"more sessions: call sessions_touching_file with limit={min(limit * 2, MAX_LIMIT)}"
    result: TouchingResult = {"path": path, "sessions": touches[:limit], "more": more}
    return _redacted(result)


def _touches(
    row: dict[str, Any], messages: Iterable[Message], wanted: tuple[str, ...]
) -> FileTouch | None:
    from tether.model import ToolCall
    from tether.summary.calls import action

    touch: FileTouch = {"session": info(row), "paths": [], "read": 0, "write": 0, "edit": 0,
                        "delete": 0}  # fmt: skip
    for message in messages:
        for part in message.parts:
            if not isinstance(part, ToolCall):
                continue
            for how, named in action(row["tool"], part).files:
                if PurePosixPath(named).parts[-len(wanted) :] == wanted:
                    touch[how] += 1  # type: ignore[literal-required]  # how: read, write, …
                    if named not in touch["paths"]:
                        touch["paths"].append(named)
    return touch if touch["paths"] else None
