"""Write a session that `qwen --resume ID` and `qwen --continue` (in its folder) continue
(research/native-formats.md §11; proven with Qwen Code 0.24.4 in tests/e2e).

One JSONL file `<store>/projects/<cwd, each character not an ASCII letter or digit made
"-">/chats/<uuid>.jsonl` of ChatRecords chained by uuid/parentUuid (null on the first), as
the CLI writes them: a `user` record per user turn, an `assistant` record per model turn
(a Gemini Content, role "model": thought parts, text, functionCall parts), then one
`tool_result` record per call answering it (a functionResponse part, and the
`toolCallResult` the CLI keeps beside it). The CLI resumes a file only if its first
record's `cwd` is the folder it runs in (its project hash), and `--continue` takes the
newest file of the folder's chats (by mtime): a new file is the newest. Its session ids must
be UUIDs (`--resume` and the chats listing reject other names). Reasoning becomes thought
parts, the CLI's own form (no signature to keep: the OpenAI-compatible APIs it talks to
take none). A title is a `custom_title` system record at the end of the chain.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from tether.convert.writers.base import (
    Report,
    WriteError,
    WriteJob,
    Written,
    attachment_text,
    part_text,
    write_session_file,
)
from tether.convert.writers.gemini_content import function_call, function_response, thought
from tether.model import Attachment, Message, Part, Reasoning, Text, ToolCall, ToolResult
from tether.tools.facts import qwen as facts
from tether.tools.vocabulary import one_line, shorten
from tether.tools.vocabulary.qwen import vocabulary  # noqa: F401 (a Writer names its table)

name = "qwen"
context_tokens = 100_000
"""Well under the window of the models Qwen Code runs (128k and up) and its own compression
threshold (70% of the window)."""
accepts_generic_calls = True
"""The CLI replays any recorded function call, a tool it does not have included (tests/e2e)."""
CLI_VERSION = "0.24.4"
"""The Qwen Code version these files are proven against (tests/e2e)."""
DISPLAY_MAX = 2000
INLINE_TYPES = ("image/", "audio/", "video/", "application/pdf")
TITLE_MAX = 100


NAME_MAX = 255
"""The longest file name (in bytes) Linux and macOS file systems take."""


# -- the session file ----------------------------------------------------------------------


def project_dir(store: Path, cwd: Path) -> Path:
    """The CLI's folder for `cwd` (tether.tools.facts.qwen), which it never shortens: for a
    folder whose name comes out longer than a file name may be, the CLI cannot keep its
    sessions either."""
    name = facts.folder_name(str(cwd))
    if len(name.encode()) > NAME_MAX:
        raise WriteError(
            f"Qwen Code keeps no session for {cwd}: its name for that folder is"
            f" {len(name)} characters, over the {NAME_MAX} a file name may have"
        )
    return store / "projects" / name


def write(job: WriteJob) -> Written:
    native_id = job.native_id or str(uuid.uuid4())
    path = project_dir(job.store, job.cwd) / "chats" / f"{native_id}.jsonl"
    envelope: dict[str, Any] = {"sessionId": native_id, "cwd": job.cwd_text, "version": CLI_VERSION}
    if job.session.git_branch:
        envelope["gitBranch"] = job.session.git_branch
    lines: list[bytes] = []
    parent: str | None = None
    for record in _Records(job).records():
        line_id = str(uuid.uuid4())
        lines.append(orjson.dumps({"uuid": line_id, "parentUuid": parent, **envelope, **record}))
        parent = line_id
    if not lines:
        raise WriteError("nothing to write: the session has no messages Qwen Code can replay")
    title = one_line(job.session.title or "", TITLE_MAX)
    if title:
        lines.append(
            orjson.dumps(
                {
                    "uuid": str(uuid.uuid4()),
                    "parentUuid": parent,
                    **envelope,
                    "timestamp": _last_timestamp(job),
                    "type": "system",
                    "subtype": "custom_title",
                    "systemPayload": {"customTitle": title, "titleSource": "auto"},
                }
            )
        )
    write_session_file(path, b"\n".join(lines) + b"\n")
    return Written(name, native_id, path, [path])


def _last_timestamp(job: WriteJob) -> str:
    stamps = [m.timestamp for m in job.session.messages if m.timestamp]
    return stamps[-1] if stamps else job.now.isoformat().replace("+00:00", "Z")


class _Records:
    """The ChatRecords of one session (without uuid, parentUuid and envelope), in order."""

    def __init__(self, job: WriteJob) -> None:
        self.messages = job.session.messages
        self.same_tool = job.same_tool
        self.report = job.report

    def records(self) -> Iterator[dict[str, Any]]:
        names: dict[str, str] = {}
        for message in self.messages:
            if message.role == "assistant":
                record = self._assistant(message, names)
                if record is not None:
                    yield record
            elif message.role == "tool":
                yield from self._tool_results(message, names)
            else:
                record = self._user(message)
                if record is not None:
                    yield record

    def _user(self, message: Message) -> dict[str, Any] | None:
        parts = [self._user_part(part) for part in message.parts]
        if not parts:
            return None
        return {
            "timestamp": message.timestamp,
            "type": "user",
            "message": {"role": "user", "parts": parts},
        }

    def _user_part(self, part: Part) -> dict[str, Any]:
        if isinstance(part, Text):
            return {"text": part.text}
        if isinstance(part, Attachment):
            return self._attachment(part, "user")
        self.report.downgrade(part.kind, "in a user turn")  # prepare leaves none here
        return {"text": part_text(part)}

    def _attachment(self, part: Attachment, where: str) -> dict[str, Any]:
        if where == "user" and part.data and part.media_type.startswith(INLINE_TYPES):
            return {"inlineData": {"mimeType": part.media_type, "data": part.data}}
        if where == "user" and part.uri and self.same_tool:
            return {"fileData": {"mimeType": part.media_type, "fileUri": part.uri}}
        self.report.downgrade("attachment", f"not inline data in a {where} turn")
        return {"text": attachment_text(part)}

    def _assistant(self, message: Message, names: dict[str, str]) -> dict[str, Any] | None:
        parts: list[dict[str, Any]] = []
        for part in message.parts:
            if isinstance(part, Text):
                parts.append({"text": part.text})
            elif isinstance(part, Reasoning):
                parts.extend(self._thought(part))
            elif isinstance(part, ToolCall):
                names[part.id] = part.name
                parts.append(function_call(part, part.name))
            elif isinstance(part, Attachment):
                parts.append(self._attachment(part, "model"))
        if not parts:
            return None
        record: dict[str, Any] = {
            "timestamp": message.timestamp,
            "type": "assistant",
            "message": {"role": "model", "parts": parts},
        }
        if message.model:
            record["model"] = message.model
        usage = _usage_metadata(message.usage)
        if usage:
            record["usageMetadata"] = usage
        return record

    def _thought(self, part: Reasoning) -> list[dict[str, Any]]:
        if not part.text.strip():
            return []
        if not self.same_tool:
            self.report.map("reasoning", "as Qwen Code thought parts")
        return [thought(part.text, part.signature if self.same_tool else None)]

    def _tool_results(self, message: Message, names: dict[str, str]) -> Iterator[dict[str, Any]]:
        for part in message.parts:
            if not isinstance(part, ToolResult):
                yield from _note_stray(part, message, self.report)
                continue
            call_name = names.get(part.call_id)
            if call_name is None:  # prepare answers calls right after them: never here
                self.report.downgrade("tool_result", "no call before it")
                yield {
                    "timestamp": message.timestamp,
                    "type": "user",
                    "message": {"role": "user", "parts": [{"text": part_text(part)}]},
                }
                continue
            status = "error" if part.is_error else "success"
            yield {
                "timestamp": message.timestamp,
                "type": "tool_result",
                "message": {"role": "user", "parts": [function_response(part, call_name)]},
                "toolCallResult": {
                    "callId": part.call_id,
                    "status": status,
                    "resultDisplay": shorten(part.output, DISPLAY_MAX),
                    "executionStatus": status,
                },
            }


def _note_stray(part: Part, message: Message, report: Report) -> Iterator[dict[str, Any]]:
    report.downgrade(part.kind, "in a tool message")
    yield {
        "timestamp": message.timestamp,
        "type": "user",
        "message": {"role": "user", "parts": [{"text": part_text(part)}]},
    }


def _usage_metadata(usage: dict[str, Any] | None) -> dict[str, int] | None:
    """Gemini's token counts (what the CLI records) from tether's and other tools' names."""
    if not usage:
        return None
    names = {
        "promptTokenCount": ("input_tokens", "input", "prompt_tokens"),
        "candidatesTokenCount": ("output_tokens", "output", "completion_tokens"),
        "cachedContentTokenCount": ("cached_tokens", "cache_read_input_tokens"),
        "thoughtsTokenCount": ("reasoning_tokens", "reasoning_output_tokens"),
        "totalTokenCount": ("total_tokens",),
    }
    counts = {
        ours: value
        for ours, keys in names.items()
        if (value := next((v for k in keys if type(v := usage.get(k)) is int), None)) is not None
    }
    return counts or None
