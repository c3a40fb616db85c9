"""OpenAI Codex CLI: rollout files (`~/.codex/sessions/YYYY/MM/DD/rollout-…-<uuid>.jsonl[.zst]`).

The conversation is the `response_item` lines (what the model saw); `event_msg` lines are UI
copies of it and only contribute usage, titles, errors and rollbacks.
"""

from __future__ import annotations

import os
import stat
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from tether.files import open_regular
from tether.model import Attachment, Message, Part, Reasoning, Text, ToolCall, ToolResult
from tether.tools.base import Feed, Meta, Op, Put, Rewind, Source
from tether.tools.common import as_text, dict_or_empty, iso, shown
from tether.tools.facts import codex as facts
from tether.tools.listing import entries, is_file

name = facts.NAME
display_name = facts.DISPLAY_NAME
aliases = facts.ALIASES
capabilities = facts.CAPABILITIES

PREFIX = "rollout-"
PLAIN = ".jsonl"
ZST = ".jsonl.zst"
DATE_DEPTH = 3
"""sessions/YYYY/MM/DD."""
MAX_META_LINE = 1 << 20
"""The session_meta line carries the base instructions: tens of KB."""
SMALL_SECRET = 1024
"""Encrypted reasoning up to this size is kept in native; beyond it only a flag."""
MAX_TURN_KEYS = 500
"""Keys of recent user prompts kept in state, for `thread_rolled_back`."""

ASSISTANT_ITEMS = frozenset(
    {
        "reasoning",
        "function_call",
        "custom_tool_call",
        "local_shell_call",
        "web_search_call",
        "tool_search_call",
        "image_generation_call",
    }
)
TOOL_OUTPUTS = frozenset({"function_call_output", "custom_tool_call_output", "tool_search_output"})
OPAQUE_ITEMS = frozenset(
    {
        "ghost_snapshot",
        "compaction",
        "compaction_summary",
        "context_compaction",
        "compaction_trigger",
        "configuration_update",
        "additional_tools",
        "other",
    }
)
QUIET_LINES = frozenset(
    {
        "world_state",
        "inter_agent_communication_metadata",
        "retained_context",
        "security_risk_score",
        "realtime_item",
        "state",
    }
)
META_NATIVE_KEYS = (
    "cli_version",
    "originator",
    "source",
    "model_provider",
    "thread_source",
    "history_mode",
    "memory_mode",
    "agent_nickname",
    "agent_role",
    "agent_path",
    "forked_from_id",
    "parent_thread_id",
)
CONTEXT_TAGS = (
    ("# agents.md instructions", "agents_md"),
    ("<user_instructions>", "user_instructions"),
    ("<environment_context>", "environment_context"),
    ("<instructions>", "instructions"),
    ("<agent_message_board_notification>", "agent_message_board_notification"),
    ("<skill>", "skill"),
    ("<user_shell_command>", "user_shell_command"),
    ("<turn_aborted>", "turn_aborted"),
    ("<subagent_notification>", "subagent_notification"),
    ("<codex_internal_context", "codex_internal_context"),
    ("<goal_context>", "goal_context"),
    ("<recommended_plugins>", "recommended_plugins"),
    ("<hook_prompt ", "hook_prompt"),
    ("<user_action>", "user_action"),
    ("<external_", "external_context"),
    ("warning: the maximum number of unified exec processes", "warning"),
    ("warning: apply_patch was requested via ", "warning"),
    ("warning: your account was flagged", "warning"),
)
SUMMARY_PREFIX = "Another language model started to solve this problem"
SUMMARY_PREFIX_END = "use the information in this summary to assist with your own analysis:"
EXIT_MARKERS = ("Exit code: ", "Process exited with code ")


# ---------------------------------------------------------------- locating rollouts


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return [Path(root) for root in facts.store_roots(env, str(home))]


def discover(root: Path) -> Iterator[Source]:
    yield from _rollouts(root / "sessions", DATE_DEPTH)
    yield from _rollouts(root / "archived_sessions", 0)


