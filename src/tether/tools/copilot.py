"""GitHub Copilot CLI: reads `~/.copilot/session-state/` event logs into tether sessions.

Three layouts: `<id>/events.jsonl` (+ `workspace.yaml`, 0.0.378+), flat `<id>.jsonl`
(0.0.342+), and the legacy single-JSON `history-session-state/session_<id>_<ms>.json`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from tether.files import read_head
from tether.model import Attachment, Message, Part, Reasoning, Role, Text, ToolCall, ToolResult
from tether.tools.base import Feed, FormatError, Meta, Op, Put, Reset, Source
from tether.tools.common import as_text, dict_or_empty, each, iso, nonempty_str, token_counts
from tether.tools.facts import copilot as facts
from tether.tools.listing import entries, is_dir, is_file, is_file_at

name = facts.NAME
display_name = facts.DISPLAY_NAME
aliases = facts.ALIASES
capabilities = facts.CAPABILITIES

MAX_OPEN_CALLS = 2000
"""Tool calls awaiting a result kept in state; a session that aborts many calls stays bounded."""
MAX_API_KEYS = 64
WORKSPACE_MAX = 64 * 1024
DETAIL_NATIVE_MAX = 2000
NAMESPACES = frozenset(
    {"session", "user", "assistant", "tool", "system", "hook", "subagent", "skill", "abort"}
)

# Bookkeeping events with nothing a reader of the conversation needs.
QUIET = frozenset(
    """
    assistant.turn_start assistant.turn_end assistant.intent assistant.idle
    assistant.message_start assistant.message_delta assistant.reasoning_delta
    assistant.tool_call_delta assistant.streaming_delta assistant.server_tool_progress
    pending_messages.modified session.truncation session.usage_checkpoint session.usage_info
    session.auto_mode_resolved session.mode_changed session.mode_notice_delivered
    session.plan_changed session.todos_changed session.workspace_file_changed
    session.permissions_changed session.session_limits_changed
    session.remote_steerable_changed session.schedule_created session.schedule_cancelled
    session.schedule_rearmed session.autopilot_objective_changed session.binary_asset
    session.idle session.compaction_start session.snapshot_rewind session.task_complete
    session.tools_updated tool.execution_partial_result tool.execution_progress
    tool_search.activated
    """.split()  # noqa: SIM905  (a word list reads better than forty quoted lines)
)
QUIET_PREFIXES = tuple(
    """
    hook. subagent. permission. model. mcp. session.fusion_ assistant.fusion_ external_tool.
    command. commands. elicitation. sampling. user_input. auto_mode_switch.
    session_limits_exhausted. managed_settings. capabilities. exit_plan_mode. canvas.
    factory_run. extensions. skills. custom_agents. background_tasks. ui.
    """.split()  # noqa: SIM905  (as above)
)


# --- where sessions live ---------------------------------------------------------------


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return [Path(root) for root in facts.store_roots(env, str(home))]


def discover(root: Path) -> Iterator[Source]:
    """Session directories first; a flat or legacy file is skipped once its session has a
    newer copy (Copilot migrates old sessions on resume and may leave the old file)."""
    seen: set[str] = set()
    flat: list[os.DirEntry[str]] = []
    for entry in entries(root / "session-state"):
        if is_dir(entry):
            events = Path(entry.path) / "events.jsonl"
            if is_file_at(events):
                seen.add(entry.name)
                yield Source(events, "jsonl", entry.name)
        elif entry.name.endswith(".jsonl"):
            flat.append(entry)
    for entry in flat:
        native_id = entry.name[: -len(".jsonl")]
        if native_id not in seen and is_file(entry):
            seen.add(native_id)
            yield Source(Path(entry.path), "jsonl", native_id)
    for entry in entries(root / "history-session-state"):
        if entry.name.endswith(".jsonl") and is_file(entry):
            native_id = entry.name[: -len(".jsonl")]
            if native_id not in seen:
                yield Source(Path(entry.path), "jsonl", native_id)
        elif entry.name.endswith(".json") and is_file(entry):
            legacy = legacy_id(entry.name)
            if legacy is None or legacy not in seen:
                yield Source(Path(entry.path), "document", legacy)


def legacy_id(filename: str) -> str | None:
    """`session_<uuid>_<ms>.json` -> `<uuid>`; None when the name does not say."""
    stem = filename.removesuffix(".json")
    if stem.startswith("session_"):
        stem = stem[len("session_") :]
        head, sep, tail = stem.rpartition("_")
        if sep and tail.isdigit():
            stem = head
    return stem if _looks_like_id(stem) else None


def _looks_like_id(text: str) -> bool:
    return len(text) == 36 and text.count("-") == 4


def sniff(path: Path, head: bytes) -> Source | None:
    if path.name.endswith(".json"):
        if b'"chatMessages"' in head and b'"sessionId"' in head:
            return Source(path, "document", legacy_id(path.name))
        return None
    first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    if not _is_event_line(first):
        return None
    if path.name == "events.jsonl":
        native_id: str | None = path.parent.name or None
    else:
        native_id = path.stem if _looks_like_id(path.stem) else None
    return Source(path, "jsonl", native_id)


def _is_event_line(line: bytes) -> bool:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        # A first line longer than the head: judge it by its opening bytes.
        compact = line.replace(b" ", b"")
        return b'"type":"session.start"' in compact and (
            b'"copilotVersion"' in compact or b'"copilot-agent"' in compact
        )
    if not isinstance(obj, dict):
        return False
    kind = obj.get("type")
    if not isinstance(kind, str) or "." not in kind:
        return False
    return (
        kind.split(".", 1)[0] in NAMESPACES
        and isinstance(obj.get("data"), dict)
        and "parentId" in obj
    )


# --- reading ---------------------------------------------------------------------------


def read(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    if feed.source.mode == "document":
        yield from _read_legacy(feed, state)
    else:
        yield from _read_events(feed, state)


Rec = dict[str, Any]
Handler = Callable[[Feed, Rec, Rec, Rec, int], list[Op]]


def _read_events(feed: Feed, st: dict[str, Any]) -> Iterator[Op]:
    path = feed.source.path
    if path.name == "events.jsonl":
        yield from _workspace_meta(path.parent / "workspace.yaml", st)
    n = st.get("n", 0)
    handlers = HANDLERS
    for rec in feed.records():
        if not feed.first(rec.get("id")):
            continue  # an event written twice: read once
        n += 1
        st["n"] = n
        kind = rec.get("type")
        handler = handlers.get(kind) if kind.__class__ is str else None
        if handler is None:
            if not isinstance(kind, str):
                feed.skip("record without a type")
            elif kind not in QUIET and not kind.startswith(QUIET_PREFIXES):
                feed.skip(f"unknown record type {kind}")
            continue
        data = rec.get("data")
        yield from handler(feed, st, rec, data if isinstance(data, dict) else {}, n)
    if feed.source.native_id is None and n and not st.get("sid"):
        # no session.start to name it (a log whose head is gone): the file name must do
        st["sid"] = path.stem
        yield Meta(native_id=path.stem)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8).hexdigest()


def _native(rec: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The small native dict every message keeps: event type, ids, and what a writer needs."""
    out: dict[str, Any] = {"type": rec.get("type"), "id": rec.get("id")}
    parent = rec.get("parentId")
    if parent is not None:
        out["parentId"] = parent
    if "agentId" in rec:
        out["agentId"] = rec["agentId"]
    for key, value in extra.items():
        if value is not None and value != "":
            out[key] = value
    return out


