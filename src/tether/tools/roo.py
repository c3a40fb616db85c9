"""Roo Code: task folders in the global storage of VS Code and its forks. Each task keeps
its own history_item.json; the format is read by taskdirs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tether.tools import taskdirs
from tether.tools.base import Source
from tether.tools.facts import roo as facts

name = facts.NAME
display_name = facts.DISPLAY_NAME
aliases = facts.ALIASES
capabilities = facts.CAPABILITIES

EXTENSION_ID = "rooveterinaryinc.roo-cline"


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return [Path(root) for root in facts.store_roots(env, str(home))]


discover = taskdirs.discover
read = taskdirs.read


def sniff(path: Path, head: bytes) -> Source | None:
    return taskdirs.task(path) if taskdirs.sniff_owner(path, head) == name else None
