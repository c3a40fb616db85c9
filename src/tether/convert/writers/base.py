"""What a writer is given and returns, and the report of what survived the conversion.

A writer turns a prepared session (see tether.convert.session.prepare: roles user, assistant and
tool only; every tool call answered by the tool message right after it; tool calls already
in the target's vocabulary; no foreign reasoning signature) into a NEW native session of
its tool, and never touches anything else in the tool's store.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

from tether.errors import TetherError
from tether.files import write_new
from tether.model import Attachment, Part, PartKind, Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools.facts import as_node_sees
from tether.tools.vocabulary import Vocabulary

ReportKind = PartKind | str
"""A part kind, or `message` for whole messages (system messages, for example)."""


@dataclass
class Report:
    """Per part kind: what was mapped, downgraded to text, dropped or shortened, and why."""

    mapped: Counter[str] = field(default_factory=Counter)
    downgraded: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    shortened: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    source_parts: Counter[str] = field(default_factory=Counter)
    """How many parts of each kind the source session had (messages: `message`)."""

    @staticmethod
    def _key(kind: ReportKind, detail: str) -> str:
        return f"{kind}: {detail}"

    def map(self, kind: ReportKind, detail: str) -> None:
        """Carried over as the target's own form (`detail`: "Bash -> exec_command")."""
        self.mapped[self._key(kind, detail)] += 1

    def downgrade(self, kind: ReportKind, reason: str) -> None:
        """Carried over as text, because the target has no form for it."""
        self.downgraded[self._key(kind, reason)] += 1

    def drop(self, kind: ReportKind, reason: str) -> None:
        self.dropped[self._key(kind, reason)] += 1

    def shorten(self, kind: ReportKind, reason: str) -> None:
        self.shortened[self._key(kind, reason)] += 1

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": dict(sorted(self.source_parts.items())),
            "mapped": dict(sorted(self.mapped.items())),
            "downgraded": dict(sorted(self.downgraded.items())),
            "dropped": dict(sorted(self.dropped.items())),
            "shortened": dict(sorted(self.shortened.items())),
            "notes": list(self.notes),
        }


@dataclass
class WriteJob:
    session: Session
    """Prepared for this target (see the module docstring); `session.tool` is the source."""
    cwd: Path
    """The folder the session will be resumed in (resolved, existing)."""
    store: Path
    """The target's store root, as its reader's store_roots gives it (CLAUDE_CONFIG_DIR, …)."""
    now: datetime
    """Aware, UTC: the write time (file names that carry a time use it)."""
    report: Report
    same_tool: bool = False
    """A fork or round trip: native details (signatures, tool-specific fields) may replay."""
    native_id: str | None = None
    """An id chosen by the caller (teams, tests); else the writer makes a new one."""

    @property
    def cwd_text(self) -> str:
        """The folder as the tools (Node.js programs) write it in their records: bytes that
        are not UTF-8 become U+FFFD, so every record stays valid JSON."""
        return as_node_sees(str(self.cwd))


@dataclass
class Written:
    tool: str
    native_id: str
    path: Path
    """The native file holding the conversation."""
    paths: list[Path]
    """Every file created (the conversation file first)."""
    resume_args: list[str] | None = None
    """The arguments after the binary that resume it, when its id is not enough (Aider:
    the history file to restore); None: the tool's own resume arguments (tether.tools.launch)."""


class Writer(Protocol):
    """A module under tether/writers, named after its tool."""

    name: str
    vocabulary: Vocabulary
    context_tokens: int
    """Default token budget of a converted session (the context policy fits under it)."""
    accepts_generic_calls: bool
    """Whether a call with no counterpart in the target may stay a native call under its
    own name (else it is written as text)."""

    def write(self, job: WriteJob) -> Written:
        """Write the new session; raise WriteError (nothing left behind) when it cannot."""
        ...


class WriteError(TetherError):
    """The session could not be written; the message says why and what to do."""


def write_session_file(path: Path, data: bytes) -> None:
    """Create the session's file (tether.files.write_new: never over an existing file,
    mode 0600); WriteError when it exists already."""
    try:
        write_new(path, data)
    except FileExistsError as exc:
        raise WriteError(f"{path} exists already: not overwritten") from exc


# ---------------------------------------------------------------------------------------
# Parts a target has no form for, as text: one spelling for every writer


def attachment_text(part: Attachment) -> str:
    label = part.name or part.uri or "attachment"
    return f"[attachment: {label} ({part.media_type})]"


def call_text(part: ToolCall) -> str:
    return f"[tool call {part.name}: {orjson.dumps(part.input).decode()}]"


def result_text(output: str) -> str:
    return f"[tool output]\n{output}"


def part_text(part: Part) -> str:
    """Any part as the text a target without a form for it is given."""
    if isinstance(part, ToolResult):
        return result_text(part.output)
    if isinstance(part, ToolCall):
        return call_text(part)
    if isinstance(part, Text | Reasoning):
        return part.text
    return attachment_text(part)
