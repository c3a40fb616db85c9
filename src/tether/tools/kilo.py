"""Kilo Code: the VS Code extension's task folders (a Roo Code fork: read by taskdirs) and the
Kilo CLI's `~/.local/share/kilo/kilo.db` (an opencode fork: read by the opencode module)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tether.tools import opencode, taskdirs
from tether.tools.base import Capability, Feed, Op, Source

name = "kilo"
display_name = "Kilo Code"
aliases: tuple[str, ...] = ("kilo-code", "kilocode", "kilo-cli")
capabilities: frozenset[Capability] = frozenset({"read"})

EXTENSION_ID = "kilocode.kilo-code"
APP = "kilo"


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    """The extension's storage in every editor, then the CLI's data folder: KILO_DATA_DIR,
    else `$XDG_DATA_HOME/kilo`, else `~/.local/share/kilo`."""
    editors = taskdirs.editor_storage(env, home, EXTENSION_ID)
    return [*editors, *opencode.data_dirs(env, home, APP, "KILO_DATA_DIR")]


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
