"""Aider: the `.aider.chat.history.md` it appends to in each project (its git root).

One file holds every session run in that project, each opening with `# aider chat started
at <local time>`: the file is a container, each session a member. Lines are split as
aider's own `split_chat_history_markdown` splits them: `#### ` is the user, `> ` aider's
own output (notices, command output), anything else the assistant. Aider records no tool
calls, only the edits in the assistant's text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tether.files import open_regular
from tether.model import Message, Role, Text
from tether.tools.base import Feed, Member, Meta, Op, Put, Source
from tether.tools.facts import aider as facts
from tether.tools.listing import entries, is_file, is_file_at

name = facts.NAME
display_name = facts.DISPLAY_NAME
aliases = facts.ALIASES
capabilities = facts.CAPABILITIES

HISTORY = ".aider.chat.history.md"
CONVERTED = re.compile(r"\.aider\.chat\.history\.tether-[0-9a-f]{12}\.md")
HEADER = r"^# aider chat started at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)[ \t]*\r?$"
STARTED = re.compile(HEADER.encode(), re.M)
STARTED_TEXT = re.compile(HEADER, re.M)
MODEL = re.compile(r"^(?:Main model|Models?): (\S+)", re.M)
PREAMBLE = "preamble"
"""Key of what a file holds before its first header (a history that was cut)."""
MAX_BYTES = 256 << 20


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return [Path(root) for root in facts.store_roots(env, str(home))]


def discover(root: Path) -> Iterator[Source]:
    """The project's history, and the ones `tether convert --to aider` wrote beside it
    (`.aider.chat.history.tether-<hex>.md`, resumed with --chat-history-file)."""
    path = root / HISTORY
    if is_file_at(path):
        yield container(path)
    for entry in sorted(entries(root), key=lambda e: e.name):
        if CONVERTED.fullmatch(entry.name) and is_file(entry):
            yield container(root / entry.name)


def sniff(path: Path, head: bytes) -> Source | None:
    if path.name == HISTORY or STARTED.search(head):
        return container(path)
    return None


def container(path: Path) -> Source:
    def members(skip: Callable[[str], None]) -> Iterator[Member]:
        with open_regular(path) as fh:
            data = fh.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            skip(f"only the first {MAX_BYTES >> 20} MB of the history are read")
            data = data[:MAX_BYTES]
        for chunk in split_sessions(data):
            native_id = f"{chunk.key}@{owner(path)}"
            # aider opens a session with a blank line: the one before it did not change.
            version = hashlib.sha256(chunk.data.rstrip()).hexdigest()
            yield Member(native_id, version, _loader(chunk.data), "document")

    return Source(path, "container", members=members)


def owner(path: Path) -> str:
    """What a session's native id names after `@`: the project folder for its own history,
    the file itself for any other (two files in one folder may start in the same second)."""
    return str(path.parent) if path.name == HISTORY else str(path)


def _loader(data: bytes) -> Callable[[], bytes]:
    return lambda: data


@dataclass(frozen=True)
class Chunk:
    key: str
    data: bytes


def split_sessions(data: bytes) -> list[Chunk]:
    """The file cut at each session header, each piece keyed by its start time."""
    starts = [(m.start(), m.group(1).decode()) for m in STARTED.finditer(data)]
    pieces: list[tuple[str, bytes]] = []
    if not starts or starts[0][0] > 0:
        head = data[: starts[0][0] if starts else len(data)]
        if head.strip():
            pieces.append((PREAMBLE, head))
    for index, (offset, stamp) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(data)
        pieces.append((stamp.replace(" ", "T"), data[offset:end]))
    seen: dict[str, int] = {}
    chunks = []
    for key, piece in pieces:
        seen[key] = count = seen.get(key, 0) + 1
        chunks.append(Chunk(key if count == 1 else f"{key}#{count}", piece))
    return chunks


def read(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    text = feed.text()
    started = STARTED_TEXT.search(text)
    created = _utc(started.group(1)) if started else None
    folder = _folder(feed.source)
    model = None
    for index, (role, content) in enumerate(split_chat_history(text)):
        if role == "system" and model is None:
            found = MODEL.search(content)
            model = found.group(1) if found else None
        native: dict[str, Any] = {}
        if role == "system":
            native["kind"] = "aider_output"
        elif role == "user" and content.startswith("/"):
            native["command"] = content.split(None, 1)[0]
        message = Message(role, [Text(content)], model=model if role == "assistant" else None)
        message.native = native
        yield Put(str(index), message)
    yield Meta(
        cwd=folder,
        project=folder,
        created_at=created,
        updated_at=created,
        native={"model": model} if model else {},
    )


def split_chat_history(text: str) -> list[tuple[Role, str]]:
    """Messages as aider's split_chat_history_markdown finds them, with aider's own output
    (`> ` lines, which it drops on restore) kept as system messages. The spaces aider ends
    its user and output lines with (a Markdown line break) are taken off."""
    messages: list[tuple[Role, str]] = []
    current: Role | None = None
    lines: list[str] = []

    def flush() -> None:
        body = "".join(lines)
        if current is not None and body.strip():
            messages.append((current, body.strip() if current == "assistant" else body.strip("\n")))

    for raw in text.splitlines(keepends=True):
        if raw.startswith("# "):
            continue
        role, line = _classify(raw)
        if role != current:
            flush()
            current, lines = role, []
        lines.append(line)
    flush()
    return messages


def _classify(line: str) -> tuple[Role, str]:
    if line.startswith("> "):
        return "system", _unbreak(line[2:])
    if line.startswith("#### "):
        return "user", _unbreak(line[5:])
    return "assistant", line


def _unbreak(line: str) -> str:
    body = line.rstrip("\r\n")
    return body.rstrip(" ") + line[len(body) :]


def _utc(local: str) -> str | None:
    """aider writes the start in local time: as UTC, in this machine's time zone."""
    try:
        moment = datetime.strptime(local, "%Y-%m-%d %H:%M:%S").astimezone(UTC)
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _folder(source: Source) -> str | None:
    """The project folder: the history file's, whose path a member's path begins with."""
    base = source.path.name.split("#", 1)[0]
    if base != HISTORY and not CONVERTED.fullmatch(base):
        return None
    return str(source.path.parent)