def _put(st: dict[str, Any], key: str, message: Message, merge: bool = False) -> Put:
    """Every message Put goes through here: it decides what later reasoning/chunks join."""
    if message.role != "assistant":
        st["open"] = None
    return Put(key, message, merge)


# session lifecycle


def _session_start(feed: Feed, st: Rec, rec: Rec, data: Rec, n: int) -> list[Op]:
    ctx = data.get("context")
    ctx = ctx if isinstance(ctx, dict) else {}
    cwd = nonempty_str(ctx.get("cwd"))
    model = nonempty_str(data.get("selectedModel"))
    if model:
        st["model"] = model
    if cwd:
        st["cwd"] = True
    native = {
        key: data[key]
        for key in ("copilotVersion", "producer", "version", "selectedModel")
        if data.get(key) is not None
    }
    if nonempty_str(ctx.get("repository")):
        native["repository"] = ctx["repository"]
    session_id = nonempty_str(data.get("sessionId"))
    if session_id:
        st["sid"] = session_id
    return [
        Meta(
            native_id=session_id if feed.source.native_id is None else None,
            cwd=cwd,
            project=nonempty_str(ctx.get("gitRoot")) or cwd,
            git_branch=nonempty_str(ctx.get("branch")),
            git_commit=nonempty_str(ctx.get("headCommit")),
            created_at=iso(data.get("startTime")) or iso(rec.get("timestamp")),
            native=native,
        )
    ]


