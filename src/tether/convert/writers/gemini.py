"""Write a session that `gemini --resume ID` and `gemini --resume latest` (in its folder)
continue (research/native-formats.md §3, real-clis-offline.md).

One JSONL log `<store>/tmp/<project>/chats/session-<YYYY-MM-DDTHH-MM>-<id8>.jsonl` (the
folder: tether.convert.writers.gemini_project): the metadata line (sessionId, projectHash =
sha256(cwd), startTime and lastUpdated = the write time, so that `--resume latest` picks it
and the CLI's 30-day retention counts from now), then one `user` record per user turn and
one `gemini` record per model turn, whose `toolCalls` carry each call with its result as
`functionResponse` parts: the CLI replays a call and its result from that one record (the
CLI itself also logs the result again as a user record, which makes it send the result
twice on resume; tether writes it once). Reasoning becomes the record's `thoughts`, the
form in which the CLI replays its own thinking; signed thought parts replay only on a
round trip.

Automatic session clean-up (on by default) must never take the session: resuming a
session in a later minute than its file's name leaves a stub `session-<now>-<id8>.jsonl`
(metadata and context only), which the next start judges invalid; if <id8> is 8 letters
or digits, the clean-up then deletes EVERY `session-*-<id8>.json[l]` file, the session's
included (packages/cli/src/utils/sessionCleanup.ts). tether's ids are UUIDs with `_` for
their fifth character, so no stub of theirs matches that pattern (the clean-up removes the
stub alone); for an id chosen by the caller that would match, the file name ends in a
suffix of its own instead (`-<id8>-<7 chars of id8>_.jsonl`), which no stub can share.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson

from tether.convert.writers.base import (
    WriteError,
    WriteJob,
    Written,
    attachment_text,
    part_text,
    write_session_file,
)
from tether.convert.writers.gemini_content import function_call, function_response, thought
from tether.convert.writers.gemini_project import project_folder, project_hash
from tether.model import Attachment, Message, Part, Reasoning, Text, ToolCall, ToolResult
from tether.tools.vocabulary import one_line, shorten
from tether.tools.vocabulary.gemini import vocabulary  # noqa: F401 (a Writer names its table)

name = "gemini"
context_tokens = 500_000
"""Under the CLI's own compression threshold (half of the 1M-token window)."""
accepts_generic_calls = True
"""The CLI replays any recorded call (MCP tools that are gone included)."""
CLI_VERSION = "0.61.0"
"""The Gemini CLI version these files are proven against (tests/e2e)."""

SHORT_ID = re.compile(r"[A-Za-z0-9]{8}")
"""The 8-char suffix the clean-up matches (sessionCleanup.ts SHORT_ID_REGEX)."""
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_FUNCTION_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")
FUNCTION_NAME_MAX = 64
IGNORED_PREFIXES = ("/", "?", "<session_context>", "<hook_context>")
"""User text the CLI does not replay (sessionUtils.isIgnoredUserContent)."""
KEEP_PREFIX = "\u200b"
"""Zero-width space: keeps a user turn such as "/tmp/x fails" from looking like a command
(JavaScript's trim() keeps it)."""
DISPLAY_MAX = 2000
CALL_NATIVE = ("status", "timestamp", "displayName", "agentId", "renderOutputAsMarkdown")
"""Fields of a recorded call that only a round trip replays (what tools/gemini.py keeps)."""
TITLE_MAX = 100
INLINE_TYPES = ("image/", "audio/", "video/", "application/pdf", "text/plain")
DISPLAY_NAMES = {
    "run_shell_command": "Shell",
    "read_file": "ReadFile",
    "write_file": "WriteFile",
    "replace": "Edit",
    "list_directory": "ReadFolder",
    "glob": "FindFiles",
    "grep_search": "SearchText",
    "google_web_search": "GoogleSearch",
    "web_fetch": "WebFetch",
    "write_todos": "WriteTodos",
}


# -- the session file ----------------------------------------------------------------------


def new_session_id() -> str:
    """A UUID whose fifth character is `_`: see the module docstring (clean-up)."""
    text = str(uuid.uuid4())
    return f"{text[:4]}_{text[5:]}"


def file_name(native_id: str, now: datetime) -> str:
    """`session-<minute>-<id8>.jsonl`, unless a stub of this id could share its suffix."""
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H-%M")
    short = _FILENAME_UNSAFE.sub("_", native_id)[:8]
    if SHORT_ID.fullmatch(short):
        return f"session-{stamp}-{short}-{short[:7]}_.jsonl"
    return f"session-{stamp}-{short}.jsonl"


