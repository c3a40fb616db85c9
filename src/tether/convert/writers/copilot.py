"""Write a session that `copilot --resume=ID` and `copilot --continue` continue (native-formats §4).

A new folder `<store>/session-state/<uuid>/` with `events.jsonl` (events `{type, data, id,
timestamp, parentId}` chained by parentId, opening with `session.start`) and `workspace.yaml`
(id, cwd, git facts, the name the picker and `--resume=<name>` show). Nothing else: verified
with Copilot CLI 1.0.102, the CLI adds a session to its `session-store.db` index itself when it
resumes it, lists it in its picker from the folder alone, and `--continue` takes the most
recently modified session folder (any cwd), which a new write is.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tether.convert.writers.base import Report, WriteError, WriteJob, Written, attachment_text
from tether.files import write_new
from tether.model import Attachment, Message, Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools.vocabulary import one_line
from tether.tools.vocabulary.copilot import (
    vocabulary,  # noqa: F401 (a Writer names its table)
    whole_number,
)

name = "copilot"
context_tokens = 100_000
"""Copilot's own models take 128k-token prompts and more (bring-your-own-key: 64k); past
that the CLI truncates or compacts by itself."""
accepts_generic_calls = True
"""Verified: 1.0.102 replays a call to a tool it does not declare, with its result."""
CLI_VERSION = "1.0.102"
"""The Copilot CLI version these files are proven against (tests/e2e)."""
PRODUCER = "copilot-agent"
NAME_MAX = 100
_FUNCTION_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_PLAIN_YAML = re.compile(r"[A-Za-z_./-][A-Za-z0-9_./-]*")
_YAML_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n"})


# --- writing ---------------------------------------------------------------------------


def write(job: WriteJob) -> Written:
    native_id = job.native_id or str(uuid.uuid4())
    state = job.store / "session-state"
    folder = state / native_id
    events = _Events(job, native_id).build()
    workspace = _workspace(job, native_id)
    if (state / f"{native_id}.jsonl").exists():
        raise WriteError(f"a Copilot session {native_id} exists already: not overwritten")
    try:
        state.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700)
    except FileExistsError as exc:
        raise WriteError(f"{folder} exists already: not overwritten") from exc
    created: list[Path] = []
    files = ((folder / "workspace.yaml", workspace), (folder / "events.jsonl", events))
    try:
        for path, data in files:
            write_new(path, data)
            created.append(path)
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        folder.rmdir()
        raise
    return Written(name, native_id, folder / "events.jsonl", created[::-1])


class _Events:
    """The event log: every event's parentId is the id of the one before it."""

    def __init__(self, job: WriteJob, native_id: str) -> None:
        self.job = job
        self.native_id = native_id
        self.lines: list[bytes] = []
        self.parent: str | None = None
        self.calls: dict[str, dict[str, Any]] = {}
        """Requests written, by call id: their results' start events repeat name and arguments."""
        self.interaction: str | None = None
        self.turn = 0
        self.open_turn: str | None = None

    def add(self, kind: str, data: dict[str, Any], stamp: str) -> None:
        event_id = str(uuid.uuid4())
        record = {"type": kind, "data": data, "id": event_id, "timestamp": stamp}
        self.lines.append(orjson.dumps({**record, "parentId": self.parent}))
        self.parent = event_id

    def build(self) -> bytes:
        session = self.job.session
        start = _stamp(_first_stamp(session), self.job.now)
        self.add("session.start", self._start(start), start)
        conversation = 0
        stamp = start
        for message in session.messages:
            stamp = _stamp(message.timestamp, self.job.now)
            if message.role == "tool":
                self._results(message, stamp)
                continue
            self._end_turn(stamp)
            if message.role == "user":
                conversation += self._user(message, stamp)
            elif message.role == "assistant":
                conversation += self._assistant(message, stamp)
        self._end_turn(stamp)
        if not conversation:
            raise WriteError("nothing to write: the session has no messages Copilot can replay")
        return b"\n".join(self.lines) + b"\n"

    def _start(self, start: str) -> dict[str, Any]:
        session = self.job.session
        data: dict[str, Any] = {
            "sessionId": self.native_id,
            "version": 1,
            "producer": PRODUCER,
            "copilotVersion": CLI_VERSION,
            "startTime": start,
        }
        model = _selected_model(session) if self.job.same_tool else None
        if model:
            # only its own: the CLI resumes with this model, and a foreign name is no model
            data["selectedModel"] = model
        data["context"] = {"cwd": self.job.cwd_text, **_git_context(session, self.job.cwd)}
        return data

    def _user(self, message: Message, stamp: str) -> int:
        texts: list[str] = []
        attachments: list[dict[str, Any]] = []
        for part in message.parts:
            if isinstance(part, Text):
                texts.append(part.text)
            elif isinstance(part, Attachment):
                native = _attachment(part, self.job.same_tool, self.job.report)
                if native is None:
                    texts.append(attachment_text(part))
                else:
                    attachments.append(native)
        content = "\n\n".join(texts)
        if not content and not attachments:
            return 0
        self.interaction = str(uuid.uuid4())
        self.turn = 0
        data: dict[str, Any] = {
            "content": content,
            # what the CLI itself sends the model: the time the message was written, first
            "transformedContent": f"<current_datetime>{_wire_time(stamp)}</current_datetime>"
            f"\n\n{content}",
            "messageId": str(uuid.uuid4()),
            "interactionId": self.interaction,
        }
        if attachments:
            data["attachments"] = attachments
        self.add("user.message", data, stamp)
        return 1

    def _assistant(self, message: Message, stamp: str) -> int:
        texts: list[str] = []
        thoughts: list[str] = []
        requests: list[dict[str, Any]] = []
        for part in message.parts:
            if isinstance(part, Text):
                texts.append(part.text)
            elif isinstance(part, Reasoning) and part.text.strip():
                thoughts.append(part.text)
            elif isinstance(part, ToolCall):
                requests.append(self._request(part))
            elif isinstance(part, Attachment):
                self.job.report.downgrade("attachment", "an assistant attachment")
                texts.append(attachment_text(part))
        if not (texts or thoughts or requests):
            return 0
        turn_id = str(self.turn)
        self.turn += 1
        turn: dict[str, Any] = {"turnId": turn_id}
        if self.interaction:
            turn["interactionId"] = self.interaction
        self.add("assistant.turn_start", turn, stamp)
        data: dict[str, Any] = {
            "messageId": str(uuid.uuid4()),
            "content": "\n\n".join(texts),
            "toolRequests": requests,
        }
        if message.model:
            data["model"] = message.model
        if thoughts:
            if not self.job.same_tool:
                self.job.report.map("reasoning", "reasoningText (Copilot's own, readable form)")
            data["reasoningText"] = "\n\n".join(thoughts)
        tokens = (message.usage or {}).get("output_tokens")
        if self.job.same_tool and whole_number(tokens):
            data["outputTokens"] = tokens
        self.add("assistant.message", {**data, **turn}, stamp)
        self.open_turn = turn_id
        return 1

    def _request(self, call: ToolCall) -> dict[str, Any]:
        same = self.job.same_tool
        arguments = call.input if same or isinstance(call.input, dict) else {"input": call.input}
        tool = call.name if same else _function_name(call.name)
        request: dict[str, Any] = {
            "toolCallId": call.id,
            "name": tool,
            "arguments": arguments,
            "type": "function",
        }
        if same:
            for key in ("type", "intentionSummary", "toolTitle", "mcpServerName", "mcpToolName"):
                if call.native.get(key):
                    request[key] = call.native[key]
        self.calls[call.id] = request
        return request

    def _results(self, message: Message, stamp: str) -> None:
        for part in message.parts:
            if not isinstance(part, ToolResult):
                continue
            request = self.calls.get(part.call_id, {})
            turn = {"turnId": self.open_turn} if self.open_turn else {}
            start: dict[str, Any] = {
                "toolCallId": part.call_id,
                "toolName": request.get("name", "unknown"),
                "arguments": request.get("arguments", {}),
            }
            self.add("tool.execution_start", {**start, **turn}, stamp)
            complete = _complete(part, self.job.same_tool)
            self.add("tool.execution_complete", {**complete, **turn}, stamp)

    def _end_turn(self, stamp: str) -> None:
        if self.open_turn is not None:
            self.add("assistant.turn_end", {"turnId": self.open_turn}, stamp)
            self.open_turn = None