def _session_resume(feed: Feed, st: Rec, rec: Rec, data: Rec, n: int) -> list[Op]:
    """The session keeps the cwd and git state it started with; only the model carries on."""
    model = nonempty_str(data.get("selectedModel"))
    if model:
        st["model"] = model
    return []


def _context_changed(feed: Feed, st: Rec, rec: Rec, data: Rec, n: int) -> list[Op]:
    if data.get("pendingGitContext"):
        return []
    return _context_meta(data)


def _context_meta(ctx: dict[str, Any]) -> list[Op]:
    meta = Meta(
        cwd=nonempty_str(ctx.get("cwd")),
        git_branch=nonempty_str(ctx.get("branch")),
        git_commit=nonempty_str(ctx.get("headCommit")),
    )
    return [meta] if meta.cwd or meta.git_branch or meta.git_commit else []


def _model_change(feed: Feed, st: Rec, rec: Rec, data: Rec, n: int) -> list[Op]:
    model = nonempty_str(data.get("newModel"))
    if model:
        st["model"] = model
    return []


def _title_changed(feed: Feed, st: Rec, rec: Rec, data: Rec, n: int) -> list[Op]:
    title = nonempty_str(data.get("title"))
    if not title or title == st.get("title"):
        return []
    st["title"] = title
    return [Meta(title=title)]


def _shutdown(feed: Feed, st: Rec, rec: Rec, data: Rec, n: int) -> list[Op]:
    model = nonempty_str(data.get("currentModel"))
    if model:
        st["model"] = model
    per_model: dict[str, Any] = {}
    metrics = data.get("modelMetrics")
    if isinstance(metrics, dict):
        for model_id, metric in metrics.items():
            usage = token_counts(dict_or_empty(metric).get("usage"), USAGE_FIELDS)
            if usage:
                per_model[model_id] = usage
    totals: dict[str, int] = {}
    for usage in per_model.values():
        for key, value in usage.items():
            totals[key] = totals.get(key, 0) + value
    if not totals:
        totals = _token_details(data.get("tokenDetails"))
    shutdown = {
        key: data[key]
        for key in ("shutdownType", "currentModel", "totalPremiumRequests", "totalApiDurationMs")
        if data.get(key) is not None
    }
    native: dict[str, Any] = {"shutdown": shutdown}
    if per_model:
        native["model_usage"] = per_model
    if totals:
        native["usage"] = totals
    return [Meta(updated_at=iso(rec.get("timestamp")), native=native)]


USAGE_FIELDS = (
    ("inputTokens", "input_tokens"),
    ("outputTokens", "output_tokens"),
    ("cacheReadTokens", "cache_read_tokens"),
    ("cacheWriteTokens", "cache_write_tokens"),
    ("reasoningTokens", "reasoning_tokens"),
)


def _token_details(details: Any) -> dict[str, int]:
    """1.0.77 shutdown `tokenDetails: {input: {tokenCount}, output: …, cache_read: …}`."""
    out: dict[str, int] = {}
    if isinstance(details, dict):
        for kind, detail in details.items():
            count = detail.get("tokenCount") if isinstance(detail, dict) else None
            if isinstance(count, int) and isinstance(kind, str):
                out[f"{kind}_tokens"] = count
    return out


