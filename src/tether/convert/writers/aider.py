"""Write a history that `aider --restore-chat-history` continues (research/native-formats.md §13).

Aider keeps one Markdown history per project, `.aider.chat.history.md`, and restores the
WHOLE file (aider/utils.py split_chat_history_markdown: `#### ` lines are the user, `> `
lines aider's own output, dropped on restore, anything else the assistant). So the user's
own history is never touched: when the folder has none, tether creates it; when it has one,
tether writes `.aider.chat.history.tether-<hex>.md` beside it and the resume command names
it with `--chat-history-file`. Aider has no tool calls: `prepare` writes calls and their
output as text (vocabulary empty, no generic calls); reasoning becomes text too.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from tether.convert.writers.base import Report, WriteError, WriteJob, Written, write_session_file
from tether.model import Attachment, Message, Reasoning, Text, ToolCall, ToolResult
from tether.statefile import project_root
from tether.tools.aider import HISTORY, owner
from tether.tools.vocabulary import Vocabulary

name = "aider"
vocabulary = Vocabulary([])
accepts_generic_calls = False
context_tokens = 8_192
"""Aider's own chat-history budget for a large model (models.py max_chat_history_tokens:
max_input/16, at most 8192): above it aider summarizes the restored history at once."""
CLI_VERSION = "0.86.2"
"""The aider version these files are proven against (tests/e2e)."""

RESTORE = "--restore-chat-history"
STAMP = "%Y-%m-%d %H:%M:%S"
NATIVE_ID = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:#\d+)?@")
MARKUP = ("# ", "#### ", "> ")
"""Line starts aider reads as a header (skipped), the user, or its own output (dropped)."""


def write(job: WriteJob) -> Written:
    session = job.session
    started = _started(job)
    blocks = [f"\n# aider chat started at {started}\n\n"]
    blocks.append(f"> Converted by tether from {session.tool} session {session.native_id}  \n")
    model = next((m.model for m in session.messages if m.model), None) or (
        session.models[0] if session.models else None
    )
    if model:
        blocks.append(f"> Model: {model}  \n")
    escaped = turns = 0
    for message in session.messages:
        text, count = _block(message, job.report)
        escaped += count
        if text:
            blocks.append(text)
            turns += 1
    if not turns:
        raise WriteError("nothing to write: the session has no text Aider can restore")
    if escaped:
        job.report.note(
            f"{escaped} assistant lines began with Markdown Aider reads as its own (#, >):"
            " a space was put in front"
        )
    path, resume = _target(job.cwd)
    write_session_file(path, "".join(blocks).encode())
    native_id = f"{started.replace(' ', 'T')}@{owner(path)}"
    return Written(name, native_id, path, [path], resume_args=resume)


def _started(job: WriteJob) -> str:
    """The header's local time: the given native id's (a restore), else the write time."""
    if job.native_id and (found := NATIVE_ID.match(job.native_id)):
        return found.group(1).replace("T", " ")
    return job.now.astimezone().strftime(STAMP)


def _target(cwd: Path) -> tuple[Path, list[str]]:
    """The new history file and the arguments that restore it in `cwd`."""
    own = cwd / HISTORY
    if not own.exists() and not own.is_symlink():
        if project_root(str(cwd)) == str(cwd):
            return own, [RESTORE]
        # aider's default history is the git root's: name this one.
        return own, [RESTORE, "--chat-history-file", str(own)]
    path = cwd / f".aider.chat.history.tether-{uuid.uuid4().hex[:12]}.md"
    return path, [RESTORE, "--chat-history-file", str(path)]


def _block(message: Message, report: Report) -> tuple[str, int]:
    """One message as aider writes it, and how many assistant lines were escaped."""
    texts: list[str] = []
    for part in message.parts:
        if isinstance(part, Text):
            texts.append(part.text)
        elif isinstance(part, Reasoning):
            report.downgrade("reasoning", "aider's history has no reasoning: written as text")
            texts.append(f"[reasoning]\n{part.text}")
        elif isinstance(part, ToolCall):  # prepare texts them (empty vocabulary): a safeguard
            report.downgrade("tool_call", "aider has no tool calls")
            texts.append(f"[tool call {part.name}: {part.input}]")
        elif isinstance(part, ToolResult):
            report.downgrade("tool_result", "aider has no tool calls")
            texts.append(f"[tool output]\n{part.output}")
        elif isinstance(part, Attachment):
            report.drop("attachment", "aider's history holds text only")
    body = "\n\n".join(text.strip("\n") for text in texts if text.strip())
    if not body:
        return "", 0
    if message.role == "assistant":
        return _assistant(body)
    return _user(body), 0


def _user(body: str) -> str:
    """aider's io.user_input: every line `#### `, joined by Markdown line breaks."""
    lines = body.splitlines() or ["<blank>"]
    return "\n#### " + "  \n#### ".join(lines) + "  \n"


def _assistant(body: str) -> tuple[str, int]:
    """aider's io.ai_output, with lines that aider would not read as the assistant's
    (a header, a user line, its own output) moved right by one space."""
    lines = []
    escaped = 0
    for line in body.strip().splitlines():
        moved = line.startswith(MARKUP)
        escaped += moved
        lines.append(" " + line if moved else line)
    return "\n" + "\n".join(lines) + "\n\n", escaped
