"""Cline: the Cline CLI's sessions (3.0 and later: `<data>/sessions/<id>/<id>.messages.json`
with the record `<id>.json` beside it), and the task folders of the editor extension and of
the CLI before 3.0 (`tasks/<id>/`, read by taskdirs).

A CLI session is read as a container of one member whose bytes bundle the conversation with
its record (folder, title, times, model), so that the archive alone rebuilds the session
after Cline deleted it. Verified on the files Cline 3.0.65 writes (tests/e2e).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from tether.model import Message, Part, Reasoning, Text, ToolCall, ToolResult
from tether.tools import taskdirs
from tether.tools.base import Feed, FormatError, Member, Meta, Op, Put, Source
from tether.tools.common import as_text, iso, title_from
from tether.tools.facts import cline as facts
from tether.tools.listing import entries, is_dir

name = facts.NAME
display_name = facts.DISPLAY_NAME
aliases = facts.ALIASES
capabilities = facts.CAPABILITIES

EXTENSION_ID = "saoudrizwan.claude-dev"
SESSIONS = "sessions"
MESSAGES = ".messages.json"
RECORD_MAX = 1 << 20
BUNDLE = "cline_session"
USER_INPUT = re.compile(r'\A\s*<user_input mode="([\w-]+)">(.*)</user_input>\s*\Z', re.S)
"""How the CLI wraps what the user typed (the mode: act, plan, yolo)."""
RECORD_NATIVE = ("source", "provider", "model", "status", "interactive", "team_name")


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return [Path(root) for root in facts.store_roots(env, str(home))]


def discover(root: Path) -> Iterator[Source]:
    """The CLI's `sessions/<id>/<id>.messages.json`, then any task folders."""
    for entry in entries(root / SESSIONS):
        if is_dir(entry) and facts.is_cli_id(entry.name):
            path = Path(entry.path) / f"{entry.name}{MESSAGES}"
            if path.is_file():
                yield session(path)
    yield from taskdirs.discover(root)


def session(path: Path) -> Source:
    """A CLI session, known by its messages file: re-listed when that file changes."""
    folder, sid = path.parent, path.parent.name

    def members(skip: Callable[[str], None]) -> Iterator[Member]:
        yield Member(sid, _version(folder, sid), lambda: bundle(path, sid), mode="document")

    return Source(path, "container", sid, members=members)


def _version(folder: Path, sid: str) -> str:
    return taskdirs.files_version(folder, (f"{sid}{MESSAGES}", f"{sid}.json"))


def bundle(path: Path, sid: str) -> bytes:
    """The session's messages file and its record, as one document."""
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"not valid JSON: {exc}") from None
    _messages(doc)  # raises FormatError when it is not a session's messages
    return orjson.dumps({BUNDLE: sid, "record": _record(path.parent, sid), "messages": doc})


def _record(folder: Path, sid: str) -> dict[str, Any]:
    """The session's record `<id>.json` (folder, title, times), or {} when unusable."""
    try:
        with (folder / f"{sid}.json").open("rb") as fh:
            data = fh.read(RECORD_MAX + 1)
        record = orjson.loads(data) if len(data) <= RECORD_MAX else None
    except (OSError, orjson.JSONDecodeError):
        return {}
    if not isinstance(record, dict):
        return {}
    record.pop("system_prompt", None)
    return record


def _messages(doc: Any) -> list[Any]:
    if isinstance(doc, dict) and isinstance(doc.get("messages"), list):
        return list(doc["messages"])
    raise FormatError("not a Cline session: expected {sessionId, messages: [...]}")


def sniff(path: Path, head: bytes) -> Source | None:
    """For `tether import`: a CLI session's messages file, or a task of the extension."""
    if path.name.endswith(MESSAGES) and b'"sessionId"' in head and b'"messages"' in head:
        sid = path.name.removesuffix(MESSAGES)
        return Source(path, "document", sid if facts.valid_id(sid) else None)
    return taskdirs.task(path) if taskdirs.sniff_owner(path, head) == name else None


# ---------------------------------------------------------------------------------------
# Reading


