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

Most of a part's text is already in the archive once: in the raw bytes of the file it was
read from (`raw_chunks`), as the JSON strings the reader took it from. So a block written
while its file is read is compressed with those raw bytes as a zstd raw-content dictionary
(its "base": `base_length` bytes from `base_at` of one raw chunk, named by source,
generation and seq), and holds little more than where in them its text is: on the bench
corpus, 43 MB of blocks compressed alone take 11.7 MB so. Reading such a block decompresses
its raw chunk first (a connection keeps the last ones). Raw bytes that are some block's
base cannot be deleted (a trigger refuses it): `release` first re-packs those blocks on
their own.

In a block based on raw bytes (`form` 1), a part's text is kept as the body of a JSON string,
escaped as the raw bytes hold it: a text of many lines is one match against its raw bytes,
not one per line (each newline is `\\n` there). That took the blocks of the bench corpus from
11.4 to 4.9 MB. The view reads a text through part_text(block, at, length), which unescapes
it; a part's data (JSON) is kept as it is, through part_slice.
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

BASE_MIN = 1024
"""Raw bytes fewer than this are no base worth a dictionary: the block is packed alone."""
BASE_MAX = 1 << 20
"""The most raw bytes a base takes (the last collected): a dictionary costs its size again
in memory, twice, to compress against and to read back."""
BASES_KEPT = 1
"""Raw chunks (decompressed, up to 4 MB each) a connection keeps for the blocks based on them:
a session is read in order, and the blocks of one flush share their base."""

PartRow = tuple[int, int, int, str, str, str | None]
"""(pk, message_pk, seq, kind, text, data): a part as a writer has it."""
Base = tuple[int, int, int, int, bytes]
"""(source_id, generation, seq, at, bytes): bytes of a raw chunk from `at` on, the raw bytes
the parts being packed were read from (tether.capture.ingest.Archiver.base)."""

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

BASES = """
ALTER TABLE part_blocks ADD COLUMN base_source INTEGER;
ALTER TABLE part_blocks ADD COLUMN base_generation INTEGER;
ALTER TABLE part_blocks ADD COLUMN base_seq INTEGER;
ALTER TABLE part_blocks ADD COLUMN base_at INTEGER;
ALTER TABLE part_blocks ADD COLUMN base_length INTEGER;
CREATE INDEX part_blocks_base ON part_blocks(base_source, base_generation, base_seq)
    WHERE base_source IS NOT NULL;
"""
GUARD = """
CREATE TRIGGER raw_chunks_based BEFORE DELETE ON raw_chunks
WHEN EXISTS (SELECT 1 FROM part_blocks WHERE base_source = OLD.source_id
    AND base_generation = OLD.generation AND base_seq = OLD.seq)
BEGIN
    SELECT RAISE(ABORT, 'these raw bytes are the base of compressed text (release them first)');
END;
"""
"""The trigger that keeps raw bytes while a block is based on them."""
BASES += GUARD
"""Blocks compressed against raw bytes (m012), and the guard that keeps those bytes."""

ESCAPES = """
ALTER TABLE part_blocks ADD COLUMN form INTEGER;
DROP VIEW parts;
DROP TRIGGER part_rows_gone;
"""
"""Texts kept as JSON string bodies (m013): the column that says so, and the view as it was,
made again by VIEW to read them through part_text."""

