"""The registry of tool adapters: one module per external tool, typed with the Protocol.

Imported only by what needs the readers (capture, import, doctor), not by the queries.
"""

from __future__ import annotations

from tether.tools import (
    aider,
    amp,
    antigravity,
    claude,
    cline,
    codex,
    copilot,
    cursor,
    facts,
    gemini,
    kilo,
    opencode,
    qwen,
    roo,
)
from tether.tools.base import Tool
from tether.tools.facts import UnknownTool

__all__ = ["TOOLS", "UnknownTool", "get_tool"]

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


def get_tool(name: str) -> Tool:
    """The adapter for a command-line tool name or alias (`claude-code`, `gemini-cli`, …)."""
    return TOOLS[facts.resolve(name)]
