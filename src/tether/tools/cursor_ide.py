"""Cursor's editor: composer conversations in `User/globalStorage/state.vscdb`.

Table `cursorDiskKV` holds `composerData:<composerId>` (the conversation: title, times,
model, the ordered bubble headers) and `bubbleId:<composerId>:<bubbleId>` (one message:
type 1 user / 2 assistant, text, thinking, a tool call with its result). The database is
a container: each composer is a member whose bytes are its own records as JSON lines
(`{"composer": …}` then `{"bubble": …}` in conversation order), without the composer's
secrets (encryption keys) and file snapshots.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from tether.model import Message, Part, Reasoning, Text, ToolCall, ToolResult
from tether.tools.base import Feed, Member, Meta, Op, Put, Source
from tether.tools.common import file_path, iso, shown, text_of, token_counts
from tether.tools.database import Unreadable, open_readonly, tables

COMPOSER = "composerData:"
BUBBLE = "bubbleId:"
COMPOSER_FIELDS = (
    "_v",
    "composerId",
    "name",
    "subtitle",
    "createdAt",
    "lastUpdatedAt",
    "status",
    "unifiedMode",
    "forceMode",
    "isAgentic",
    "modelConfig",
    "fullConversationHeadersOnly",
    "usageData",
    "contextTokensUsed",
    "contextTokenLimit",
    "workspaceIdentifier",
    "createdOnBranch",
    "subComposerIds",
    "isArchived",
)
"""What a member keeps of a composer record: never `blobEncryptionKey`, file states."""
SESSION_NATIVE = ("status", "unifiedMode", "forceMode", "isArchived", "subComposerIds")
RESULT_TEXT = ("output", "contents", "content", "result", "stdout", "text", "markdown")
FAILED = frozenset({"error", "failed", "cancelled", "canceled", "rejected"})
USER, ASSISTANT = 1, 2


def _upper(prefix: str) -> str:
    """The smallest key after every key that starts with `prefix` (for an index range)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class Composers:
    """Lists a state.vscdb's composers and loads each; one read-only connection for both."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None

    def __call__(self, skip: Callable[[str], None]) -> Iterator[Member]:
        self.db = open_readonly(self.path)
        try:
            if "cursorDiskKV" not in tables(self.db):
                return
            rows = self.db.execute(
                "SELECT substr(key, ?), length(value), json_valid(v),"
                " CASE WHEN json_valid(v) THEN json_extract(v, '$.lastUpdatedAt') END,"
                " CASE WHEN json_valid(v) THEN"
                " coalesce(json_array_length(v, '$.fullConversationHeadersOnly'), 0)"
                " + coalesce(json_array_length(v, '$.conversation'), 0) END"
                " FROM (SELECT key, value, CAST(value AS TEXT) AS v FROM cursorDiskKV"
                " WHERE key >= ? AND key < ?)",
                (len(COMPOSER) + 1, COMPOSER, _upper(COMPOSER)),
            ).fetchall()
            for composer_id, size, valid, updated, bubbles in rows:
                if not valid:
                    skip(f"composer {composer_id} is not JSON")
                elif bubbles:  # a composer opened and never used holds nothing
                    version = f"{updated}:{size}"
                    yield Member(composer_id, version, self._loader(composer_id))
        finally:
            self.db.close()
            self.db = None

    def _loader(self, composer_id: str) -> Callable[[], bytes]:
        return lambda: self.load(composer_id)

    def load(self, composer_id: str) -> bytes:
        db = self.db if self.db is not None else open_readonly(self.path)
        try:
            return member_bytes(db, composer_id)
        finally:
            if db is not self.db:
                db.close()


def member_bytes(db: sqlite3.Connection, composer_id: str) -> bytes:
    """One composer's records as JSON lines, in the order of its conversation."""
    row = db.execute("SELECT value FROM cursorDiskKV WHERE key = ?", (COMPOSER + composer_id,))
    found = row.fetchone()
    if found is None:
        raise Unreadable(f"composer {composer_id} is gone")
    composer = _json(found[0])
    if not isinstance(composer, dict):
        raise Unreadable(f"composer {composer_id} is not a JSON object")
    prefix = f"{BUBBLE}{composer_id}:"
    stored = {
        key[len(prefix) :]: value
        for key, value in db.execute(
            "SELECT key, value FROM cursorDiskKV WHERE key >= ? AND key < ?",
            (prefix, _upper(prefix)),
        )
    }
    kept = {k: composer[k] for k in COMPOSER_FIELDS if k in composer}
    lines = [orjson.dumps({"composer": kept})]
    inline = composer.get("conversation")
    if isinstance(inline, list) and inline:  # the older format: bubbles inside the composer
        lines.extend(orjson.dumps({"bubble": b}) for b in inline)
    for header in composer.get("fullConversationHeadersOnly") or ():
        bubble_id = header.get("bubbleId") if isinstance(header, dict) else None
        if not isinstance(bubble_id, str):
            lines.append(orjson.dumps({"missing": None}))
            continue
        raw = stored.get(bubble_id)
        bubble = _json(raw) if raw is not None else None
        if isinstance(bubble, dict):
            lines.append(orjson.dumps({"bubble": {"bubbleId": bubble_id, **bubble}}))
        else:
            lines.append(orjson.dumps({"missing": bubble_id}))
    return b"\n".join(lines) + b"\n"


