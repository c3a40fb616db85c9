"""Cursor: the editor's composer conversations and the cursor-agent CLI's chats.

Editor: `<user data>/User/globalStorage/state.vscdb` (cursor_ide). CLI: transcripts under
`~/.cursor/projects/`, and the chat stores under `~/.cursor/chats/` of chats that have no
transcript (cursor_agent). Both databases are read read-only, without a byte changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tether.tools import cursor_agent, cursor_ide
from tether.tools.base import Feed, Op, Source
from tether.tools.common import head_records
from tether.tools.database import is_sqlite
from tether.tools.facts import cursor as facts
from tether.tools.listing import entries, is_dir, is_file, is_file_at

name = facts.NAME
display_name = facts.DISPLAY_NAME
aliases = facts.ALIASES
capabilities = facts.CAPABILITIES

STATE_DB = "state.vscdb"
STORE_DB = "store.db"
TRANSCRIPTS = "agent-transcripts"
SNIFF_LINES = 5


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return [Path(root) for root in facts.store_roots(env, str(home))]


def discover(root: Path) -> Iterator[Source]:
    state = root / STATE_DB
    if is_file_at(state):
        yield cursor_ide.container(state)
    transcribed: set[str] = set()
    for project in entries(root / "projects"):
        if is_dir(project):
            for source in _transcripts(Path(project.path) / TRANSCRIPTS):
                transcribed.add(cursor_agent.transcript_id(source.path)[0])
                yield source
    for workspace in entries(root / "chats"):
        if not is_dir(workspace):
            continue
        for chat in entries(Path(workspace.path)):
            store = Path(chat.path) / STORE_DB
            if chat.name not in transcribed and is_dir(chat) and is_file_at(store):
                yield cursor_agent.store_container(store)


def _transcripts(folder: Path) -> Iterator[Source]:
    """`<id>/<id>.jsonl` and its `subagents/*.jsonl`, and the older flat `<id>.jsonl`."""
    for entry in entries(folder):
        if entry.name.endswith(".jsonl") and is_file(entry):
            yield Source(Path(entry.path), "jsonl", entry.name[:-6])
        elif is_dir(entry):
            main = Path(entry.path) / f"{entry.name}.jsonl"
            if is_file_at(main):
                yield Source(main, "jsonl", entry.name)
            for sub in entries(Path(entry.path) / "subagents"):
                if sub.name.endswith(".jsonl") and is_file(sub):
                    yield Source(Path(sub.path), "jsonl", sub.name[:-6])


def sniff(path: Path, head: bytes) -> Source | None:
    if is_sqlite(head):
        if path.name == STATE_DB:
            return cursor_ide.container(path)
        if path.name == STORE_DB:
            return cursor_agent.store_container(path)
        return None
    if _transcript_line(next(head_records(head, SNIFF_LINES), None)):  # the first decides
        return Source(path, "jsonl", cursor_agent.transcript_id(path)[0])
    return None


def _transcript_line(rec: Any) -> bool:
    """A transcript line holds a role and a message with content, and nothing else."""
    if not isinstance(rec, dict) or set(rec) != {"role", "message"}:
        return False
    message = rec["message"]
    return isinstance(message, dict) and isinstance(message.get("content"), list | str)


def read(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    """A composer of the editor's database, a chat of a store.db, or a transcript."""
    container = feed.source.path.name.split("#", 1)[0]
    if container == STATE_DB:
        return cursor_ide.read(feed, state)
    if container == STORE_DB:
        return cursor_agent.read_store(feed, state)
    return cursor_agent.read_transcript(feed, state)