def _complete(result: ToolResult, same_tool: bool) -> dict[str, Any]:
    content: dict[str, Any] = {"content": result.output}
    short = result.native.get("content")
    if same_tool and isinstance(short, str) and short != result.output:
        content = {"content": short, "detailedContent": result.output}
    data: dict[str, Any] = {
        "toolCallId": result.call_id,
        "success": not result.is_error,
        "result": content,
    }
    if result.is_error:
        # what the CLI sends the model for a failed call (verified): error.message
        data["error"] = {"message": result.output or "the tool call failed"}
    return data


def _attachment(part: Attachment, same_tool: bool, report: Report) -> dict[str, Any] | None:
    """Copilot's own attachment, or None to write it as text. Only inline images replay to
    the model (verified: as image_url); a file or folder is read when the message is sent."""
    label = part.name or (Path(part.uri).name if part.uri else None)
    if part.data and part.media_type.startswith("image/"):
        blob: dict[str, Any] = {"type": "blob", "data": part.data, "mimeType": part.media_type}
        if label:
            blob["displayName"] = label
        if not same_tool:
            report.map("attachment", "inline image -> blob")
        return blob
    kind = part.native.get("type")
    if same_tool and kind in ("file", "directory") and part.uri:
        native: dict[str, Any] = {"type": kind, "path": part.uri, "displayName": label}
        if isinstance(part.native.get("lineRange"), dict):
            native["lineRange"] = part.native["lineRange"]
        return native
    report.downgrade("attachment", "not an inline image: Copilot reads files when sent")
    return None