def _json(value: Any) -> Any:
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return None


# ---------------------------------------------------------------------------------------
# Reading a member


def read(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    reader = _Reader(feed)
    for rec in feed.records():
        if isinstance(rec.get("composer"), dict):
            yield reader.composer(rec["composer"])
        elif isinstance(rec.get("bubble"), dict):
            yield from reader.bubble(rec["bubble"])
        elif "missing" in rec:
            missing = rec["missing"]
            missing = missing if isinstance(missing, str) else shown(missing)
            feed.skip(f"bubble {missing} listed by the composer is not stored")
        else:
            feed.skip("unknown record")
    if reader.cwd is None and reader.workspace:
        yield Meta(cwd=reader.workspace, project=reader.workspace)


class _Reader:
    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.model: str | None = None
        self.cwd: str | None = None
        self.workspace: str | None = None
        self.count = 0

    def composer(self, doc: dict[str, Any]) -> Meta:
        config = doc.get("modelConfig")
        model = config.get("modelName") if isinstance(config, dict) else None
        if isinstance(model, str) and model and model != "default":
            self.model = model
        self.cwd = _workspace_folder(doc.get("workspaceIdentifier"))
        native = {k: doc[k] for k in SESSION_NATIVE if doc.get(k) not in (None, [], "")}
        if self.model:
            native["model"] = self.model
        name = doc.get("name")
        branch = doc.get("createdOnBranch")
        return Meta(
            native_id=doc["composerId"] if isinstance(doc.get("composerId"), str) else None,
            title=name if isinstance(name, str) and name else None,
            cwd=self.cwd,
            project=self.cwd,
            git_branch=branch if isinstance(branch, str) and branch else None,
            created_at=iso(doc.get("createdAt")),
            updated_at=iso(doc.get("lastUpdatedAt")),
            native=native,
        )

    def bubble(self, bubble: dict[str, Any]) -> Iterator[Op]:
        self.count += 1
        key = bubble.get("bubbleId")
        key = key if isinstance(key, str) and key else f"#{self.count}"
        timestamp = iso(bubble.get("createdAt"))
        native = {k: bubble[k] for k in ("requestId",) if isinstance(bubble.get(k), str)}
        kind = bubble.get("type")
        if kind == USER:
            yield from self._user(key, bubble, timestamp, native)
        elif kind == ASSISTANT:
            yield from self._assistant(key, bubble, timestamp, native)
        else:
            self.feed.skip(f"bubble {key} of unknown type {shown(kind)}")

    def _user(
        self, key: str, bubble: dict[str, Any], timestamp: str | None, native: dict[str, Any]
    ) -> Iterator[Op]:
        info = bubble.get("modelInfo")
        model = info.get("modelName") if isinstance(info, dict) else None
        if isinstance(model, str) and model and model != "default":
            self.model = model
        uris = bubble.get("workspaceUris")
        if self.workspace is None and isinstance(uris, list) and uris and isinstance(uris[0], str):
            self.workspace = file_path(uris[0])
        text = _bubble_text(bubble)
        if text:
            yield Put(key, Message("user", [Text(text)], timestamp, native=native))

    def _assistant(
        self, key: str, bubble: dict[str, Any], timestamp: str | None, native: dict[str, Any]
    ) -> Iterator[Op]:
        parts: list[Part] = _thinking(bubble)
        text = _bubble_text(bubble)
        if text:
            parts.append(Text(text))
        result: ToolResult | None = None
        tool = bubble.get("toolFormerData")
        if isinstance(tool, dict) and (tool.get("name") or tool.get("tool") is not None):
            call, result = _tool(tool, key)
            parts.append(call)
        if not parts:
            return  # Cursor keeps empty bubbles (a capability ran, a status): nothing said
        usage = _usage(bubble.get("tokenCount"))
        yield Put(key, Message("assistant", parts, timestamp, self.model, usage, None, native))
        if result is not None:
            yield Put(key + "#result", Message("tool", [result], timestamp))


def _workspace_folder(identifier: Any) -> str | None:
    if not isinstance(identifier, dict):
        return None
    uri = identifier.get("uri")
    if isinstance(uri, dict):
        for field in ("fsPath", "path"):
            if isinstance(uri.get(field), str) and uri[field]:
                return str(uri[field])
        if isinstance(uri.get("external"), str):
            return file_path(uri["external"])
    return file_path(uri) if isinstance(uri, str) and uri else None


def _bubble_text(bubble: dict[str, Any]) -> str:
    text = bubble.get("text")
    if isinstance(text, str) and text.strip():
        return text
    rich = _json(bubble.get("richText"))
    return "".join(_lexical_text(rich)).strip() if rich is not None else ""


def _lexical_text(node: Any) -> Iterator[str]:
    """The text of a Lexical editor state (the prompt box's rich text)."""
    if isinstance(node, dict):
        if isinstance(node.get("text"), str):
            yield node["text"]
        children = node.get("children") or node.get("root")
        if children is not None:
            yield from _lexical_text(children)
        if node.get("type") == "paragraph":
            yield "\n"
    elif isinstance(node, list):
        for child in node:
            yield from _lexical_text(child)


def _thinking(bubble: dict[str, Any]) -> list[Part]:
    parts: list[Part] = []
    blocks = bubble.get("allThinkingBlocks")
    candidates = blocks if isinstance(blocks, list) and blocks else [bubble.get("thinking")]
    for block in candidates:
        if not isinstance(block, dict):
            continue
        text = block.get("text") or block.get("thinking")
        signature = block.get("signature")
        if isinstance(text, str) and text:
            parts.append(Reasoning(text, signature if isinstance(signature, str) else None))
    return parts


def _tool(tool: dict[str, Any], key: str) -> tuple[ToolCall, ToolResult | None]:
    call_id = tool.get("toolCallId")
    call_id = call_id if isinstance(call_id, str) and call_id else key
    name = tool["name"] if isinstance(tool.get("name"), str) else text_of(tool.get("tool"))
    args = _json(tool.get("rawArgs"))
    if args is None:
        params = tool.get("params")
        args = _json(params) if isinstance(params, str) else params
    status = tool.get("status") if isinstance(tool.get("status"), str) else None
    native = {"tool": tool["tool"]} if isinstance(tool.get("tool"), int) else {}
    call = ToolCall(call_id, name, args if args is not None else {}, native)
    raw = tool.get("result")
    if raw is None or raw == "":
        return call, None
    failed = status is not None and status.lower() in FAILED
    native = {"status": status} if status else {}
    return call, ToolResult(call_id, _result_text(raw), failed, native)


def _result_text(raw: Any) -> str:
    """A tool's result: Cursor stores a JSON string; its main text field when it has one."""
    value = _json(raw) if isinstance(raw, str) else raw
    if isinstance(value, dict):
        for field in RESULT_TEXT:
            if isinstance(value.get(field), str):
                return str(value[field])
    if isinstance(raw, str):
        return raw
    return orjson.dumps(raw).decode()


def _usage(count: Any) -> dict[str, Any] | None:
    counts = token_counts(
        count, (("inputTokens", "input_tokens"), ("outputTokens", "output_tokens"))
    )
    usage = {name: value for name, value in counts.items() if value}  # 0: not counted yet
    return usage or None


def container(path: Path) -> Source:
    return Source(path, "container", members=Composers(path))
