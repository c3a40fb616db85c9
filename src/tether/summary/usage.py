"""Token counts of any tool in one shape: input (not from a cache), cache reads, cache
writes, output (reasoning included) and reasoning, whatever names the tool's usage had.

Readers keep each tool's own split (tether.tools.*): Claude Code counts cache reads apart
from input (`cache_read_input_tokens`), Codex and Gemini inside it (`cached_input_tokens`,
`cached_tokens`); Codex counts reasoning inside output (`reasoning_output_tokens`), Gemini,
Qwen and opencode apart (`reasoning_tokens`). The key says which, so no tool is named here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

TOKEN_KEYS = ("input", "cache_read", "cache_write", "output", "reasoning", "total")
READ_APART = ("cache_read_input_tokens", "cache_read_tokens")
READ_INSIDE = ("cached_input_tokens", "cached_tokens")
WRITES = ("cache_creation_input_tokens", "cache_write_tokens")
REASONING_INSIDE = ("reasoning_output_tokens",)
REASONING_APART = ("reasoning_tokens",)


def _count(usage: Mapping[str, Any], keys: Iterable[str]) -> int:
    total = 0
    for key in keys:
        value = usage.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            total += value
    return total


def tokens(usage: Mapping[str, Any] | None) -> dict[str, int]:
    """One message's (or session's) usage as TOKEN_KEYS; all zero when it records none."""
    if not usage:
        return dict.fromkeys(TOKEN_KEYS, 0)
    read_inside = _count(usage, READ_INSIDE)
    fresh = max(_count(usage, ("input_tokens",)) - read_inside, 0)
    read = read_inside + _count(usage, READ_APART)
    write = _count(usage, WRITES)
    apart = _count(usage, REASONING_APART)
    output = _count(usage, ("output_tokens",)) + apart
    reasoning = apart + _count(usage, REASONING_INSIDE)
    return {
        "input": fresh,
        "cache_read": read,
        "cache_write": write,
        "output": output,
        "reasoning": reasoning,
        "total": fresh + read + write + output,
    }


def add(into: dict[str, int], more: Mapping[str, int]) -> None:
    for key in TOKEN_KEYS:
        into[key] = into.get(key, 0) + more.get(key, 0)


def zero() -> dict[str, int]:
    return dict.fromkeys(TOKEN_KEYS, 0)
