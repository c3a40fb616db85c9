"""Claude Code: `<config>/projects/<encoded cwd>/<uuid>.jsonl` and its sub-agent transcripts.

One JSON record per line, chained by uuid/parentUuid; one API response is spread over
several assistant lines that share `message.id`, and is folded back into one message here.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from tether.files import read_regular
from tether.model import (
    Attachment,
    Message,
    Part,
    Reasoning,
    Role,
    Text,
    ToolCall,
    ToolResult,
)
from tether.tools.base import Feed, Meta, Op, Put, Source
from tether.tools.common import as_text, head_records, iso, shown, str_or_none, token_counts
from tether.tools.facts import claude as facts
from tether.tools.listing import entries, is_dir

name = facts.NAME
display_name = facts.DISPLAY_NAME
aliases = facts.ALIASES
capabilities = facts.CAPABILITIES

MAX_SUBAGENT_DEPTH = 4
SNIFF_LINES = 20
SIDECAR_MAX = 1 << 20
MAX_PENDING_SUMMARIES = 100
SYNTHETIC_MODEL = "<synthetic>"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)

TITLE_FIELDS = {"summary": "summary", "ai-title": "aiTitle", "custom-title": "customTitle"}
TITLE_RANKS = {"summary": 1, "ai-title": 2, "custom-title": 3}
"""A user's own title beats the generated one, which beats an old-style summary."""

QUIET_TYPES = frozenset(
    {
        "progress",
        "file-history-snapshot",
        "queue-operation",
        "permission-mode",
        "mode",
        "last-prompt",
        "content-replacement",
        "frame-link",
        "pr-link",
        "started",
        "result",
        "relocated",
        "worktree-state",
        "bridge-session",
        "atis-latch",
    }
)
"""Records that are state of the CLI, not conversation."""

CONVERSATION_TYPES = frozenset({"user", "assistant", "system", "attachment", "progress"})
MESSAGE_TYPES = ("user", "assistant", "system", "attachment")
"""Records that become messages: one repeated with a uuid already read is read once."""
CLAUDE_ONLY_TYPES = {
    "summary": "leafUuid",
    "file-history-snapshot": "snapshot",
    "custom-title": "customTitle",
    "ai-title": "aiTitle",
    "queue-operation": "operation",
    "last-prompt": "lastPrompt",
    "permission-mode": "permissionMode",
}
"""Record types only Claude Code writes, with a field that confirms each."""

USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)
USAGE_NAMES = tuple(zip(USAGE_KEYS, USAGE_KEYS, strict=True))
"""Claude Code's usage names are tether's own."""
SILENT_SUBTYPES = frozenset({"turn_duration", "session_start"})
IGNORED_BLOCKS = frozenset({"fallback"})
CALL_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})

INJECTED_PREFIXES = (
    ("<local-command-stdout>", "command_output"),
    ("<local-command-stderr>", "command_output"),
    ("<local-command-caveat>", "caveat"),
    ("<bash-stdout>", "bash_output"),
    ("<bash-stderr>", "bash_output"),
    ("[Request interrupted by user", "interrupted"),
    ("<session-start-hook>", "hook"),
    ("<user-prompt-submit-hook>", "hook"),
    ("<system-reminder>", "reminder"),
    ("<ide_opened_file>", "ide_context"),
    ("<ide_selection>", "ide_context"),
)
"""User-role text the CLI writes itself: shown to the model, never typed by the user."""

TYPED_PREFIXES = (
    ("<command-name>", "command"),
    ("<command-message>", "command"),
    ("<bash-input>", "bash_input"),
)
"""User-role text that the user did type, in the CLI's own wrapping."""


# ---------------------------------------------------------------------------------------
# Where sessions live


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return [Path(root) for root in facts.store_roots(env, str(home))]


def discover(root: Path) -> Iterator[Source]:
    projects = root / "projects"
    if root.name == "projects" and not projects.is_dir():
        projects = root
    for entry in entries(projects):
        if is_dir(entry, follow_symlinks=False):
            yield from _project_sources(Path(entry.path))