def write(job: WriteJob) -> Written:
    native_id = job.native_id or new_session_id()
    folder = project_folder(job.store, job.cwd)
    path = folder.path / "chats" / file_name(native_id, job.now)
    records = list(_Records(job).records())
    if not records:
        raise WriteError("nothing to write: the session has no messages Gemini can replay")
    now = _timestamp(job.now)
    metadata: dict[str, Any] = {
        "sessionId": native_id,
        "projectHash": project_hash(folder.cwd),
        "startTime": now,
        "lastUpdated": now,
        "kind": "main",
    }
    summary = one_line(job.session.title or "", TITLE_MAX)
    if summary:
        metadata["summary"] = summary
    lines = [orjson.dumps(metadata), *(orjson.dumps(record) for record in records)]
    write_session_file(path, b"\n".join(lines) + b"\n")
    marker = folder.claim_marker()
    return Written(name, native_id, path, [path, *([marker] if marker else [])])


class _Records:
    """The message records of one session, in order."""

    def __init__(self, job: WriteJob) -> None:
        self.messages = job.session.messages
        self.same_tool = job.same_tool
        self.report = job.report

    def records(self) -> Iterator[dict[str, Any]]:
        messages = self.messages
        index = 0
        while index < len(messages):
            message = messages[index]
            results: list[ToolResult] = []
            if message.role == "assistant" and index + 1 < len(messages):
                after = messages[index + 1]
                if after.role == "tool":
                    results = [p for p in after.parts if isinstance(p, ToolResult)]
                    index += 1
            index += 1
            record = self._record(message, results)
            if record is not None:
                yield record

    def _record(self, message: Message, results: list[ToolResult]) -> dict[str, Any] | None:
        if message.role == "assistant":
            return self._gemini(message, results)
        if message.role == "tool":  # prepare puts every tool message right after its calls
            self.report.downgrade("tool_result", "no call before it")
            message = Message(
                "user", [Text(part_text(p)) for p in message.parts], message.timestamp
            )
        return self._user(message)

    def _user(self, message: Message) -> dict[str, Any] | None:
        content = [part for p in message.parts for part in self._user_parts(p)]
        if not content:
            return None
        if not self.same_tool and _ignored(content):
            self.report.note(
                "a user turn Gemini would take for a command (/ or ?) got a zero-width prefix"
            )
            content[0] = {"text": KEEP_PREFIX + content[0]["text"]}
        record = _base(message, "user")
        record["content"] = content
        display = message.native.get("displayContent") if self.same_tool else None
        if display is not None:
            record["displayContent"] = display
        return record

    def _user_parts(self, part: Part) -> list[dict[str, Any]]:
        if isinstance(part, Text):
            return [{"text": part.text}]
        if isinstance(part, Attachment):
            return [self._attachment(part)]
        self.report.downgrade(part.kind, "in a user turn")  # prepare leaves none here
        return [{"text": part_text(part)}]

    def _attachment(self, part: Attachment) -> dict[str, Any]:
        if part.data and part.media_type.startswith(INLINE_TYPES):
            inline: dict[str, Any] = {"mimeType": part.media_type, "data": part.data}
            if part.name and self.same_tool:
                inline["displayName"] = part.name
            return {"inlineData": inline}
        if part.uri and self.same_tool:
            return {"fileData": {"mimeType": part.media_type, "fileUri": part.uri}}
        self.report.downgrade("attachment", "not inline data Gemini takes")
        return {"text": attachment_text(part)}

    def _gemini(self, message: Message, results: list[ToolResult]) -> dict[str, Any] | None:
        by_call = {result.call_id: result for result in results}
        texts: list[dict[str, Any]] = []
        thoughts: list[dict[str, Any]] = []
        signed: list[dict[str, Any]] = []
        calls: list[ToolCall] = []
        for part in message.parts:
            if isinstance(part, Text):
                texts.append({"text": part.text})
            elif isinstance(part, Reasoning):
                self._reasoning(part, message, thoughts, signed)
            elif isinstance(part, ToolCall):
                calls.append(part)
            elif isinstance(part, Attachment):
                self.report.downgrade("attachment", "in a model turn")
                texts.append({"text": attachment_text(part)})
        if not (texts or thoughts or signed or calls):
            return None
        records = [self._call(call, by_call.get(call.id), message) for call in calls]
        record = _base(message, "gemini")
        if signed:
            # Thought parts in `content` make the CLI replay `content` as it is: the calls
            # must be in it too (`toolCalls` still carry their results).
            record["content"] = [
                *signed,
                *texts,
                *(function_call(c, r["name"]) for c, r in zip(calls, records, strict=True)),
            ]
        else:
            record["content"] = texts or ""
        record["thoughts"] = thoughts
        tokens = _tokens(message.usage)
        if tokens:
            record["tokens"] = tokens
        if message.model:
            record["model"] = message.model
        if records:
            record["toolCalls"] = records
        return record

    def _reasoning(
        self,
        part: Reasoning,
        message: Message,
        thoughts: list[dict[str, Any]],
        signed: list[dict[str, Any]],
    ) -> None:
        if self.same_tool and part.signature:
            signed.append(thought(part.text, part.signature))
            return
        if not part.text.strip():
            return
        subject = str(part.native.get("subject") or "") if self.same_tool else ""
        description = part.text
        if subject and part.text.startswith(subject):
            description = part.text[len(subject) :].removeprefix("\n\n")
        else:
            subject = ""
        if not self.same_tool:
            self.report.map("reasoning", "as Gemini thoughts")
        stamp = part.native.get("timestamp") if self.same_tool else None
        thoughts.append(
            {
                "subject": subject,
                "description": description,
                "timestamp": stamp or message.timestamp,
            }
        )

    def _call(self, part: ToolCall, result: ToolResult | None, message: Message) -> dict[str, Any]:
        call_name = part.name if self.same_tool else self._function_name(part.name)
        args = part.input if isinstance(part.input, dict) else {"input": part.input}
        if result is None:  # prepare answers every call: never leave one unanswered here
            result = ToolResult(part.id, "(no result was recorded for this tool call)", True)
        call: dict[str, Any] = {
            "id": part.id,
            "name": call_name,
            "args": args,
            "result": [function_response(result, call_name)],
            "status": "error" if result.is_error else "success",
            "timestamp": message.timestamp,
            "resultDisplay": shorten(result.output, DISPLAY_MAX),
            "description": _describe(args),
            "displayName": DISPLAY_NAMES.get(call_name, call_name),
            "renderOutputAsMarkdown": False,
        }
        if self.same_tool:
            call.update({k: v for k, v in part.native.items() if k in CALL_NATIVE})
        return call

    def _function_name(self, raw: str) -> str:
        """A name the Gemini API takes: [A-Za-z_][A-Za-z0-9_.:-]*, at most 64 characters."""
        cleaned = _FUNCTION_NAME_UNSAFE.sub("_", raw)
        if not re.match(r"[A-Za-z_]", cleaned):
            cleaned = "_" + cleaned
        cleaned = cleaned[:FUNCTION_NAME_MAX]
        if cleaned != raw:
            self.report.note(f"tool name {raw!r} became {cleaned!r} (Gemini's function names)")
        return cleaned


