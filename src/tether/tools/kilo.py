"""Kilo Code: the VS Code extension's task folders (a Roo Code fork: read by taskdirs) and the
Kilo CLI's `~/.local/share/kilo/kilo.db` (an opencode fork: read by the opencode module)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tether.tools import opencode, taskdirs
from tether.tools.base import Feed, Op, Source
from tether.tools.facts import kilo as facts

name = facts.NAME
display_name = facts.DISPLAY_NAME
aliases = facts.ALIASES
capabilities = facts.CAPABILITIES

EXTENSION_ID = "kilocode.kilo-code"
APP = "kilo"


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return [Path(root) for root in facts.store_roots(env, str(home))]


def discover(root: Path) -> Iterator[Source]:
    if root.name == EXTENSION_ID:
        yield from taskdirs.discover(root)
    else:
        yield from opencode.stores(root, APP)


def sniff(path: Path, head: bytes) -> Source | None:
    if taskdirs.sniff_owner(path, head) == name:
        return taskdirs.task(path)
    if path.name.startswith(APP) or opencode.app_folder(path) == APP:
        return opencode.sniff_store(path, head)
    return None


def read(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    """A task folder's conversation (a document), or a CLI session extracted from kilo.db."""
    if feed.source.mode == "document":
        return taskdirs.read(feed, state)
    return opencode.read(feed, state)
