"""tether's session JSON: what `show --json` and `export --format json` print and
`import` reads back. Versioned by model.FORMAT_VERSION; schema in session.schema.json.

As a reader it satisfies the Tool protocol, with no store of its own: only `import` uses it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tether.model import (
    FORMAT_VERSION,
    ROLES,
    Attachment,
    Message,
    Part,
    Reasoning,
    Session,
    Text,
    ToolCall,
    ToolResult,
)
from tether.tools import facts
from tether.tools.base import Capability, Feed, FormatError, Meta, Op, Put, Source
from tether.tools.common import as_text, each, shown

FORMAT = "tether.session"
MAX_NATIVE_ID = 1024

name = "tether"
display_name = "tether JSON"
aliases: tuple[str, ...] = ("tether-json",)
capabilities: frozenset[Capability] = frozenset({"read"})


def part_json(part: Part) -> dict[str, Any]:
    out: dict[str, Any]
    if isinstance(part, Text):
        out = {"type": "text", "text": part.text}
    elif isinstance(part, Reasoning):
        out = {"type": "reasoning", "text": part.text, "signature": part.signature}
    elif isinstance(part, ToolCall):
        out = {"type": "tool_call", "id": part.id, "name": part.name, "input": part.input}
    elif isinstance(part, ToolResult):
        out = {
            "type": "tool_result",
            "call_id": part.call_id,
            "output": part.output,
            "is_error": part.is_error,
        }
    else:
        out = {
            "type": "attachment",
            "media_type": part.media_type,
            "name": part.name,
            "data": part.data,
            "uri": part.uri,
        }
    if part.native:
        out["native"] = part.native
    return out


def message_json(message: Message) -> dict[str, Any]:
    return {
        "role": message.role,
        "timestamp": message.timestamp,
        "model": message.model,
        "usage": message.usage,
        "native_id": message.native_id,
        "parts": [part_json(p) for p in message.parts],
        "native": message.native,
    }


def session_json(session: Session) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "session": {
            "id": session.id,
            "tool": session.tool,
            "native_id": session.native_id,
            "project": session.project,
            "cwd": session.cwd,
            "git_branch": session.git_branch,
            "git_commit": session.git_commit,
            "title": session.title,
            "created_at": session.created_at,
            "updated_at": session.updated_at,
            "message_count": len(session.messages),
            "models": session.models,
            "usage": session.usage,
            "parent_id": session.parent_id,
            "native": session.native,
        },
        "messages": [message_json(m) for m in session.messages],
    }


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def part_from_json(data: Any) -> Part:
    if not isinstance(data, dict):
        raise FormatError(f"a part that is {shown(data)}, not an object")
    kind = data.get("type")
    native = _object(data.get("native"))
    if kind == "text":
        return Text(as_text(data.get("text")), native=native)
    if kind == "reasoning":
        return Reasoning(as_text(data.get("text")), data.get("signature"), native=native)
    if kind == "tool_call":
        return ToolCall(
            as_text(data["id"]), as_text(data["name"]), data.get("input"), native=native
        )
    if kind == "tool_result":
        return ToolResult(
            as_text(data["call_id"]),
            as_text(data.get("output")),
            bool(data.get("is_error")),
            native=native,
        )
    if kind == "attachment":
        return Attachment(
            as_text(data.get("media_type")) or "application/octet-stream",
            data.get("name"),
            data.get("data"),
            data.get("uri"),
            native=native,
        )
    raise FormatError(f"unknown part type {shown(kind)}")


def message_from_json(data: dict[str, Any]) -> Message:
    role = data.get("role")
    if role not in ROLES:
        raise FormatError(f"unknown role {shown(role)}")
    parts = data.get("parts") or []
    if not isinstance(parts, list):
        raise FormatError(f"parts that are {shown(parts)}, not a list")
    return Message(
        role,
        [part_from_json(p) for p in parts],
        timestamp=data.get("timestamp"),
        model=data.get("model"),
        usage=data.get("usage"),
        native_id=data.get("native_id"),
        native=_object(data.get("native")),
    )


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return []


def discover(root: Path) -> Iterator[Source]:
    return iter(())


def sniff(path: Path, head: bytes) -> Source | None:
    if head.lstrip()[:1] == b"{" and FORMAT.encode() in head[:4096]:
        return Source(path, "document")
    return None


def read(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    doc = feed.document()
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise FormatError("not a tether session export")
    version = doc.get("version") or 0
    if not isinstance(version, int):
        raise FormatError(f"the export's format version is {shown(version)}, not a number")
    if version > FORMAT_VERSION:
        raise FormatError(
            f"this export is format version {version}; this tether reads up to"
            f" {FORMAT_VERSION}: upgrade tether"
        )
    info = doc.get("session")
    if not isinstance(info, dict):
        raise FormatError("the export has no session object")
    tool, native_id = info.get("tool"), info.get("native_id")
    if not isinstance(tool, str) or not isinstance(native_id, str) or not native_id:
        raise FormatError("the export names no tool or native_id")
    try:
        tool = facts.resolve(tool)
    except facts.UnknownTool as exc:
        raise FormatError(f"the export's {exc}") from exc
    if len(native_id) > MAX_NATIVE_ID or any(ch in native_id for ch in "\0\r\n"):
        raise FormatError("the export's native_id is not one line of at most 1,024 characters")
    # Kept as it is, for search and show; only an id of the tool's own shape ever reaches
    # a path or an argv (resume and convert check it: tether.tools.facts).
    yield Meta(
        native_id=native_id,
        tool=tool,
        title=info.get("title"),
        cwd=info.get("cwd"),
        project=info.get("project"),
        git_branch=info.get("git_branch"),
        git_commit=info.get("git_commit"),
        created_at=info.get("created_at"),
        updated_at=info.get("updated_at"),
        native={**_object(info.get("native")), "imported_from": str(feed.source.path)},
    )

    def one(index: int, item: Any) -> Iterator[Op]:
        if not isinstance(item, dict):
            feed.skip(f"message {index} is not an object")
            return
        yield Put(f"m{index}", message_from_json(item))

    messages = doc.get("messages")
    yield from each(feed, "message", messages if isinstance(messages, list) else [], one)