def _function_name(tool: str) -> str:
    """A function name every model API accepts (letters, digits, `_`, `-`, 64 at most)."""
    return _FUNCTION_CHARS.sub("_", tool)[:64] or "tool"


def _selected_model(session: Session) -> str | None:
    for message in reversed(session.messages):
        if message.role == "assistant" and message.model:
            return message.model
    model = session.native.get("selectedModel")
    return model if isinstance(model, str) and model else None


def _git_context(session: Session, cwd: Path) -> dict[str, str]:
    """The source's git facts, when the session resumes inside the repository they are of."""
    root = session.project
    if not root or not (session.git_branch or session.git_commit):
        return {}
    if not cwd.is_relative_to(Path(root).resolve()):
        return {}
    facts = {"gitRoot": str(Path(root).resolve())}
    if session.git_branch:
        facts["branch"] = session.git_branch
    if session.git_commit:
        facts["headCommit"] = session.git_commit
    return facts


def _workspace(job: WriteJob, native_id: str) -> bytes:
    """workspace.yaml in the order the CLI writes it; `name` is what its picker shows."""
    session = job.session
    git = _git_context(session, job.cwd)
    fields: list[tuple[str, str]] = [("id", native_id), ("cwd", _yaml(job.cwd_text))]
    if "gitRoot" in git:
        fields.append(("git_root", _yaml(git["gitRoot"])))
    if "branch" in git:
        fields.append(("branch", _yaml(git["branch"])))
    fields += [
        ("client_name", "github/cli"),
        ("name", _yaml(_title(session))),
        ("user_named", "false"),
        ("summary_count", "0"),
        ("fork_count", "0"),
        ("created_at", _stamp(_first_stamp(session), job.now)),
        ("updated_at", _stamp(None, job.now)),
    ]
    return "".join(f"{key}: {value}\n" for key, value in fields).encode()


def _title(session: Session) -> str:
    if session.title and session.title.strip():
        return one_line(session.title, NAME_MAX)
    for message in session.messages:
        if message.role == "user":
            for part in message.parts:
                if isinstance(part, Text) and part.text.strip():
                    return one_line(part.text, NAME_MAX)
    return f"{session.tool} session {session.native_id[:8]}"


def _yaml(value: str) -> str:
    """A plain YAML scalar when it reads back as this string, else a double-quoted one (JSON's
    string syntax is YAML's double-quoted syntax)."""
    if _PLAIN_YAML.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    return orjson.dumps(value).decode()


def _first_stamp(session: Session) -> str | None:
    for message in session.messages:
        if message.timestamp:
            return message.timestamp
    return session.created_at


def _stamp(value: str | None, now: datetime) -> str:
    """ISO 8601 UTC with milliseconds and Z, as the CLI writes it; `now` when unreadable."""
    when = now
    if value:
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            when = now
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _wire_time(stamp: str) -> str:
    """`2026-11-21T20:10:28.360Z` as the CLI puts it in <current_datetime>: `…360+00:00`."""
    return stamp.removesuffix("Z") + "+00:00"
