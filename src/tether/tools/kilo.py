"""Kilo Code: the VS Code extension's task folders (a Roo Code fork: read by taskdirs)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tether.tools import taskdirs
from tether.tools.base import Capability, Source

name = "kilo"
display_name = "Kilo Code"
aliases: tuple[str, ...] = ("kilo-code", "kilocode")
capabilities: frozenset[Capability] = frozenset({"read"})

EXTENSION_ID = "kilocode.kilo-code"


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return taskdirs.editor_storage(env, home, EXTENSION_ID)


discover = taskdirs.discover
read = taskdirs.read


def sniff(path: Path, head: bytes) -> Source | None:
    return taskdirs.source_for(path) if taskdirs.sniff_owner(path, head) == name else None
