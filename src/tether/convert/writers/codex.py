"""Write a session that `codex resume ID` and `codex resume --last` (in its folder) continue
(research/native-formats.md §2.3, real-clis-offline.md).

One rollout `<store>/sessions/YYYY/MM/DD/rollout-<local time>-<uuid v7>.jsonl`, every line
`{timestamp, ordinal, type, payload}` (0.169 refuses a rollout whose lines lack `ordinal`):
`session_meta` first, then per user turn `task_started`, `turn_context`, the
`response_item`s the model is sent (messages, calls, outputs) with the `event_msg`s the
TUI shows (`user_message`, `agent_message`, `agent_reasoning`), and `task_complete`.

Nothing but the new file is written: not Codex's SQLite index (its schema migrates often;
Codex read-repairs it when it opens a thread by id) nor `session_index.jsonl` (thread
names only). Codex finds a correctly named file by id; `resume --last` lists it at once in
a home Codex has not indexed yet, and in one it has, once Codex has opened it by id (which
`tether resume` does): 0.169 lists from the index alone there. `model_provider` is the
one the user's config.toml selects (Codex's default, `openai`, when it names none): Codex
refuses to resume a thread under another provider than the one it records, and its
interactive resume refuses a thread that records none. No `base_instructions`, so Codex
uses its own current ones.
Reasoning replays natively only with Codex's own encrypted content (a round trip); the API
rejects reasoning items it cannot verify, so other reasoning becomes text.
"""

from __future__ import annotations

import os
import re
import tomllib
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from tether.convert.writers.base import (
    Report,
    WriteError,
    WriteJob,
    Written,
    attachment_text,
    write_session_file,
)
from tether.model import Attachment, Message, Reasoning, Text, ToolCall, ToolResult
from tether.tools.common import iso
from tether.tools.vocabulary.codex import vocabulary  # noqa: F401 (a Writer names its table)

name = "codex"
context_tokens = 200_000
accepts_generic_calls = True
CLI_VERSION = "0.169.0"
"""The Codex CLI version these files are proven against (tests/e2e)."""
DEFAULT_PROVIDER = "openai"
ORIGINATOR = "codex_cli_rs"
SOURCE = "cli"
"""An interactive source: `codex resume --last` lists only those (exec lists every source)."""
INDEX_GLOB = "state_*.sqlite"
UNLISTED = (
    "codex resume --last lists this session once Codex has opened it by id "
    "(tether resume, or codex resume ID): Codex lists from its own index, which tether "
    "leaves alone"
)
FREEFORM = frozenset({"apply_patch"})
"""Codex tools whose input is free text (a `custom_tool_call`), not JSON arguments."""
NO_OUTPUT_ITEMS = frozenset({"web_search_call"})
"""Calls the API answers itself: an output item for them would be rejected."""
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")
MAX_NAME = 64


# ---------------------------------------------------------------- writing


def write(job: WriteJob) -> Written:
    native_id = job.native_id or new_thread_id(job.now)
    if not _is_uuid(native_id):
        raise WriteError(f"{native_id!r} is not a UUID: Codex names sessions by UUID")
    if job.native_id and existing_rollouts(job.store, native_id):
        raise WriteError(f"a Codex session {native_id} exists already: not overwritten")
    path = rollout_path(job.store, native_id, job.now)
    rollout = _Rollout(job, native_id)
    rollout.meta()
    for turn in _turns(job.session.messages):
        rollout.turn(turn)
    if not rollout.turns:
        raise WriteError("nothing to write: the session has no messages Codex can replay")
    rollout.title()
    if any(job.store.glob(INDEX_GLOB)):
        job.report.note(UNLISTED)
    write_session_file(path, b"\n".join(rollout.lines) + b"\n")
    return Written(name, native_id, path, [path])


def new_thread_id(now: datetime) -> str:
    """A UUID v7 (time-ordered, as Codex makes its thread ids) for the time `now`."""
    millis = int(now.timestamp() * 1000) & ((1 << 48) - 1)
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def rollout_path(store: Path, native_id: str, now: datetime) -> Path:
    """Where Codex itself would put a session started at `now` (its name uses local time)."""
    local = now.astimezone()
    folder = store / "sessions" / f"{local:%Y}" / f"{local:%m}" / f"{local:%d}"
    return folder / f"rollout-{local:%Y-%m-%dT%H-%M-%S}-{native_id}.jsonl"


def existing_rollouts(store: Path, native_id: str) -> list[Path]:
    pattern = f"rollout-*-{native_id}.jsonl*"
    found = list((store / "sessions").glob(f"*/*/*/{pattern}"))
    return found + list((store / "archived_sessions").glob(pattern))


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def _turns(messages: list[Message]) -> list[list[Message]]:
    """One Codex turn per user message, with the replies and tool outputs that follow it."""
    turns: list[list[Message]] = []
    for message in messages:
        if message.role == "user" or not turns:
            turns.append([])
        turns[-1].append(message)
    return turns


