"""The cursor-agent CLI: its JSONL transcripts and, for chats without one, its store.db.

Transcripts: `~/.cursor/projects/<cwd with / as ->/agent-transcripts/<id>/<id>.jsonl` (older:
`agent-transcripts/<id>.jsonl`; sub-agents in `<id>/subagents/`), lines
`{"role", "message": {"content": [blocks]}}` whose tool uses carry no ids.
Chat stores: `~/.cursor/chats/<md5 of cwd>/<id>/store.db`, a hex-JSON `meta` row and a
content-addressed tree of `blobs`: protobuf nodes listing child hashes, and JSON messages
(AI SDK shape). Blobs that are neither (encrypted ones) are counted, not read.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from tether.model import Message, Part, Reasoning, Role, Text, ToolCall, ToolResult
from tether.tools.base import Feed, Member, Meta, Op, Put, Source
from tether.tools.claude import ASSISTANT_BLOCKS
from tether.tools.common import as_text, iso, shown, text_of
from tether.tools.database import Unreadable, open_readonly, tables

QUERY = re.compile(r"<user_query>\s*(.*?)\s*</user_query>", re.S)
MAX_DEPTH = 64
MAX_BLOBS = 200_000
META_FIELDS = ("agentId", "latestRootBlobId", "name", "mode", "createdAt", "lastUsedModel")
"""What a member keeps of a chat's meta: never its `blobEncryptionKey`."""
CHILD = 1
"""Protobuf field of a tree node that holds a child blob's 32-byte hash."""


def user_text(text: str) -> tuple[str, str | None]:
    """The user's own words from `<user_query>…</user_query>`; the rest is context."""
    match = QUERY.search(text)
    if match is None:
        return text.strip(), None
    rest = QUERY.sub("", text).strip()
    return match.group(1), rest or None


# ---------------------------------------------------------------------------------------
# Transcripts


def transcript_id(path: Path) -> tuple[str, str | None]:
    """(native id, parent's id): `<id>/<id>.jsonl`, `<id>.jsonl`, `<id>/subagents/<x>.jsonl`."""
    stem = path.name.removesuffix(".jsonl")
    if path.parent.name == "subagents":
        return stem, path.parent.parent.name or None
    return stem, None


def project_folder(encoded: str, probe: Callable[[Path], bool] = Path.is_dir) -> str | None:
    """The cwd whose `/` the CLI turned into `-` (so `-` is ambiguous): the existing folder
    it names, found by trying each `-` as a separator, else None."""
    name = encoded.lstrip("-")
    if not name:
        return None
    found = _probe(Path("/"), name, probe, 0)
    return str(found) if found is not None else None


def _probe(base: Path, rest: str, probe: Callable[[Path], bool], depth: int) -> Path | None:
    if depth > 32:
        return None
    whole = base / rest
    if probe(whole):
        return whole
    for index, char in enumerate(rest):
        if char == "-" and index:
            head = base / rest[:index]
            if probe(head):
                found = _probe(head, rest[index + 1 :], probe, depth + 1)
                if found is not None:
                    return found
    return None


