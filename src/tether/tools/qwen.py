"""Qwen Code: `~/.qwen/projects/<sanitized cwd>/chats/<session id>.jsonl`.

One ChatRecord per line, chained by uuid/parentUuid as Claude Code's are, whose `message` is
a Gemini Content (parts: text, thought text, functionCall, functionResponse, inline data).
A `rewind` record re-roots the chain: what was recorded after its parent is abandoned.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from tether.model import Attachment, Message, Part, Reasoning, Role, Text, ToolCall, ToolResult
from tether.tools.base import Feed, Meta, Op, Put, Reset, Rewind, Source
from tether.tools.common import as_text, head_records, iso, shown, text_of, title_from, token_counts
from tether.tools.facts import qwen as facts
from tether.tools.listing import entries, is_dir, is_file

name = facts.NAME
display_name = facts.DISPLAY_NAME
aliases = facts.ALIASES
capabilities = facts.CAPABILITIES

SESSION_ID_RE = re.compile(
    r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I
)
"""A session id as the CLI names its file; any other file name is not trusted as one."""
RECORD_TYPES = frozenset({"user", "assistant", "tool_result", "system"})
SNIFF_LINES = 20
HOOK_CONTEXT = "<qwen:"
"""Prefix of the text parts a hook adds to a prompt (`<qwen:user-prompt-submit-context>`)."""
USER_SUBTYPES: dict[str, Role] = {
    "mid_turn_user_message": "user",
    "notification": "system",
    "cron": "system",
    "background_task_completed": "system",
}
"""Who a `user` record with a subtype comes from: typed by the user, or the CLI's notice."""
QUIET_SUBTYPES = frozenset(
    {
        "ui_telemetry",
        "session_notes",
        "attribution_snapshot",
        "file_history_snapshot",
        "session_source",
        "session_execution_engine",
        "session_model",
        "session_approval_mode",
        "session_artifact_event",
        "session_artifact_snapshot",
        "session_sources_snapshot",
        "branch_checkpoint",
        "goal_state",
        "goal_runtime",
        "goal_turn_end",
        "turn_result",
        "user_text_elements",
        "agent_bootstrap",
        "agent_launch_prompt",
        "agent_retry",
        "agent_session_ready",
        "omni_recall",
        "realtime_message",
        "managed_session_header_v1",
        "managed_session_event_v1",
        "managed_session_commit_v1",
    }
)
"""System records that are the CLI's state, not conversation."""
TOKEN_NAMES = (
    ("promptTokenCount", "input_tokens"),
    ("candidatesTokenCount", "output_tokens"),
    ("cachedContentTokenCount", "cached_tokens"),
    ("thoughtsTokenCount", "reasoning_tokens"),
    ("totalTokenCount", "total_tokens"),
)
RECORD_NATIVE = ("isSidechain", "agentId", "agentName", "provenance", "promptId")


# ---------------------------------------------------------------------------------------
# Where sessions live


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return [Path(root) for root in facts.store_roots(env, str(home))]


def discover(root: Path) -> Iterator[Source]:
    """projects/<project>/chats/<id>.jsonl, and chats/archive/ where sessions are moved."""
    for project in entries(root / "projects"):
        if not is_dir(project):
            continue
        chats = Path(project.path) / "chats"
        for folder in (chats, chats / "archive"):
            for entry in entries(folder):
                if entry.name.endswith(".jsonl") and is_file(entry):
                    yield Source(Path(entry.path), "jsonl", entry.name[: -len(".jsonl")])


def sniff(path: Path, head: bytes) -> Source | None:
    """A line with uuid, sessionId and a ChatRecord type whose message has Gemini parts."""
    for rec in head_records(head, SNIFF_LINES):
        if isinstance(rec, dict) and _is_qwen_record(rec):
            stem = path.name[: -len(".jsonl")] if path.name.endswith(".jsonl") else ""
            return Source(path, "jsonl", stem if SESSION_ID_RE.match(stem) else None)
    return None


def _is_qwen_record(rec: dict[str, Any]) -> bool:
    kind = rec.get("type")
    if not isinstance(kind, str) or kind not in RECORD_TYPES:
        return False
    if "uuid" not in rec or "sessionId" not in rec:
        return False
    message = rec.get("message")
    if isinstance(message, dict):
        return isinstance(message.get("parts"), list)
    return rec.get("type") == "system" and "systemPayload" in rec and "version" in rec


# ---------------------------------------------------------------------------------------
# Reading


