"""Roo Code: task folders in the global storage of VS Code and its forks. Each task keeps
its own history_item.json; the format is read by taskdirs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tether.tools import taskdirs
from tether.tools.base import Capability, Source

name = "roo"
display_name = "Roo Code"
aliases: tuple[str, ...] = ("roo-code", "roocode", "roo-cline")
capabilities: frozenset[Capability] = frozenset({"read"})

EXTENSION_ID = "rooveterinaryinc.roo-cline"


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return taskdirs.editor_storage(env, home, EXTENSION_ID)


discover = taskdirs.discover
read = taskdirs.read


def sniff(path: Path, head: bytes) -> Source | None:
    return taskdirs.task(path) if taskdirs.sniff_owner(path, head) == name else None
