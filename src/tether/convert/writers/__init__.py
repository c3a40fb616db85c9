"""Writers: a captured session as a NEW native session of a tool that can resume it.

One module per tool (tether/writers/<tool>.py) satisfying writers.base.Writer, imported
only when a conversion needs it. Whether a tool has one is data on its adapter: the
`write` capability.
"""

from __future__ import annotations

import importlib
from typing import cast

from tether.convert.writers.base import Writer
from tether.errors import UsageError
from tether.tools.vocabulary import EMPTY, Vocabulary


class NoWriter(UsageError, ValueError):
    pass


def writable() -> list[str]:
    """Tools tether can write sessions of, in registry order."""
    from tether.tools.registry import TOOLS

    return [name for name, tool in TOOLS.items() if "write" in tool.capabilities]


def get_writer(tool: str) -> Writer:
    if tool not in writable():
        raise NoWriter(
            f"tether can read {tool} sessions but cannot write them: "
            f"convert to one of {', '.join(writable())}"
        )
    return cast(Writer, importlib.import_module(f"tether.convert.writers.{tool}"))


def vocabulary(tool: str) -> Vocabulary:
    """The tool's table of tool-call shapes (empty for tools tether only reads)."""
    return get_writer(tool).vocabulary if tool in writable() else EMPTY
