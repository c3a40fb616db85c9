"""What Markdown and HTML exports share: the session's header, how each part is titled and
shown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

HEADER = (
    ("Tool", "tool"),
    ("Session", "native_id"),
    ("Project", "project"),
    ("Branch", "git_branch"),
    ("Started", "created_at"),
    ("Updated", "updated_at"),
)
"""The session's fields an export shows above its messages, with their labels."""


def header(info: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(label, value) of each HEADER field the session (session JSON) has."""
    for label, key in HEADER:
        if info.get(key):
            yield label, str(info[key])


def fence(body: str, lang: str = "") -> str:
    ticks = "```"
    while ticks in body:
        ticks += "`"
    return f"{ticks}{lang}\n{body}\n{ticks}"


def part_blocks(message: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(kind, title, body) for each part of a message in session JSON."""
    for part in message["parts"]:
        kind = part["type"]
        if kind == "text":
            yield kind, "", part["text"]
        elif kind == "reasoning":
            yield kind, "Reasoning", part["text"] or "(redacted)"
        elif kind == "tool_call":
            value = part.get("input")
            body = (
                value
                if isinstance(value, str)
                else orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
            )
            yield kind, f"Tool call: {part['name']} ({part['id']})", body
        elif kind == "tool_result":
            state = "error" if part.get("is_error") else "result"
            yield kind, f"Tool {state} ({part['call_id']})", part["output"]
        else:
            label = part.get("name") or part.get("uri") or part.get("media_type")
            yield kind, f"Attachment: {label}", f"[{part.get('media_type')}]"