def discover_in(root: Path, path: Path) -> Iterator[Source]:
    """The sources discover(root) yields at or below `path` (a folder or a file of the
    store), listing that folder alone: what a quick check or the watcher saw change."""
    projects = root / "projects"
    if root.name == "projects" and not projects.is_dir():
        projects = root
    if path == projects or projects.is_relative_to(path):
        yield from discover(root)
        return
    if not path.is_relative_to(projects):
        return
    parts = path.relative_to(projects).parts
    project = projects / parts[0]
    if not _real_folder(project):
        return
    if len(parts) == 1:
        yield from _project_sources(project)
    elif len(parts) == 2 and parts[1].endswith(".jsonl"):
        if os.path.lexists(path):
            yield Source(path, "jsonl", _path_native_id(path, trust_stem=True))
    elif _real_folder(project / parts[1]):
        for source in _subagent_sources(project / parts[1] / "subagents", parts[1], 0):
            if source.path == path or source.path.is_relative_to(path):
                yield source


def _real_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _project_sources(project: Path) -> Iterator[Source]:
    for entry in entries(project):
        # Any *.jsonl is yielded, even one that cannot be read: capture reports it.
        if entry.name.endswith(".jsonl"):
            path = Path(entry.path)
            yield Source(path, "jsonl", _path_native_id(path, trust_stem=True))
        elif is_dir(entry, follow_symlinks=False):
            folder = Path(entry.path) / "subagents"
            yield from _subagent_sources(folder, entry.name, 0)


def _subagent_sources(folder: Path, session: str, depth: int) -> Iterator[Source]:
    for entry in entries(folder):
        if entry.name.startswith("agent-") and entry.name.endswith(".jsonl"):
            yield Source(Path(entry.path), "jsonl", f"{session}/{entry.name[:-6]}")
        elif depth < MAX_SUBAGENT_DEPTH and is_dir(entry, follow_symlinks=False):
            yield from _subagent_sources(Path(entry.path), session, depth + 1)


def _stem(path: Path) -> str:
    return path.name[:-6] if path.name.endswith(".jsonl") else path.stem


def _path_parent(path: Path) -> str | None:
    """The main session's id for `<uuid>/subagents/[workflows/<run>/]agent-<id>.jsonl`."""
    for depth, folder in enumerate(path.parents):
        if depth > MAX_SUBAGENT_DEPTH:
            break
        if folder.name == "subagents":
            return folder.parent.name or None
    return None


def _path_native_id(path: Path, trust_stem: bool) -> str | None:
    stem = _stem(path)
    if stem.startswith("agent-"):
        parent = _path_parent(path)
        return f"{parent}/{stem}" if parent else None
    if trust_stem or UUID_RE.match(stem):
        return stem
    return None


def sniff(path: Path, head: bytes) -> Source | None:
    if not _looks_like_claude(head):
        return None
    return Source(path, "jsonl", _path_native_id(path, trust_stem=False))


def _looks_like_claude(head: bytes) -> bool:
    records = head_records(head, SNIFF_LINES)
    if any(isinstance(record, dict) and _is_claude_record(record) for record in records):
        return True
    # A first line longer than the head: Claude writes these two fields first.
    return head.startswith(b'{"parentUuid":') and b'"isSidechain":' in head[:300]


def _is_claude_record(record: dict[str, Any]) -> bool:
    kind = record.get("type")
    if isinstance(kind, str) and kind in CONVERSATION_TYPES:
        return "isSidechain" in record and "sessionId" in record
    marker = CLAUDE_ONLY_TYPES.get(kind) if isinstance(kind, str) else None
    return marker is not None and marker in record


# ---------------------------------------------------------------------------------------
# Reading


