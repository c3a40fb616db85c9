"""The registry of tool adapters: one module per external tool, typed with the Protocol.

Imported only by what needs the readers (capture, import, doctor), not by the queries. An
adapter's module is imported the first time it is looked up, not with the registry: a quick
capture of one changed file (tether.capture.fresh) needs one reader, not thirteen (their
imports were half of what capturing one appended line cost).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from importlib import import_module

from tether.tools import facts
from tether.tools.base import Tool
from tether.tools.facts import UnknownTool

__all__ = ["TOOLS", "Registry", "UnknownTool", "get_tool"]

MODULES = {name: f"tether.tools.{name}" for name in facts.NAMES}
"""Each tool tether reads, by name (facts.NAMES: the order every listing of the tools
follows), and the module of its adapter (named as the tool is)."""


class Registry(MutableMapping[str, Tool]):
    """Adapters by name, each module imported when it is first looked up (or iterated over
    with values() or items(), which import them all)."""

    def __init__(self, modules: dict[str, str], loaded: dict[str, Tool] | None = None) -> None:
        self._modules = dict(modules)
        self._loaded: dict[str, Tool] = {}
        for name, tool in (loaded or {}).items():
            self[name] = tool

    def __getitem__(self, name: str) -> Tool:
        tool = self._loaded.get(name)
        if tool is None:
            module = self._modules[name]  # KeyError: not a tool of this registry
            tool = self._loaded[name] = import_module(module)
        return tool

    def __setitem__(self, name: str, tool: Tool) -> None:
        self._modules.setdefault(name, "")
        self._loaded[name] = tool

    def __delitem__(self, name: str) -> None:
        del self._modules[name]
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __contains__(self, name: object) -> bool:
        return name in self._modules

    def with_(self, tool: Tool) -> Registry:
        """A registry of these adapters and one more (loaded as they are here)."""
        return Registry(self._modules, {**self._loaded, tool.name: tool})

    def __repr__(self) -> str:
        return f"Registry({list(self._modules)})"


TOOLS = Registry(MODULES)


def get_tool(name: str) -> Tool:
    """The adapter for a command-line tool name or alias (`claude-code`, `gemini-cli`, …)."""
    return TOOLS[facts.resolve(name)]
