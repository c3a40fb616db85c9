"""Antigravity (the agy CLI and the IDE): the step log the CLI derives for each conversation,
`~/.gemini/antigravity-cli/brain/<id>/.system_generated/logs/transcript.jsonl`.

The conversations themselves (`conversations/<id>.db` of the CLI, `<id>.pb` of the IDE) are
protobuf, the IDE's encrypted: one without a transcript is reported as not readable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from tether.model import Message, Part, Reasoning, Text, ToolCall, ToolResult
from tether.tools.base import Feed, FormatError, Meta, Op, Put, Source
from tether.tools.common import head_records, iso, text_of
from tether.tools.facts import antigravity as facts
from tether.tools.listing import entries, is_dir, is_file, is_file_at

name = facts.NAME
display_name = facts.DISPLAY_NAME
aliases = facts.ALIASES
capabilities = facts.CAPABILITIES

TRANSCRIPT = (".system_generated", "logs", "transcript.jsonl")
PROTOBUF = {".db": "a protobuf step store", ".pb": "an encrypted protobuf file"}
REQUEST = re.compile(r"<USER_REQUEST>\s*(.*?)\s*</USER_REQUEST>", re.S)
MODEL_CHANGE = re.compile(
    r"`Model Selection` from .*? to (.+?)\.?\s*(?:\n|</USER_SETTINGS_CHANGE>|$)"
)
SYSTEM_STEPS = {"CHECKPOINT": "checkpoint", "SYSTEM_MESSAGE": "system_message"}
QUIET_STEPS = frozenset({"CONVERSATION_HISTORY"})
"""Steps that only mark where earlier history was loaded: no content of their own."""
FAILED = frozenset({"ERROR", "FAILED", "CANCELED", "CANCELLED"})
SNIFF_LINES = 5


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return [Path(root) for root in facts.store_roots(env, str(home))]


def discover(root: Path) -> Iterator[Source]:
    """brain/<id>/…/transcript.jsonl, and conversations/<id>.db|.pb that have none."""
    read: set[str] = set()
    for entry in entries(root / "brain"):
        if is_dir(entry):
            path = Path(entry.path).joinpath(*TRANSCRIPT)
            if is_file_at(path):
                read.add(entry.name)
                yield Source(path, "jsonl", entry.name)
    for entry in entries(root / "conversations"):
        stem, dot, suffix = entry.name.rpartition(".")
        if dot and f".{suffix}" in PROTOBUF and stem not in read and is_file(entry):
            yield Source(Path(entry.path), "document", stem)


def sniff(path: Path, head: bytes) -> Source | None:
    """A step log: JSON lines with step_index, source and type."""
    rec = next(head_records(head, SNIFF_LINES), None)  # the first record decides
    if isinstance(rec, dict) and {"step_index", "source", "type"} <= rec.keys():
        return Source(path, "jsonl", native_id(path))
    return None


def native_id(path: Path) -> str:
    """The conversation id: the brain folder a transcript lies in, else the file's name."""
    if path.parent.name == "logs" and path.parent.parent.name == ".system_generated":
        return path.parents[2].name
    return path.parent.name if path.stem == "transcript" and path.parent.name else path.stem


