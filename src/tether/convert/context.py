"""The context policy: a converted session must fit the target model's context.

Never by cutting history. Every turn stays, in order; when the estimate is over budget,
the oldest bulky content is shortened, with a marker saying so, in this order:

1. tool outputs older than the newest `keep_recent` messages, to `old_output_chars`
   (the head and the tail are kept);
2. then tool-call inputs and long texts of those older messages, to the same size;
3. then those older tool outputs again, to `min_chars`.

The newest `keep_recent` messages are always verbatim. If the session is still over budget
the report says so, and the target tool's own compaction takes it from there.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from tether.convert.writers.base import Report
from tether.model import Message, Part, Text, ToolCall, ToolResult

CHARS_PER_TOKEN = 4
"""A deliberately rough estimate: good enough to decide whether to shorten at all."""


@dataclass(frozen=True)
class ContextPolicy:
    max_tokens: int | None = None
    """None: the target's default (writer.context_tokens); 0: no limit."""
    keep_recent: int = 20
    old_output_chars: int = 2000
    min_chars: int = 300


def estimate_tokens(messages: list[Message]) -> int:
    return sum(_part_chars(part) for message in messages for part in message.parts) // (
        CHARS_PER_TOKEN
    )


def _part_chars(part: Part) -> int:
    if isinstance(part, Text):
        return len(part.text)
    if isinstance(part, ToolResult):
        return len(part.output)
    if isinstance(part, ToolCall):
        return len(orjson.dumps(part.input)) + len(part.name)
    if hasattr(part, "text"):
        return len(part.text)
    return 100


def shorten(text: str, limit: int, where: str) -> str:
    """Head and tail of `text` around a marker naming how much was cut, when over `limit`."""
    if len(text) <= limit:
        return text
    head = limit * 3 // 4
    tail = limit - head
    cut = len(text) - head - tail
    marker = f"\n[… tether cut {cut} characters of this {where} to fit the context …]\n"
    return text[:head] + marker + (text[-tail:] if tail else "")


def fit(messages: list[Message], budget: int, policy: ContextPolicy, report: Report) -> None:
    """Shorten the oldest bulky parts in place until the estimate is under `budget` tokens."""
    if budget <= 0 or estimate_tokens(messages) <= budget:
        return
    older = messages[: max(0, len(messages) - policy.keep_recent)]
    steps = (
        (ToolResult, policy.old_output_chars),
        (ToolCall, policy.old_output_chars),
        (Text, policy.old_output_chars),
        (ToolResult, policy.min_chars),
    )
    for kind, limit in steps:
        for message in older:
            for index, part in enumerate(message.parts):
                if isinstance(part, kind):
                    message.parts[index] = _shortened(part, limit, report)
        if estimate_tokens(messages) <= budget:
            return
    report.note(
        f"still about {estimate_tokens(messages)} tokens after shortening older content "
        f"(budget {budget}): every turn is kept; the target may compact it on resume"
    )


def _shortened(part: Part, limit: int, report: Report) -> Part:
    if isinstance(part, ToolResult) and len(part.output) > limit:
        report.shorten("tool_result", f"older output cut to {limit} characters")
        return ToolResult(part.call_id, shorten(part.output, limit, "output"), part.is_error)
    if isinstance(part, Text) and len(part.text) > limit:
        report.shorten("text", f"older text cut to {limit} characters")
        return Text(shorten(part.text, limit, "message"))
    if isinstance(part, ToolCall):
        raw = orjson.dumps(part.input).decode()
        if len(raw) > limit and isinstance(part.input, dict):
            report.shorten("tool_call", f"older input cut to {limit} characters")
            inputs = {
                key: shorten(value, limit, "input") if isinstance(value, str) else value
                for key, value in part.input.items()
            }
            return ToolCall(part.id, part.name, inputs, dict(part.native))
    return part