def discover_in(root: Path, path: Path) -> Iterator[Source]:
    """The sources discover(root) yields at or below `path` (a folder or a file of the
    store), listing that folder alone: what a quick check or the watcher saw change."""
    for top, depth in ((root / "sessions", DATE_DEPTH), (root / "archived_sessions", 0)):
        if path == top or top.is_relative_to(path):
            yield from _rollouts(top, depth)
            continue
        if not path.is_relative_to(top):
            continue
        level = len(path.relative_to(top).parts)
        try:
            folder = stat.S_ISDIR(os.lstat(path).st_mode)
        except OSError:
            continue
        if folder and level <= depth:
            yield from _rollouts(path, depth - level)
        elif not folder and level - 1 <= depth:
            yield from (s for s in _rollouts(path.parent, 0) if s.path == path)


def _rollouts(directory: Path, depth: int) -> Iterator[Source]:
    try:
        with os.scandir(directory) as it:
            entries = list(it)
    except OSError:
        return
    names = {entry.name for entry in entries}
    subdirs: list[str] = []
    for entry in sorted(entries, key=lambda e: e.name):
        entry_name = entry.name
        if entry_name.startswith(PREFIX) and (entry_name.endswith((PLAIN, ZST))):
            if entry_name.endswith(ZST) and entry_name[:-4] in names:
                continue  # the plain file is the one Codex still appends to
            if not is_file(entry):
                continue
            yield Source(Path(entry.path), "jsonl", native_id_from_name(entry_name))
        elif depth > 0:
            try:
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(entry.path)
            except OSError:
                continue
    for sub in subdirs:
        yield from _rollouts(Path(sub), depth - 1)


def native_id_from_name(filename: str) -> str | None:
    """The thread id a rollout's name ends in (`<thread>_<rollout>` for a reverted thread)."""
    if not filename.startswith(PREFIX):
        return None
    stem = filename[len(PREFIX) :]
    for suffix in (ZST, PLAIN):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    else:
        return None
    head, sep, rollout = stem.rpartition("_")
    if sep and _is_uuid(rollout) and _trailing_uuid(head):
        return f"{_trailing_uuid(head)}_{rollout}"
    return _trailing_uuid(stem)


def _trailing_uuid(stem: str) -> str | None:
    at = len(stem)
    while True:
        at = stem.rfind("-", 0, at)
        if at < 0:
            return stem if _is_uuid(stem) else None
        candidate = stem[at + 1 :]
        if len(candidate) >= 32 and _is_uuid(candidate):
            return candidate
        if len(candidate) > 36:
            return None


def _is_uuid(text: str) -> bool:
    if len(text) != 36:
        return False
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def started_since(root: Path, since: float, cwd: str) -> list[tuple[str, str, Path]]:
    """Sessions Codex began in `cwd` at or after `since` (epoch seconds), oldest first, as
    (start time, native id, rollout). For a session that could not be given its id up front.

    Lists only the date folders from the day before `since` on (names are local dates) and
    reads the first line of rollouts modified since: never the whole history. Forks and
    sub-agents, which start from another session, are left out.
    """
    floor = time.gmtime(since - 86_400)
    cutoff = (floor.tm_year, floor.tm_mon, floor.tm_mday)
    want = os.path.realpath(cwd)
    found: list[tuple[str, str, Path]] = []
    for day in _days_since(root / "sessions", cutoff):
        for entry in entries(day):
            if not (entry.name.startswith(PREFIX) and entry.name.endswith(PLAIN)):
                continue
            try:
                if entry.stat().st_mtime < since - 1:
                    continue
            except OSError:
                continue
            meta = _first_meta(Path(entry.path))
            if meta is None or dict_or_empty(meta.get("source")).get("subagent"):
                continue
            if meta.get("forked_from_id") or meta.get("parent_thread_id"):
                continue
            native_id, started = meta.get("id"), meta.get("timestamp")
            meta_cwd = meta.get("cwd")
            if not (isinstance(native_id, str) and isinstance(meta_cwd, str)):
                continue
            if os.path.realpath(meta_cwd) == want:
                started = started if isinstance(started, str) else ""
                found.append((started, native_id, Path(entry.path)))
    return sorted(found)


