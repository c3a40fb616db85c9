"""The task folders Cline, Roo Code and Kilo Code share: `<storage>/tasks/<id>/`.

One task is one session. `api_conversation_history.json` is the conversation (Anthropic
MessageParam[], or Roo's `{version: 2, messages}` of AI SDK messages); the files beside it
(history item, ui_messages.json, task_metadata.json, Cline's task index) add the title,
times, working directory and parent task. A task is read as a container of one member
whose bytes bundle the conversation with those facts, so that the archive alone rebuilds
the session after the extension deleted the task.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from tether.files import MAX_DOCUMENT, read_regular
from tether.model import Attachment, Message, Part, Reasoning, Role, Text, ToolCall, ToolResult
from tether.tools.base import Feed, FormatError, Member, Meta, Op, Put, Source
from tether.tools.common import (
    as_text,
    each,
    iso,
    nonempty_str,
    read_small,
    shown,
    text_of,
    title_from,
    token_counts,
)
from tether.tools.listing import entries, is_dir, is_file_at

HISTORY = "api_conversation_history.json"
UI_MESSAGES = "ui_messages.json"
HISTORY_ITEM = "history_item.json"
TASK_METADATA = "task_metadata.json"
TASK_INDEX = ("state", "taskHistory.json")
"""Cline's index of every task, beside `tasks/` in the storage folder."""

SIDECAR_MAX = 64 << 20
ROO_VERSION = 2
ENVIRONMENT = "<environment_details>"
CWD_RE = re.compile(r"# Current (?:Working|Workspace) Directory \((.+?)\) Files")
HISTORY_NATIVE = (
    "tokensIn",
    "tokensOut",
    "cacheWrites",
    "cacheReads",
    "totalCost",
    "mode",
    "apiConfigName",
    "status",
    "modelId",
    "isFavorited",
    "rootTaskId",
    "conversationHistoryDeletedRange",
)
MESSAGE_NATIVE = (
    "id",
    "condenseId",
    "condenseParent",
    "truncationId",
    "truncationParent",
    "reasoning_content",
)
TOKEN_NAMES = (
    ("prompt", "input_tokens"),
    ("completion", "output_tokens"),
    ("cached", "cached_tokens"),
)
RESULT_HEADER = re.compile(r"^\[(?P<name>[\w-]+)(?: for [^\n]*?)?\] Result:")
"""How Cline hands a tool's output back as text: `[read_file for 'a.cs'] Result:`."""
DIGITS = re.compile(r"^\d{10,}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


# ---------------------------------------------------------------------------------------
# Where tasks live


def discover(root: Path) -> Iterator[Source]:
    """`tasks/<id>/api_conversation_history.json` under one storage folder."""
    for entry in entries(root / "tasks"):
        if not is_dir(entry):
            continue
        path = Path(entry.path) / HISTORY
        if is_file_at(path):
            yield task(path)


def task(path: Path) -> Source:
    """A task folder, known by its conversation file: re-listed when that file changes."""
    folder = path.parent
    task_id = folder.name

    def members(skip: Callable[[str], None]) -> Iterator[Member]:
        if not task_id:
            skip("a task folder without a name")
            return
        version = _version(folder)
        yield Member(task_id, version, lambda: bundle(path, task_id), mode="document")

    return Source(path, "container", task_id or None, members=members)


def _version(folder: Path) -> str:
    return files_version(folder, (HISTORY, UI_MESSAGES, HISTORY_ITEM, TASK_METADATA))


def files_version(folder: Path, files: tuple[str, ...]) -> str:
    """The size and mtime of each of `files` in `folder` (`-` for one that is missing)."""
    stamps = []
    for file in files:
        try:
            st = (folder / file).stat()
        except OSError:
            stamps.append("-")
            continue
        stamps.append(f"{st.st_size}:{st.st_mtime_ns}")
    return "/".join(stamps)


def bundle(path: Path, task_id: str) -> bytes:
    """The task's conversation and the facts the files beside it hold, as one document."""
    data = read_regular(path, MAX_DOCUMENT)
    if not data.strip():
        raise FormatError("the file is empty")
    try:
        history = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"not valid JSON: {exc}") from None
    _messages(history)  # raises FormatError when it is not a task history
    facts = _facts(path.parent, task_id)
    return orjson.dumps({"task": task_id, "facts": facts, "history": history})


