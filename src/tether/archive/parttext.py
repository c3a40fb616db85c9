"""Where the parts' text is kept: compressed in blocks, read back through the `parts` view.

A part's text and data (JSON) are most of the archive, and one part alone (a few hundred
bytes) hardly compresses. So the parts a writer flushes together (a session's, in order) go
into zstd blocks of up to BLOCK_BYTES (`part_blocks`), and each row of `part_rows` says where
its text and data are in its block. The view `parts (pk, message_pk, seq, kind, text, data)`
gives every reader (queries, the full-text index's content, snippets) the text as it was,
through the SQL function part_slice(block, at, length), which every archive connection has
(`register`): it keeps the last blocks it opened, so reading a session in order opens each
block once.

A block's id is a random 62-bit number, never reused: a block a process has cached cannot
be replaced by another with the same id (a rollback, another process's write).
"""

from __future__ import annotations

import os
from _weakref import ref as weak  # weakref's own, without its imports (1 ms)

TYPE_CHECKING = False
if TYPE_CHECKING:  # the quick answers open the archive: nothing here they do not need
    import sqlite3
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

BLOCK_BYTES = 128 << 10
"""A block ends with the part that takes it past this many bytes: larger blocks compress a
few per cent better and cost more to open for one part."""

LEVEL = 3
CONVERT_ROWS = 4000
"""Parts the migration converts at a time (then deletes from the plain table)."""
CACHE_BYTES = 4 << 20
"""How many bytes of opened blocks a connection keeps (the last one is always kept)."""

PartRow = tuple[int, int, int, str, str, str | None]
"""(pk, message_pk, seq, kind, text, data): a part as a writer has it."""

SCHEMA = """
CREATE TABLE part_blocks (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE part_rows (
    pk INTEGER PRIMARY KEY,
    message_pk INTEGER NOT NULL REFERENCES messages(pk) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    block INTEGER NOT NULL,
    at INTEGER NOT NULL,
    text_len INTEGER NOT NULL,
    data_len INTEGER
);
CREATE INDEX part_rows_message ON part_rows(message_pk, seq);
CREATE INDEX part_rows_block ON part_rows(block);
"""
"""The tables (the view and its triggers are VIEW, made once the old `parts` is gone)."""

VIEW = """
CREATE VIEW parts (pk, message_pk, seq, kind, text, data) AS
    SELECT pk, message_pk, seq, kind, part_slice(block, at, text_len),
        part_slice(block, at + text_len, data_len)
    FROM part_rows;
CREATE TRIGGER part_rows_gone AFTER DELETE ON part_rows BEGIN
    DELETE FROM part_blocks WHERE id = OLD.block
        AND NOT EXISTS (SELECT 1 FROM part_rows WHERE block = OLD.block);
END;
CREATE TRIGGER parts_delete INSTEAD OF DELETE ON parts BEGIN
    DELETE FROM part_rows WHERE pk = OLD.pk;
END;
CREATE TRIGGER parts_insert INSTEAD OF INSERT ON parts BEGIN
    INSERT INTO part_blocks (id, data)
        VALUES (random() >> 2, part_pack(NEW.text, NEW.data));
    INSERT INTO part_rows (pk, message_pk, seq, kind, block, at, text_len, data_len)
        VALUES (NEW.pk, NEW.message_pk, NEW.seq, NEW.kind, last_insert_rowid(), 0,
            length(CAST(NEW.text AS BLOB)), length(CAST(NEW.data AS BLOB)));
END;
"""
"""`parts` as readers know it. Tether's writers write part_rows and part_blocks themselves
(SessionWriter.flush packs a flush into blocks); the INSTEAD OF triggers keep a plain
INSERT or DELETE on `parts` working (one block per part), and a block goes with its last
part however that part is deleted (a message's cascade too)."""


def zstd() -> Any:
    """zstandard's C backend, loaded without the package's __init__: that one imports
    platform, typing and re (40 ms, more than a whole quick answer) to choose a backend.
    Falls back on the package when the C backend is not where zstandard puts it."""
    import sys

    module = sys.modules.get("zstandard.backend_c")
    if module is not None:
        return module
    try:  # not importlib.util: its contextlib and collections cost a quick answer 7 ms
        from importlib.machinery import (
            EXTENSION_SUFFIXES,
            ExtensionFileLoader,
            ModuleSpec,
            PathFinder,
        )

        package = PathFinder.find_spec("zstandard")
        folders = (package.submodule_search_locations or []) if package else []
        for suffix in EXTENSION_SUFFIXES if folders else ():
            origin = f"{folders[0]}/backend_c{suffix}"
            # no pathlib here: the quick answers come through
            if not os.path.isfile(origin):  # noqa: PTH113
                continue
            loader = ExtensionFileLoader("zstandard.backend_c", origin)
            module = loader.create_module(ModuleSpec(loader.name, loader, origin=origin))
            loader.exec_module(module)
            sys.modules["zstandard.backend_c"] = module  # `import zstandard` reuses it
            return module
    except (ImportError, OSError):
        pass
    import zstandard

    return zstandard


def block_id() -> int:
    return int.from_bytes(os.urandom(8), "big") >> 2