def read(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    if feed.start == 0:
        state.clear()
    reader = _Reader(feed, state)
    for record in feed.records():
        yield from reader.record(record)


class _Reader:
    """Turns one file's records into ops; everything later lines need lives in `state`."""

    def __init__(self, feed: Feed, state: dict[str, Any]) -> None:
        self.feed = feed
        self.state = state
        self.path = feed.source.path
        self.agent = _stem(self.path).startswith("agent-")
        self.handlers: dict[str, Callable[[dict[str, Any]], Iterator[Op]]] = {
            "assistant": self._assistant,
            "user": self._user,
            "system": self._system,
            "attachment": self._attachment,
            "summary": self._title,
            "ai-title": self._title,
            "custom-title": self._title,
            "tag": self._tag,
            "agent-name": self._agent_name,
        }

    def record(self, rec: dict[str, Any]) -> Iterator[Op]:
        if rec.get("type") in MESSAGE_TYPES and not self.feed.first(rec.get("uuid")):
            return  # a line written twice, or history replayed: its messages are here
        if "nid" not in self.state:
            yield from self._identify(rec)
        if "cwd" in rec or "gitBranch" in rec:
            yield from self._envelope(rec)
        uuid = rec.get("uuid")
        if isinstance(uuid, str):
            self.state["last_uuid"] = uuid
            if self.state.get("summaries"):
                yield from self._leaf(uuid)
        kind = rec.get("type")
        handler = self.handlers.get(kind) if isinstance(kind, str) else None
        if handler is not None:
            yield from handler(rec)
        elif not isinstance(kind, str) or kind not in QUIET_TYPES:
            self.feed.skip(f"unknown record type {shown(kind)}")

    def _key(self) -> str:
        n = self.state.get("n", 0) + 1
        self.state["n"] = n
        return str(n)

    # -- session fields ----------------------------------------------------------------

    def _identify(self, rec: dict[str, Any]) -> Iterator[Op]:
        sid = rec.get("sessionId")
        sid = sid if isinstance(sid, str) and sid else None
        if not self.agent:
            native_id = self.feed.source.native_id or sid
            if native_id:
                self.state["nid"] = native_id
                yield Meta(native_id=native_id)
            return
        parent = _path_parent(self.path)
        if parent is None and sid and not sid.startswith("agent-"):
            parent = sid
        if parent is None:
            return
        stem = _stem(self.path)
        native_id = f"{parent}/{stem}"
        self.state["nid"] = native_id
        native = {"agent_id": stem[len("agent-") :], **_sidecar(self.path)}
        yield Meta(native_id=native_id, parent_native_id=parent, native=native)

    def _envelope(self, rec: dict[str, Any]) -> Iterator[Op]:
        state = self.state
        meta = Meta()
        changed = False
        cwd = rec.get("cwd")
        if "cwd" not in state and isinstance(cwd, str) and cwd:
            state["cwd"] = cwd
            meta.cwd = meta.project = cwd
            changed = True
        branch = rec.get("gitBranch")
        if isinstance(branch, str) and branch and branch != state.get("branch"):
            state["branch"] = meta.git_branch = branch
            changed = True
        version = rec.get("version")
        if isinstance(version, str) and version and version != state.get("version"):
            state["version"] = version
            meta.native["version"] = version
            changed = True
        if changed:
            yield meta

    def _title(self, rec: dict[str, Any]) -> Iterator[Op]:
        kind = str(rec.get("type"))
        title = rec.get(TITLE_FIELDS[kind])
        if not isinstance(title, str) or not title.strip():
            return
        if kind == "summary":
            # A summary names the conversation that ends at its leaf, which is often
            # another session's: keep it only once that leaf shows up in this file.
            leaf = rec.get("leafUuid")
            if leaf != self.state.get("last_uuid"):
                pending = self.state.setdefault("summaries", {})
                if isinstance(leaf, str) and len(pending) < MAX_PENDING_SUMMARIES:
                    pending[leaf] = title
                return
        yield from self._set_title(TITLE_RANKS[kind], title)

    def _set_title(self, rank: int, title: str) -> Iterator[Op]:
        if rank >= self.state.get("title_rank", 0):
            self.state["title_rank"] = rank
            yield Meta(title=title.strip())

    def _leaf(self, uuid: str) -> Iterator[Op]:
        title = self.state["summaries"].pop(uuid, None)
        if title is not None:
            yield from self._set_title(TITLE_RANKS["summary"], title)

    def _tag(self, rec: dict[str, Any]) -> Iterator[Op]:
        tag = rec.get("tag")
        if isinstance(tag, str):
            yield Meta(native={"tag": tag})

    def _agent_name(self, rec: dict[str, Any]) -> Iterator[Op]:
        agent_name = rec.get("agentName")
        if isinstance(agent_name, str) and agent_name:
            yield Meta(native={"agent_name": agent_name})

    # -- messages ----------------------------------------------------------------------

    def _native(self, rec: dict[str, Any]) -> dict[str, Any]:
        native: dict[str, Any] = {"parentUuid": rec.get("parentUuid")}
        uuid = rec.get("uuid")
        if uuid is not None:
            native["uuid"] = uuid
        if rec.get("isSidechain") and not self.agent:
            native["isSidechain"] = True
        return native

    def _assistant(self, rec: dict[str, Any]) -> Iterator[Op]:
        msg = rec.get("message")
        if not isinstance(msg, dict):
            self.feed.skip("assistant record without a message")
            return
        parts, results = self._assistant_parts(msg.get("content"))
        model = msg.get("model")
        stamp = iso(rec.get("timestamp"))
        native = self._native(rec)
        if model == SYNTHETIC_MODEL:
            native["model"] = model
            model = None
            if rec.get("isApiErrorMessage") or rec.get("error"):
                native["kind"] = "api_error"
                if parts:
                    yield Put(self._key(), Message("system", parts, stamp, native=native))
                return
        key, first = self._response_key(msg.get("id"))
        if not first:
            for part in parts:
                part.native["uuid"] = rec.get("uuid")
                part.native["parentUuid"] = rec.get("parentUuid")
        for field_name, value in (
            ("requestId", rec.get("requestId")),
            ("message_id", msg.get("id")),
            ("stop_reason", msg.get("stop_reason")),
        ):
            if value is not None:
                native[field_name] = value
        message = Message(
            "assistant",
            parts,
            stamp,
            model=model if isinstance(model, str) else None,
            usage=token_counts(msg.get("usage"), USAGE_NAMES) or None,
            native_id=str_or_none(rec.get("uuid")),
            native=native,
        )
        if parts:
            yield Put(key, message, merge=True)
        if results:
            yield Put(self._key(), Message("tool", results, stamp, native=self._native(rec)))

    def _response_key(self, message_id: Any) -> tuple[str, bool]:
        """The key of the message this line continues, or a new one (second item True)."""
        state = self.state
        if isinstance(message_id, str) and message_id and message_id == state.get("mid"):
            return state["mkey"], False
        key = self._key()
        state["mid"] = message_id if isinstance(message_id, str) else None
        state["mkey"] = key
        return key, True

    def _assistant_parts(self, content: Any) -> tuple[list[Part], list[Part]]:
        if isinstance(content, str):
            return ([Text(content)] if content else []), []
        parts: list[Part] = []
        results: list[Part] = []
        for block in content if isinstance(content, list) else ():
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            convert = ASSISTANT_BLOCKS.get(kind) if isinstance(kind, str) else None
            if convert is not None:
                part = convert(block)
                if part is not None:
                    parts.append(part)
            elif isinstance(kind, str) and kind.endswith("_tool_result"):
                results.append(_tool_result(block, None))
            elif not (isinstance(kind, str) and kind in IGNORED_BLOCKS):
                self.feed.skip(f"unknown assistant content block {shown(kind)}")
        return parts, results

    def _user(self, rec: dict[str, Any]) -> Iterator[Op]:
        msg = rec.get("message")
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list):
            self.feed.skip("user record without message content")
            return
        results, parts, texts = self._user_blocks(content, str_or_none(rec.get("sourceToolUseID")))
        stamp = iso(rec.get("timestamp"))
        uuid = str_or_none(rec.get("uuid"))
        key = self._key()
        if results:
            native = self._native(rec)
            source_uuid = rec.get("sourceToolAssistantUUID")
            if source_uuid is not None:
                native["sourceToolAssistantUUID"] = source_uuid
            yield Put(key, Message("tool", results, stamp, native_id=uuid, native=native))
        if parts:
            role, kind = _prompt_role(rec, texts)
            native = self._native(rec)
            if kind:
                native["kind"] = kind
            message = Message(role, parts, stamp, native_id=uuid, native=native)
            yield Put(f"{key}u" if results else key, message)

    def _user_blocks(
        self, content: list[Any], fallback_id: str | None
    ) -> tuple[list[Part], list[Part], list[str]]:
        """Tool results (with their images), the other parts, and the texts among them."""
        results: list[Part] = []
        parts: list[Part] = []
        texts: list[str] = []
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "tool_result":
                results.append(_tool_result(block, fallback_id))
                results.extend(_result_images(block.get("content")))
            elif kind == "text":
                text = block.get("text")
                if isinstance(text, str) and text:
                    parts.append(Text(text))
                    texts.append(text)
            elif kind in ("image", "document"):
                parts.append(_attachment(block))
            else:
                self.feed.skip(f"unknown user content block {shown(kind)}")
        return results, parts, texts

    def _system(self, rec: dict[str, Any]) -> Iterator[Op]:
        subtype = rec.get("subtype")
        text = _system_text(rec, subtype)
        if not text:
            return
        native = self._native(rec)
        native["kind"] = subtype if isinstance(subtype, str) else "system"
        if subtype == "compact_boundary":
            native["logicalParentUuid"] = rec.get("logicalParentUuid")
            native["compactMetadata"] = _compact_metadata(rec.get("compactMetadata"))
        level = rec.get("level")
        if isinstance(level, str):
            native["level"] = level
        message = Message(
            "system",
            [Text(text)],
            iso(rec.get("timestamp")),
            native_id=str_or_none(rec.get("uuid")),
            native=native,
        )
        yield Put(self._key(), message)

    def _attachment(self, rec: dict[str, Any]) -> Iterator[Op]:
        """Attachments are context the CLI adds; only queued prompts and hook text are kept."""
        attachment = rec.get("attachment")
        if not isinstance(attachment, dict):
            return
        kind = attachment.get("type")
        role: Role = "system"
        if kind == "queued_command":
            parts = _prompt_parts(attachment.get("prompt"))
            if attachment.get("commandMode") in (None, "prompt"):
                role = "user"
        elif kind == "hook_additional_context":
            parts = _text_parts(as_text(attachment.get("content")))
        elif kind == "hook_blocking_error":
            error = attachment.get("blockingError")
            if isinstance(error, dict):
                error = error.get("blockingError")
            parts = _text_parts(as_text(error))
        else:
            return
        if not parts:
            return
        native = self._native(rec)
        native["kind"] = kind
        message = Message(
            role,
            parts,
            iso(rec.get("timestamp")),
            native_id=str_or_none(rec.get("uuid")),
            native=native,
        )
        yield Put(self._key(), message)