def _usage_record(feed: Feed, st: Rec, rec: Rec, data: Rec, n: int) -> list[Op]:
    """Token counts of one model call: onto the assistant message of that call."""
    usage = token_counts(data, USAGE_FIELDS)
    apis: dict[str, str] = st.get("apis") or {}
    api = nonempty_str(data.get("apiCallId"))
    key = apis.get(api) if api else None
    key = key or st.get("asst")
    if not usage or not key:
        return []
    message = Message(role="assistant", usage=usage, model=nonempty_str(data.get("model")))
    return [Put(key, message, merge=True)]


# notices and injected context


def _notice(rec: dict[str, Any], st: dict[str, Any], n: int, text: str, **native: Any) -> list[Op]:
    if not text:
        return []
    message = Message(
        role="system",
        parts=[Text(text)],
        timestamp=iso(rec.get("timestamp")),
        native=_native(rec, **native),
    )
    return [_put(st, f"e{n}", message)]


def _system_message(feed: Feed, st: Rec, rec: Rec, data: Rec, n: int) -> list[Op]:
    """The system prompt, which Copilot re-sends every turn: kept only when it changes."""
    text = as_text(data.get("content"))
    if not text:
        return []
    digest = _digest(text)
    if digest == st.get("sys"):
        return []
    st["sys"] = digest
    return _notice(rec, st, n, text, role=data.get("role"), name=data.get("name"))


NOTICES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    # event type: (fields holding the text, first that has one wins; native fields; default)
    "session.info": (("message",), ("infoType",), ""),
    "session.warning": (("message",), ("warningType",), ""),
    "session.error": (("message",), ("errorType", "statusCode"), ""),
    "system.notification": (("content",), ("kind",), ""),
    "skill.invoked": (("content",), ("name",), ""),
    "session.compaction_complete": (("summaryContent",), ("trigger",), ""),
    "session.context_cleared": (("initialMessage",), ("messagesCleared",), "Context cleared."),
    "session.handoff": (("summary", "context"), ("remoteSessionId",), ""),
}


def _notice_event(feed: Feed, st: Rec, rec: Rec, data: Rec, n: int) -> list[Op]:
    """Info, warnings, errors, notifications, skills and compaction summaries."""
    text_fields, native_fields, default = NOTICES[rec["type"]]
    text = next((t for field in text_fields if (t := as_text(data.get(field)))), default)
    native = {}
    for field in native_fields:
        value = data.get(field)
        native[field] = value.get("type") if isinstance(value, dict) else value
    return _notice(rec, st, n, text, **native)


def _abort(feed: Feed, st: Rec, rec: Rec, data: Rec, n: int) -> list[Op]:
    reason = nonempty_str(data.get("reason"))
    return _notice(rec, st, n, f"Aborted ({reason})" if reason else "Aborted", reason=reason)


# the conversation


def _user_message(feed: Feed, st: Rec, rec: Rec, data: Rec, n: int) -> list[Op]:
    content = data.get("content")
    text = content if isinstance(content, str) else as_text(content)
    source = nonempty_str(data.get("source"))
    native = _native(rec, interactionId=data.get("interactionId"), source=source)
    role: Role = "user"
    if source and source != "user":
        # sub-agent prompts (agent-<id>), autopilot nudges, skill/instruction injections
        role = "system"
    elif text.startswith("<system_notification>"):
        role = "system"
        native["kind"] = "system_notification"
    elif data.get("isAutopilotContinuation"):
        role = "system"
        native["kind"] = "autopilot_continuation"
    else:
        transformed = data.get("transformedContent")
        marker = "<cross_session_message>"
        if isinstance(transformed, str) and marker in transformed and marker not in text:
            native["cross_session"] = True
    parts: list[Part] = [Text(text)] if text else []
    attachments = data.get("attachments")
    if isinstance(attachments, list):
        parts.extend(_attachment(item) for item in attachments if isinstance(item, dict))
    if not parts:
        feed.skip("user.message without content")
        return []
    message = Message(role=role, parts=parts, timestamp=iso(rec.get("timestamp")), native=native)
    return [_put(st, f"e{n}", message)]


