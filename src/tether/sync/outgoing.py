"""What a push sends for one session: its native bytes (redacted, cut into chunks), its fields
and its searchable text, and what this machine remembers of it once the server has it.

The bytes are the archive's own copy of the tool's files (so a session its tool deleted is
pushed too). A session that only grew since its last push (same files, same generation,
more bytes) sends only its new lines: they are redacted on their own (a line's redaction
depends on that line alone) and cut after the chunks already sent.
"""

from __future__ import annotations

import base64
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tether.sync import chunking, wire

MAX_PIECE = 200_000
"""Characters of searchable text per piece (the server takes up to 256 KiB)."""
MAX_TEXT = 4_000_000
"""Characters of a session's text the server indexes; the rest is searchable locally."""
PIECES_PER_PUSH = MAX_TEXT // MAX_PIECE + 1
REDACT_LINES = 2000
_NAME_CHARS = re.compile(r"[^A-Za-z0-9._#%-]")


@dataclass
class SourceState:
    """One of a session's files as pushed: enough to push only what is new next time."""

    source_id: int
    name: str
    mode: str
    generation: int
    raw: int
    """Bytes of the archived (unredacted) file that were pushed."""
    chunks: list[tuple[str, int]]
    tail: bytes = b""
    """The bytes of the last chunk when it is small (it is cut again with new lines)."""


@dataclass
class Outgoing:
    session_id: str
    mark: str
    body: dict[str, Any]
    sources: list[SourceState]
    chunks: dict[str, bytes] = field(default_factory=dict)
    """Raw bytes of the chunks made for this push, by hash (the server may have some)."""
    text_pieces: int = 0
    text_seq: int = 0
    text_chars: int = 0
    bytes_read: int = 0

    def manifest(self) -> dict[str, Any]:
        return {
            "sources": [
                {
                    "source_id": s.source_id,
                    "name": s.name,
                    "mode": s.mode,
                    "generation": s.generation,
                    "raw": s.raw,
                    "chunks": s.chunks,
                    "tail": base64.b64encode(s.tail).decode(),
                }
                for s in self.sources
            ],
            "text_pieces": self.text_pieces,
            "text_seq": self.text_seq,
            "text_chars": self.text_chars,
            "keep_secrets": self.body.get("keep_secrets", False),
        }


def load_states(manifest: dict[str, Any]) -> list[SourceState]:
    return [
        SourceState(
            source_id=int(s["source_id"]),
            name=str(s["name"]),
            mode=str(s["mode"]),
            generation=int(s["generation"]),
            raw=int(s["raw"]),
            chunks=[(str(h), int(n)) for h, n in s["chunks"]],
            tail=base64.b64decode(s.get("tail") or ""),
        )
        for s in manifest.get("sources", [])
    ]


def marks(db: sqlite3.Connection, pks: list[int] | None = None) -> dict[int, tuple[str, str]]:
    """session pk -> (tether id, mark) of every session with messages and files of its
    own (not pulled): the mark changes whenever a file of it does."""
    where = ""
    args: list[Any] = []
    if pks is not None:
        where = f" AND s.pk IN ({','.join('?' * len(pks))})"
        args = list(pks)
    rows = db.execute(
        "SELECT s.pk, s.id, group_concat(src.id || ':' || src.generation || ':' || src.offset,"
        " ';') FROM sessions s JOIN sources src ON src.session_pk = s.pk"
        " WHERE src.origin != 'pull' AND s.message_count > 0" + where + " GROUP BY s.pk",
        args,
    )
    return {pk: (sid, mark) for pk, sid, mark in rows}


def archived(db: sqlite3.Connection, source_id: int, generation: int, start: int = 0) -> bytes:
    """The archived bytes of one source's generation from offset `start` on."""
    import zstandard

    dctx = zstandard.ZstdDecompressor()
    rows = db.execute(
        "SELECT offset, data FROM raw_chunks WHERE source_id = ? AND generation = ?"
        " AND offset + length > ? ORDER BY seq",
        (source_id, generation, start),
    )
    out = bytearray()
    for offset, data in rows:
        raw = dctx.decompress(data)
        out += raw[max(0, start - offset) :] if offset < start else raw
    return bytes(out)


def redact_bytes(data: bytes, mode: str) -> bytes:
    """The bytes with their secrets redacted as export redacts them: line by line for JSON
    lines (a line with nothing to redact keeps its bytes), whole for a document."""
    from tether.redact import redact_text, redact_value

    if mode != "jsonl":
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            return redact_text(data.decode("utf-8", "replace")).encode()
        redacted = redact_value(doc)
        return data if redacted == doc else orjson.dumps(redacted)
    lines = data.splitlines(keepends=True)
    out: list[bytes] = []
    for at in range(0, len(lines), REDACT_LINES):
        group = lines[at : at + REDACT_LINES]
        values: list[Any] = []
        for line in group:
            try:
                values.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                values.append(line.decode("utf-8", "replace"))
        redacted = redact_value(values)
        for line, before, after in zip(group, values, redacted, strict=True):
            if after == before:
                out.append(line)
            elif isinstance(after, str):
                out.append(after.encode())
            else:
                out.append(orjson.dumps(after) + (b"\n" if line.endswith(b"\n") else b""))
    return b"".join(out)


def wire_name(path: str) -> str:
    """A source's file name as the server keeps it: its base name, in safe characters."""
    name = _NAME_CHARS.sub("_", Path(path).name)[:200]
    return name if name[:1].isalnum() else ("s" + name)[:200]