# ---------------------------------------------------------------------------------------
# Content blocks


def _text_block(block: dict[str, Any]) -> Part | None:
    text = block.get("text")
    return Text(text) if isinstance(text, str) and text else None


def _thinking_block(block: dict[str, Any]) -> Part | None:
    signature = block.get("signature")
    return Reasoning(
        str_or_none(block.get("thinking")) or "",
        signature if isinstance(signature, str) and signature else None,
    )


def _redacted_block(block: dict[str, Any]) -> Part | None:
    return Reasoning("", native={"redacted": block.get("data")})


def _tool_call(block: dict[str, Any]) -> Part | None:
    args = block.get("input")
    if isinstance(args, str):
        with contextlib.suppress(orjson.JSONDecodeError):
            args = orjson.loads(args)
    kind = block.get("type")
    return ToolCall(
        str_or_none(block.get("id")) or "",
        str_or_none(block.get("name")) or "",
        args,
        native={} if kind == "tool_use" else {"type": kind},
    )


def _attachment(block: dict[str, Any]) -> Part:
    kind = block.get("type")
    source = block.get("source")
    source = source if isinstance(source, dict) else {}
    default = "application/pdf" if kind == "document" else "application/octet-stream"
    media_type = str_or_none(source.get("media_type")) or default
    title = str_or_none(block.get("title"))
    source_type = source.get("type")
    if source_type == "base64":
        return Attachment(media_type, title, data=str_or_none(source.get("data")))
    if source_type == "url":
        return Attachment(media_type, title, uri=str_or_none(source.get("url")))
    if source_type == "text" and isinstance(source.get("data"), str):
        import base64  # here: 4 ms of a quick capture, for a rare block

        data = base64.b64encode(source["data"].encode()).decode()
        return Attachment(str_or_none(source.get("media_type")) or "text/plain", title, data=data)
    native = {"type": kind, "source_type": source_type}
    if "file_id" in source:
        native["file_id"] = source["file_id"]
    return Attachment(media_type, title, native=native)