def read(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    """A CLI session (the bundle capture archives, or a bare messages file), else a task."""
    doc = feed.document()
    if isinstance(doc, dict) and isinstance(doc.get(BUNDLE), str):
        sid, record, messages = doc[BUNDLE], doc.get("record"), doc.get("messages")
    elif isinstance(doc, dict) and "sessionId" in doc and "messages" in doc:
        sid = str(doc.get("sessionId") or feed.source.native_id or "")
        record, messages = _record(feed.source.path.parent, sid), doc
    else:
        yield from taskdirs.read_document(feed, doc)
        return
    record = record if isinstance(record, dict) else {}
    listed = _messages(messages)
    assert isinstance(messages, dict)  # _messages says so
    yield _meta(sid, record, messages, listed)
    for index, raw in enumerate(listed):
        if isinstance(raw, dict):
            yield from _message(feed, index, raw)
        else:
            feed.skip(f"message {index} is not an object")


def _meta(sid: str, record: dict[str, Any], doc: dict[str, Any], listed: list[Any]) -> Meta:
    metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    origin = doc.get("origin") if isinstance(doc.get("origin"), dict) else {}
    assert isinstance(origin, dict)
    native = {k: record[k] for k in RECORD_NATIVE if record.get(k) not in (None, "")}
    version = origin.get("version")
    if isinstance(version, str) and version:
        native["version"] = version
    stamps = [iso(m.get("ts")) for m in listed if isinstance(m, dict)]
    known = sorted(s for s in stamps if s)
    created = iso(record.get("started_at")) or (known[0] if known else None)
    ended = [s for s in (iso(record.get("ended_at")), iso(doc.get("updated_at")), *known) if s]
    cwd = _text(record.get("cwd"))
    return Meta(
        native_id=sid,
        title=title_from(_text(metadata.get("title")) or _text(record.get("prompt"))),
        cwd=cwd,
        project=_text(record.get("workspace_root")) or cwd,
        parent_native_id=_text(record.get("parent_session_id")),
        created_at=created,
        updated_at=max(ended) if ended else None,
        native=native,
    )


def _message(feed: Feed, index: int, raw: dict[str, Any]) -> Iterator[Op]:
    key = str(raw.get("id") or index)
    role = raw.get("role")
    stamp = iso(raw.get("ts"))
    content = raw.get("content")
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    if role not in ("user", "assistant") or not isinstance(content, list):
        feed.skip(f"message {index}: role {role!r} with content {type(content).__name__}")
        return
    parts: list[Part] = []
    results: list[Part] = []
    native: dict[str, Any] = {}
    for block in content:
        if not isinstance(block, dict):
            continue
        part = _block(block, native)
        if part is None:
            feed.skip(f"message {index}: unknown content block {block.get('type')!r}")
        elif isinstance(part, ToolResult):
            results.append(part)
        else:
            parts.append(part)
    if role == "assistant":
        info = raw.get("modelInfo")
        model = _text(info.get("id")) if isinstance(info, dict) else None
        message = Message("assistant", parts, stamp, model, _usage(raw), _text(raw.get("id")))
        yield Put(key, message)
        return
    if results:
        yield Put(f"{key}#results", Message("tool", results, stamp, native_id=_text(raw.get("id"))))
    if parts:
        yield Put(key, Message("user", parts, stamp, native_id=_text(raw.get("id")), native=native))


def _block(block: dict[str, Any], native: dict[str, Any]) -> Part | None:
    kind = block.get("type")
    if kind == "text":
        text = block.get("text")
        if not isinstance(text, str):
            return None
        typed = USER_INPUT.match(text)
        if typed:
            native["mode"] = typed.group(1)
            text = typed.group(2)
        return Text(text)
    if kind == "tool_use":
        args = block.get("input")
        return ToolCall(_text(block.get("id")) or "", _text(block.get("name")) or "", args)
    if kind == "tool_result":
        output, failed = _output(block.get("content"))
        tool = {"name": block["name"]} if _text(block.get("name")) else {}
        return ToolResult(
            _text(block.get("tool_use_id")) or "",
            output,
            failed or bool(block.get("is_error")),
            tool,
        )
    if kind in ("thinking", "reasoning"):
        text = _text(block.get("thinking")) or _text(block.get("text")) or ""
        return Reasoning(text, _text(block.get("signature")))
    converted = taskdirs.BLOCKS.get(kind) if isinstance(kind, str) else None
    return converted(block) if converted else None


def _output(content: Any) -> tuple[str, bool]:
    """A tool's output: Cline's tools answer a list of `{query, result, success}` (or
    `error`), one per command or file; anything else as text."""
    if (
        isinstance(content, list)
        and content
        and all(
            isinstance(item, dict) and ("result" in item or "error" in item) for item in content
        )
    ):
        pieces = [
            str(item["result"]) if "result" in item else str(item.get("error")) for item in content
        ]
        failed = any(item.get("success") is False or "error" in item for item in content)
        return "\n".join(pieces), failed
    return as_text(content), False


def _usage(raw: dict[str, Any]) -> dict[str, Any] | None:
    metrics = raw.get("metrics")
    if not isinstance(metrics, dict):
        return None
    usage = {
        ours: metrics[theirs]
        for theirs, ours in (
            ("inputTokens", "input_tokens"),
            ("outputTokens", "output_tokens"),
            ("cacheReadTokens", "cache_read_input_tokens"),
            ("cacheWriteTokens", "cache_write_tokens"),
        )
        if type(metrics.get(theirs)) is int
    }
    return usage or None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
