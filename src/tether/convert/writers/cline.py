"""Write a session that `cline --id ID` continues (the Cline CLI 3.0 and later).

Two new files in a new folder of the CLI's data folder, as the CLI writes them:
`sessions/<id>/<id>.messages.json` (`{version, sessionId, messages}`: Anthropic-style
messages, the user's words in `<user_input mode="act">`, each tool_use answered by a
tool_result that names its tool (Cline refuses one without) in the next user message)
and the record `<id>.json` (folder, title, times, provider and model). Cline finds a
session by these files alone (no row in its sessions.db is needed): proven with Cline
3.0.65 (tests/e2e), whose resume is its TUI's.

Cline's own tools take lists (`run_commands {commands: [...]}`, `read_files {files:
[{path}]}`): the vocabulary turns one canonical call into a list of one. The provider and
model a session names are the user's configured ones (`settings/providers.json`).
"""

from __future__ import annotations

import secrets
import string
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from tether.convert.writers.base import Report, WriteError, WriteJob, Written, attachment_text
from tether.files import write_new
from tether.model import Attachment, Message, Part, Reasoning, Text, ToolCall, ToolResult
from tether.tools.facts import cline as facts
from tether.tools.vocabulary.cline import vocabulary  # noqa: F401 (a Writer names its table)

name = "cline"
context_tokens = 150_000
accepts_generic_calls = False
"""Unproven that Cline replays a call to a tool it does not declare: such calls are text."""
CLI_VERSION = "3.0.65"
"""The Cline version these files are proven against (tests/e2e)."""
SETTINGS_MAX = 1 << 20
ID_LETTERS = string.ascii_lowercase + string.digits


