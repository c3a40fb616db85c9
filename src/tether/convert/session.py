"""Convert a captured session into a NEW native session of another (or the same) tool.

`prepare` makes one shape every writer can rely on, so that writers only spell things:

- roles user, assistant and tool only: system messages are the source tool's own context
  (environment, reminders) that the target re-creates, so they are dropped and reported;
- consecutive user (or assistant) messages become one turn;
- every tool call is answered by the `tool` message right after its assistant turn (a
  missing result is written as an error result saying so; a result whose call is unknown
  becomes user text): targets reject an unanswered call;
- tool calls are in the target's vocabulary (tether.tools.vocabulary), or stay generic calls
  under their own name where the target accepts those, or become text;
- reasoning keeps its opaque signature only on a round trip to its own tool;
- secrets are redacted when the session goes to another tool (unless asked not to): the
  title, every part (tool inputs value by value) and what native records it keeps;
- the context policy (tether.convert.context) fits it under the target's budget.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tether.convert.context import ContextPolicy, fit
from tether.convert.writers import get_writer, vocabulary
from tether.convert.writers.base import Report, WriteJob, Writer, Written, call_text, result_text
from tether.errors import TetherError
from tether.model import (
    Attachment,
    Message,
    Part,
    Reasoning,
    Role,
    Session,
    Text,
    ToolCall,
    ToolResult,
)
from tether.redact import redact_session
from tether.tools import facts, launch
from tether.tools.facts import find_session
from tether.tools.vocabulary import Vocabulary

NO_RESULT = "(no result was recorded for this tool call)"


class ConvertError(TetherError):
    """Nothing was written; the message says why and what to do."""


@dataclass
class Converted:
    source: Session
    written: Written
    cwd: Path
    report: Report
    resume_command: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": self.written.tool,
            "native_id": self.written.native_id,
            "path": str(self.written.path),
            "paths": [str(path) for path in self.written.paths],
            "cwd": str(self.cwd),
            "resume_command": self.resume_command,
            "source": {
                "id": self.source.id,
                "tool": self.source.tool,
                "native_id": self.source.native_id,
            },
            "report": self.report.as_dict(),
        }


def convert(
    session: Session,
    target: str,
    *,
    store: Path,
    cwd: Path | None = None,
    policy: ContextPolicy | None = None,
    keep_secrets: bool = False,
    native_id: str | None = None,
    now: datetime | None = None,
) -> Converted:
    """Write `session` as a new native session of `target` under its store root `store`;
    on `native_id` (writing a session back under its own id), else on a new one."""
    if native_id is not None and not facts.get(target).valid_id(native_id):
        raise ConvertError(f"{native_id!r} is not a {target} session id: nothing was written")
    writer = get_writer(target)
    folder = resolve_cwd(session, cwd)
    report = Report()
    for message in session.messages:
        report.source_parts["message"] += 1
        report.source_parts.update(part.kind for part in message.parts)
    same_tool = session.tool == target
    prepared = prepare(
        session,
        writer,
        vocabulary(session.tool),
        report,
        policy or ContextPolicy(),
        redact_secrets=not (same_tool or keep_secrets),
    )
    if not any(message.role in ("user", "assistant") for message in prepared.messages):
        raise ConvertError(
            f"session {session.id[:12]} has no user or assistant messages to convert"
        )
    job = WriteJob(
        session=prepared,
        cwd=folder,
        store=store,
        now=now or datetime.now(UTC),
        report=report,
        same_tool=same_tool,
        native_id=native_id,
    )
    written = writer.write(job)
    command = launch.resume_command(target, written.native_id)
    if written.resume_args is not None:
        command = [launch.binary(target), *written.resume_args]
    return Converted(session, written, folder, report, command)


def resolve_cwd(session: Session, cwd: Path | None) -> Path:
    """Where the converted session lives and resumes: given, else the session's own folder."""
    if cwd is not None:
        folder = cwd.expanduser().resolve()
        if not folder.is_dir():
            raise ConvertError(f"{folder} is not a folder")
        return folder
    for candidate in (session.cwd, session.project):
        if candidate and Path(candidate).is_dir():
            return Path(candidate).resolve()
    where = session.cwd or session.project
    if where:
        raise ConvertError(
            f"the session's folder {where} does not exist here: pass --cwd DIR to choose one"
        )
    raise ConvertError("the session records no folder: pass --cwd DIR to choose one")


