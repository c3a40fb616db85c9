"""Gemini CLI: the sessions it keeps under ~/.gemini/tmp/<project>/chats/.

Reads the JSONL event logs (≥0.39: a metadata line, message records, `$set` patches and
`$rewindTo` marks, where a repeated message id replaces the earlier record) and the older
single-JSON conversation documents.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from tether.model import Attachment, Message, Part, Reasoning, Role, Text, ToolCall, ToolResult
from tether.tools.base import Feed, FormatError, Meta, Op, Put, Reset, Rewind, Source
from tether.tools.common import as_text, each, iso, read_small, shown, text_of, token_counts
from tether.tools.facts import gemini as facts
from tether.tools.listing import entries, is_dir, is_file

name = facts.NAME
display_name = facts.DISPLAY_NAME
aliases = facts.ALIASES
capabilities = facts.CAPABILITIES

SESSION_PREFIX = "session-"
RESULTS = "#results"
"""Suffix of the key of the tool message that holds a gemini record's tool results."""
ASSISTANT_TYPES = frozenset({"gemini", "model"})
SYSTEM_TYPES = frozenset({"info", "error", "warning"})
IGNORED_PREFIXES = (
    ("<session_context>", "session_context"),
    ("<hook_context>", "hook_context"),
    ("<state_snapshot>", "compaction_summary"),
    ("/", "slash_command"),
    ("?", "help_command"),
)
"""User text the CLI records but does not send as a prompt (sessionUtils.isIgnoredUserContent)."""
TOKEN_NAMES = (
    ("input", "input_tokens"),
    ("output", "output_tokens"),
    ("cached", "cached_tokens"),
    ("thoughts", "reasoning_tokens"),
    ("tool", "tool_tokens"),
    ("total", "total_tokens"),
)
CALL_NATIVE = ("status", "timestamp", "displayName", "agentId", "renderOutputAsMarkdown")
MARKER_MAX = 4096
REGISTRY_MAX = 1 << 20
DISPLAY_MAX = 2000


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return [Path(root) for root in facts.store_roots(env, str(home))]


def discover(root: Path) -> Iterator[Source]:
    """tmp/<project>/chats/session-*.json[l], and sub-agent logs chats/<parent id>/<id>.jsonl.

    The depth is fixed, so following a symlinked folder can never loop.
    """
    for project in entries(root / "tmp"):
        if not is_dir(project):
            continue
        for entry in entries(Path(project.path) / "chats"):
            if is_dir(entry):
                for sub in entries(Path(entry.path)):
                    if sub.name.endswith(".jsonl") and is_file(sub):
                        yield Source(Path(sub.path), "jsonl")
            elif entry.name.startswith(SESSION_PREFIX) and is_file(entry):
                if entry.name.endswith(".jsonl"):
                    yield Source(Path(entry.path), "jsonl")
                elif entry.name.endswith(".json"):
                    yield Source(Path(entry.path), "document")