def pack(rows: Iterable[PartRow]) -> tuple[list[tuple[int, bytes]], list[tuple[Any, ...]]]:
    """Blocks (id, zstd bytes) and part_rows rows for parts written together, in order."""
    compressor = zstd().ZstdCompressor(level=LEVEL)
    blocks: list[tuple[int, bytes]] = []
    out: list[tuple[Any, ...]] = []
    buffer = bytearray()
    block = block_id()
    for pk, message_pk, seq, kind, text, data in rows:
        if buffer and len(buffer) >= BLOCK_BYTES:
            blocks.append((block, compressor.compress(buffer)))
            buffer, block = bytearray(), block_id()
        raw_text = text.encode()
        raw_data = None if data is None else data.encode()
        at = len(buffer)
        buffer += raw_text
        if raw_data is not None:
            buffer += raw_data
        size = None if raw_data is None else len(raw_data)
        out.append((pk, message_pk, seq, kind, block, at, len(raw_text), size))
    if out:
        blocks.append((block, compressor.compress(buffer)))
    return blocks, out


def write(db: sqlite3.Connection, rows: list[PartRow], session_pk: int | None = None) -> None:
    """Store parts (their pks given) in blocks. Parts added to a session (`session_pk`) whose
    last block is not full are packed with that block's parts, which keep their pks: a
    session the watcher captures a few lines at a time ends in blocks as full as a scan's."""
    carried = _last_block(db, session_pk) if session_pk is not None else None
    old: list[PartRow] = []
    if carried is not None:
        old = db.execute(
            "SELECT pk, message_pk, seq, kind, text, data FROM parts"
            " WHERE pk IN (SELECT pk FROM part_rows WHERE block = ?) ORDER BY pk",
            (carried,),
        ).fetchall()
    blocks, part_rows = pack([*old, *rows])
    db.executemany("INSERT INTO part_blocks (id, data) VALUES (?, ?)", blocks)
    if old:
        moved = part_rows[: len(old)]
        db.executemany(
            "UPDATE part_rows SET block = ?, at = ? WHERE pk = ?",
            [(r[4], r[5], r[0]) for r in moved],
        )
        db.execute("DELETE FROM part_blocks WHERE id = ?", (carried,))
    db.executemany("INSERT INTO part_rows VALUES (?,?,?,?,?,?,?,?)", part_rows[len(old) :])


def _last_block(db: sqlite3.Connection, session_pk: int) -> int | None:
    """The block of the session's last part, when it holds less than half a block."""
    row = db.execute(
        "SELECT p.block FROM messages m JOIN part_rows p ON p.message_pk = m.pk"
        " WHERE m.session_pk = ? ORDER BY m.seq DESC, p.seq DESC LIMIT 1",
        (session_pk,),
    ).fetchone()
    if row is None:
        return None
    (size,) = db.execute(
        "SELECT SUM(text_len + IFNULL(data_len, 0)) FROM part_rows WHERE block = ?", row
    ).fetchone()
    return int(row[0]) if size is not None and size < BLOCK_BYTES // 2 else None


def register(db: sqlite3.Connection) -> None:
    """Give this connection the SQL functions the `parts` view and its triggers call."""
    try:
        ref: Callable[[], sqlite3.Connection | None] = weak(db)
    except TypeError:  # a plain sqlite3.Connection (tests): held until it is closed
        ref = lambda: db  # noqa: E731
    cache: dict[int, bytes] = {}
    """Opened blocks, oldest first: readers go through a session in order, so the first
    opened is the first no longer needed."""
    held = [0]
    tools: list[Any] = []

    def opened(block: int) -> bytes:
        conn = ref()
        assert conn is not None  # the function lives only as long as its connection
        row = conn.execute("SELECT data FROM part_blocks WHERE id = ?", (block,)).fetchone()
        if row is None:
            raise LookupError(f"part block {block} is missing")
        if not tools:
            tools.append(zstd().ZstdDecompressor())
        data = bytes(tools[0].decompress(row[0]))
        cache[block] = data
        held[0] += len(data)
        while held[0] > CACHE_BYTES and len(cache) > 1:
            held[0] -= len(cache.pop(next(iter(cache))))
        return data

    def part_slice(block: int, at: int, length: int | None) -> str | None:
        if length is None:
            return None
        data = cache.get(block)
        if data is None:
            data = opened(block)
        return data[at : at + length].decode()

    def part_pack(text: str, data: str | None) -> bytes:
        raw = text.encode() + (b"" if data is None else data.encode())
        return bytes(zstd().ZstdCompressor(level=LEVEL).compress(raw))

    db.create_function("part_slice", 3, part_slice, deterministic=True)
    db.create_function("part_pack", 2, part_pack)


def convert(db: sqlite3.Connection, old: str) -> None:
    """Move the parts of the plain table `old` (as m001 made it) into blocks, a session's
    parts together, in pk order (a scan wrote a session's parts together), deleting them
    from `old` as it goes: the blocks reuse the pages the text leaves, and the file does not
    grow by what it converts."""
    db.execute(f"DROP INDEX IF EXISTS {old}_message")  # old's own: not needed to read it in order
    last = -(1 << 63)
    while True:
        rows = db.execute(
            "SELECT m.session_pk, p.pk, p.message_pk, p.seq, p.kind, p.text, p.data"
            f" FROM {old} p LEFT JOIN messages m ON m.pk = p.message_pk WHERE p.pk > ?"
            " ORDER BY p.pk LIMIT ?",
            (last, CONVERT_ROWS),
        ).fetchall()
        if not rows:
            return
        for batch in _sessions(rows):
            write(db, batch)
        db.execute(f"DELETE FROM {old} WHERE pk <= ?", (rows[-1][1],))
        last = rows[-1][1]


def _sessions(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[PartRow]]:
    batch: list[PartRow] = []
    session = None
    for session_pk, *part in rows:
        if batch and session_pk != session:
            yield batch
            batch = []
        session = session_pk
        batch.append((part[0], part[1], part[2], part[3], part[4], part[5]))
    if batch:
        yield batch