class _Rollout:
    """The lines of one rollout, numbered as they are added."""

    def __init__(self, job: WriteJob, native_id: str) -> None:
        self.job = job
        self.report: Report = job.report
        self.native_id = native_id
        session = job.session
        known = [m.model for m in session.messages if m.model] + session.models
        self.model: str | None = known[0] if known else None
        self.lines: list[bytes] = []
        self.turns = 0
        self.call_types: dict[str, str] = {}
        self.now = _stamp(job.now.isoformat()) or ""
        self.last_stamp = self.now

    def add(self, kind: str, payload: dict[str, Any], stamp: str | None = None) -> None:
        self.last_stamp = stamp or self.last_stamp
        line = {
            "timestamp": self.last_stamp,
            "ordinal": len(self.lines),
            "type": kind,
            "payload": payload,
        }
        self.lines.append(orjson.dumps(line))

    def event(self, payload: dict[str, Any], stamp: str | None = None) -> None:
        self.add("event_msg", payload, stamp)

    def item(self, payload: dict[str, Any], stamp: str | None = None) -> None:
        self.add("response_item", payload, stamp)

    # ---------------------------------------------------------- session and turns

    def meta(self) -> None:
        session = self.job.session
        first = next((m.timestamp for m in session.messages if m.timestamp), None)
        created = _stamp(session.created_at) or _stamp(first) or self.now
        payload: dict[str, Any] = {
            "id": self.native_id,
            "timestamp": created,
            "cwd": self.job.cwd_text,
            "originator": ORIGINATOR,
            "cli_version": CLI_VERSION,
            "source": SOURCE,
            "model_provider": configured_provider(self.job.store),
        }
        git = {
            "commit_hash": session.git_commit,
            "branch": session.git_branch,
            "repository_url": session.native.get("repository_url") if self.job.same_tool else None,
        }
        if any(git.values()):
            payload["git"] = {key: value for key, value in git.items() if value}
        self.add("session_meta", payload, created)

    def turn(self, messages: list[Message]) -> None:
        self.turns += 1
        turn_id = str(uuid.uuid4())
        stamp = _stamp(messages[0].timestamp)
        started = {"type": "task_started", "turn_id": turn_id, "collaboration_mode_kind": "default"}
        self.event(started, stamp)
        models = (m.model for m in messages if m.role == "assistant" and m.model)
        self.model = next(models, self.model)
        if self.model:
            self.add("turn_context", self._context(turn_id, self.model))
        last_reply: str | None = None
        for message in messages:
            stamp = _stamp(message.timestamp)
            if message.role == "user":
                self._user(message, stamp)
            elif message.role == "assistant":
                last_reply = self._assistant(message, stamp) or last_reply
            else:
                self._outputs(message, stamp)
        done = {"type": "task_complete", "turn_id": turn_id, "last_agent_message": last_reply}
        self.event(done)

    def _context(self, turn_id: str, model: str) -> dict[str, Any]:
        return {
            "turn_id": turn_id,
            "cwd": self.job.cwd_text,
            "approval_policy": "on-request",
            "sandbox_policy": {"type": "workspace-write"},
            "model": model,
            "summary": "auto",
        }

    def title(self) -> None:
        title = self.job.session.title
        if title and title.strip():
            payload = {"type": "thread_name_updated", "thread_id": self.native_id}
            self.event({**payload, "thread_name": title.strip()})

    # ---------------------------------------------------------- messages

    def _user(self, message: Message, stamp: str | None) -> None:
        content: list[dict[str, Any]] = []
        texts: list[str] = []
        images: list[str] = []
        for part in message.parts:
            if isinstance(part, Text):
                content.append({"type": "input_text", "text": part.text})
                texts.append(part.text)
            elif isinstance(part, Attachment):
                url = _image_url(part)
                if url is None:
                    self.report.downgrade("attachment", "not an inline image")
                    label = attachment_text(part)
                    content.append({"type": "input_text", "text": label})
                    texts.append(label)
                else:
                    content.append({"type": "input_image", "image_url": url})
                    images.append(url)
        if not content:
            return
        self.item({"type": "message", "role": "user", "content": content}, stamp)
        shown = {"type": "user_message", "message": "\n\n".join(texts), "images": images}
        self.event({**shown, "local_images": [], "text_elements": []})

    def _assistant(self, message: Message, stamp: str | None) -> str | None:
        """The reply's items in order; its last text (what `task_complete` reports)."""
        said: str | None = None
        for part in message.parts:
            if isinstance(part, Text):
                phase = part.native.get("phase") if self.job.same_tool else None
                said = self._say(part.text, stamp, phase)
            elif isinstance(part, Reasoning):
                native = self._reasoning(part)
                if native is not None:
                    self.item(native, stamp)
                    self.event({"type": "agent_reasoning", "text": part.text})
                elif part.text.strip():
                    said = self._say(f"[reasoning]\n{part.text}", stamp)
            elif isinstance(part, ToolCall):
                self._call(part, stamp)
            elif isinstance(part, Attachment):
                self.report.downgrade("attachment", "an assistant attachment")
                said = self._say(attachment_text(part), stamp)
        return said

    def _say(self, text: str, stamp: str | None, phase: Any = None) -> str:
        """One assistant message: what the model is sent, and what the TUI shows."""
        content = [{"type": "output_text", "text": text, "annotations": []}]
        item: dict[str, Any] = {"type": "message", "role": "assistant", "content": content}
        shown: dict[str, Any] = {"type": "agent_message", "message": text}
        if isinstance(phase, str):
            item["phase"] = shown["phase"] = phase
        self.item(item, stamp)
        self.event(shown)
        return text

    def _reasoning(self, part: Reasoning) -> dict[str, Any] | None:
        """Codex's own reasoning item when it carries Codex's encrypted content, else None."""
        secret = part.native.get("encrypted_content") if self.job.same_tool else None
        if isinstance(secret, str) and secret:
            summary = [{"type": "summary_text", "text": part.text}] if part.text else []
            item: dict[str, Any] = {"type": "reasoning", "summary": summary}
            item["content"] = None
            item["encrypted_content"] = secret
            return item
        if part.text.strip():
            self.report.downgrade(
                "reasoning", "Codex replays only reasoning it encrypted itself (as text)"
            )
        return None

    def _call(self, call: ToolCall, stamp: str | None) -> None:
        kind = call.native.get("type") if self.job.same_tool else None
        if kind == "local_shell_call" and isinstance(call.input, dict):
            item: dict[str, Any] = {"type": kind, "call_id": call.id, "status": "completed"}
            item["action"] = call.input
        elif kind in NO_OUTPUT_ITEMS:
            item = {"type": kind, "status": "completed", "action": call.input}
        elif kind == "custom_tool_call" or (call.name in FREEFORM and _freeform(call.input)):
            text = call.input if isinstance(call.input, str) else call.input["input"]
            item = {"type": "custom_tool_call", "call_id": call.id, "name": call.name}
            item.update(status="completed", input=text)
        else:
            item = {"type": "function_call", "name": self._name(call.name)}
            item.update(arguments=self._arguments(call.input), call_id=call.id)
            namespace = call.native.get("namespace") if self.job.same_tool else None
            if isinstance(namespace, str):
                item["namespace"] = namespace
        if self.job.same_tool and isinstance(call.native.get("id"), str):
            item["id"] = call.native["id"]
        self.call_types[call.id] = item["type"]
        self.item(item, stamp)

    def _name(self, tool: str) -> str:
        """A function name the Responses API accepts (letters, digits, `_`, `-`, 64 at most)."""
        if self.job.same_tool:
            return tool
        cleaned = _NAME_CHARS.sub("_", tool)[:MAX_NAME] or "tool"
        if cleaned != tool:
            self.report.note("tool names the OpenAI API rejects were spelled with '_' instead")
        return cleaned

    def _arguments(self, value: Any) -> str:
        if isinstance(value, str) and self.job.same_tool:
            return value  # arguments Codex recorded that were not JSON: as they were
        if not isinstance(value, dict):
            value = {"input": value}
        return orjson.dumps(value).decode()

    def _outputs(self, message: Message, stamp: str | None) -> None:
        for part in message.parts:
            if not isinstance(part, ToolResult):
                continue
            kind = self.call_types.get(part.call_id)
            if kind in NO_OUTPUT_ITEMS:
                continue
            output_type = (
                "custom_tool_call_output" if kind == "custom_tool_call" else "function_call_output"
            )
            payload = {"type": output_type, "call_id": part.call_id, "output": self._output(part)}
            self.item(payload, stamp)

    def _output(self, result: ToolResult) -> str:
        """The output text; the JSON envelope older shells returned on a round trip."""
        native = result.native if self.job.same_tool else {}
        if not native.get("envelope"):
            return result.output
        metadata: dict[str, Any] = {"exit_code": native.get("exit_code", 0)}
        if "duration_seconds" in native:
            metadata["duration_seconds"] = native["duration_seconds"]
        return orjson.dumps({"output": result.output, "metadata": metadata}).decode()


def _freeform(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, dict) and isinstance(value.get("input"), str)
    )


def _image_url(part: Attachment) -> str | None:
    if part.data and part.media_type.startswith("image/") and "*" not in part.media_type:
        return f"data:{part.media_type};base64,{part.data}"
    if part.uri and part.uri.startswith(("http://", "https://", "data:image/")):
        return part.uri
    return None


def _stamp(value: str | None) -> str | None:
    """A timestamp as Codex writes them: UTC with milliseconds and Z."""
    return iso(value) if value else None


def configured_provider(store: Path) -> str:
    """The model provider Codex will resume with: config.toml's `model_provider` (or its
    selected profile's), else Codex's default `openai`."""
    try:
        config = tomllib.loads((store / "config.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return DEFAULT_PROVIDER
    profile = config.get("profile")
    profiles = config.get("profiles")
    if isinstance(profile, str) and isinstance(profiles, dict):
        chosen = profiles.get(profile)
        if isinstance(chosen, dict) and isinstance(chosen.get("model_provider"), str):
            return str(chosen["model_provider"])
    provider = config.get("model_provider")
    return provider if isinstance(provider, str) and provider else DEFAULT_PROVIDER