def read(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    kind = PROTOBUF.get(feed.source.path.suffix)
    if kind is not None:
        raise FormatError(f"Antigravity conversation in {kind}: not readable, and no transcript")
    if feed.start == 0:
        state.clear()
    if not state and feed.source.native_id is None:
        yield Meta(native_id=native_id(feed.source.path))
    reader = _Reader(feed, state)
    for rec in feed.records():
        yield from reader.step(rec)


class _Reader:
    """state: n (records read, the message keys), pending (ids of tool calls not yet
    answered, oldest first: steps answer them in order), model (the last one selected)."""

    def __init__(self, feed: Feed, state: dict[str, Any]) -> None:
        self.feed = feed
        self.state = state
        self.pending: list[str] = state.setdefault("pending", [])

    def step(self, rec: dict[str, Any]) -> Iterator[Op]:
        if not self.feed.first(rec.get("step_index")):
            return  # a step logged twice: read once
        n = self.state["n"] = self.state.get("n", 0) + 1
        key = str(n)
        kind = rec.get("type")
        source = rec.get("source")
        if not isinstance(kind, str):
            self.feed.skip(f"step {n} has no type")
            return
        native = _native(rec)
        timestamp = iso(rec.get("created_at"))
        if kind == "USER_INPUT" or (isinstance(source, str) and source.startswith("USER")):
            yield from self._user(key, rec, timestamp, native)
        elif kind == "PLANNER_RESPONSE":
            yield from self._planner(key, rec, timestamp, native)
        elif kind in SYSTEM_STEPS:
            text = _content(rec)
            if text:
                native["kind"] = SYSTEM_STEPS[kind]
                yield Put(key, Message("system", [Text(text)], timestamp, native=native))
        elif kind in QUIET_STEPS:
            return
        elif kind == "GENERIC" and not self.pending:
            text = _content(rec)  # model output outside a tool call
            if text:
                message = Message("assistant", [Text(text)], timestamp, self._model(), None)
                message.native = native
                yield Put(key, message)
        elif source == "SYSTEM":
            text = _content(rec)
            if text:
                yield Put(key, Message("system", [Text(text)], timestamp, native=native))
        else:
            yield from self._result(key, rec, timestamp, native)

    def _user(
        self, key: str, rec: dict[str, Any], timestamp: str | None, native: dict[str, Any]
    ) -> Iterator[Op]:
        raw = _content(rec)
        change = MODEL_CHANGE.search(raw)
        if change:
            self.state["model"] = change.group(1).strip()
        match = REQUEST.search(raw)
        text = match.group(1) if match else raw.strip()
        if match and raw.strip() != match.group(0):
            native["context"] = REQUEST.sub("", raw).strip()
        if text:
            yield Put(key, Message("user", [Text(text)], timestamp, native=native))

    def _planner(
        self, key: str, rec: dict[str, Any], timestamp: str | None, native: dict[str, Any]
    ) -> Iterator[Op]:
        parts: list[Part] = []
        thinking = rec.get("thinking")
        if isinstance(thinking, str) and thinking:
            parts.append(Reasoning(thinking))
        text = _content(rec)
        if text:
            parts.append(Text(text))
        calls = rec.get("tool_calls")
        for index, call in enumerate(calls if isinstance(calls, list) else ()):
            if not isinstance(call, dict):
                self.feed.skip(f"tool call {index} of step {key} is not an object")
                continue
            cid = f"{key}#call{index}"
            parts.append(ToolCall(cid, text_of(call.get("name")), _args(call.get("args"))))
            self.pending.append(cid)
        if parts:
            yield Put(key, Message("assistant", parts, timestamp, self._model(), native=native))

    def _result(
        self, key: str, rec: dict[str, Any], timestamp: str | None, native: dict[str, Any]
    ) -> Iterator[Op]:
        """A tool step answers the oldest call still open (the log records no call ids).

        A step the log shows no call for gets one, named after the step, so that every
        result has its call.
        """
        kind = str(rec.get("type"))
        status = rec.get("status")
        failed = isinstance(status, str) and status.upper() in FAILED
        if self.pending:
            call_id = self.pending.pop(0)
        else:
            call_id = f"{key}#step"
            call = ToolCall(call_id, kind.lower(), {}, {"synthesized": True})
            yield Put(call_id, Message("assistant", [call], timestamp, self._model()))
        result = ToolResult(call_id, _content(rec), failed, {"type": kind})
        yield Put(key, Message("tool", [result], timestamp, native=native))

    def _model(self) -> str | None:
        model = self.state.get("model")
        return model if isinstance(model, str) else None


def _native(rec: dict[str, Any]) -> dict[str, Any]:
    native = {k: rec[k] for k in ("step_index", "status") if rec.get(k) is not None}
    truncated = rec.get("truncated_fields")
    if isinstance(truncated, list) and truncated:
        native["truncated_fields"] = truncated
    return native


def _content(rec: dict[str, Any]) -> str:
    return text_of(rec.get("content"))


def _args(args: Any) -> Any:
    """Arguments as the model gave them: the log keeps each value JSON-encoded."""
    if not isinstance(args, dict):
        return {} if args is None else args
    out: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, str):
            try:
                out[key] = orjson.loads(value)
            except orjson.JSONDecodeError:
                out[key] = value
        else:
            out[key] = value
    return out