GITHUB_MEDIA_TYPE = "application/vnd.github+json"


def _attachment(item: dict[str, Any]) -> Attachment:
    kind = item.get("type")
    display = nonempty_str(item.get("displayName"))
    native: dict[str, Any] = {"type": kind}
    if kind == "file":
        path = nonempty_str(item.get("path"))
        if isinstance(item.get("lineRange"), dict):
            native["lineRange"] = item["lineRange"]
        media = nonempty_str(item.get("mimeType")) or _guess_type(path)
        return Attachment(media, name=display, uri=path, native=native)
    if kind == "directory":
        return Attachment(
            "inode/directory", name=display, uri=nonempty_str(item.get("path")), native=native
        )
    if kind == "selection":
        native["text"] = item.get("text")
        native["selection"] = item.get("selection")
        return Attachment(
            "text/plain", name=display, uri=nonempty_str(item.get("filePath")), native=native
        )
    if kind == "blob":
        media = nonempty_str(item.get("mimeType")) or "application/octet-stream"
        return Attachment(media, name=display, data=nonempty_str(item.get("data")), native=native)
    if isinstance(kind, str) and kind.startswith("github_"):
        label = nonempty_str(item.get("title")) or nonempty_str(item.get("path")) or display
        return Attachment(
            GITHUB_MEDIA_TYPE, name=label, uri=nonempty_str(item.get("url")), native=native
        )
    return Attachment(
        "application/octet-stream", name=display, uri=nonempty_str(item.get("url")), native=native
    )


def _guess_type(path: str | None) -> str:
    import mimetypes

    guessed = mimetypes.guess_type(path)[0] if path else None
    return guessed or "application/octet-stream"


def _assistant_key(
    st: dict[str, Any], n: int, kind: str, api: str | None, chunk: Any
) -> tuple[str, bool]:
    """Key for an assistant event, and whether it continues the open assistant message:
    a message after its reasoning, or a later chunk of the same model call."""
    open_key = st.get("open")
    if open_key:
        if st.get("open_kind") == "reasoning":
            return open_key, True
        if (
            kind == "message"
            and api
            and api == st.get("api")
            and isinstance(chunk, int)
            and chunk > 0
        ):
            return open_key, True
    return f"e{n}", False


def _remember_assistant(st: dict[str, Any], key: str, kind: str, api: str | None) -> None:
    st["open"] = key
    st["open_kind"] = kind
    st["asst"] = key
    st["api"] = api
    if api:
        apis: dict[str, str] = st.setdefault("apis", {})
        apis[api] = key
        while len(apis) > MAX_API_KEYS:
            del apis[next(iter(apis))]


def _reasoning(feed: Feed, st: Rec, rec: Rec, data: Rec, n: int) -> list[Op]:
    text = as_text(data.get("content"))
    if not text:
        return []
    key, merge = _assistant_key(st, n, "reasoning", None, None)
    st["thought"] = _digest(text)
    message = Message(
        role="assistant",
        parts=[Reasoning(text, native=_small(reasoningId=data.get("reasoningId")))],
        timestamp=iso(rec.get("timestamp")),
        native=_native(rec),
    )
    _remember_assistant(st, key, "reasoning", None)
    return [Put(key, message, merge)]


def _small(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != ""}