VIEW = """
CREATE VIEW parts (pk, message_pk, seq, kind, text, data) AS
    SELECT pk, message_pk, seq, kind, part_text(block, at, text_len),
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


_COLLECTING: dict[tuple[int, int, int, int], tuple[sqlite3.Connection, bytearray]] = {}
"""Raw bytes being collected and not stored yet (tether.capture.ingest.Archiver), by
(connection, source, generation, seq): a block based on them is read from here until the
chunk is stored (a message replaced later in the same file deletes it). The connection is
held with them, so that its id cannot name another one while they are here."""


def collecting(db: sqlite3.Connection, key: tuple[int, int, int], buffer: bytearray) -> None:
    """`buffer` is the start of the raw chunk `key` (source, generation, seq) until `collected`."""
    _COLLECTING[(id(db), *key)] = (db, buffer)


def collected(db: sqlite3.Connection, key: tuple[int, int, int]) -> None:
    """The raw chunk `key` is stored (or never will be)."""
    _COLLECTING.pop((id(db), *key), None)


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


Block = tuple[int, bytes, int | None, int | None, int | None, int | None, int | None, int | None]
"""A part_blocks row: id, zstd bytes, base_source, base_generation, base_seq, base_at,
base_length, form (ESCAPED or None)."""

ESCAPED = 1
"""A block's `form` when its texts are kept as JSON string bodies (those based on raw
bytes); None when kept as they are."""


def pack(
    rows: Iterable[PartRow], base: Base | None = None
) -> tuple[list[Block], list[tuple[Any, ...]]]:
    """Blocks and part_rows rows for parts written together, in order; compressed against
    `base` (its bytes as a raw-content dictionary) when given."""
    module = zstd()
    escape = base is not None and len(base[4]) >= BASE_MIN
    if escape:
        assert base is not None
        source, generation, seq, at, raw = base
        dictionary = module.ZstdCompressionDict(raw, dict_type=module.DICT_TYPE_RAWCONTENT)
        # With a checksum: a block read against other bytes than its base fails, never garbles.
        compressor = module.ZstdCompressor(level=LEVEL, dict_data=dictionary, write_checksum=True)
        named: tuple[int | None, ...] = (source, generation, seq, at, len(raw), ESCAPED)
        import orjson  # the writers have it; the quick answers never pack
    else:
        compressor = module.ZstdCompressor(level=LEVEL)
        named = (None, None, None, None, None, None)
    blocks: list[Block] = []
    out: list[tuple[Any, ...]] = []
    buffer = bytearray()
    block = block_id()
    for pk, message_pk, seq, kind, text, data in rows:
        if buffer and len(buffer) >= BLOCK_BYTES:
            blocks.append((block, compressor.compress(buffer), *named))
            buffer, block = bytearray(), block_id()
        raw_text = orjson.dumps(text)[1:-1] if escape else text.encode()
        raw_data = None if data is None else data.encode()
        at = len(buffer)
        buffer += raw_text
        if raw_data is not None:
            buffer += raw_data
        size = None if raw_data is None else len(raw_data)
        out.append((pk, message_pk, seq, kind, block, at, len(raw_text), size))
    if out:
        blocks.append((block, compressor.compress(buffer), *named))
    return blocks, out


def write(
    db: sqlite3.Connection,
    rows: list[PartRow],
    session_pk: int | None = None,
    base: Base | None = None,
) -> None:
    """Store parts (their pks given) in blocks, compressed against `base` when given. Parts
    added to a session (`session_pk`) whose last block is not full are packed with that
    block's parts, which keep their pks: a session the watcher captures a few lines at a
    time ends in blocks as full as a scan's."""
    carried = _last_block(db, session_pk) if session_pk is not None else None
    if carried is None:
        _insert(db, *pack(rows, base))
    else:
        _repack(db, carried, rows, base)


def _insert(db: sqlite3.Connection, blocks: list[Block], rows: list[tuple[Any, ...]]) -> None:
    _insert_blocks(db, blocks)
    db.executemany("INSERT INTO part_rows VALUES (?,?,?,?,?,?,?,?)", rows)


def _insert_blocks(db: sqlite3.Connection, blocks: list[Block]) -> None:
    # Plain blocks by their two columns: m011 converts into a table without the base's.
    plain = [block[:2] for block in blocks if block[2] is None]
    based = [block for block in blocks if block[2] is not None]
    if plain:
        db.executemany("INSERT INTO part_blocks (id, data) VALUES (?, ?)", plain)
    if based:
        db.executemany(
            "INSERT INTO part_blocks (id, data, base_source, base_generation, base_seq,"
            " base_at, base_length, form) VALUES (?,?,?,?,?,?,?,?)",
            based,
        )