ASSISTANT_BLOCKS: dict[str, Callable[[dict[str, Any]], Part | None]] = {
    "text": _text_block,
    "thinking": _thinking_block,
    "redacted_thinking": _redacted_block,
    "tool_use": _tool_call,
    "server_tool_use": _tool_call,
    "mcp_tool_use": _tool_call,
    "image": _attachment,
    "document": _attachment,
}


def _tool_result(block: dict[str, Any], fallback_id: str | None) -> Part:
    kind = block.get("type")
    return ToolResult(
        str_or_none(block.get("tool_use_id")) or fallback_id or "",
        as_text(block.get("content")),
        bool(block.get("is_error")),
        native={} if kind == "tool_result" else {"type": kind},
    )


def _result_images(content: Any) -> list[Part]:
    if not isinstance(content, list):
        return []
    return [
        _attachment(item)
        for item in content
        if isinstance(item, dict) and item.get("type") in ("image", "document")
    ]


def _prompt_parts(prompt: Any) -> list[Part]:
    if isinstance(prompt, str):
        return _text_parts(prompt)
    parts: list[Part] = []
    for block in prompt if isinstance(prompt, list) else ():
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            parts.extend(_text_parts(block.get("text")))
        elif block.get("type") in ("image", "document"):
            parts.append(_attachment(block))
    return parts