def _assistant_message(feed: Feed, st: Rec, rec: Rec, data: Rec, n: int) -> list[Op]:
    api = nonempty_str(data.get("apiCallId"))
    key, merge = _assistant_key(st, n, "message", api, data.get("chunkIndex"))
    parts: list[Part] = []
    thought = data.get("reasoningText")
    # the same text may have come already as an assistant.reasoning event
    if (
        isinstance(thought, str)
        and thought
        and not (merge and st.get("thought") == _digest(thought))
    ):
        parts.append(Reasoning(thought))
    content = data.get("content")
    if isinstance(content, str) and content:
        parts.append(Text(content))
    calls = data.get("toolRequests")
    if isinstance(calls, list):
        for request in calls:
            call = _tool_request(st, request) if isinstance(request, dict) else None
            if call is not None:
                parts.append(call)
    if not parts:
        return []  # a streaming placeholder: no text, no reasoning, no tool request
    tokens = data.get("outputTokens")
    native = _native(
        rec,
        messageId=data.get("messageId"),
        apiCallId=api,
        turnId=data.get("turnId"),
        interactionId=data.get("interactionId"),
        parentToolCallId=data.get("parentToolCallId"),
        phase=data.get("phase"),
        chunkIndex=data.get("chunkIndex"),
    )
    if data.get("encryptedContent") or data.get("reasoningOpaque"):
        native["encrypted_reasoning"] = True  # session-bound: Copilot itself drops it on resume
    message = Message(
        role="assistant",
        parts=parts,
        timestamp=iso(rec.get("timestamp")),
        model=nonempty_str(data.get("model")) or st.get("model"),
        usage={"output_tokens": tokens} if isinstance(tokens, int) and tokens > 0 else None,
        native_id=nonempty_str(data.get("messageId")),
        native=native,
    )
    _remember_assistant(st, key, "message", api)
    return [Put(key, message, merge)]


def _tool_request(st: dict[str, Any], request: dict[str, Any]) -> ToolCall | None:
    call_id = nonempty_str(request.get("toolCallId"))
    if call_id is None:
        return None
    early: dict[str, bool] = st.get("early") or {}
    if early.pop(call_id, None):
        return None  # already emitted from its tool.execution_start
    tool = nonempty_str(request.get("name")) or "unknown"
    _open_call(st, call_id, tool)
    native = _small(
        type=request.get("type") if request.get("type") != "function" else None,
        intentionSummary=request.get("intentionSummary"),
        toolTitle=request.get("toolTitle"),
        mcpServerName=request.get("mcpServerName"),
        mcpToolName=request.get("mcpToolName"),
    )
    return ToolCall(call_id, tool, _arguments(request.get("arguments")), native=native)