def sniff_owner(path: Path, head: bytes) -> str | None:
    """For `tether import`: which of the three tools wrote this task file, else None.

    The storage folder's name says it; outside one, the task id does (Cline's are
    millisecond timestamps, Roo's and Kilo's UUIDs) and a history item beside it.
    """
    if path.name != HISTORY:
        return None
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not (text.startswith(b"[") or (text.startswith(b"{") and b'"version"' in text[:200])):
        return None
    lowered = str(path).lower()
    for marker, owner in (
        ("saoudrizwan.claude-dev", "cline"),
        ("rooveterinaryinc.roo-cline", "roo"),
        ("kilocode.kilo-code", "kilo"),
        (f"{os.sep}.cline{os.sep}", "cline"),
    ):
        if marker in lowered:
            return owner
    task = path.parent.name
    if (path.parent / HISTORY_ITEM).is_file() or UUID.match(task):
        return "roo"
    return "cline"


def source_for(path: Path) -> Source:
    """The conversation file alone, read with the files beside it as they are now."""
    return Source(path, "document", path.parent.name or None)


# ---------------------------------------------------------------------------------------
# Reading


def read(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    """The whole task: session fields, then every message. Reads a bundle (what capture
    archives), or a bare conversation file with the files beside it."""
    yield from read_document(feed, feed.document())


def read_document(feed: Feed, doc: Any) -> Iterator[Op]:
    """`read` on a feed whose document is read already (Cline's reader looks at it first)."""
    if isinstance(doc, dict) and "history" in doc and isinstance(doc.get("facts"), dict):
        task_id = text_of(doc.get("task")) or feed.source.native_id or ""
        facts: dict[str, Any] = doc["facts"]
        messages = _messages(doc["history"])
    else:
        messages = _messages(doc)
        task_id = feed.source.native_id or feed.source.path.parent.name
        facts = _facts(feed.source.path.parent, task_id)
    reader = _Reader(feed, facts)
    yield from reader.session(task_id, messages)
    yield from each(feed, "message", messages, reader.message)


def _messages(doc: Any) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict) and isinstance(doc.get("messages"), list):
        if doc.get("version") != ROO_VERSION:
            raise FormatError(f"unknown task history version {shown(doc.get('version'))}")
        return list(doc["messages"])
    raise FormatError("not a task history: expected a list of messages or {version, messages}")


def _facts(folder: Path, task_id: str) -> dict[str, Any]:
    """What the files beside the conversation say about the task, JSON-serialisable."""
    item = _load(folder / HISTORY_ITEM)
    if not isinstance(item, dict):
        item = _indexed(folder.parent.parent.joinpath(*TASK_INDEX), task_id)
    ui = _load(folder / UI_MESSAGES)
    ui = [m for m in ui if isinstance(m, dict)] if isinstance(ui, list) else []
    stamps = [m["ts"] for m in ui if isinstance(m.get("ts"), int | float)]
    meta = _load(folder / TASK_METADATA)
    meta = meta if isinstance(meta, dict) else {}
    usage = meta.get("model_usage")
    hosts = meta.get("environment_history")
    host = hosts[-1] if isinstance(hosts, list) and hosts and isinstance(hosts[-1], dict) else {}
    return {
        "item": item if isinstance(item, dict) else {},
        "task": _task(ui),
        "requests": [m.get("ts") for m in ui if m.get("say") == "api_req_started"],
        "ui_times": [min(stamps), max(stamps)] if stamps else [],
        "models": [
            {"ts": u.get("ts"), "model_id": u.get("model_id")}
            for u in (usage if isinstance(usage, list) else [])
            if isinstance(u, dict)
        ],
        "version": nonempty_str(host.get("cline_version")),
    }


def _load(path: Path) -> Any:
    """A small JSON file beside the task, or None when it is missing, too big or broken."""
    data = read_small(path, SIDECAR_MAX)
    if data is None:
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


_INDEX_CACHE: dict[str, tuple[tuple[int, int], dict[str, dict[str, Any]]]] = {}