def _days_since(sessions: Path, cutoff: tuple[int, int, int]) -> Iterator[Path]:
    for year in entries(sessions):
        if year.name.isdigit() and int(year.name) >= cutoff[0]:
            for month in entries(Path(year.path)):
                if month.name.isdigit() and (int(year.name), int(month.name)) >= cutoff[:2]:
                    for day in entries(Path(month.path)):
                        date = (int(year.name), int(month.name), _int(day.name))
                        if date >= cutoff:
                            yield Path(day.path)


def _int(text: str) -> int:
    return int(text) if text.isdigit() else -1


def _first_meta(path: Path) -> dict[str, Any] | None:
    """The payload of a rollout's first line when it is the session_meta, else None."""
    try:
        with open_regular(path) as fh:
            line = fh.readline(MAX_META_LINE)
        record = orjson.loads(line)
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(record, dict) or record.get("type") != "session_meta":
        return None
    payload = record.get("payload")
    return payload if isinstance(payload, dict) else None


def sniff(path: Path, head: bytes) -> Source | None:
    native_id = native_id_from_name(path.name)
    if native_id is not None:
        return Source(path, "jsonl", native_id)
    first = head.lstrip()[:4096]
    if first.startswith(b"{") and b'"type":"session_meta"' in first and b'"payload"' in first:
        return Source(path, "jsonl", None)
    return None


# ---------------------------------------------------------------- reading


