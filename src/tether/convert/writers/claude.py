"""Write a session that `claude --resume ID` continues (research/native-formats.md §1.3).

One JSONL file `<store>/projects/<project dir of cwd>/<uuid>.jsonl`: user and assistant
lines chained by `parentUuid` (null on the first), each tool_use answered by a tool_result
in the next user line, then a `custom-title` line for the picker. Thinking blocks are
written only with their own Claude signature (a round trip); other reasoning is text,
because Claude rejects a thinking block it did not sign.
"""

from __future__ import annotations

import uuid
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
from tether.model import Attachment, Message, Part, Reasoning, Text, ToolCall, ToolResult
from tether.tools.facts import claude as facts
from tether.tools.vocabulary.claude import vocabulary  # noqa: F401 (a Writer names its table)

name = "claude"
context_tokens = 150_000
accepts_generic_calls = True
CLI_VERSION = "2.1.197"
"""The Claude Code version these files are proven against (tests/e2e)."""
DEFAULT_MODEL = "claude-opus-4-8"


def write(job: WriteJob) -> Written:
    session = job.session
    native_id = job.native_id or str(uuid.uuid4())
    folder = project_dir(job.store, str(job.cwd))
    path = folder / f"{native_id}.jsonl"
    envelope = {
        "isSidechain": False,
        "userType": "external",
        "cwd": job.cwd_text,
        "sessionId": native_id,
        "version": CLI_VERSION,
        "gitBranch": session.git_branch or "",
    }
    lines: list[bytes] = []
    parent: str | None = None
    for index, message in enumerate(session.messages):
        record = _record(message, index, job.same_tool, job.report)
        if record is None:
            continue
        line_id = str(uuid.uuid4())
        lines.append(
            orjson.dumps(
                {
                    "parentUuid": parent,
                    **record,
                    "uuid": line_id,
                    "timestamp": message.timestamp,
                    **envelope,
                }
            )
        )
        parent = line_id
    if not lines:
        raise WriteError("nothing to write: the session has no messages Claude can replay")
    title = session.title or f"{session.tool} session {session.native_id[:8]}"
    lines.append(
        orjson.dumps({"type": "custom-title", "customTitle": title, "sessionId": native_id})
    )
    write_session_file(path, b"\n".join(lines) + b"\n")
    return Written(name, native_id, path, [path])


def project_dir(store: Path, cwd: str) -> Path:
    """The CLI's folder for `cwd`; for long paths, an existing folder with the same prefix
    (the CLI's own hash of long paths may differ from the SDK's)."""
    projects = store / "projects"
    encoded = facts.folder_name(cwd)
    if len(encoded) > facts.MAX_FOLDER_NAME and projects.is_dir():
        prefix = encoded[: facts.MAX_FOLDER_NAME]
        for existing in sorted(projects.iterdir()):
            if existing.name.startswith(prefix + "-") and existing.is_dir():
                return existing
    return projects / encoded


def _record(message: Message, index: int, same_tool: bool, report: Report) -> dict[str, Any] | None:
    if message.role == "assistant":
        content = [
            block for part in message.parts for block in _assistant_block(part, same_tool, report)
        ]
        if not content:
            return None
        return {
            "type": "assistant",
            "message": {
                "id": f"msg_tether{index:06d}{uuid.uuid4().hex[:12]}",
                "type": "message",
                "role": "assistant",
                "model": message.model or DEFAULT_MODEL,
                "content": content,
                "stop_reason": "tool_use"
                if any(b["type"] == "tool_use" for b in content)
                else "end_turn",
                "stop_sequence": None,
                "usage": _usage(message, same_tool),
            },
        }
    blocks = [block for part in message.parts for block in _user_block(part, report)]
    if not blocks:
        return None
    if len(blocks) == 1 and blocks[0]["type"] == "text" and message.role == "user":
        return {"type": "user", "message": {"role": "user", "content": blocks[0]["text"]}}
    return {"type": "user", "message": {"role": "user", "content": blocks}}


def _assistant_block(part: Part, same_tool: bool, report: Report) -> list[dict[str, Any]]:
    if isinstance(part, Text):
        return [{"type": "text", "text": part.text}]
    if isinstance(part, ToolCall):
        return [{"type": "tool_use", "id": part.id, "name": part.name, "input": part.input}]
    if isinstance(part, Reasoning):
        if same_tool and part.signature:
            return [{"type": "thinking", "thinking": part.text, "signature": part.signature}]
        if same_tool and part.native.get("redacted"):
            return [{"type": "redacted_thinking", "data": part.native["redacted"]}]
        if not part.text.strip():
            return []
        report.downgrade("reasoning", "Claude replays only thinking it signed itself")
        return [{"type": "text", "text": f"[reasoning]\n{part.text}"}]
    if isinstance(part, Attachment):
        report.downgrade("attachment", "an assistant attachment")
        return [{"type": "text", "text": attachment_text(part)}]
    return []


def _user_block(part: Part, report: Report) -> list[dict[str, Any]]:
    if isinstance(part, Text):
        return [{"type": "text", "text": part.text}]
    if isinstance(part, ToolResult):
        return [
            {
                "tool_use_id": part.call_id,
                "type": "tool_result",
                "content": part.output,
                "is_error": part.is_error,
            }
        ]
    if isinstance(part, Attachment):
        if part.data and part.media_type.startswith("image/"):
            source = {"type": "base64", "media_type": part.media_type, "data": part.data}
            return [{"type": "image", "source": source}]
        report.downgrade("attachment", "not an inline image")
        return [{"type": "text", "text": attachment_text(part)}]
    return []


def _usage(message: Message, same_tool: bool) -> dict[str, Any]:
    if same_tool and message.usage and "input_tokens" in message.usage:
        return dict(message.usage)
    usage = message.usage or {}
    return {
        "input_tokens": int(usage.get("input_tokens") or usage.get("input") or 0),
        "output_tokens": int(usage.get("output_tokens") or usage.get("output") or 0),
    }