def _indexed(path: Path, task_id: str) -> dict[str, Any] | None:
    """The task's entry in Cline's taskHistory.json, parsed once per change of the file."""
    try:
        st = path.stat()
    except OSError:
        return None
    stamp = (st.st_size, st.st_mtime_ns)
    cached = _INDEX_CACHE.get(str(path))
    if cached is None or cached[0] != stamp:
        items = _load(path)
        by_id = {
            str(i["id"]): i
            for i in (items if isinstance(items, list) else [])
            if isinstance(i, dict) and isinstance(i.get("id"), str)
        }
        _INDEX_CACHE.clear()  # one index per storage folder: keep only the latest
        cached = _INDEX_CACHE[str(path)] = (stamp, by_id)
    return cached[1].get(task_id)


class _Reader:
    def __init__(self, feed: Feed, facts: dict[str, Any]) -> None:
        self.feed = feed
        self.facts = facts
        requests = facts.get("requests")
        self.requests: list[Any] = requests if isinstance(requests, list) else []
        models = facts.get("models")
        self.models = [m for m in models if isinstance(m, dict)] if isinstance(models, list) else []
        self.turn = {"user": 0, "assistant": 0}
        self.unanswered: list[tuple[str, str]] = []
        """(id, name) of the last assistant message's tool calls not yet answered."""

    # -- session fields ----------------------------------------------------------------

    def session(self, task_id: str, messages: list[Any]) -> Iterator[Op]:
        item = self.facts.get("item")
        item = item if isinstance(item, dict) else {}
        ui_times = self.facts.get("ui_times")
        stamps = [iso(t) for t in (ui_times if isinstance(ui_times, list) else [])]
        stamps.extend(iso(m.get("ts")) for m in messages if isinstance(m, dict))
        known = sorted(s for s in stamps if s)
        created = known[0] if known else None
        if created is None and DIGITS.match(task_id):
            created = iso(int(task_id))
        updated = max((s for s in (*known, iso(item.get("ts"))) if s), default=None)
        cwd = (
            nonempty_str(item.get("workspace"))
            or nonempty_str(item.get("cwdOnTaskInitialization"))
            or _cwd_from(messages)
        )
        native = {k: item[k] for k in HISTORY_NATIVE if item.get(k) not in (None, "", [])}
        version = nonempty_str(self.facts.get("version"))
        if version:
            native["version"] = version
        parent = nonempty_str(item.get("parentTaskId"))
        yield Meta(
            native_id=task_id,
            title=title_from(
                nonempty_str(item.get("title"))
                or nonempty_str(item.get("task"))
                or nonempty_str(self.facts.get("task"))
            ),
            cwd=cwd,
            project=cwd,
            parent_native_id=parent,
            created_at=created,
            updated_at=updated,
            native=native,
        )

    # -- messages ----------------------------------------------------------------------

    def message(self, index: int, raw: Any) -> Iterator[Op]:
        if not isinstance(raw, dict):
            self.feed.skip(f"message {index} is not an object")
            return
        key = str(index)
        role = raw.get("role")
        if raw.get("type") == "reasoning" and role is None:
            yield Put(key, self._reasoning_item(raw))
            return
        if role not in ("user", "assistant", "tool", "system"):
            self.feed.skip(f"message {index} has unknown role {shown(role)}")
            return
        native = {k: raw[k] for k in MESSAGE_NATIVE if raw.get(k) not in (None, "")}
        stamp = iso(raw.get("ts")) or self._turn_time(str(role))
        parts, results, context = self._parts(raw.get("content"), index)
        if raw.get("isSummary") or raw.get("isTruncationMarker"):
            native["kind"] = "condense_summary" if raw.get("isSummary") else "truncation_marker"
            yield Put(key, Message("system", [*results, *parts, *context], stamp, native=native))
            return
        if role == "user" and self.unanswered:
            parts, answered = self._answers(parts)
            results.extend(answered)
        if role == "assistant":
            self.unanswered = [(p.id, p.name) for p in parts if isinstance(p, ToolCall)]
            if parts or results:
                model, usage = self._model(raw), _usage(raw)
                message = Message(
                    "assistant", [*parts, *results], stamp, model, usage, native=native
                )
                yield Put(key, message)
            return
        if results:
            yield Put(key, Message("tool", results, stamp, native=dict(native)))
        if parts:
            kind: Role = "system" if role == "system" else "user"
            first = parts[0].text if isinstance(parts[0], Text) else ""
            if RESULT_HEADER.match(first):
                native["kind"] = "tool_output"  # the XML tool protocol: results as plain text
            yield Put(f"{key}u" if results else key, Message(kind, parts, stamp, native=native))
        if context:
            system = {**native, "kind": "environment_details"}
            yield Put(f"{key}e", Message("system", context, stamp, native=system))

    def _answers(self, parts: list[Part]) -> tuple[list[Part], list[Part]]:
        """Cline answers native tool calls with text blocks headed `[name ...] Result:`:
        each becomes the typed result of the first unanswered call of that name."""
        kept: list[Part] = []
        results: list[Part] = []
        for part in parts:
            text = part.text if isinstance(part, Text) else ""
            found = RESULT_HEADER.match(text)
            call = None
            if found is not None:
                call = next((c for c in self.unanswered if c[1] == found["name"]), None)
            if found is None or call is None:
                kept.append(part)
                continue
            self.unanswered.remove(call)
            output = text[found.end() :].removeprefix("\n")
            results.append(ToolResult(call[0], output, native={"header": found.group(0)}))
        return kept, results

    def _turn_time(self, role: str) -> str | None:
        """Messages without `ts` (older versions) take the time of their API request."""
        if role not in self.turn:
            return None
        n = self.turn[role]
        self.turn[role] = n + 1
        return iso(self.requests[n]) if n < len(self.requests) else None

    def _model(self, raw: dict[str, Any]) -> str | None:
        info = raw.get("modelInfo")
        if isinstance(info, dict) and nonempty_str(info.get("modelId")):
            return str(info["modelId"])
        stamp = raw.get("ts")
        chosen = None
        for use in self.models:
            when = use.get("ts")
            if isinstance(stamp, int | float) and isinstance(when, int | float) and when > stamp:
                break
            chosen = nonempty_str(use.get("model_id")) or chosen
        return chosen

    def _reasoning_item(self, raw: dict[str, Any]) -> Message:
        """A stand-alone encrypted reasoning item (OpenAI responses, stored by Roo)."""
        summary = raw.get("summary")
        text = as_text(summary) if isinstance(summary, list) else ""
        native = {"encrypted_content": raw.get("encrypted_content"), "id": raw.get("id")}
        part = Reasoning(text, native={k: v for k, v in native.items() if v is not None})
        return Message("assistant", [part], iso(raw.get("ts")), native={"type": "reasoning"})

    def _parts(self, content: Any, index: int) -> tuple[list[Part], list[Part], list[Part]]:
        """(conversation parts, tool results, environment details the extension added)."""
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list):
            self.feed.skip(f"message {index} has no content")
            return [], [], []
        parts: list[Part] = []
        results: list[Part] = []
        context: list[Part] = []
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            convert = BLOCKS.get(kind) if isinstance(kind, str) else None
            if convert is None:
                self.feed.skip(f"unknown content block {shown(kind)}")
                continue
            part = convert(block)
            if part is None:
                continue
            if isinstance(part, ToolResult):
                results.append(part)
            elif isinstance(part, Text) and part.text.lstrip().startswith(ENVIRONMENT):
                context.append(part)
            else:
                parts.append(part)
        return parts, results, context