def _base(message: Message, kind: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "timestamp": message.timestamp, "type": kind}


def _ignored(content: list[dict[str, Any]]) -> bool:
    first = content[0].get("text")
    return isinstance(first, str) and first.strip().startswith(IGNORED_PREFIXES)


def _timestamp(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _tokens(usage: dict[str, Any] | None) -> dict[str, int] | None:
    """Gemini's token counts from tether's usage names (and other tools' own)."""
    if not usage:
        return None
    names = {
        "input": ("input_tokens", "input", "prompt_tokens"),
        "output": ("output_tokens", "output", "completion_tokens"),
        "cached": ("cached_tokens", "cache_read_input_tokens", "cached_input_tokens"),
        "thoughts": ("reasoning_tokens", "reasoning_output_tokens"),
        "tool": ("tool_tokens",),
    }
    tokens = {
        ours: next((v for k in keys if type(v := usage.get(k)) is int), 0)
        for ours, keys in names.items()
    }
    if not any(tokens.values()):
        return None
    total = usage.get("total_tokens")
    tokens["total"] = total if type(total) is int else tokens["input"] + tokens["output"]
    return tokens


def _describe(args: dict[str, Any]) -> str:
    """What the CLI shows beside the tool's name: its command, path or pattern."""
    for key in ("description", "command", "file_path", "dir_path", "pattern", "query", "prompt"):
        value = args.get(key)
        if isinstance(value, str) and value:
            return one_line(value, DISPLAY_MAX)
    return ""