def read(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    if feed.start == 0:
        state.clear()
    reader = _Reader(feed, state)
    if feed.start == 0 and feed.source.native_id:
        yield Meta(native_id=feed.source.native_id)
    for rec in feed.records():
        yield from reader.record(rec)
    if reader.updated:
        yield Meta(updated_at=reader.updated)


class _Reader:
    """Everything later lines need lives in `state`, JSON-serialisable:

    n: keys handed out so far (keys are "1", "2", … in file order);
    live: the keys not rewound, in order;
    cut: record uuid -> keys handed out once it was read (where a rewind to it cuts);
    last: [uuid, key] of the last assistant record, which the CLI may write twice.
    """

    def __init__(self, feed: Feed, state: dict[str, Any]) -> None:
        self.feed = feed
        self.state = state
        self.live: list[int] = state.setdefault("live", [])
        self.cut: dict[str, int] = state.setdefault("cut", {})
        self.updated: str | None = None

    def record(self, rec: dict[str, Any]) -> Iterator[Op]:
        if "sid" not in self.state:
            sid = rec.get("sessionId")
            if isinstance(sid, str) and sid:
                self.state["sid"] = sid
                if not self.feed.source.native_id:
                    yield Meta(native_id=sid)
        kind = rec.get("type")
        if not isinstance(kind, str) or kind not in RECORD_TYPES:
            self.feed.skip(f"unknown record type {shown(kind)}")
            return
        if not self.feed.first(rec.get("uuid")):
            return  # a record written twice (not the second part of a response): read once
        yield from self._envelope(rec)
        self.updated = iso(rec.get("timestamp")) or self.updated
        if kind == "system":
            yield from self._system(rec)
        elif kind == "assistant":
            yield from self._assistant(rec)
        elif kind == "tool_result":
            yield from self._tool_result(rec)
        else:
            yield from self._user(rec)

    def _key(self) -> str:
        n = self.state.get("n", 0) + 1
        self.state["n"] = n
        self.live.append(n)
        return str(n)

    def _seen(self, rec: dict[str, Any]) -> None:
        uuid = rec.get("uuid")
        if isinstance(uuid, str):
            self.cut[uuid] = self.state.get("n", 0)

    def _native(self, rec: dict[str, Any]) -> dict[str, Any]:
        native: dict[str, Any] = {"uuid": rec.get("uuid"), "parentUuid": rec.get("parentUuid")}
        native.update({k: rec[k] for k in RECORD_NATIVE if rec.get(k) not in (None, "", False)})
        return native

    # -- session fields ----------------------------------------------------------------

    def _envelope(self, rec: dict[str, Any]) -> Iterator[Op]:
        meta = Meta()
        changed = False
        cwd = rec.get("cwd")
        if "cwd" not in self.state and isinstance(cwd, str) and cwd:
            self.state["cwd"] = meta.cwd = meta.project = cwd
            meta.created_at = iso(rec.get("timestamp"))
            changed = True
        branch = rec.get("gitBranch")
        if isinstance(branch, str) and branch and branch != self.state.get("branch"):
            self.state["branch"] = meta.git_branch = branch
            changed = True
        version = rec.get("version")
        if isinstance(version, str) and version and version != self.state.get("version"):
            self.state["version"] = version
            meta.native["version"] = version
            changed = True
        fork = rec.get("forkedFrom")
        parent = fork.get("sessionId") if isinstance(fork, dict) else None
        if isinstance(parent, str) and parent and parent != self.state.get("fork"):
            self.state["fork"] = meta.parent_native_id = parent
            changed = True
        if changed:
            yield meta

    def _system(self, rec: dict[str, Any]) -> Iterator[Op]:
        subtype = rec.get("subtype")
        payload = rec.get("systemPayload")
        payload = payload if isinstance(payload, dict) else {}
        if subtype == "rewind" and "parentUuid" not in rec:
            self.feed.skip("rewind without a parentUuid")  # never read as: drop everything
        elif subtype == "rewind":
            yield from self._rewind(rec["parentUuid"])
        elif subtype == "custom_title":
            yield from self._title(payload)
        elif subtype == "parent_session":
            parent = payload.get("parentSessionId")
            if isinstance(parent, str) and parent:
                yield Meta(parent_native_id=parent)
        elif subtype == "chat_compression":
            yield from self._compression(rec, payload)
        elif subtype in ("slash_command", "at_command"):
            yield from self._command(rec, str(subtype), payload)
        elif isinstance(subtype, str) and subtype in QUIET_SUBTYPES:
            return  # never a rewind's parent but as a user turn's parent, noted there
        else:
            self.feed.skip(f"unknown system record {shown(subtype)}")
        self._seen(rec)

    def _title(self, payload: dict[str, Any]) -> Iterator[Op]:
        title = payload.get("customTitle")
        if not isinstance(title, str) or not title.strip():
            return
        manual = payload.get("titleSource") != "auto"  # a missing source means a user's /rename
        if manual or not self.state.get("manual_title"):
            self.state["manual_title"] = manual or self.state.get("manual_title", False)
            yield Meta(title=title_from(title))

    def _rewind(self, parent: Any) -> Iterator[Op]:
        """Drop every message read after the rewind's parent: the branch it abandons."""
        if parent is None:
            if self.live:
                self.live.clear()
                yield Reset()
            return
        cut = self.cut.get(parent) if isinstance(parent, str) else None
        if cut is None:
            self.feed.skip("rewind to a record not read before")
            return
        dropped = [k for k in self.live if k > cut]
        if dropped:
            self.live[:] = [k for k in self.live if k <= cut]
            self.state.pop("last", None)
            yield Rewind(str(dropped[0]))

    def _compression(self, rec: dict[str, Any], payload: dict[str, Any]) -> Iterator[Op]:
        """A checkpoint of what the model sees from now on; tether keeps the history and
        notes the summary the CLI wrote."""
        history = payload.get("compressedHistory")
        summary = ""
        if isinstance(history, list) and history and isinstance(history[0], dict):
            summary = "\n".join(t.text for t in _texts(history[0].get("parts")))
        text = summary or "Conversation compressed"
        native = {**self._native(rec), "kind": "chat_compression"}
        info = payload.get("info")
        if isinstance(info, dict):
            native["info"] = info
        message = Message("system", [Text(text)], iso(rec.get("timestamp")), native=native)
        yield Put(self._key(), message)

    def _command(self, rec: dict[str, Any], subtype: str, payload: dict[str, Any]) -> Iterator[Op]:
        text = payload.get("rawCommand") or payload.get("userText")
        if not isinstance(text, str) or not text or payload.get("phase") == "result":
            return
        native = {**self._native(rec), "kind": subtype}
        message = Message("system", [Text(text)], iso(rec.get("timestamp")), native=native)
        yield Put(self._key(), message)

    # -- conversation ------------------------------------------------------------------

    def _user(self, rec: dict[str, Any]) -> Iterator[Op]:
        subtype = rec.get("subtype")
        if subtype not in (None, *USER_SUBTYPES):
            self.feed.skip(f"unknown user record {shown(subtype)}")
        parent = rec.get("parentUuid")
        if isinstance(parent, str):
            self.cut.setdefault(parent, self.state.get("n", 0))
        parts, context = self._user_parts(rec)
        stamp = iso(rec.get("timestamp"))
        native = self._native(rec)
        role: Role = USER_SUBTYPES.get(str(subtype), "user") if subtype else "user"
        if subtype:
            native["kind"] = subtype
        if parts:
            yield Put(self._key(), Message(role, parts, stamp, native_id=_uuid(rec), native=native))
        if context:
            hook = {**self._native(rec), "kind": "hook_context"}
            yield Put(self._key(), Message("system", context, stamp, native=hook))
        self._seen(rec)

    def _user_parts(self, rec: dict[str, Any]) -> tuple[list[Part], list[Part]]:
        message = rec.get("message")
        raw = message.get("parts") if isinstance(message, dict) else None
        if not isinstance(raw, list):
            self.feed.skip("user record without message parts")
            return [], []
        parts: list[Part] = []
        context: list[Part] = []
        for part in _parts(raw, self.feed):
            if isinstance(part, Text) and part.text.lstrip().startswith(HOOK_CONTEXT):
                context.append(part)
            else:
                parts.append(part)
        return parts, context

    def _assistant(self, rec: dict[str, Any]) -> Iterator[Op]:
        message = rec.get("message")
        raw = message.get("parts") if isinstance(message, dict) else None
        if not isinstance(raw, list):
            self.feed.skip("assistant record without message parts")
            self._seen(rec)
            return
        parts = _parts(raw, self.feed)
        uuid = _uuid(rec)
        last = self.state.get("last")
        merge = isinstance(last, list) and uuid is not None and last[0] == uuid
        key = str(last[1]) if merge and isinstance(last, list) else self._key()
        self.state["last"] = [uuid, key]
        model = rec.get("model")
        reply = Message(
            "assistant",
            parts,
            iso(rec.get("timestamp")),
            model if isinstance(model, str) and model else None,
            token_counts(rec.get("usageMetadata"), TOKEN_NAMES) or None,
            uuid,
            self._native(rec),
        )
        # The CLI may record one response twice under one uuid (its thoughts, then the rest).
        yield Put(key, reply, merge=merge)
        self._seen(rec)

    def _tool_result(self, rec: dict[str, Any]) -> Iterator[Op]:
        message = rec.get("message")
        raw = message.get("parts") if isinstance(message, dict) else None
        info = rec.get("toolCallResult")
        info = info if isinstance(info, dict) else {}
        results: list[Part] = []
        for part in raw if isinstance(raw, list) else ():
            if isinstance(part, dict) and isinstance(part.get("functionResponse"), dict):
                results.append(_response(part["functionResponse"], info))
            elif isinstance(part, dict):
                results.extend(_parts([part], self.feed))
        if not results and isinstance(info.get("callId"), str):
            output = as_text(info.get("resultDisplay") or info.get("error") or "")
            results.append(ToolResult(info["callId"], output, _failed(info), {}))
        if not results:
            self.feed.skip("tool result record without a function response")
            self._seen(rec)
            return
        stamp = iso(rec.get("timestamp"))
        yield Put(
            self._key(),
            Message("tool", results, stamp, native_id=_uuid(rec), native=self._native(rec)),
        )
        self._seen(rec)


# ---------------------------------------------------------------------------------------
# Gemini Content parts


def _parts(raw: list[Any], feed: Feed) -> list[Part]:
    out: list[Part] = []
    for index, part in enumerate(raw):
        if not isinstance(part, dict):
            continue
        signature = part.get("thoughtSignature")
        signature = signature if isinstance(signature, str) and signature else None
        text = part.get("text")
        if isinstance(text, str):
            if part.get("thought") is True:
                out.append(Reasoning(text, signature))
            elif text:
                out.append(Text(text))
        elif isinstance(part.get("functionCall"), dict):
            call = part["functionCall"]
            cid = call.get("id") if isinstance(call.get("id"), str) else f"call#{index}"
            native = {"thoughtSignature": signature} if signature else {}
            out.append(ToolCall(cid, text_of(call.get("name")), _args(call.get("args")), native))
        elif isinstance(part.get("functionResponse"), dict):
            out.append(_response(part["functionResponse"], {}))
        elif isinstance(part.get("inlineData"), dict):
            data = part["inlineData"]
            media = text_of(data.get("mimeType")) or "application/octet-stream"
            blob = data.get("data")
            out.append(Attachment(media, data=blob if isinstance(blob, str) else None))
        elif isinstance(part.get("fileData"), dict):
            data = part["fileData"]
            uri = data.get("fileUri")
            media = text_of(data.get("mimeType")) or "application/octet-stream"
            out.append(Attachment(media, uri=uri if isinstance(uri, str) else None))
        else:
            feed.skip(f"unknown content part with keys {sorted(part)[:4]}")
    return out


def _texts(raw: Any) -> list[Text]:
    parts = raw if isinstance(raw, list) else []
    return [
        Text(p["text"])
        for p in parts
        if isinstance(p, dict) and isinstance(p.get("text"), str) and not p.get("thought")
    ]


def _response(response: dict[str, Any], info: dict[str, Any]) -> ToolResult:
    """A functionResponse ({output} or {error}); the record's toolCallResult says the status."""
    cid = response.get("id") if isinstance(response.get("id"), str) else info.get("callId")
    body = response.get("response")
    failed = _failed(info)
    if isinstance(body, dict) and ("output" in body or "error" in body):
        pieces = [as_text(body["output"])] if body.get("output") is not None else []
        if body.get("error") not in (None, ""):
            pieces.append(as_text(body["error"]))
            failed = True
        output = "\n".join(pieces)
    else:
        output = as_text(body)
    native = {"name": response["name"]} if isinstance(response.get("name"), str) else {}
    if isinstance(info.get("status"), str):
        native["status"] = info["status"]
    return ToolResult(str(cid or ""), output, failed, native)


def _failed(info: dict[str, Any]) -> bool:
    return info.get("status") in ("error", "cancelled") or info.get("error") not in (None, "")


def _args(args: Any) -> Any:
    if args is None:
        return {}
    if isinstance(args, str):
        with contextlib.suppress(orjson.JSONDecodeError):
            return orjson.loads(args)
    return args


def _uuid(rec: dict[str, Any]) -> str | None:
    uuid = rec.get("uuid")
    return uuid if isinstance(uuid, str) and uuid else None