# ---------------------------------------------------------------------------------------
# Content blocks: Anthropic (Cline, Roo before v2) and AI SDK (Roo v2)


def _text_block(block: dict[str, Any]) -> Part | None:
    text = block.get("text")
    return Text(text) if isinstance(text, str) and text else None


def _thinking(block: dict[str, Any]) -> Part | None:
    text = nonempty_str(block.get("thinking")) or nonempty_str(block.get("text")) or ""
    signature = nonempty_str(block.get("signature"))
    options = block.get("providerOptions")
    if signature is None and isinstance(options, dict):
        anthropic = options.get("anthropic")
        if isinstance(anthropic, dict):
            signature = nonempty_str(anthropic.get("signature"))
    return Reasoning(text, signature)


def _redacted(block: dict[str, Any]) -> Part | None:
    return Reasoning("", native={"redacted": block.get("data")})


def _tool_use(block: dict[str, Any]) -> Part | None:
    call_id = nonempty_str(block.get("id")) or nonempty_str(block.get("toolCallId")) or ""
    name = nonempty_str(block.get("name")) or nonempty_str(block.get("toolName")) or ""
    args = block["input"] if "input" in block else block.get("args")
    if isinstance(args, str):
        with contextlib.suppress(orjson.JSONDecodeError):
            args = orjson.loads(args)
    native = {"type": block["type"]} if block.get("type") != "tool_use" else {}
    return ToolCall(call_id, name, args, native)