def read(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    state.setdefault("n", 0)
    own = feed.source.native_id
    if own and "own" not in state:
        state["own"] = own.partition("_")[0]
    total_before = state.get("total")
    start = state.get("history_start")
    for record in feed.records():
        if start is not None:
            ordinal = record.get("ordinal")
            if isinstance(ordinal, int) and ordinal < start:
                continue  # history a sub-agent inherited from its parent's rollout
        kind = record.get("type")
        payload = record.get("payload")
        if kind == "event_msg" and isinstance(payload, dict):
            yield from _event(state, payload, record.get("timestamp"))
        elif isinstance(kind, str) and isinstance(payload, dict):
            metadata = record.get("metadata")
            if isinstance(metadata, dict) and metadata.get("compaction_output") is True:
                continue
            yield from _line(feed, state, kind, payload, _stamp(record.get("timestamp")))
            if kind == "session_meta":
                start = state.get("history_start")
        elif isinstance(kind, str) and payload is None and len(record) > 2:
            # Before 0.32 a response item was written bare, without the envelope.
            yield from _response_item(feed, state, record, _stamp(record.get("timestamp")))
        elif kind is None and "record_type" in record:
            continue
        elif kind is None and isinstance(record.get("id"), str):
            yield from _session_meta(state, record, feed.source.native_id)
        else:
            feed.skip(f"unknown record type {shown(kind)}")
    if state.get("total") and state.get("total") != total_before:
        yield Meta(native={"total_token_usage": state["total"]})


def _stamp(value: Any) -> str | None:
    if isinstance(value, str):
        if value[-1:] == "Z" and value[:1].isdigit():
            return value
        return iso(value) if value[:1].isdigit() else None
    if isinstance(value, int | float):
        return iso(value)
    return None


def _line(
    feed: Feed, state: dict[str, Any], kind: str, payload: dict[str, Any], ts: str | None
) -> Iterator[Op]:
    if kind == "response_item":
        yield from _response_item(feed, state, payload, ts)
    elif kind == "turn_context":
        _turn_context(state, payload)
        if payload.get("cwd") and not state.get("cwd") and isinstance(payload["cwd"], str):
            state["cwd"] = payload["cwd"]
            yield Meta(cwd=payload["cwd"], project=payload["cwd"])
    elif kind == "session_meta":
        yield from _session_meta(state, payload, feed.source.native_id)
    elif kind == "compacted":
        yield from _compacted(state, payload, ts)
    elif kind == "token_usage_record":
        state["records_usage"] = True
        usage = payload.get("usage")
        response = payload.get("response_id")
        key = response if isinstance(response, str) and response else _usage_key(usage)
        yield from _usage(state, usage, key, payload.get("thread_token_usage"))
    elif kind == "inter_agent_communication":
        text = payload.get("content")
        if isinstance(text, str) and text:
            native = _pick(payload, ("author", "recipient"))
            native["type"] = kind
            yield _put(state, Message("system", [Text(text)], ts, native=native))
    elif kind not in QUIET_LINES:
        feed.skip(f"unknown record type {shown(kind)}")


def _session_meta(
    state: dict[str, Any], payload: dict[str, Any], file_id: str | None
) -> Iterator[Op]:
    meta_id = payload.get("id")
    own = state.get("own")
    if state.get("meta_seen") or (own and isinstance(meta_id, str) and meta_id != own):
        return  # a fork or sub-agent copied its parent's session_meta into its own rollout
    state["meta_seen"] = True
    if isinstance(meta_id, str) and not own:
        state["own"] = meta_id
    if isinstance(payload.get("subagent_history_start_ordinal"), int):
        state["history_start"] = payload["subagent_history_start_ordinal"]
    version = payload.get("cli_version")
    if isinstance(version, str) and _at_least(version, (0, 153)):
        state["records_usage"] = True
    cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
    if cwd:
        state["cwd"] = cwd
    git = dict_or_empty(payload.get("git"))
    native = _pick(payload, META_NATIVE_KEYS)
    if isinstance(git.get("repository_url"), str):
        native["repository_url"] = git["repository_url"]
    subagent = dict_or_empty(dict_or_empty(payload.get("source")).get("subagent"))
    spawn = dict_or_empty(subagent.get("thread_spawn"))
    parent = (
        payload.get("forked_from_id")
        or payload.get("parent_thread_id")
        or spawn.get("parent_thread_id")
    )
    reverted = bool(file_id and "_" in file_id)
    yield Meta(
        native_id=meta_id if isinstance(meta_id, str) and not reverted else None,
        cwd=cwd,
        project=cwd,
        git_branch=git.get("branch") if isinstance(git.get("branch"), str) else None,
        git_commit=git.get("commit_hash") if isinstance(git.get("commit_hash"), str) else None,
        parent_native_id=parent if isinstance(parent, str) else None,
        created_at=_stamp(payload.get("timestamp")),
        native=native,
    )


def _turn_context(state: dict[str, Any], payload: dict[str, Any]) -> None:
    model = payload.get("model")
    if isinstance(model, str) and model:
        state["model"] = model


def _at_least(version: str, floor: tuple[int, int]) -> bool:
    parts = version.replace("-", ".").split(".")
    try:
        return (int(parts[0]), int(parts[1])) >= floor
    except (ValueError, IndexError):
        return False


def _pick(payload: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: payload[key] for key in keys if payload.get(key) is not None}


# ---------------------------------------------------------------- messages


def _key(state: dict[str, Any]) -> str:
    state["n"] += 1
    return f"i{state['n']}"


def _put(state: dict[str, Any], message: Message) -> Put:
    """A message that is not part of the assistant's reply: it ends the current group."""
    state["group"] = None
    return Put(_key(state), message)


def _response_item(
    feed: Feed, state: dict[str, Any], item: dict[str, Any], ts: str | None
) -> Iterator[Op]:
    kind = item.get("type")
    if not isinstance(kind, str):
        feed.skip(f"response item of type {shown(kind)}")
    elif kind == "message":
        yield from _message(state, item, ts)
    elif kind in ASSISTANT_ITEMS:
        parts = _assistant_parts(kind, item)
        if parts is None:
            feed.skip(f"{kind} without a name or call id")
        elif parts:
            yield from _assistant(state, parts, item, ts)
    elif kind in TOOL_OUTPUTS:
        yield _put(state, _tool_message(kind, item, ts))
    elif kind == "agent_message":
        texts: list[Part] = [Text(t) for t in _texts(item.get("content"))]
        if texts:
            native = _pick(item, ("id", "author", "recipient"))
            native["type"] = kind
            yield _put(state, Message("system", texts, ts, native_id=_id(item), native=native))
    elif kind not in OPAQUE_ITEMS:
        feed.skip(f"unknown response item {shown(kind)}")


def _message(state: dict[str, Any], item: dict[str, Any], ts: str | None) -> Iterator[Op]:
    role = item.get("role")
    parts = _content_parts(item.get("content"))
    native = _pick(item, ("id", "phase"))
    if role == "assistant":
        for part in parts:
            part.native.update(native)  # which item (and phase: commentary or final answer)
        if parts:
            yield from _assistant(state, parts, item, ts)
        return
    if not parts:
        return
    if role == "user":
        context = _context_marker(parts)
        if context is None:
            op = _put(state, Message("user", parts, ts, native_id=_id(item), native=native))
            turns = state.setdefault("turns", [])
            turns.append(op.key)
            del turns[:-MAX_TURN_KEYS]
            yield op
            return
        native["context"] = context
    native["role"] = role if isinstance(role, str) else "unknown"
    yield _put(state, Message("system", parts, ts, native_id=_id(item), native=native))


def _assistant(
    state: dict[str, Any], parts: list[Part], item: dict[str, Any], ts: str | None
) -> Iterator[Op]:
    """Consecutive model output items (reasoning, text, tool calls) are one assistant message."""
    key = state.get("group")
    native: dict[str, Any] = {}
    if key is None:
        key = _key(state)
        state["group"] = key
        state["last_group"] = key
        state["group_usage"] = False
        if isinstance(item.get("phase"), str):
            native["phase"] = item["phase"]
    usage = None
    if state.get("pending_usage") and not state.get("group_usage"):
        usage = state.pop("pending_usage")
        state["group_usage"] = True
    message = Message(
        "assistant",
        parts,
        ts,
        model=state.get("model"),
        usage=usage,
        native_id=_id(item),
        native=native,
    )
    yield Put(key, message, merge=True)


INPUT_FIELDS = {
    "function_call": "arguments",
    "custom_tool_call": "input",
    "local_shell_call": "action",
    "web_search_call": "action",
    "tool_search_call": "arguments",
}
FIXED_NAMES = {
    "local_shell_call": "local_shell",
    "web_search_call": "web_search",
    "tool_search_call": "tool_search",
    "image_generation_call": "image_generation",
}


def _assistant_parts(kind: str, item: dict[str, Any]) -> list[Part] | None:
    """The parts of one model output item; None when it is not a usable item."""
    if kind == "reasoning":
        return _reasoning(item)
    call_id = _call_id(item)
    tool = FIXED_NAMES.get(kind) or item.get("name")
    if not (call_id or kind == "web_search_call") or not isinstance(tool, str):
        return None
    native: dict[str, Any] = {"type": kind}
    if isinstance(item.get("id"), str):
        native["id"] = item["id"]
    if isinstance(item.get("namespace"), str):
        native["namespace"] = item["namespace"]
    if kind == "image_generation_call":
        # Run by the API: the result is the image itself.
        call = ToolCall(call_id, tool, {"revised_prompt": item.get("revised_prompt")}, native)
        result = item.get("result")
        if isinstance(result, str) and result and not result.startswith("["):
            return [call, Attachment("image/png", data=result)]
        return [call]
    value = item.get(INPUT_FIELDS[kind])
    return [
        ToolCall(call_id, tool, _arguments(value) if kind == "function_call" else value, native)
    ]


def _reasoning(item: dict[str, Any]) -> list[Part]:
    texts = [t for t in _texts(item.get("summary")) if t]
    content = item.get("content")
    if isinstance(content, list):
        texts.extend(t for t in _texts(content) if t)
    if not texts:
        return []
    native: dict[str, Any] = {}
    if isinstance(item.get("id"), str):
        native["id"] = item["id"]
    secret = item.get("encrypted_content")
    if isinstance(secret, str) and secret:
        if len(secret) <= SMALL_SECRET:
            native["encrypted_content"] = secret
        else:
            native["encrypted"] = True
    return [Reasoning("\n\n".join(texts), native=native)]


def _tool_message(kind: str, item: dict[str, Any], ts: str | None) -> Message:
    call_id = _call_id(item)
    native: dict[str, Any] = {"type": kind}
    if kind == "tool_search_output":
        status = item.get("status")
        result = ToolResult(
            call_id, as_text(item.get("tools")), isinstance(status, str) and status != "completed"
        )
    else:
        text, code, extra = _output(item.get("output"))
        if code is not None:
            native["exit_code"] = code
        native.update(extra)
        result = ToolResult(call_id, text, bool(code) or extra.get("success") is False)
    result.native = native
    return Message("tool", [result], ts, native_id=_id(item), native={"type": kind})


def _output(output: Any) -> tuple[str, int | None, dict[str, Any]]:
    """Text, exit code and small extras of a tool output in any shape Codex wrote it."""
    if isinstance(output, str):
        return _envelope(output) or (output, _exit_code(output), {})
    if isinstance(output, dict) and "content" in output and "type" not in output:
        extra = {"success": output["success"]} if isinstance(output.get("success"), bool) else {}
        return as_text(output.get("content")), None, extra
    text = as_text(output)
    first = next(iter(_texts(output)), "") if isinstance(output, list) else ""
    return text, _exit_code(first), {}


def _envelope(output: str) -> tuple[str, int | None, dict[str, Any]] | None:
    """The `{"output": …, "metadata": {"exit_code": …}}` JSON text older shells returned."""
    if not output.startswith(('{"output":', '{"exit_code":')):
        return None
    try:
        envelope = orjson.loads(output)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(envelope, dict) or "output" not in envelope:
        return None
    metadata = envelope.get("metadata")
    if not isinstance(metadata, dict):
        if "exit_code" not in envelope:
            return None
        metadata = envelope
    code = metadata.get("exit_code")
    extra: dict[str, Any] = {"envelope": True}
    if isinstance(metadata.get("duration_seconds"), int | float):
        extra["duration_seconds"] = metadata["duration_seconds"]
    return as_text(envelope["output"]), code if isinstance(code, int) else None, extra


def _exit_code(text: str) -> int | None:
    """The exit code in a command output's header (the lines before `Output:`)."""
    if not text.startswith(("Exit code: ", "Chunk ID: ", "Wall time: ", "Process ")):
        return None
    for line in text[:400].split("\n"):
        if line.rstrip() == "Output:":
            break
        for marker in EXIT_MARKERS:
            if line.startswith(marker):
                try:
                    return int(line[len(marker) :].strip())
                except ValueError:
                    return None
    return None


def _compacted(state: dict[str, Any], payload: dict[str, Any], ts: str | None) -> Iterator[Op]:
    message = payload.get("message")
    if not isinstance(message, str):
        return
    summary = message
    if summary.startswith(SUMMARY_PREFIX) and SUMMARY_PREFIX_END in summary:
        summary = summary.split(SUMMARY_PREFIX_END, 1)[1]
    summary = summary.strip()
    if summary:
        native = {"type": "compacted"}
        yield _put(state, Message("system", [Text(summary)], ts, native=native))


def _content_parts(content: Any) -> list[Part]:
    if isinstance(content, str):
        return [Text(content)] if content else []
    if not isinstance(content, list):
        return []
    parts: list[Part] = []
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind in ("input_text", "output_text", "text"):
            text = block.get("text")
            if isinstance(text, str):
                parts.append(Text(text))
        elif kind == "refusal" and isinstance(block.get("refusal"), str):
            parts.append(Text(block["refusal"], native={"refusal": True}))
        elif kind == "input_image":
            image = _image(block.get("image_url"))
            if image is not None:
                parts.append(image)
    return parts


def _image(url: Any) -> Attachment | None:
    if not isinstance(url, str) or not url or url.startswith("["):
        return None
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media_type = header[5:].split(";", 1)[0] or "image/png"
        return Attachment(media_type, data=data)
    return Attachment("image/*", uri=url)


def _context_marker(parts: list[Part]) -> str | None:
    """What injected context a `user` message is (AGENTS.md, environment …), or None."""
    for part in parts:
        if isinstance(part, Text):
            head = part.text.lstrip()[:64].lower()
            for prefix, marker in CONTEXT_TAGS:
                if head.startswith(prefix):
                    return marker
    return None


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    return [b["text"] for b in value if isinstance(b, dict) and isinstance(b.get("text"), str)]


def _arguments(arguments: Any) -> Any:
    if not isinstance(arguments, str):
        return arguments
    try:
        return orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return arguments


def _call_id(item: dict[str, Any]) -> str:
    value = item.get("call_id")
    return value if isinstance(value, str) and value else _id(item) or ""


def _id(item: dict[str, Any]) -> str | None:
    value = item.get("id")
    return value if isinstance(value, str) and value else None


# ---------------------------------------------------------------- events


def _event(state: dict[str, Any], payload: dict[str, Any], ts: Any) -> Iterator[Op]:
    """UI events: usage, titles, rollbacks and errors (their message copies are skipped)."""
    kind = payload.get("type")
    if kind == "token_count":
        if state.get("records_usage"):
            return  # token_count only repeats what token_usage_record lines hold
        info = payload.get("info")
        if isinstance(info, dict):
            total = info.get("total_token_usage")
            last = info.get("last_token_usage")
            yield from _usage(state, last, _usage_key(total) or _usage_key(last), total)
    elif kind == "thread_name_updated":
        title = payload.get("thread_name")
        thread = payload.get("thread_id")
        own = state.get("own")
        if isinstance(title, str) and title.strip() and (not own or thread in (None, own)):
            yield Meta(title=title.strip())
    elif kind == "thread_rolled_back":
        turns = state.get("turns") or []
        count = payload.get("num_turns")
        if isinstance(count, int) and 0 < count <= len(turns):
            key = turns[-count]
            del turns[-count:]
            state["group"] = state["last_group"] = None
            yield Rewind(key)
    elif kind == "error":
        text = payload.get("message")
        if isinstance(text, str) and text:
            message = Message("system", [Text(text)], _stamp(ts), native={"event": "error"})
            yield _put(state, message)


def _usage(state: dict[str, Any], usage: Any, key: str | None, total: Any) -> Iterator[Op]:
    """Usage of one model call, attached to its assistant message exactly once.

    Codex re-sends the same snapshot (rate-limit refreshes), so a repeat of the last key is
    ignored. Older rollouts write the count before the reply's items, newer ones after: it
    goes to the last reply if that has none yet, else it waits for the next one.
    """
    if not isinstance(usage, dict) or key is None or key == state.get("usage_key"):
        return
    if not any(isinstance(v, int) and v for v in usage.values()):
        return
    state["usage_key"] = key
    if isinstance(total, dict):
        state["total"] = total
    last = state.get("last_group")
    if last and not state.get("group_usage"):
        state["group_usage"] = True
        yield Put(last, Message("assistant", [], usage=dict(usage)), merge=True)
    else:
        state["pending_usage"] = dict(usage)


def _usage_key(usage: Any) -> str | None:
    if not isinstance(usage, dict):
        return None
    get = usage.get
    inputs = f"{get('input_tokens')}.{get('cached_input_tokens')}"
    return f"{inputs}.{get('output_tokens')}.{get('total_tokens')}"