def prepare(
    db: sqlite3.Connection,
    pk: int,
    session_id: str,
    mark: str,
    previous: dict[str, Any] | None,
    keep_secrets: bool,
    extra: dict[str, Any],
) -> Outgoing:
    """What to push for session `pk`, given what was pushed of it before (`previous`, the
    manifest recorded then, or None); `extra`: fields the caller adds (git remote, team,
    parent)."""
    rows = db.execute(
        "SELECT id, path, mode, generation, offset FROM sources"
        " WHERE session_pk = ? AND origin != 'pull' ORDER BY id",
        (pk,),
    ).fetchall()
    old = load_states(previous) if previous else []
    same_secrets = previous is not None and previous.get("keep_secrets", False) == keep_secrets
    grew = (
        same_secrets
        and len(old) == len(rows)
        and all(
            o.source_id == r[0] and o.generation == r[3] and o.raw <= r[4]
            for o, r in zip(old, rows, strict=True)
        )
    )
    out = Outgoing(session_id, mark, {}, [])
    for index, (source_id, path, mode, generation, _offset) in enumerate(rows):
        before = old[index] if grew else None
        out.sources.append(
            _source(db, out, source_id, path, mode, generation, before, keep_secrets)
        )
    text_start = int(previous.get("text_pieces", 0)) if grew and previous else 0
    text_seq = int(previous.get("text_seq", 0)) if grew and previous else 0
    text_chars = int(previous.get("text_chars", 0)) if grew and previous else 0
    pieces, out.text_seq, chars = _text(db, pk, text_seq, MAX_TEXT - text_chars, keep_secrets)
    out.text_pieces = text_start + len(pieces)
    out.text_chars = text_chars + chars
    out.body = {
        **_fields(db, pk),
        **extra,
        "sources": [
            {"name": s.name, "mode": s.mode, "chunks": [[h, n] for h, n in s.chunks]}
            for s in out.sources
        ],
        "text": {"start": text_start, "pieces": pieces},
    }
    if keep_secrets:
        out.body["keep_secrets"] = True
    return out


def _source(
    db: sqlite3.Connection,
    out: Outgoing,
    source_id: int,
    path: str,
    mode: str,
    generation: int,
    before: SourceState | None,
    keep_secrets: bool,
) -> SourceState:
    """One file's chunks: only its new bytes cut when it grew, else all of it."""
    mode = "jsonl" if mode == "jsonl" else "document"
    start = before.raw if before else 0
    raw = archived(db, source_id, generation, start)
    out.bytes_read += len(raw)
    data = raw if keep_secrets else redact_bytes(raw, mode)
    if before is None:
        spans = chunking.cut(data)
        kept: list[tuple[str, int]] = []
        base = b""
    else:
        # Cut the new bytes after the chunks already sent; a small last chunk is cut again
        # with them (its bytes were kept for that).
        kept = list(before.chunks)
        base = b""
        if kept and kept[-1][1] < chunking.SMALL and len(before.tail) == kept[-1][1]:
            base = before.tail
            kept.pop()
        data = base + data
        spans = chunking.cut(data)
    chunks = list(kept)
    for offset, length in spans:
        piece = data[offset : offset + length]
        digest = wire.digest(piece)
        out.chunks[digest] = piece
        chunks.append((digest, length))
    last = chunks[-1][1] if chunks else 0
    tail = data[-last:] if spans and last < chunking.SMALL else b""
    if not spans and before is not None:
        tail = before.tail
    return SourceState(
        source_id,
        wire_name(path),
        mode,
        generation,
        start + len(raw),
        chunks,
        tail,
    )


def _fields(db: sqlite3.Connection, pk: int) -> dict[str, Any]:
    row = db.execute(
        "SELECT tool, native_id, title, first_prompt, project, cwd, git_branch, git_commit,"
        " created_at, updated_at, message_count, models FROM sessions WHERE pk = ?",
        (pk,),
    ).fetchone()
    (
        tool,
        native_id,
        title,
        prompt,
        project,
        cwd,
        branch,
        commit,
        created,
        updated,
        count,
        models,
    ) = row
    return {
        "tool": tool,
        "native_id": native_id,
        "title": _short(title or prompt),
        "project": project,
        "cwd": cwd,
        "git_branch": branch,
        "git_commit": commit,
        "created_at": created,
        "updated_at": updated,
        "message_count": count,
        "models": orjson.loads(models) if models else [],
    }


def _short(text: str | None) -> str | None:
    return text[:4000] if text else text


def _text(
    db: sqlite3.Connection, pk: int, from_seq: int, budget: int, keep_secrets: bool
) -> tuple[list[str], int, int]:
    """The searchable text of messages from `from_seq` on, in pieces, within `budget`
    characters: (pieces, the next message seq, characters sent)."""
    from tether.redact import redact_text

    rows = db.execute(
        "SELECT m.seq, p.text FROM messages m JOIN parts p ON p.message_pk = m.pk"
        " WHERE m.session_pk = ? AND m.seq >= ? AND p.text != '' ORDER BY m.seq, p.seq",
        (pk, from_seq),
    )
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    sent = 0
    next_seq = from_seq
    for seq, text in rows:
        next_seq = seq + 1
        if sent + size >= budget or len(pieces) >= PIECES_PER_PUSH:
            continue
        kept = text[: budget - sent - size]
        current.append(kept)
        size += len(kept) + 1
        if size >= MAX_PIECE:
            pieces.append("\n".join(current)[:MAX_PIECE])
            sent += size
            current, size = [], 0
    if current and len(pieces) < PIECES_PER_PUSH:
        pieces.append("\n".join(current)[:MAX_PIECE])
        sent += size
    if not keep_secrets:
        pieces = [redact_text(piece) for piece in pieces]
    return pieces, next_seq, sent