def read_transcript(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    if feed.start == 0:
        state.clear()
    if not state:
        state["n"] = 0
        yield _transcript_meta(feed.source.path)
    pending: list[str] = state.setdefault("pending", [])
    for rec in feed.records():
        state["n"] += 1
        key = str(state["n"])
        role = rec.get("role")
        message = rec.get("message")
        blocks = message.get("content") if isinstance(message, dict) else None
        if isinstance(blocks, str):
            blocks = [{"type": "text", "text": blocks}]
        if rec.get("type") == "turn_ended":
            continue
        if role not in ("user", "assistant") or not isinstance(blocks, list):
            feed.skip(f"line {key}: not a user or assistant message")
            continue
        if role == "assistant":
            yield from _assistant_line(feed, key, blocks, pending)
        else:
            yield from _user_line(feed, key, blocks, pending)
    try:
        mtime = feed.source.path.stat().st_mtime
    except OSError:
        return
    yield Meta(updated_at=iso(mtime))


def _transcript_meta(path: Path) -> Meta:
    native_id, parent = transcript_id(path)
    folder = None
    for ancestor in path.parents:
        if ancestor.name == "agent-transcripts":
            folder = project_folder(ancestor.parent.name)
            break
    return Meta(native_id=native_id, parent_native_id=parent, cwd=folder, project=folder)


def _assistant_line(feed: Feed, key: str, blocks: list[Any], pending: list[str]) -> Iterator[Op]:
    parts: list[Part] = []
    for index, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        if not isinstance(kind, str) or kind not in ASSISTANT_BLOCKS:
            feed.skip(f"line {key}: unknown block {shown(kind)}")
            continue
        part = ASSISTANT_BLOCKS[kind](block)
        if isinstance(part, ToolCall):
            part.id = part.id or f"{key}#call{index}"
            pending.append(part.id)
        if part is not None:
            parts.append(part)
    if parts:
        yield Put(key, Message("assistant", parts))


def _user_line(feed: Feed, key: str, blocks: list[Any], pending: list[str]) -> Iterator[Op]:
    results: list[Part] = []
    texts: list[Part] = []
    native: dict[str, Any] = {}
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "tool_result":
            results.append(_answer(block, pending))
        elif kind == "text" and isinstance(block.get("text"), str):
            text, context = user_text(block["text"])
            if context:
                native["context"] = context
            if text:
                texts.append(Text(text))
        else:
            feed.skip(f"line {key}: unknown block {shown(kind)}")
    if results:
        yield Put(key + "#results", Message("tool", results))
    if texts:
        yield Put(key, Message("user", texts, native=native))


def _answer(block: dict[str, Any], pending: list[str]) -> ToolResult:
    """The result of the call it names, else of the oldest call still open."""
    wanted = block.get("tool_use_id")
    if isinstance(wanted, str) and wanted in pending:
        pending.remove(wanted)
        call_id = wanted
    elif pending:
        call_id = pending.pop(0)
    else:
        call_id = wanted if isinstance(wanted, str) else ""
    native = {"tool_use_id": wanted} if isinstance(wanted, str) and wanted != call_id else {}
    return ToolResult(call_id, as_text(block.get("content")), bool(block.get("is_error")), native)


# ---------------------------------------------------------------------------------------
# Chat stores (store.db)


class ChatStore:
    """A store.db as a container of its one chat."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, skip: Callable[[str], None]) -> Iterator[Member]:
        db = open_readonly(self.path)
        try:
            meta = _meta(db)
        finally:
            db.close()
        chat_id = meta.get("agentId") if isinstance(meta.get("agentId"), str) else None
        chat_id = chat_id or self.path.parent.name
        version = f"{meta.get('latestRootBlobId')}:{len(orjson.dumps(meta))}"
        yield Member(chat_id, version, self.load)

    def load(self) -> bytes:
        db = open_readonly(self.path)
        try:
            return chat_bytes(db)
        finally:
            db.close()


def _meta(db: sqlite3.Connection) -> dict[str, Any]:
    if not {"meta", "blobs"} <= tables(db):
        raise Unreadable("not a cursor-agent chat store: no meta and blobs tables")
    row = db.execute("SELECT value FROM meta WHERE key = '0'").fetchone()
    if row is None:
        raise Unreadable("the chat store has no meta row")
    value = row[0]
    try:
        text = bytes.fromhex(value) if isinstance(value, str) else bytes(value)
        meta = orjson.loads(text)
    except (ValueError, orjson.JSONDecodeError):
        raise Unreadable("the chat store's meta is not hex-encoded JSON") from None
    if not isinstance(meta, dict):
        raise Unreadable("the chat store's meta is not a JSON object")
    return meta


def chat_bytes(db: sqlite3.Connection) -> bytes:
    """The chat as JSON lines: its meta, then each message blob in tree order."""
    meta = _meta(db)
    lines = [orjson.dumps({"meta": {k: meta[k] for k in META_FIELDS if k in meta}})]
    root = meta.get("latestRootBlobId")
    if isinstance(root, str):
        walk = _Walk(db)
        walk.visit(root, 0)
        lines.extend(walk.lines)
    return b"\n".join(lines) + b"\n"


class _Walk:
    """Depth-first over the blob tree from its root, each blob once."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.seen: set[str] = set()
        self.lines: list[bytes] = []

    def visit(self, blob_id: str, depth: int) -> None:
        if blob_id in self.seen or depth > MAX_DEPTH or len(self.seen) >= MAX_BLOBS:
            return
        self.seen.add(blob_id)
        row = self.db.execute("SELECT data FROM blobs WHERE id = ?", (blob_id,)).fetchone()
        data = bytes(row[0]) if row is not None and row[0] is not None else None
        if data is None:
            self.lines.append(orjson.dumps({"unreadable": blob_id, "reason": "missing"}))
        elif data[:1] == b"{":
            self._message(blob_id, data)
        else:
            fields = _protobuf_fields(data)
            if fields is None:
                reason = "neither JSON nor a tree node (encrypted?)"
                self.lines.append(orjson.dumps({"unreadable": blob_id, "reason": reason}))
                return
            for number, payload in fields:
                if number == CHILD and len(payload) == 32:
                    self.visit(payload.hex(), depth + 1)
                elif payload[:1] == b"{":
                    self._message(blob_id, payload)

    def _message(self, blob_id: str, data: bytes) -> None:
        try:
            message = orjson.loads(data)
        except orjson.JSONDecodeError:
            self.lines.append(orjson.dumps({"unreadable": blob_id, "reason": "invalid JSON"}))
            return
        self.lines.append(orjson.dumps({"blob": blob_id, "message": message}))


def _protobuf_fields(data: bytes) -> list[tuple[int, bytes]] | None:
    """The length-delimited fields of a protobuf message, or None when it is not one."""
    fields: list[tuple[int, bytes]] = []
    at = 0
    while at < len(data):
        tag, at = _varint(data, at)
        if tag is None:
            return None
        number, wire = tag >> 3, tag & 7
        if wire == 2:
            size, at = _varint(data, at)
            if size is None or at + size > len(data):
                return None
            fields.append((number, data[at : at + size]))
            at += size
        elif wire == 0:
            value, at = _varint(data, at)
            if value is None:
                return None
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
        else:
            return None
        if number == 0:
            return None
    return fields if at == len(data) else None


def _varint(data: bytes, at: int) -> tuple[int | None, int]:
    value = shift = 0
    while at < len(data) and shift < 64:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
    return None, at


def read_store(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    for rec in feed.records():
        if isinstance(rec.get("meta"), dict):
            yield _store_meta(rec["meta"], state)
        elif isinstance(rec.get("message"), dict) and isinstance(rec.get("blob"), str):
            yield from _store_message(rec["blob"], rec["message"], state)
        elif "unreadable" in rec:
            feed.skip(f"blob {rec['unreadable']}: {rec.get('reason')}")
        else:
            feed.skip("unknown record")


def _store_meta(meta: dict[str, Any], state: dict[str, Any]) -> Meta:
    model = meta.get("lastUsedModel")
    state["model"] = model if isinstance(model, str) and model else None
    name = meta.get("name")
    native = {k: meta[k] for k in ("mode", "lastUsedModel") if meta.get(k)}
    return Meta(
        native_id=meta["agentId"] if isinstance(meta.get("agentId"), str) else None,
        title=name if isinstance(name, str) and name else None,
        created_at=iso(meta.get("createdAt")),
        native=native,
    )


def _store_message(blob: str, message: dict[str, Any], state: dict[str, Any]) -> Iterator[Op]:
    role = message.get("role")
    content = message.get("content")
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    if not isinstance(blocks, list):
        return
    native: dict[str, Any] = {}
    parts = [p for b in blocks if isinstance(b, dict) for p in _store_part(b, native)]
    if not parts:
        return
    kind: Role = "system"
    if role in ("assistant", "tool"):
        kind = "assistant" if role == "assistant" else "tool"
    elif role == "user" and ("context" in native or not _only_context(parts)):
        kind = "user"  # a typed prompt (its <user_query>), not context the CLI injected
    model = state.get("model") if kind == "assistant" else None
    yield Put(blob, Message(kind, parts, model=model, native=native))


def _only_context(parts: list[Part]) -> bool:
    texts = [p.text.lstrip() for p in parts if isinstance(p, Text)]
    return bool(texts) and all(t.startswith("<") for t in texts)


def _store_part(block: dict[str, Any], native: dict[str, Any]) -> list[Part]:
    kind = block.get("type")
    if kind == "text" and isinstance(block.get("text"), str):
        text, context = user_text(block["text"])
        if QUERY.search(block["text"]):
            native["context"] = context or ""
        return [Text(text)] if text else []
    if kind == "reasoning" and isinstance(block.get("text"), str):
        signature = block.get("signature")
        return [Reasoning(block["text"], signature if isinstance(signature, str) else None)]
    if kind == "tool-call":
        call_id = text_of(block.get("toolCallId"))
        return [ToolCall(call_id, text_of(block.get("toolName")), block.get("args"))]
    if kind == "tool-result":
        name = {"name": block["toolName"]} if block.get("toolName") else {}
        call_id = text_of(block.get("toolCallId"))
        output = as_text(block.get("result"))
        return [ToolResult(call_id, output, bool(block.get("isError")), name)]
    return []


def store_container(path: Path) -> Source:
    return Source(path, "container", members=ChatStore(path))
