"""The summary of one session, built in one pass over its messages (a 50 MB session is never
held whole): files, commands, tests, packages, errors, duration, tokens."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tether.model import Message, Session, ToolCall, ToolResult
from tether.summary import usage
from tether.summary.calls import Action, action, error_line, exit_code
from tether.summary.packages import Install, installs
from tether.summary.testruns import TestRun, parse_test_run

COMMAND_MAX = 500
"""A command is kept to this many characters (a heredoc can run to pages)."""
HOWS = ("read", "write", "edit", "delete")


@dataclass(slots=True)
class Command:
    command: str
    exit_code: int | None
    failed: bool
    timestamp: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "exit_code": self.exit_code,
            "failed": self.failed,
            "timestamp": self.timestamp,
        }


@dataclass(slots=True)
class Summary:
    """What one session did. Files keep the order they were first touched in."""

    session: dict[str, Any]
    files: dict[str, dict[str, int]] = field(default_factory=dict)
    """path -> how (read, write, edit, delete) -> times."""
    commands: list[Command] = field(default_factory=list)
    tests: list[TestRun] = field(default_factory=list)
    packages: list[Install] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=usage.zero)
    tokens_by_model: dict[str, dict[str, int]] = field(default_factory=dict)
    started_at: str | None = None
    ended_at: str | None = None

    @property
    def duration_seconds(self) -> float | None:
        if not self.started_at or not self.ended_at:
            return None
        start, end = _instant(self.started_at), _instant(self.ended_at)
        return None if start is None or end is None else max((end - start).total_seconds(), 0)

    def touched(self, how: str) -> list[str]:
        return [path for path, hows in self.files.items() if hows.get(how)]

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `tether summary ID --json` (README, JSON)."""
        return {
            "session": self.session,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_seconds": self.duration_seconds,
            "counts": dict(self.counts),
            "files": {how: self.touched(how) for how in HOWS},
            "commands": [command.as_dict() for command in self.commands],
            "tests": [run.as_dict() for run in self.tests],
            "packages": [install.as_dict() for install in self.packages],
            "errors": list(self.errors),
            "tokens": dict(self.tokens),
            "tokens_by_model": {model: dict(t) for model, t in self.tokens_by_model.items()},
        }


def summarize(session: Session | dict[str, Any], messages: Iterable[Message]) -> Summary:
    """The summary of a session (its fields, as `tether list --json` prints them) from its
    messages in order; a Session's own messages when `messages` is its list."""
    info = session if isinstance(session, dict) else _info(session)
    builder = _Builder(Summary(info), str(info["tool"]), _fallback_model(info))
    for message in messages:
        builder.message(message)
    builder.finish()
    return builder.summary


def _info(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "tool": session.tool,
        "native_id": session.native_id,
        "project": session.project,
        "cwd": session.cwd,
        "title": session.title,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
        "models": list(session.models),
    }


def _fallback_model(info: dict[str, Any]) -> str:
    models = info.get("models") or []
    return str(models[0]) if models else "unknown"


class _Builder:
    """Pairs each call with its result (results may come messages later), then counts."""

    def __init__(self, summary: Summary, tool: str, model: str) -> None:
        self.summary = summary
        self.tool = tool
        self.model = model
        self.pending: dict[str, tuple[ToolCall, Action, str | None]] = {}
        self.counts = {"user_messages": 0, "assistant_messages": 0, "tool_calls": 0}

    def message(self, message: Message) -> None:
        stamp = message.timestamp
        if stamp:
            self.summary.started_at = min(self.summary.started_at or stamp, stamp)
            self.summary.ended_at = max(self.summary.ended_at or stamp, stamp)
        if message.role in ("user", "assistant") and any(
            part.kind == "text" for part in message.parts
        ):
            self.counts[f"{message.role}_messages"] += 1
        if message.usage:
            counted = usage.tokens(message.usage)
            usage.add(self.summary.tokens, counted)
            by_model = self.summary.tokens_by_model.setdefault(message.model or self.model, {})
            usage.add(by_model, counted)
        for part in message.parts:
            if isinstance(part, ToolCall):
                self.call(part, stamp)
            elif isinstance(part, ToolResult):
                self.result(part)

    def call(self, call: ToolCall, stamp: str | None) -> None:
        self.counts["tool_calls"] += 1
        done = action(self.tool, call)
        for how, path in done.files:
            hows = self.summary.files.setdefault(path, {})
            hows[how] = hows.get(how, 0) + 1
        if call.id in self.pending:  # a call id used twice: the first got no result
            self.settle(*self.pending.pop(call.id), None)
        self.pending[call.id] = (call, done, stamp)

    def result(self, result: ToolResult) -> None:
        pending = self.pending.pop(result.call_id, None)
        if pending is not None:
            self.settle(*pending, result)

    def settle(
        self, call: ToolCall, done: Action, stamp: str | None, result: ToolResult | None
    ) -> None:
        code = exit_code(result) if done.command is not None else None
        failed = bool(result and result.is_error) or (code is not None and code != 0)
        if done.command is not None:
            self.command(done.command, code, failed, stamp, result)
        if failed and result is not None:
            error = {
                "tool_call": call.name,
                "message": error_line(result.output, code),
                "exit_code": code,
            }
            if done.command is not None:
                error["command"] = _short(done.command)
            self.summary.errors.append(error)

    def command(
        self,
        command: str,
        code: int | None,
        failed: bool,
        stamp: str | None,
        result: ToolResult | None,
    ) -> None:
        self.summary.commands.append(Command(_short(command), code, failed, stamp))
        output = result.output if result is not None else ""
        run = parse_test_run(command, output, code)
        if run is not None:
            run.command = _short(run.command)
            self.summary.tests.append(run)
        self.summary.packages.extend(installs(command, code))

    def finish(self) -> None:
        for call, done, stamp in list(self.pending.values()):
            self.settle(call, done, stamp, None)
        self.pending.clear()
        self.summary.counts = self.counts


def _short(command: str) -> str:
    command = command.strip()
    return command if len(command) <= COMMAND_MAX else command[: COMMAND_MAX - 1] + "…"


def _instant(stamp: str) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