def _tool_result(block: dict[str, Any]) -> Part | None:
    if block.get("type") == "tool-result":
        output, failed = _sdk_output(block.get("output", block.get("result")))
        native = {"name": block["toolName"]} if nonempty_str(block.get("toolName")) else {}
        return ToolResult(nonempty_str(block.get("toolCallId")) or "", output, failed, native)
    return ToolResult(
        nonempty_str(block.get("tool_use_id")) or "",
        as_text(block.get("content")),
        bool(block.get("is_error")),
    )


def _sdk_output(output: Any) -> tuple[str, bool]:
    """AI SDK ToolResultOutput: {type: text|json|error-text|error-json|content, value}."""
    if not isinstance(output, dict) or "type" not in output:
        text = as_text(output)
        return text, text.lstrip().startswith("[ERROR]")
    kind = text_of(output.get("type"))
    value = output.get("value")
    if kind == "content" and isinstance(value, list):
        pieces = [
            text_of(v.get("text"))
            if v.get("type") == "text"
            else f"[{text_of(v.get('mediaType')) or 'media'}]"
            for v in value
            if isinstance(v, dict)
        ]
        return "\n".join(pieces), False
    text = value if isinstance(value, str) else as_text(value)
    return text, kind.startswith("error") or text.lstrip().startswith("[ERROR]")


def _image(block: dict[str, Any]) -> Part | None:
    source = block.get("source")
    if isinstance(source, dict):
        return _anthropic_media(source)
    data = block.get("image", block.get("data"))
    media = nonempty_str(block.get("mediaType")) or nonempty_str(block.get("mimeType"))
    name = nonempty_str(block.get("filename"))
    if isinstance(data, str) and data.startswith(("http://", "https://", "file:")):
        return Attachment(media or "application/octet-stream", name, uri=data)
    if isinstance(data, str) and data.startswith("data:"):
        header, _, data = data.partition(",")
        media = media or header[5:].split(";", 1)[0] or None
    default = {"document": "application/pdf", "file": "application/octet-stream"}
    kind = text_of(block.get("type"))
    return Attachment(
        media or default.get(kind, "image/png"), name, data=data if isinstance(data, str) else None
    )


def _anthropic_media(source: dict[str, Any]) -> Part:
    media = nonempty_str(source.get("media_type")) or "application/octet-stream"
    if source.get("type") == "url":
        return Attachment(media, uri=nonempty_str(source.get("url")))
    if source.get("type") == "text" and isinstance(source.get("data"), str):
        data = base64.b64encode(source["data"].encode()).decode()
        return Attachment(nonempty_str(source.get("media_type")) or "text/plain", data=data)
    return Attachment(media, data=nonempty_str(source.get("data")))


BLOCKS: dict[str, Callable[[dict[str, Any]], Part | None]] = {
    "text": _text_block,
    "thinking": _thinking,
    "reasoning": _thinking,
    "redacted_thinking": _redacted,
    "tool_use": _tool_use,
    "tool-call": _tool_use,
    "tool_result": _tool_result,
    "tool-result": _tool_result,
    "image": _image,
    "document": _image,
    "file": _image,
}


# ---------------------------------------------------------------------------------------
# Small pieces


def _usage(raw: dict[str, Any]) -> dict[str, Any] | None:
    metrics = raw.get("metrics")
    tokens = metrics.get("tokens") if isinstance(metrics, dict) else None
    return token_counts(tokens, TOKEN_NAMES) or None


def _task(ui: list[dict[str, Any]]) -> str | None:
    """The task as the user typed it: a `say: task` UI message near the start, or (Cline
    3.x) the first message when it is the user's `say: text`."""
    for message in ui[:5]:
        if message.get("say") == "task":
            return nonempty_str(message.get("text"))
    if ui and ui[0].get("say") == "text":
        return nonempty_str(ui[0].get("text"))
    return None


def _cwd_from(messages: list[Any]) -> str | None:
    """The working directory the extension states in the first environment details."""
    for raw in messages[:4]:
        content = raw.get("content") if isinstance(raw, dict) else None
        for block in content if isinstance(content, list) else ():
            text = block.get("text") if isinstance(block, dict) else None
            if isinstance(text, str) and ENVIRONMENT in text:
                found = CWD_RE.search(text)
                if found:
                    return found.group(1)
    return None