def store_root(tool: str, env: Mapping[str, str], home: Path) -> Path:
    """Where a new session of `tool` is written (its first store root)."""
    roots = facts.get(tool).store_roots(env, str(home))
    # A tool that keeps its history in each project (Aider) writes below the cwd instead.
    return Path(roots[0]) if roots else home


def own_file(session: Session, env: Mapping[str, str], home: Path) -> str | None:
    """The file the session's own tool resumes it from, where that tool keeps it: None when
    the tool deleted it, or when the session's id is not one the tool can resume (an
    import's, a sub-agent's)."""
    tool_facts = facts.get(session.tool)
    for store in tool_facts.store_roots(env, str(home)):
        found = find_session(tool_facts, store, session.native_id, session.cwd)
        if found is None and session.cwd:
            found = find_session(tool_facts, store, session.native_id)
        if found:
            return found
    return None


# ---------------------------------------------------------------------------------------
# One shape for every writer


def prepare(
    session: Session,
    writer: Writer,
    source_vocabulary: Vocabulary,
    report: Report,
    policy: ContextPolicy,
    redact_secrets: bool,
) -> Session:
    """A copy of `session` in the shape the module docstring describes."""
    same_tool = session.tool == writer.name
    if redact_secrets:
        # before any part becomes text: a tool input is redacted value by value, as JSON
        session, found = redact_session(session)
        if found:
            report.note("secrets were redacted (use --keep-secrets to carry them over)")
    converter = _PartConverter(same_tool, writer, source_vocabulary, report)
    messages: list[Message] = []
    for message in _turns(session.messages, report):
        converter.convert(message)
        _append(messages, message)
    messages = _answer_calls(converter.texted_results(messages), report)
    prepared = copy.copy(session)
    prepared.messages = messages
    if not same_tool:
        prepared.native = {}
    _fill_timestamps(messages, session)
    budget = writer.context_tokens if policy.max_tokens is None else policy.max_tokens
    fit(messages, budget, policy, report)
    return prepared


def _turns(messages: list[Message], report: Report) -> list[Message]:
    """Drop system messages; split tool results from text; merge consecutive turns."""
    out: list[Message] = []
    for original in messages:
        if original.role == "system":
            report.drop("message", "system message of the source tool (the target adds its own)")
            continue
        message = copy.deepcopy(original)
        results: list[Part] = [part for part in message.parts if isinstance(part, ToolResult)]
        rest: list[Part] = [part for part in message.parts if not isinstance(part, ToolResult)]
        if results:
            _append(out, Message("tool", results, message.timestamp))
        if not rest:
            continue
        role: Role = "assistant" if message.role == "assistant" else "user"
        if role == "user":
            for part in rest:
                if isinstance(part, ToolCall | Reasoning):
                    report.downgrade(part.kind, "in a user message")
            rest = [_as_user_part(part) for part in rest]
        message.parts = rest
        message.role = role
        _append(out, message)
    return out


def _as_user_part(part: Part) -> Part:
    if isinstance(part, ToolCall):
        return Text(call_text(part))
    if isinstance(part, Reasoning):
        return Text(part.text)
    return part


def _append(out: list[Message], message: Message) -> None:
    """Merge into the previous message when it has the same role (one turn)."""
    if out and out[-1].role == message.role:
        previous = out[-1]
        previous.parts.extend(message.parts)
        previous.model = previous.model or message.model
        previous.timestamp = previous.timestamp or message.timestamp
        return
    out.append(message)


def _answer_calls(messages: list[Message], report: Report) -> list[Message]:
    """Each assistant turn's calls answered by the tool message right after it, in order."""
    results: dict[str, ToolResult] = {}
    for message in messages:
        for part in message.parts:
            if isinstance(part, ToolResult):
                results.setdefault(part.call_id, part)
    calls = {
        part.id for m in messages for part in m.parts if isinstance(part, ToolCall) and part.id
    }
    out: list[Message] = []
    for message in messages:
        if message.role == "tool":
            orphans = [
                p for p in message.parts if isinstance(p, ToolResult) and p.call_id not in calls
            ]
            for orphan in orphans:
                report.downgrade("tool_result", "its call is not in the session")
                _append(
                    out,
                    Message("user", [Text(result_text(orphan.output))], message.timestamp),
                )
            continue
        out.append(message)
        if message.role != "assistant":
            continue
        answers: list[Part] = []
        for index, part in enumerate(message.parts):
            if not isinstance(part, ToolCall):
                continue
            if not part.id:
                part.id = f"call_tether_{len(out)}_{index}"
            result = results.pop(part.id, None)
            if result is None:
                report.note("a tool call without a recorded result was answered with an error")
                result = ToolResult(part.id, NO_RESULT, is_error=True)
            answers.append(result)
        if answers:
            out.append(Message("tool", answers, message.timestamp))
    return [message for message in out if message.parts]


