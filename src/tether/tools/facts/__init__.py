"""The facts about each tool that every part of tether needs, one module per tool.

Where a tool keeps its sessions (and the environment variables that move them), what its
session ids look like, which file holds a session, how it names a folder, how it is started
and resumed, and what tether can do with it. Readers, writers, the shims and teams all take
them from here, so they cannot disagree. Standard library only, and cheap: the shim's hot
path imports this package and the one module of the tool it launches.
"""

from __future__ import annotations

import sys

from tether.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tether.tools.facts.common import Capability, Facts

NAMES = (
    *("claude", "codex", "gemini", "copilot", "amp", "antigravity", "aider", "cursor"),
    *("cline", "roo", "kilo", "opencode", "qwen"),
)
"""Every tool tether knows, in the order listings show them."""


class UnknownTool(UsageError, ValueError):
    """A tool name tether does not know; the message lists the ones it does."""


def get(name: str) -> Facts:
    """The facts of tool `name` (its canonical name, as in NAMES)."""
    if name not in NAMES:
        raise UnknownTool(f"unknown tool {name!r}: known tools are {', '.join(NAMES)}")
    module = f"tether.tools.facts.{name}"
    if module not in sys.modules:
        __import__(module)
    facts: Facts = sys.modules[module]
    return facts


def resolve(name: str) -> str:
    """The canonical name of a tool named by the user (`claude-code`, `Gemini`, …)."""
    key = name.strip().lower()
    if key in NAMES:
        return key
    for tool in NAMES:
        if key in get(tool).ALIASES:
            return tool
    raise UnknownTool(f"unknown tool {name!r}: known tools are {', '.join(NAMES)}")


def able(capability: Capability) -> list[str]:
    """The tools with this capability, in NAMES order."""
    return [tool for tool in NAMES if capability in get(tool).CAPABILITIES]
