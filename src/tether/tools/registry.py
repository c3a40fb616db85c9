"""The registry of tool adapters: one module per external tool, typed with the Protocol.

Imported only by what needs the readers (capture, import, doctor), not by the queries.
"""

from __future__ import annotations

from tether.errors import UsageError
from tether.tools import (
    aider,
    amp,
    antigravity,
    claude,
    cline,
    codex,
    copilot,
    cursor,
    gemini,
    kilo,
    opencode,
    qwen,
    roo,
)
from tether.tools.base import Tool

TOOLS: dict[str, Tool] = {
    "claude": claude,
    "codex": codex,
    "gemini": gemini,
    "copilot": copilot,
    "amp": amp,
    "antigravity": antigravity,
    "aider": aider,
    "cursor": cursor,
    "cline": cline,
    "roo": roo,
    "kilo": kilo,
    "opencode": opencode,
    "qwen": qwen,
}


class UnknownTool(UsageError, ValueError):
    pass


def get_tool(name: str) -> Tool:
    """The adapter for a command-line tool name or alias (`claude-code`, `gemini-cli`, …)."""
    key = name.strip().lower()
    if key in TOOLS:
        return TOOLS[key]
    for tool in TOOLS.values():
        if key in tool.aliases:
            return tool
    known = ", ".join(TOOLS)
    raise UnknownTool(f"unknown tool {name!r}: known tools are {known}")