def _repack(
    db: sqlite3.Connection, block: int, rows: list[PartRow], base: Base | None = None
) -> None:
    """Pack the parts of `block` again, followed by `rows` (new parts), against `base`; the
    old parts keep their pks, and the old block goes."""
    old: list[PartRow] = db.execute(
        "SELECT pk, message_pk, seq, kind, text, data FROM parts"
        " WHERE pk IN (SELECT pk FROM part_rows WHERE block = ?) ORDER BY pk",
        (block,),
    ).fetchall()
    blocks, part_rows = pack([*old, *rows], base)
    _insert_blocks(db, blocks)
    db.executemany(  # a text's length too: it is escaped in a based block, and not alone
        "UPDATE part_rows SET block = ?, at = ?, text_len = ? WHERE pk = ?",
        [(r[4], r[5], r[6], r[0]) for r in part_rows[: len(old)]],
    )
    db.execute("DELETE FROM part_blocks WHERE id = ?", (block,))
    db.executemany("INSERT INTO part_rows VALUES (?,?,?,?,?,?,?,?)", part_rows[len(old) :])


def release(db: sqlite3.Connection, source_id: int, generation: int | None = None) -> int:
    """Re-pack on their own the blocks compressed against raw bytes of this source (of one
    generation, or all), so that those bytes can go; returns how many there were."""
    query = "SELECT id FROM part_blocks WHERE base_source = ?"
    args: tuple[int, ...] = (source_id,)
    if generation is not None:
        query += " AND base_generation = ?"
        args += (generation,)
    blocks = [row[0] for row in db.execute(query, args)]
    for block in blocks:
        _repack(db, block, [])
    return len(blocks)


def drop_raw(db: sqlite3.Connection, source_id: int, generation: int | None = None) -> None:
    """Delete a source's raw bytes (of one generation, or all), the blocks compressed against
    them re-packed on their own first: the one way raw bytes go."""
    release(db, source_id, generation)
    if generation is None:
        db.execute("DELETE FROM raw_chunks WHERE source_id = ?", (source_id,))
    else:
        db.execute(
            "DELETE FROM raw_chunks WHERE source_id = ? AND generation = ?",
            (source_id, generation),
        )


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


class _Opened:
    """A connection's opened blocks, and the raw chunks they were based on."""

    def __init__(self, ref: Callable[[], sqlite3.Connection | None]) -> None:
        self.ref = ref
        self.blocks: dict[int, bytes] = {}
        """Opened blocks, oldest first: readers go through a session in order, so the first
        opened is the first no longer needed."""
        self.escaped: set[int] = set()
        """Those of them whose texts are JSON string bodies (form ESCAPED)."""
        self.held = 0
        self.bases: dict[
            tuple[int, int, int], tuple[bytes, bytes | None, dict[Any, Any], tuple[int, int]]
        ] = {}
        """Raw chunks that opened blocks were based on (the last BASES_KEPT): compressed as
        stored, decompressed, the decompressors made of them, and when it was last seen to be
        what its key names (after a rollback, or a source's id used again, the same key can
        name other bytes)."""
        self.plain: Any = None

    def slice(self, block: int, at: int, length: int | None) -> str | None:
        if length is None:
            return None
        data = self.blocks.get(block)
        if data is None:
            data = self.open(block)
        return data[at : at + length].decode()

    def text(self, block: int, at: int, length: int) -> str:
        text = self.slice(block, at, length)
        assert text is not None  # a part's text always has a length
        if block in self.escaped and "\\" in text:  # without one, the body is the text
            return unescape(text)
        return text

    def open(self, block: int) -> bytes:
        conn = self.ref()
        assert conn is not None  # the function lives only as long as its connection
        row = conn.execute(
            "SELECT data, base_source, base_generation, base_seq, base_at, base_length, form"
            " FROM part_blocks WHERE id = ?",
            (block,),
        ).fetchone()
        if row is None:
            raise LookupError(f"part block {block} is missing")
        if self.plain is None:
            self.plain = zstd().ZstdDecompressor()
        if row[1] is None:
            data = bytes(self.plain.decompress(row[0]))
        else:
            tool = self.based(conn, (row[1], row[2], row[3]), row[4], row[5])
            data = bytes(tool.decompress(row[0]))
        self.blocks[block] = data
        if row[6] == ESCAPED:
            self.escaped.add(block)
        self.held += len(data)
        while self.held > CACHE_BYTES and len(self.blocks) > 1:
            gone = next(iter(self.blocks))
            self.held -= len(self.blocks.pop(gone))
            self.escaped.discard(gone)
        return data

    def based(
        self, conn: sqlite3.Connection, key: tuple[int, int, int], at: int, length: int
    ) -> Any:
        """A decompressor with bytes `at`..`at + length` of raw chunk `key` as its dictionary
        (the blocks of one flush share one)."""
        collected = _COLLECTING.get((id(conn), *key))
        if collected is not None and collected[0] is conn:  # never kept: not final yet
            return _decompressor(bytes(collected[1][at : at + length]))
        # Nothing was written since the chunk was kept (by another connection, nor by this
        # one): it is still what the key names, without reading it again.
        stamp = (conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes)
        kept = self.bases.get(key)
        if kept is None or kept[3] != stamp:
            row = conn.execute(
                "SELECT data FROM raw_chunks WHERE source_id = ? AND generation = ? AND seq = ?",
                key,
            ).fetchone()
            if row is None:
                raise LookupError(f"the raw bytes a part block is based on are missing: {key}")
            if kept is not None and kept[0] == row[0]:
                kept = self.bases[key] = (*kept[:3], stamp)
            else:
                self.bases.pop(key, None)
                while len(self.bases) >= BASES_KEPT:
                    self.bases.pop(next(iter(self.bases)))
                # A writer (a scan) reads back a block now and then: it keeps no whole chunk
                # (4 MB of a scan's peak memory) for it.
                raw = None if conn.in_transaction else bytes(self.plain.decompress(row[0]))
                kept = self.bases[key] = (row[0], raw, {}, stamp)
        tools = kept[2]
        tool = tools.get((at, length))
        if tool is None:
            tools.clear()  # the last one only: each holds a copy of its bytes
            whole = kept[1]
            part = whole[at : at + length] if whole is not None else _part_of(kept[0], at, length)
            tool = tools[(at, length)] = _decompressor(part)
        return tool