def write(job: WriteJob) -> Written:
    session = job.session
    native_id = job.native_id or new_id(job.now)
    if not facts.is_cli_id(native_id):
        raise WriteError(f"{native_id!r} is not a Cline session id")
    folder = job.store / "sessions" / native_id
    provider, model = configured_model(job.store)
    messages = _messages(job, provider)
    if not messages:
        raise WriteError("nothing to write: the session has no messages Cline can replay")
    first = next(
        (
            p.text
            for m in session.messages
            if m.role == "user"
            for p in m.parts
            if isinstance(p, Text)
        ),
        "",
    )
    title = session.title or (first.strip().splitlines()[0][:120] if first.strip() else None)
    messages_path = folder / f"{native_id}.messages.json"
    started = _iso(session.created_at, job.now)
    record: dict[str, Any] = {
        "version": 1,
        "session_id": native_id,
        "source": "cli",
        "pid": 0,
        "started_at": started,
        "ended_at": _iso(None, job.now),
        "exit_code": 0,
        "status": "completed",
        "interactive": True,
        "provider": provider,
        "model": model,
        "cwd": job.cwd_text,
        "workspace_root": job.cwd_text,
        "enable_tools": True,
        "enable_spawn": True,
        "enable_teams": False,
        "prompt": first,
        "metadata": {
            "sessionHistoryOrigin": {"mode": "user", "version": CLI_VERSION},
            "title": title or f"{session.tool} session {session.native_id[:8]}",
        },
        "messages_path": str(messages_path),
    }
    doc = {
        "version": 1,
        "updated_at": _iso(None, job.now),
        "agent": "lead",
        "sessionId": native_id,
        "origin": {"source": "cli", "mode": "user", "sessionId": native_id, "version": CLI_VERSION},
        "messages": messages,
    }
    try:
        folder.mkdir(parents=True, exist_ok=False)
    except FileExistsError as exc:
        raise WriteError(f"{folder} exists already: not overwritten") from exc
    paths = [messages_path, folder / f"{native_id}.json"]
    try:
        write_new(paths[0], orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        write_new(paths[1], orjson.dumps(record, option=orjson.OPT_INDENT_2))
    except OSError:
        for path in paths:
            path.unlink(missing_ok=True)
        folder.rmdir()
        raise
    return Written(name, native_id, paths[0], paths)


def new_id(now: datetime) -> str:
    """Cline's shape: the start in milliseconds, `_`, five letters or digits."""
    letters = "".join(secrets.choice(ID_LETTERS) for _ in range(5))
    return f"{int(now.timestamp() * 1000)}_{letters}"


def configured_model(store: Path) -> tuple[str, str]:
    """The provider and model the user's Cline is set up with (its providers.json), else
    Cline's own provider with no model named."""
    try:
        with (store / "settings" / "providers.json").open("rb") as fh:
            settings = orjson.loads(fh.read(SETTINGS_MAX))
    except (OSError, orjson.JSONDecodeError):
        settings = None
    if isinstance(settings, dict):
        provider = settings.get("lastUsedProvider")
        providers = settings.get("providers")
        entry = providers.get(provider) if isinstance(providers, dict) else None
        chosen = entry.get("settings") if isinstance(entry, dict) else None
        model = chosen.get("model") if isinstance(chosen, dict) else None
        if isinstance(provider, str) and isinstance(model, str):
            return provider, model
    return "cline", ""


def _messages(job: WriteJob, provider: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    called: dict[str, str] = {}  # a tool_result names its call's tool: Cline requires it
    for message in job.session.messages:
        stamp = _ms(message.timestamp, job.now)
        if message.role == "assistant":
            called.update({p.id: p.name for p in message.parts if isinstance(p, ToolCall)})
            content = [b for part in message.parts for b in _assistant(part, job)]
            if content:
                out.append(
                    {
                        "id": f"msg_{uuid.uuid4().hex[:8]}",
                        "role": "assistant",
                        "content": content,
                        "ts": stamp,
                        "modelInfo": {"id": message.model or "", "provider": provider},
                        "metrics": _metrics(message),
                    }
                )
            continue
        content = [b for part in message.parts for b in _user(part, job.report, called)]
        if content:
            out.append({"id": str(uuid.uuid4()), "role": "user", "content": content, "ts": stamp})
    return out


def _assistant(part: Part, job: WriteJob) -> list[dict[str, Any]]:
    if isinstance(part, Text):
        return [{"type": "text", "text": part.text}] if part.text else []
    if isinstance(part, ToolCall):
        return [{"type": "tool_use", "id": part.id, "name": part.name, "input": part.input}]
    if isinstance(part, Reasoning):
        if not part.text.strip():
            return []
        job.report.downgrade("reasoning", "Cline is given another tool's reasoning as text")
        return [{"type": "text", "text": f"[reasoning]\n{part.text}"}]
    if isinstance(part, Attachment):
        job.report.downgrade("attachment", "an assistant attachment")
        return [{"type": "text", "text": attachment_text(part)}]
    return []


def _user(part: Part, report: Report, called: dict[str, str]) -> list[dict[str, Any]]:
    if isinstance(part, Text):
        return [{"type": "text", "text": f'<user_input mode="act">{part.text}</user_input>'}]
    if isinstance(part, ToolResult):
        block: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": part.call_id,
            "name": called.get(part.call_id, "tool"),
            "content": part.output,
        }
        if part.is_error:
            block["is_error"] = True
        return [block]
    if isinstance(part, Attachment):
        if part.data and part.media_type.startswith("image/"):
            source = {"type": "base64", "media_type": part.media_type, "data": part.data}
            return [{"type": "image", "source": source}]
        report.downgrade("attachment", "not an inline image")
        return [{"type": "text", "text": attachment_text(part)}]
    return []


def _metrics(message: Message) -> dict[str, int]:
    usage = message.usage or {}
    return {
        "inputTokens": int(usage.get("input_tokens") or 0),
        "outputTokens": int(usage.get("output_tokens") or 0),
        "cacheReadTokens": 0,
        "cacheWriteTokens": 0,
    }


def _ms(stamp: str | None, now: datetime) -> int:
    try:
        when = datetime.fromisoformat((stamp or "").replace("Z", "+00:00"))
    except ValueError:
        when = now
    return int((when if when.tzinfo else now).timestamp() * 1000)


def _iso(stamp: str | None, now: datetime) -> str:
    when = datetime.fromtimestamp(_ms(stamp, now) / 1000, now.tzinfo)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
