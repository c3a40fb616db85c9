"""Cline: task folders in the global storage of VS Code and its forks, and in the Cline
CLI's data folder (`~/.cline/data/tasks/<id>/`). The format is read by taskdirs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tether.tools import taskdirs
from tether.tools.base import Capability, Source

name = "cline"
display_name = "Cline"
aliases: tuple[str, ...] = ("claude-dev", "cline-cli")
capabilities: frozenset[Capability] = frozenset({"read"})

EXTENSION_ID = "saoudrizwan.claude-dev"


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    """Every editor's storage, then the CLI's: CLINE_DATA_DIR, else CLINE_DIR/data, else
    ~/.cline/data (the CLI and JetBrains plugin keep tasks there)."""
    data = env.get("CLINE_DATA_DIR", "").strip()
    if data:
        cli = Path(data).expanduser()
    else:
        base = env.get("CLINE_DIR", "").strip()
        cli = (Path(base).expanduser() if base else home / ".cline") / "data"
    return [*taskdirs.editor_storage(env, home, EXTENSION_ID), cli]


discover = taskdirs.discover
read = taskdirs.read


def sniff(path: Path, head: bytes) -> Source | None:
    return taskdirs.task(path) if taskdirs.sniff_owner(path, head) == name else None