def _arguments(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return {} if value is None else value


def _open_call(st: dict[str, Any], call_id: str, tool: str) -> None:
    calls: dict[str, str] = st.setdefault("calls", {})
    calls[call_id] = tool
    while len(calls) > MAX_OPEN_CALLS:
        del calls[next(iter(calls))]


def _tool_start(feed: Feed, st: Rec, rec: Rec, data: Rec, n: int) -> list[Op]:
    """Normally the call is already in an assistant.message; add it only when it is not
    (a start logged before its request, or a tool the user ran himself)."""
    call_id = nonempty_str(data.get("toolCallId"))
    if call_id is None:
        feed.skip(f"{rec.get('type')} without toolCallId")
        return []
    if call_id in (st.get("calls") or {}):
        return []
    tool = nonempty_str(data.get("toolName")) or "unknown"
    _open_call(st, call_id, tool)
    early: dict[str, bool] = st.setdefault("early", {})
    early[call_id] = True
    while len(early) > MAX_OPEN_CALLS:
        del early[next(iter(early))]
    call = ToolCall(call_id, tool, _arguments(data.get("arguments")))
    kind = "user_requested" if rec.get("type") == "tool.user_requested" else "from_execution"
    message = Message(
        role="assistant",
        parts=[call],
        timestamp=iso(rec.get("timestamp")),
        model=nonempty_str(data.get("model")) or st.get("model"),
        native=_native(rec, parentToolCallId=data.get("parentToolCallId"), origin=kind),
    )
    st["open"] = None
    return [Put(f"e{n}", message)]


def _tool_complete(feed: Feed, st: Rec, rec: Rec, data: Rec, n: int) -> list[Op]:
    call_id = nonempty_str(data.get("toolCallId"))
    if call_id is None:
        feed.skip("tool.execution_complete without toolCallId")
        return []
    ops: list[Op] = []
    stamp = iso(rec.get("timestamp"))
    calls: dict[str, str] = st.get("calls") or {}
    if calls.pop(call_id, None) is None:
        # a result whose call was never logged: keep the pair whole for writers
        call = ToolCall(call_id, "unknown", {}, native={"synthesized": True})
        message = Message(role="assistant", parts=[call], timestamp=stamp, native=_native(rec))
        ops.append(Put(f"e{n}c", message))
    success = data.get("success")
    error = data.get("error")
    error_text = as_text(error.get("message")) if isinstance(error, dict) else as_text(error)
    output, extra = _tool_output(data.get("result"))
    if not output and error_text:
        output = error_text
    result = ToolResult(
        call_id,
        output,
        is_error=(success is False) or (success is None and bool(error_text)),
        native=extra,
    )
    message = Message(
        role="tool",
        parts=[result],
        timestamp=stamp,
        native=_native(
            rec,
            parentToolCallId=data.get("parentToolCallId"),
            isUserRequested=data.get("isUserRequested") or None,
        ),
    )
    ops.append(_put(st, f"e{n}", message))
    return ops


def _tool_output(result: Any) -> tuple[str, dict[str, Any]]:
    """The model-facing `content`, or the UI's `detailedContent` (a diff, a full output)
    when that says more; then the short content is kept in native for a writer."""
    if not isinstance(result, dict):
        return as_text(result), {}
    content = as_text(result.get("content"))
    detailed = result.get("detailedContent")
    if isinstance(detailed, str) and len(detailed) > len(content):
        extra = {"content": content} if len(content) <= DETAIL_NATIVE_MAX else {}
        return detailed, extra
    return content, {}


HANDLERS: dict[str, Handler] = {
    "session.start": _session_start,
    "session.resume": _session_resume,
    "session.context_changed": _context_changed,
    "session.model_change": _model_change,
    "session.title_changed": _title_changed,
    "session.shutdown": _shutdown,
    "session.usage_record": _usage_record,
    "assistant.usage": _usage_record,
    "system.message": _system_message,
    "abort": _abort,
    "user.message": _user_message,
    "assistant.reasoning": _reasoning,
    "assistant.message": _assistant_message,
    "tool.execution_start": _tool_start,
    "tool.user_requested": _tool_start,
    "tool.execution_complete": _tool_complete,
    **dict.fromkeys(NOTICES, _notice_event),
}


# --- workspace.yaml --------------------------------------------------------------------


def _workspace_meta(path: Path, st: dict[str, Any]) -> Iterator[Op]:
    """Title (`name`, else `summary`) and, when the log has no context, cwd and git."""
    fields = workspace_fields(path)
    if not fields:
        return
    title = fields.get("name") or fields.get("summary")
    meta = Meta()
    if title and title != st.get("title"):
        st["title"] = title
        meta.title = title
    if not st.get("cwd") and fields.get("cwd"):
        st["cwd"] = True
        meta.cwd = fields["cwd"]
        meta.project = fields.get("git_root") or fields["cwd"]
        meta.git_branch = fields.get("branch")
    if meta.title or meta.cwd:
        yield meta


BLOCK_MARKS = ("|", ">")


def workspace_fields(path: Path) -> dict[str, str]:
    """The top-level `key: value` scalars of Copilot's small workspace.yaml, by hand:
    plain, quoted and block scalars; nested maps and lists are left out."""
    try:
        raw = read_head(path, WORKSPACE_MAX)
    except OSError:
        return {}
    lines = raw.decode("utf-8", "replace").splitlines()
    fields: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line or line[0] in " \t#-":
            continue
        key, sep, rest = line.partition(":")
        if not sep or not key or " " in key:
            continue
        following: list[str] = []
        while i < len(lines) and (not lines[i].strip() or lines[i][0] in " \t"):
            following.append(lines[i])
            i += 1
        value = _yaml_scalar(rest.strip(), following)
        if value:
            fields[key] = value
    return fields


def _yaml_scalar(value: str, following: list[str]) -> str | None:
    if value.startswith(BLOCK_MARKS):
        indent = min((len(x) - len(x.lstrip()) for x in following if x.strip()), default=0)
        joiner = "\n" if value.startswith("|") else " "
        return joiner.join(x[indent:] for x in following).strip() or None
    if not value and following:
        return None  # a nested mapping or a list
    text = " ".join([value, *(x.strip() for x in following if x.strip())]).strip()
    if text.startswith('"'):
        try:
            decoded = orjson.loads(text)
        except orjson.JSONDecodeError:
            decoded = text.strip('"')
        return decoded if isinstance(decoded, str) and decoded else None
    if text.startswith("'"):
        ok = text.endswith("'") and len(text) > 1
        return text[1:-1].replace("''", "'") if ok else None
    cut = text.find(" #")
    if cut >= 0:
        text = text[:cut].rstrip()
    return None if text in ("", "~", "null", "Null", "NULL") else text


# --- legacy history-session-state/*.json -----------------------------------------------


def _read_legacy(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    """Pre-0.0.342 sessions: one JSON object with OpenAI-style `chatMessages`, no timestamps
    per message; re-read whole whenever it changes."""
    doc = feed.document()
    if not isinstance(doc, dict) or not isinstance(doc.get("chatMessages"), list):
        raise FormatError("not a Copilot CLI history-session-state file (no chatMessages list)")
    yield Reset()
    session_id = nonempty_str(doc.get("sessionId"))
    yield Meta(
        native_id=session_id if feed.source.native_id is None else None,
        created_at=iso(doc.get("startTime")),
        updated_at=iso(doc.get("endTime")) or _last_timeline_stamp(doc.get("timeline")),
        native={"format": "history-session-state"},
    )
    pending: list[str] = []

    def one(index: int, item: Any) -> Iterator[Op]:
        if not isinstance(item, dict):
            feed.skip(f"chatMessages[{index}] is not an object")
            return
        message = _legacy_message(item, index, pending)
        if message is None:
            feed.skip(f"chatMessages[{index}] has an unknown role or no content")
            return
        yield Put(f"m{index}", message)

    yield from each(feed, "chatMessages", doc["chatMessages"], one)


def _last_timeline_stamp(timeline: Any) -> str | None:
    if isinstance(timeline, list) and timeline and isinstance(timeline[-1], dict):
        return iso(timeline[-1].get("timestamp"))
    return None


def _legacy_message(item: dict[str, Any], index: int, pending: list[str]) -> Message | None:
    role = item.get("role")
    text = as_text(item.get("content")) if item.get("content") is not None else ""
    native: dict[str, Any] = {"index": index}
    if role == "tool":
        call_id = nonempty_str(item.get("tool_call_id"))
        if call_id is None:
            # old files may omit ids: results answer the calls in order
            call_id = pending.pop(0) if pending else f"call_{index}"
        elif call_id in pending:
            pending.remove(call_id)
        result = ToolResult(call_id, text, native=_small(name=item.get("name")))
        return Message(role="tool", parts=[result], native=native)
    if role == "assistant":
        parts: list[Part] = [Text(text)] if text else []
        calls = item.get("tool_calls")
        if isinstance(calls, list):
            for j, call in enumerate(calls):
                if isinstance(call, dict):
                    parts.append(_legacy_call(call, index, j, pending))
        return Message(role="assistant", parts=parts, native=native) if parts else None
    if role in ("user", "system") and text:
        return Message(
            role="user" if role == "user" else "system", parts=[Text(text)], native=native
        )
    return None


def _legacy_call(call: dict[str, Any], index: int, j: int, pending: list[str]) -> ToolCall:
    function = call.get("function")
    function = function if isinstance(function, dict) else {}
    call_id = nonempty_str(call.get("id")) or f"call_{index}_{j}"
    pending.append(call_id)
    tool = nonempty_str(function.get("name")) or "unknown"
    return ToolCall(call_id, tool, _arguments(function.get("arguments")))