def _part_of(compressed: bytes, at: int, length: int) -> bytes:
    """Bytes `at`..`at + length` of a zstd frame, decompressed a piece at a time, by a
    decompressor of its own: streaming, a decompressor takes buffers the size of the frame's
    window (4 MB for a raw chunk) and keeps them as long as it lives, and a connection's
    lives as long as the connection (a worker of a scan held them through all its files)."""
    reader = zstd().ZstdDecompressor().stream_reader(compressed)
    pieces: list[bytes] = []
    skip, want = at, length
    while skip or want:
        piece = reader.read(min(skip or want, 1 << 18))
        if not piece:
            break
        if skip:  # a piece is never longer than what is left to skip
            skip -= len(piece)
            continue
        pieces.append(piece)
        want -= len(piece)
    return b"".join(pieces)


def unescape(body: str) -> str:
    """The text a JSON string body (its bytes between the quotes) stands for."""
    try:  # the C scanner json.decoder uses, without json's imports
        from _json import scanstring
    except ImportError:  # pragma: no cover - CPython has it
        import json

        return str(json.loads(f'"{body}"', strict=False))
    return str(scanstring(body + '"', 0, False)[0])


def _decompressor(raw: bytes) -> Any:
    module = zstd()
    dictionary = module.ZstdCompressionDict(raw, dict_type=module.DICT_TYPE_RAWCONTENT)
    return module.ZstdDecompressor(dict_data=dictionary)


def register(db: sqlite3.Connection) -> None:
    """Give this connection the SQL functions the `parts` view and its triggers call."""
    try:
        ref: Callable[[], sqlite3.Connection | None] = weak(db)
    except TypeError:  # a plain sqlite3.Connection (tests): held until it is closed
        ref = lambda: db  # noqa: E731
    opened = _Opened(ref)

    def part_pack(text: str, data: str | None) -> bytes:
        raw = text.encode() + (b"" if data is None else data.encode())
        return bytes(zstd().ZstdCompressor(level=LEVEL).compress(raw))

    db.create_function("part_slice", 3, opened.slice, deterministic=True)
    db.create_function("part_text", 3, opened.text, deterministic=True)
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