def sniff(path: Path, head: bytes) -> Source | None:
    """A Gemini session starts with an object holding `sessionId` and `projectHash`."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text.startswith(b"{") or b'"sessionId"' not in text or b'"projectHash"' not in text:
        return None
    first = text.split(b"\n", 1)[0]
    try:
        obj = orjson.loads(first)
    except orjson.JSONDecodeError:
        return Source(path, "document")  # pretty-printed, or one long line cut off by `head`
    if not isinstance(obj, dict) or not isinstance(obj.get("sessionId"), str):
        return None
    if isinstance(obj.get("messages"), list):
        return Source(path, "document")
    return Source(path, "jsonl")


def read(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    reader = _Reader(feed, state)
    if feed.source.mode == "document":
        yield from reader.document(feed.document())
    else:
        yield from reader.log(feed.records())


class _Reader:
    """One read of one file. Everything later lines need lives in `state`:

    order: message id -> 1 when a message was put under that key (0: seen, nothing put), in
    the file's order, as the CLI keeps them (a replaced record keeps its place);
    calls: message id -> ids of the tool calls whose results were put for it.
    """

    def __init__(self, feed: Feed, state: dict[str, Any]) -> None:
        self.feed = feed
        self.state = state
        self.order: dict[str, int] = state.setdefault("order", {})
        self.calls: dict[str, list[str]] = state.setdefault("calls", {})
        self.answered = {cid: owner for owner, cids in self.calls.items() for cid in cids}
        self.updated: str | None = None

    # -- JSONL event log -------------------------------------------------------------------

    def log(self, records: Iterable[dict[str, Any]]) -> Iterator[Op]:
        if isinstance(self.state.get("sid"), str):
            yield Meta(native_id=self.state["sid"])
        for rec in records:
            if "$rewindTo" in rec:
                yield from self._rewind(rec["$rewindTo"])
            elif isinstance(rec.get("id"), str):
                yield from self._record(rec)
            elif "$set" in rec:
                yield from self._set(rec["$set"])
            elif isinstance(rec.get("sessionId"), str):
                yield self._metadata(rec)
            else:
                self.feed.skip("unknown record: no id, sessionId, $set or $rewindTo")
        if self.updated:
            yield Meta(updated_at=self.updated)

    def _metadata(self, rec: dict[str, Any]) -> Meta:
        """The first line; the CLI appends it again on every resume (with a new startTime)."""
        sid: str = rec["sessionId"]
        self.state["sid"] = sid
        created = None
        if not self.state.get("started"):
            created = iso(rec.get("startTime"))
            self.state["started"] = True
        self.updated = iso(rec.get("lastUpdated")) or self.updated
        project = self._project(rec)
        summary = rec.get("summary")
        return Meta(
            native_id=sid,
            title=_text(summary),
            cwd=project,
            project=project,
            parent_native_id=self._parent(),
            created_at=created,
            native=_session_native(rec),
        )

    def _set(self, patch: Any) -> Iterator[Op]:
        if not isinstance(patch, dict):
            self.feed.skip("$set that is not an object")
            return
        sid = patch.get("sessionId")
        if isinstance(sid, str) and sid != self.state.get("sid"):
            self.state["sid"] = sid
            yield Meta(native_id=sid)
        self.updated = iso(patch.get("lastUpdated")) or self.updated
        summary = patch.get("summary")
        native = _session_native(patch)
        if _text(summary) or native:
            yield Meta(title=_text(summary), native=native)
        messages = patch.get("messages")
        if isinstance(messages, list) and messages:
            yield from self._checkpoint(messages)

    def _checkpoint(self, messages: list[Any]) -> Iterator[Op]:
        """`$set.messages` restates the history: on every start and resume (the first one on a
        resume holds only the new session context, and the full one drops model, tokens and
        thoughts), after a cancelled turn is rolled back, after compression.

        The CLI then loads only the last checkpoint; tether keeps what it has read and adds
        the messages it has not seen (a compression summary, history a resume carried over).
        A checkpoint may list one id twice (a model turn and its function responses).
        """
        seen: dict[str, int] = {}
        for rec in messages:
            if not isinstance(rec, dict):
                self.feed.skip("message that is not an object")
                continue
            rid = _id(rec)
            key = rid
            if rid is not None:
                seen[rid] = count = seen.get(rid, 0) + 1
                key = rid if count == 1 else f"{rid}#{count}"
            if key is None or not self.order.get(key):  # new, or read with nothing to show
                yield from self._record(rec, key)

    def _rewind(self, target: Any) -> Iterator[Op]:
        """Drop `target` and everything after it; an unknown id drops everything (as the CLI)."""
        if not isinstance(target, str):
            self.feed.skip("$rewindTo that is not a string")
            return
        if target not in self.order:
            self.feed.skip("$rewindTo a message id not read before")  # the CLI drops all
            return
        ids = list(self.order)
        dropped = ids[ids.index(target) :]
        first = next((mid for mid in dropped if self.order[mid]), None)
        for mid in dropped:
            del self.order[mid]
            self._disown(mid)
        if first is not None:
            yield Rewind(first)

    def _clear(self) -> None:
        self.order.clear()
        self.calls.clear()
        self.answered.clear()

    # -- single-JSON document (before 0.39) ------------------------------------------------

    def document(self, doc: Any) -> Iterator[Op]:
        if not isinstance(doc, dict) or not isinstance(doc.get("messages"), list):
            raise FormatError("not a Gemini CLI conversation: expected an object with messages")
        sid = doc.get("sessionId")
        if isinstance(sid, str):
            self.state["sid"] = sid
        project = self._project(doc)
        summary = doc.get("summary")
        yield Meta(
            native_id=sid if isinstance(sid, str) else None,
            title=_text(summary),
            cwd=project,
            project=project,
            created_at=iso(doc.get("startTime")),
            updated_at=iso(doc.get("lastUpdated")),
            native=_session_native(doc),
        )
        messages: list[Any] = doc["messages"]
        ids = {_id(m) for m in messages if isinstance(m, dict)}
        if any(put and mid not in ids for mid, put in self.order.items()):
            yield Reset()  # the file was rewritten without some messages read before
            self._clear()
        yield from each(self.feed, "message", messages, self._document_record)

    def _document_record(self, index: int, rec: Any) -> Iterator[Op]:
        if isinstance(rec, dict):
            yield from self._record(rec)
        else:
            self.feed.skip(f"message {index} is not an object")

    # -- message records -------------------------------------------------------------------

    def _record(self, rec: dict[str, Any], key: str | None = None) -> Iterator[Op]:
        """One MessageRecord, put under its id (`key` when a checkpoint repeats the id)."""
        rid = _id(rec)
        if rid is None:
            self.feed.skip("message record without an id")
            return
        key = key or rid
        kind = rec.get("type")
        if isinstance(kind, str) and kind in ASSISTANT_TYPES:
            yield from self._assistant(key, rid, rec)
        elif kind == "user":
            yield from self._user(key, rid, rec)
        elif isinstance(kind, str) and kind in SYSTEM_TYPES:
            texts, _, attachments = _split(_content_parts(rec.get("content")), key)
            message = Message(
                role="system",
                parts=[*texts, *attachments],
                timestamp=iso(rec.get("timestamp")),
                native_id=rid,
                native={"type": kind},
            )
            yield self._put(key, message)
        else:
            self.feed.skip(f"unknown message type {shown(kind)}")
            self.order.setdefault(key, 0)

    def _put(self, key: str, message: Message) -> Put:
        self.order[key] = 1
        return Put(key, message)

    def _user(self, key: str, rid: str, rec: dict[str, Any]) -> Iterator[Op]:
        texts, results, attachments = _split(_content_parts(rec.get("content")), key)
        timestamp = iso(rec.get("timestamp"))
        native: dict[str, Any] = {"type": "user"}
        if results:
            # 0.61 records each tool response again as a user record: keep one copy.
            fresh = [r for r in results if self.answered.get(r.call_id, key) == key]
            if not (fresh or texts or attachments):
                self.order.setdefault(key, 0)
                return
            self._own(key, [r.call_id for r in fresh])
            answers: list[Part] = [*fresh, *texts, *attachments]
            yield self._put(key, Message("tool", answers, timestamp, native_id=rid, native=native))
            return
        if not (texts or attachments):
            self.order.setdefault(key, 0)  # an empty prompt: the CLI ignores it too
            return
        role: Role = "user"
        marker = _marker(texts[0].text) if texts else None
        if marker:
            role = "system"
            native["marker"] = marker
        display = rec.get("displayContent")
        if display is not None and len(orjson.dumps(display)) <= DISPLAY_MAX:
            native["displayContent"] = display
        parts: list[Part] = [*texts, *attachments]
        yield self._put(key, Message(role, parts, timestamp, native_id=rid, native=native))

    def _assistant(self, key: str, rid: str, rec: dict[str, Any]) -> Iterator[Op]:
        parts: list[Part] = _thoughts(rec.get("thoughts"))
        calls = rec.get("toolCalls")
        calls = calls if isinstance(calls, list) else []
        listed = {
            c.get("id") for c in calls if isinstance(c, dict) and isinstance(c.get("id"), str)
        }
        content = rec["content"] if "content" in rec else rec.get("parts")
        parts.extend(_model_parts(_content_parts(content), listed, key))
        results: list[Part] = []
        results_at: str | None = None
        for index, call in enumerate(calls):
            if not isinstance(call, dict):
                self.feed.skip("tool call that is not an object")
                continue
            cid = call["id"] if isinstance(call.get("id"), str) else f"{key}#call{index}"
            parts.append(_tool_call(call, cid))
            result = _call_result(call, cid)
            if result is not None and self.answered.get(cid, key) == key:
                results.append(result)
                results_at = iso(call.get("timestamp")) or results_at
        timestamp = iso(rec.get("timestamp"))
        model = rec.get("model")
        message = Message(
            role="assistant",
            parts=parts,
            timestamp=timestamp,
            model=model if isinstance(model, str) else None,
            usage=token_counts(rec.get("tokens"), TOKEN_NAMES) or None,
            native_id=rid,
            native={"type": rec.get("type")},
        )
        if not results and key in self.calls:
            yield from self._drop_results(key, message)
            return
        yield self._put(key, message)
        if results:
            self._own(key, [r.call_id for r in results if isinstance(r, ToolResult)])
            native = {"type": "tool_results", "record": rid}
            yield Put(
                key + RESULTS, Message("tool", results, results_at or timestamp, native=native)
            )

    def _drop_results(self, key: str, message: Message) -> Iterator[Op]:
        """A re-appended record lost the results it had: leave none of the old ones behind.

        Ops cannot delete one message: when nothing was put after the record (the usual case,
        the CLI re-appends its last record), rewind to it and put it again; else empty the
        results message.
        """
        self._disown(key)
        if self._is_tail(key):
            yield Rewind(key)
            yield self._put(key, message)
            return
        yield self._put(key, message)
        empty = Message("tool", [], message.timestamp, native={"superseded": True})
        yield Put(key + RESULTS, empty)

    def _is_tail(self, rid: str) -> bool:
        """Nothing was put after this record (so a Rewind to it loses nothing else)."""
        for mid in reversed(self.order):
            if mid == rid:
                return True
            if self.order[mid]:
                return False
        return False

    def _own(self, rid: str, call_ids: list[str]) -> None:
        self._disown(rid)
        self.calls[rid] = call_ids
        for cid in call_ids:
            self.answered[cid] = rid

    def _disown(self, rid: str) -> None:
        for cid in self.calls.pop(rid, ()):
            if self.answered.get(cid) == rid:
                del self.answered[cid]

    # -- project ---------------------------------------------------------------------------

    def _project(self, rec: dict[str, Any]) -> str | None:
        if "project" not in self.state:
            self.state["project"] = find_project(
                self.feed.source.path, rec.get("projectHash"), rec.get("directories")
            )
        project = self.state["project"]
        return project if isinstance(project, str) else None

    def _parent(self) -> str | None:
        """Sub-agent logs live in chats/<parent session id>/<session id>.jsonl."""
        folder = self.feed.source.path.parent
        if folder.name and folder.name != "chats" and folder.parent.name == "chats":
            return folder.name
        return None


def find_project(path: Path, project_hash: Any, directories: Any = None) -> str | None:
    """The project root of a session file: the folder's `.project_root` marker, else the
    `projects.json` entry (or workspace directory) whose sha256 is the recorded projectHash."""
    wanted = project_hash if isinstance(project_hash, str) else None
    if wanted and isinstance(directories, list):
        for directory in directories:
            if isinstance(directory, str) and _hash(directory) == wanted:
                return directory
    chats = path.parent if path.parent.name == "chats" else path.parent.parent
    if chats.name != "chats":
        return None
    data = read_small(chats.parent / ".project_root", MARKER_MAX)
    marker = data.decode("utf-8", errors="replace").strip() if data else None
    if marker and (wanted is None or _hash(marker) == wanted):
        return marker
    if wanted:
        for root in _registered(chats.parent.parent.parent / "projects.json"):
            if _hash(root) == wanted:
                return root
    return marker or None


def _hash(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()


def _registered(path: Path) -> list[str]:
    """Project roots in ~/.gemini/projects.json: {"projects": {"/abs/path": "slug"}}."""
    data = read_small(path, REGISTRY_MAX)
    if not data:
        return []
    try:
        projects = orjson.loads(data.decode("utf-8", errors="replace")).get("projects")
    except (orjson.JSONDecodeError, AttributeError):
        return []
    return [p for p in projects if isinstance(p, str)] if isinstance(projects, dict) else []


# -- record pieces -------------------------------------------------------------------------


def _id(rec: dict[str, Any]) -> str | None:
    return _text(rec.get("id"))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _session_native(rec: dict[str, Any]) -> dict[str, Any]:
    return {
        k: rec[k] for k in ("projectHash", "kind", "directories") if k in rec and rec[k] is not None
    }


def _content_parts(content: Any) -> list[dict[str, Any]]:
    """A PartListUnion (a string, one Part, or a list of strings and Parts) as Part dicts."""
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if isinstance(content, dict):
        return [content]
    if not isinstance(content, list):
        return []
    out: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, dict):
            out.append(part)
        elif isinstance(part, str):
            out.append({"text": part})
    return out


def _split(
    parts: list[dict[str, Any]], rid: str
) -> tuple[list[Text], list[ToolResult], list[Attachment]]:
    texts: list[Text] = []
    results: list[ToolResult] = []
    attachments: list[Attachment] = []
    for index, part in enumerate(parts):
        text = part.get("text")
        if isinstance(text, str):
            if text:
                texts.append(Text(text))
        elif isinstance(part.get("functionResponse"), dict):
            response = part["functionResponse"]
            call_id = response.get("id")
            call_id = call_id if isinstance(call_id, str) and call_id else f"{rid}#response{index}"
            output, failed = _response_text(response.get("response"))
            native = {"name": response["name"]} if isinstance(response.get("name"), str) else {}
            results.append(ToolResult(call_id, output, failed, native))
        else:
            attachment = _attachment(part)
            if attachment is not None:
                attachments.append(attachment)
    return texts, results, attachments


def _attachment(part: dict[str, Any]) -> Attachment | None:
    inline = part.get("inlineData")
    if isinstance(inline, dict):
        data = inline.get("data")
        return Attachment(
            media_type=text_of(inline.get("mimeType")) or "application/octet-stream",
            name=inline.get("displayName") if isinstance(inline.get("displayName"), str) else None,
            data=data if isinstance(data, str) else None,
        )
    file = part.get("fileData")
    if isinstance(file, dict):
        uri = file.get("fileUri")
        return Attachment(
            media_type=text_of(file.get("mimeType")) or "application/octet-stream",
            uri=uri if isinstance(uri, str) else None,
        )
    return None


def _marker(text: str) -> str | None:
    stripped = text.lstrip()
    for prefix, marker in IGNORED_PREFIXES:
        if stripped.startswith(prefix):
            return marker
    return None


def _thoughts(thoughts: Any) -> list[Part]:
    """Thought summaries {subject, description, timestamp}: the subject heads the text."""
    parts: list[Part] = []
    if not isinstance(thoughts, list):
        return parts
    for thought in thoughts:
        if not isinstance(thought, dict):
            continue
        subject = thought.get("subject") if isinstance(thought.get("subject"), str) else ""
        description = thought.get("description")
        description = description if isinstance(description, str) else ""
        text = f"{subject}\n\n{description}" if subject and description else subject or description
        if not text:
            continue
        native = {k: thought[k] for k in ("subject", "timestamp") if thought.get(k)}
        parts.append(Reasoning(text, native=native))
    return parts


def _model_parts(parts: list[dict[str, Any]], known_calls: set[Any], rid: str) -> list[Part]:
    """Model content: text, thought text, and function calls not also listed in toolCalls."""
    out: list[Part] = []
    for index, part in enumerate(parts):
        text = part.get("text")
        signature = part.get("thoughtSignature")
        signature = signature if isinstance(signature, str) else None
        if isinstance(text, str):
            if part.get("thought") is True:
                out.append(Reasoning(text, signature=signature))
            elif text:
                out.append(Text(text))
        elif isinstance(part.get("functionCall"), dict):
            call = part["functionCall"]
            if isinstance(call.get("id"), str) and call["id"] in known_calls:
                continue
            cid = call["id"] if isinstance(call.get("id"), str) else f"{rid}#functionCall{index}"
            native = {"thoughtSignature": signature} if signature else {}
            out.append(ToolCall(cid, text_of(call.get("name")), _args(call.get("args")), native))
        else:
            attachment = _attachment(part)
            if attachment is not None:
                out.append(attachment)
    return out


def _tool_call(call: dict[str, Any], cid: str) -> ToolCall:
    native = {k: call[k] for k in CALL_NATIVE if call.get(k) is not None}
    return ToolCall(cid, text_of(call.get("name")), _args(call.get("args")), native)


def _args(args: Any) -> Any:
    if args is None:
        return {}
    if isinstance(args, str):
        try:
            return orjson.loads(args)
        except orjson.JSONDecodeError:
            return args
    return args


def _call_result(call: dict[str, Any], cid: str) -> ToolResult | None:
    """The output of one tool call from its `result` (a string, a Part, or a Part list)."""
    result = call.get("result")
    if result is None or result in ("", []):
        return None
    status = call.get("status")
    failed = status == "error"
    if isinstance(result, str):
        return ToolResult(cid, result, failed, {"status": status} if status else {})
    parts = result if isinstance(result, list) else [result]
    own: list[str] = []
    other: list[str] = []
    for part in parts:
        if isinstance(part, str):
            own.append(part)
            continue
        if not isinstance(part, dict):
            continue
        response = part.get("functionResponse")
        if isinstance(response, dict):
            output, error = _response_text(response.get("response"))
            failed = failed or error
            # The CLI may store a whole turn here, with the responses to sibling calls.
            rid = response.get("id")
            (other if isinstance(rid, str) and rid != cid else own).append(output)
        elif isinstance(part.get("text"), str):
            own.append(part["text"])
        elif isinstance(part.get("inlineData"), dict):
            own.append(f"[{part['inlineData'].get('mimeType') or 'binary'} data]")
        else:
            own.append(as_text(part))
    pieces = own or other
    if not pieces:
        return None
    return ToolResult(cid, "\n".join(pieces), failed, {"status": status} if status else {})


def _response_text(response: Any) -> tuple[str, bool]:
    """Text of a functionResponse.response ({output} or {error}); True when it is an error."""
    if not isinstance(response, dict):
        return as_text(response), False
    output = response.get("output")
    error = response.get("error")
    if output is None and error in (None, ""):
        return as_text(response), False
    pieces = [as_text(output)] if output is not None else []
    if error not in (None, ""):
        pieces.append(as_text(error))
    return "\n".join(pieces), error not in (None, "")