_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")


class _PartConverter:
    """Texts, reasoning, calls and attachments in the target's terms."""

    def __init__(self, same_tool: bool, writer: Writer, source: Vocabulary, report: Report) -> None:
        self.same_tool = same_tool
        self.writer = writer
        self.source = source
        self.report = report
        self.texted: dict[str, str] = {}
        """Calls written as text (the target has no form for them): id -> name."""

    def convert(self, message: Message) -> None:
        parts: list[Part] = []
        for part in message.parts:
            if isinstance(part, Text):
                if part.text.strip():
                    parts.append(part if self.same_tool else Text(part.text))
            elif isinstance(part, Reasoning):
                parts.extend(self._reasoning(part))
            elif isinstance(part, ToolCall):
                parts.append(self._call(part))
            elif isinstance(part, ToolResult):
                parts.append(
                    part
                    if self.same_tool
                    else ToolResult(_safe_id(part.call_id), part.output, part.is_error)
                )
            elif self.same_tool:
                parts.append(part)
            else:
                parts.append(Attachment(part.media_type, part.name, part.data, part.uri))
        message.parts = parts
        if not self.same_tool:
            message.native = {}
            message.native_id = None

    def _reasoning(self, part: Reasoning) -> list[Part]:
        if self.same_tool:
            return [part]
        if not part.text.strip():
            self.report.drop("reasoning", "opaque (encrypted or signed only): its own tool's")
            return []
        if part.signature:
            self.report.note(
                "reasoning signatures were dropped: only the tool that made them may replay them"
            )
        return [Reasoning(part.text)]

    def _call(self, part: ToolCall) -> Part:
        if self.same_tool:
            return part
        canonical = self.source.decode(part.name, part.input)
        encoded = self.writer.vocabulary.encode(canonical) if canonical else None
        native: dict[str, Any] = {"kind": canonical.kind} if canonical else {}
        call_id = _safe_id(part.id)
        if encoded is not None:
            self.report.map("tool_call", f"{part.name} -> {encoded[0]}")
            return ToolCall(call_id, encoded[0], encoded[1], native)
        if self.writer.accepts_generic_calls:
            self.report.map("tool_call", f"{part.name} (generic: no counterpart)")
            inputs = part.input if isinstance(part.input, dict) else {"input": part.input}
            return ToolCall(call_id, part.name, inputs, native)
        self.report.downgrade("tool_call", f"{part.name}: no counterpart in {self.writer.name}")
        self.texted[call_id] = part.name
        return Text(call_text(part))

    def texted_results(self, messages: list[Message]) -> list[Message]:
        """Results of calls written as text become user text too."""
        if not self.texted:
            return messages
        out: list[Message] = []
        for message in messages:
            if message.role != "tool":
                _append(out, message)
                continue
            kept = [p for p in message.parts if getattr(p, "call_id", None) not in self.texted]
            texts: list[Part] = []
            for part in message.parts:
                if isinstance(part, ToolResult) and part.call_id in self.texted:
                    self.report.downgrade("tool_result", "its call was written as text")
                    name = self.texted[part.call_id]
                    texts.append(Text(f"[output of {name}]\n{part.output}"))
            if kept:
                _append(out, Message("tool", kept, message.timestamp))
            if texts:
                _append(out, Message("user", texts, message.timestamp))
        return out


def _safe_id(call_id: str) -> str:
    """Call ids every target accepts: [A-Za-z0-9_-], never empty."""
    cleaned = _ID_CHARS.sub("_", call_id or "")
    return cleaned or "call_tether"


def _fill_timestamps(messages: list[Message], session: Session) -> None:
    """Every message gets a timestamp: its own, else the previous one, else the session's."""
    last = session.created_at or session.updated_at
    if last is None:
        last = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for message in messages:
        if message.timestamp:
            last = message.timestamp
        else:
            message.timestamp = last