def _text_parts(text: Any) -> list[Part]:
    return [Text(text)] if isinstance(text, str) and text.strip() else []


def _prompt_role(rec: dict[str, Any], texts: list[str]) -> tuple[Role, str | None]:
    """Who a user-role record really comes from: the user, or the CLI injecting context."""
    if rec.get("isCompactSummary"):
        return "system", "compact_summary"
    if rec.get("isMeta"):
        return "system", "meta"
    kinds = [_injected_kind(text) for text in texts]
    if kinds and all(kinds):
        return "system", kinds[0]
    first = texts[0].lstrip() if texts else ""
    for prefix, kind in TYPED_PREFIXES:
        if first.startswith(prefix):
            return "user", kind
    return "user", None


def _injected_kind(text: str) -> str | None:
    text = text.lstrip()
    if text[:1] not in ("<", "["):
        return None
    for prefix, kind in INJECTED_PREFIXES:
        if text.startswith(prefix):
            return kind
    return None


def _system_text(rec: dict[str, Any], subtype: Any) -> str | None:
    """The human-readable text of a system record, or None when it has none."""
    content = rec.get("content")
    if subtype == "compact_boundary":
        return content if isinstance(content, str) and content else "Conversation compacted"
    if isinstance(subtype, str) and subtype in SILENT_SUBTYPES:
        return None
    if subtype == "api_refusal" and isinstance(rec.get("apiRefusalExplanation"), str):
        return str(rec["apiRefusalExplanation"])
    if subtype == "stop_hook_summary":
        errors = rec.get("hookErrors")
        lines = [as_text(e) for e in errors] if isinstance(errors, list) else []
        reason = rec.get("stopReason")
        if isinstance(reason, str) and reason:
            lines.append(reason)
        return "\n".join(line for line in lines if line) or None
    if isinstance(content, str) and content.strip():
        return content
    error = rec.get("error")
    if isinstance(error, dict):
        error = error.get("formatted") or error.get("message")
    return error if isinstance(error, str) and error else None


def _compact_metadata(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    keep = ("trigger", "preTokens", "postTokens", "preservedSegment")
    return {k: value[k] for k in keep if k in value}


def _sidecar(path: Path) -> dict[str, Any]:
    """Agent type and the spawning tool call, from `agent-<id>.meta.json` beside the file."""
    try:
        meta = orjson.loads(read_regular(path.with_name(_stem(path) + ".meta.json"), SIDECAR_MAX))
    except (OSError, orjson.JSONDecodeError):
        return {}
    if not isinstance(meta, dict):
        return {}
    fields = (
        ("agentType", "agent_type"),
        ("toolUseId", "tool_use_id"),
        ("parentAgentId", "parent_agent_id"),
        ("description", "description"),
    )
    return {ours: meta[theirs] for theirs, ours in fields if isinstance(meta.get(theirs), str)}
