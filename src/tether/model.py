"""The canonical session model: what every tool's session becomes inside tether.

Plain value types; each keeps a `native` dict of what the model has no field for, so a
round trip through the same tool loses nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

FORMAT_VERSION = 1
"""Version of tether's own session format (JSON export/import), independent of the package."""

Role = Literal["user", "assistant", "system", "tool"]
ROLES: tuple[Role, ...] = ("user", "assistant", "system", "tool")
PartKind = Literal["text", "reasoning", "tool_call", "tool_result", "attachment"]
PART_KINDS: tuple[PartKind, ...] = ("text", "reasoning", "tool_call", "tool_result", "attachment")


@dataclass(slots=True)
class Text:
    text: str
    native: dict[str, Any] = field(default_factory=dict)
    kind: PartKind = field(default="text", init=False)


@dataclass(slots=True)
class Reasoning:
    """Model thinking. `signature` is opaque and only its own tool may replay it."""

    text: str
    signature: str | None = None
    native: dict[str, Any] = field(default_factory=dict)
    kind: PartKind = field(default="reasoning", init=False)


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    input: Any
    native: dict[str, Any] = field(default_factory=dict)
    kind: PartKind = field(default="tool_call", init=False)


@dataclass(slots=True)
class ToolResult:
    call_id: str
    output: str
    is_error: bool = False
    native: dict[str, Any] = field(default_factory=dict)
    kind: PartKind = field(default="tool_result", init=False)


@dataclass(slots=True)
class Attachment:
    media_type: str
    name: str | None = None
    data: str | None = None
    """Base64 content when the tool stored it inline."""
    uri: str | None = None
    native: dict[str, Any] = field(default_factory=dict)
    kind: PartKind = field(default="attachment", init=False)


Part = Text | Reasoning | ToolCall | ToolResult | Attachment


@dataclass(slots=True)
class Message:
    role: Role
    parts: list[Part] = field(default_factory=list)
    timestamp: str | None = None
    """ISO 8601, UTC, as the tool recorded it (normalised to end in Z where it had an offset)."""
    model: str | None = None
    usage: dict[str, Any] | None = None
    native_id: str | None = None
    native: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Session:
    id: str
    tool: str
    native_id: str
    project: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    git_commit: str | None = None
    title: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    models: list[str] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    parent_id: str | None = None
    """tether id of the session this one was forked from or is a sub-agent of."""
    messages: list[Message] = field(default_factory=list)
    native: dict[str, Any] = field(default_factory=dict)


def session_id(tool: str, native_id: str) -> str:
    """tether's stable id: the full sha256 of tool and native id, never truncated.

    Stored and compared whole, so two native ids that share a long prefix (UUIDv7 from
    the same millisecond) stay two sessions; users may type any unique prefix of it.
    """
    return hashlib.sha256(f"{tool}\0{native_id}".encode()).hexdigest()
