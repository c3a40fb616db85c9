"""What the archive keeps of a file's past: the raw bytes of each generation it read, and the
messages a tool dropped when it rewrote a file smaller, kept in the session where they stood.

A full re-read starts a new generation. The one before is kept when the file shrank (it may
hold history the tool dropped), else replaced. After every full read, and at reindex, the
messages of each kept older generation that the session no longer has are put back, in
order after the message they followed, marked `dropped_by_tool`: the same function of the
same archived bytes both times, so `tether reindex` gives the session it had.
"""

from __future__ import annotations

import sqlite3

from tether.archive.assemble import Assembly
from tether.archive.store import SessionWriter, part_row
from tether.capture.feed import feed_from_bytes, read_guarded
from tether.model import ROLES, Message
from tether.tools.base import Put, Source, Tool

Fingerprint = tuple[str, tuple[tuple[str, str], ...]]
"""A message by what it says: its role and its parts' kinds and text (times aside)."""
Ref = int | str
"""A message of the session: its pk, or the key of one put back."""
DROPPED = "dropped_by_tool"


def archived_bytes(db: sqlite3.Connection, source_id: int, generation: int | None = None) -> bytes:
    """One archived generation of a source (its current one by default), decompressed."""
    import zstandard

    if generation is None:
        row = db.execute("SELECT generation FROM sources WHERE id = ?", (source_id,)).fetchone()
        generation = row[0]
    dctx = zstandard.ZstdDecompressor()
    rows = db.execute(
        "SELECT data FROM raw_chunks WHERE source_id = ? AND generation = ? ORDER BY seq",
        (source_id, generation),
    )
    return b"".join(dctx.decompress(data) for (data,) in rows)


def older_generations(db: sqlite3.Connection, source_id: int) -> list[int]:
    """The generations kept before the current one, oldest first (usually none). The
    current one may have no bytes: a file cut to nothing."""
    rows = db.execute(
        "SELECT DISTINCT generation FROM raw_chunks WHERE source_id = ? AND generation <"
        " (SELECT generation FROM sources WHERE id = ?) ORDER BY generation",
        (source_id, source_id),
    )
    return [r[0] for r in rows]


def keep_dropped(
    db: sqlite3.Connection, tool: Tool, source: Source, source_id: int, session_pk: int
) -> int:
    """Put back the messages older generations of this source held that the session lacks
    now, each after the message it followed there; returns how many (inside the caller's
    transaction, after the session was read from the newest generation)."""
    older = older_generations(db, source_id)
    if not older:
        return 0
    current = _current(db, session_pk)
    known: dict[Fingerprint, Ref] = {}
    for ref, fingerprint in current:
        known.setdefault(fingerprint, ref)
    followers: dict[Ref | None, list[Ref]] = {}
    dropped: list[tuple[str, Message]] = []
    for generation in older:
        after: Ref | None = None
        data = archived_bytes(db, source_id, generation)
        for n, message in enumerate(_messages(tool, source, data)):
            fingerprint = _fingerprint(message)
            if fingerprint not in known:
                key = known[fingerprint] = f"{DROPPED}/{generation}/{n}"
                message.native = {**message.native, DROPPED: True}
                dropped.append((key, message))
                followers.setdefault(after, []).append(key)
            after = known[fingerprint]
    if dropped:
        _write(db, session_pk, _ordered([ref for ref, _ in current], followers), dropped)
    return len(dropped)


def _ordered(current: list[Ref], followers: dict[Ref | None, list[Ref]]) -> list[Ref]:
    """The session's messages with each put-back one after the message it followed (and
    those that followed nothing first), without recursion: a run of them may be long."""
    out: list[Ref] = []
    for start in ([*followers.get(None, ())], *([ref] for ref in current)):
        stack = [iter(start)]
        while stack:
            ref = next(stack[-1], None)
            if ref is None:
                stack.pop()
                continue
            out.append(ref)
            stack.append(iter(followers.get(ref, ())))
    return out


def _messages(tool: Tool, source: Source, data: bytes) -> list[Message]:
    """The messages a reader makes of one generation's bytes, in order."""
    assembly = Assembly(tool.name)
    feed = feed_from_bytes(Source(source.path, source.mode, source.native_id), data)
    assembly.apply(read_guarded(tool, feed, {}))
    return [assembly.messages[key] for key in assembly.keys]


def _fingerprint(message: Message) -> Fingerprint:
    role = message.role if message.role in ROLES else "system"  # as the archive stores it
    return role, tuple(part_row(part)[:2] for part in message.parts)


def _current(db: sqlite3.Connection, session_pk: int) -> list[tuple[Ref, Fingerprint]]:
    """The session's messages as they stand, in order: (pk, fingerprint)."""
    rows = db.execute(
        "SELECT m.pk, m.role, p.kind, p.text FROM messages m LEFT JOIN parts p"
        " ON p.message_pk = m.pk WHERE m.session_pk = ? ORDER BY m.seq, p.seq",
        (session_pk,),
    )
    roles: dict[int, str] = {}
    parts: dict[int, list[tuple[str, str]]] = {}
    for pk, role, kind, text in rows:
        roles.setdefault(pk, role)
        said = parts.setdefault(pk, [])
        if kind is not None:
            said.append((kind, text))
    return [(pk, (role, tuple(parts[pk]))) for pk, role in roles.items()]


def _write(
    db: sqlite3.Connection,
    session_pk: int,
    order: list[Ref],
    dropped: list[tuple[str, Message]],
) -> None:
    """Add the dropped messages, then number the session's messages in the order found."""
    writer = SessionWriter(db, session_pk, fresh=False)
    for key, message in dropped:
        writer.put(Put(key, message))
    writer.flush()
    pks = [writer.keys[ref][0] if isinstance(ref, str) else ref for ref in order]
    db.executemany("UPDATE messages SET seq = ? WHERE pk = ?", list(enumerate(pks)))
    writer.finish()
