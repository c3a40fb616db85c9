"""The SQLite database: connection settings and the ordered list of schema migrations.

Each migration is a small named function run once, in order, recorded in `migrations`.
A new schema change is a new function appended to MIGRATIONS, never an edit of an old one.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tether.errors import BusyError, TetherError

TYPE_CHECKING = False
if TYPE_CHECKING:  # callers give a Path or a str: the quick answers never load pathlib
    from pathlib import Path

Migration = Callable[[sqlite3.Connection], None]


def _script(db: sqlite3.Connection, sql: str) -> None:
    # executescript() would COMMIT the migration's transaction first: run statements one by one
    # (a trigger's body holds semicolons of its own: a statement ends where SQLite says).
    statement = ""
    for piece in sql.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \n;"):
                db.execute(statement)
            statement = ""


def m001_sessions_messages_parts(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE TABLE sessions (
            pk INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            tool TEXT NOT NULL,
            native_id TEXT NOT NULL,
            project TEXT,
            cwd TEXT,
            git_branch TEXT,
            git_commit TEXT,
            title TEXT,
            first_prompt TEXT,
            created_at TEXT,
            updated_at TEXT,
            message_count INTEGER NOT NULL DEFAULT 0,
            models TEXT NOT NULL DEFAULT '[]',
            usage TEXT,
            parent_native_id TEXT,
            parent_id TEXT,
            native TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX sessions_updated ON sessions(updated_at);
        CREATE INDEX sessions_tool_updated ON sessions(tool, updated_at);
        CREATE INDEX sessions_native_id ON sessions(native_id);
        CREATE INDEX sessions_project ON sessions(project);

        CREATE TABLE messages (
            pk INTEGER PRIMARY KEY,
            session_pk INTEGER NOT NULL REFERENCES sessions(pk) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            key TEXT NOT NULL,
            role TEXT NOT NULL,
            timestamp TEXT,
            model TEXT,
            usage TEXT,
            native_id TEXT,
            native TEXT
        );
        CREATE UNIQUE INDEX messages_session_key ON messages(session_pk, key);
        CREATE INDEX messages_session_seq ON messages(session_pk, seq);

        CREATE TABLE parts (
            pk INTEGER PRIMARY KEY,
            message_pk INTEGER NOT NULL REFERENCES messages(pk) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            data TEXT
        );
        CREATE INDEX parts_message ON parts(message_pk, seq);
        """,
    )


def m002_fts_for_parts(db: sqlite3.Connection) -> None:
    # External content keyed by parts.pk, an explicit INTEGER PRIMARY KEY: stable on VACUUM.
    db.execute(
        "CREATE VIRTUAL TABLE parts_fts USING fts5("
        "text, content='parts', content_rowid='pk', tokenize='unicode61 remove_diacritics 2')"
    )


def m003_sources_and_raw_archive(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            tool TEXT NOT NULL,
            path TEXT NOT NULL UNIQUE,
            mode TEXT NOT NULL,
            origin TEXT NOT NULL DEFAULT 'scan',
            session_pk INTEGER REFERENCES sessions(pk) ON DELETE SET NULL,
            size INTEGER,
            mtime_ns INTEGER,
            inode INTEGER,
            offset INTEGER NOT NULL DEFAULT 0,
            tail BLOB,
            generation INTEGER NOT NULL DEFAULT 0,
            state TEXT,
            skipped INTEGER NOT NULL DEFAULT 0,
            repaired INTEGER NOT NULL DEFAULT 0,
            reasons TEXT,
            error TEXT,
            scanned_at TEXT,
            missing_since TEXT
        );
        CREATE INDEX sources_session ON sources(session_pk);

        CREATE TABLE raw_chunks (
            source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
            generation INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            offset INTEGER NOT NULL,
            length INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (source_id, generation, seq)
        ) WITHOUT ROWID;
        """,
    )


def m004_sources_inside_a_container(db: sqlite3.Connection) -> None:
    # A file that holds many sessions (a tool's SQLite database) is a container row; each
    # session in it is a member row `<file>#<key>`, read again only when its version changes.
    _script(
        db,
        """
        ALTER TABLE sources ADD COLUMN container_id INTEGER
            REFERENCES sources(id) ON DELETE CASCADE;
        ALTER TABLE sources ADD COLUMN version TEXT;
        CREATE INDEX sources_container ON sources(container_id);
        """,
    )


def m005_fts_bulk_settings(db: sqlite3.Connection) -> None:
    # FTS5 writes a segment each time its in-memory terms pass `hashsize` (1 MB by default)
    # and merges segments four at a time. A scan writes tens of MB per transaction: a larger
    # buffer and merges of 16 cut the index's share of a first scan by a fifth.
    db.execute("INSERT INTO parts_fts(parts_fts, rank) VALUES ('hashsize', 8388608)")
    db.execute("INSERT INTO parts_fts(parts_fts, rank) VALUES ('automerge', 16)")


def m006_record_marks(db: sqlite3.Connection) -> None:
    # Which records of a file were read (an id and a checksum of the line): a record a tool
    # wrote twice is read once (tether.capture.marks).
    db.execute(
        "CREATE TABLE record_marks ("
        " source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
        " mark TEXT NOT NULL, PRIMARY KEY (source_id, mark)) WITHOUT ROWID"
    )


def m007_names_and_checkpoints(db: sqlite3.Connection) -> None:
    # One namespace for aliases and checkpoints (names are unique), keyed by the session's
    # tether id (stable across reindex, unlike its pk); a checkpoint keeps how many of the
    # session's messages it names, and the last of them to know it again.
    _script(
        db,
        """
        CREATE TABLE names (
            name TEXT PRIMARY KEY,
            session_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('alias', 'checkpoint')),
            messages INTEGER,
            last_message TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX names_session ON names(session_id);
        """,
    )


def m008_session_lineage(db: sqlite3.Connection) -> None:
    # A session continued elsewhere (resumed or converted into another tool, here or on
    # another machine, by its owner or a teammate) is a session of its own: `lineage` links
    # it to the one it continues, by tether id, before the new session is even captured.
    # `pulled` says where a session pulled from a tether server came from.
    _script(
        db,
        """
        CREATE TABLE lineage (
            session_id TEXT PRIMARY KEY,
            parent_id TEXT NOT NULL,
            how TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX lineage_parent ON lineage(parent_id);

        CREATE TABLE pulled (
            session_id TEXT PRIMARY KEY,
            server TEXT NOT NULL,
            owner TEXT NOT NULL,
            device TEXT,
            revision TEXT NOT NULL,
            git_remote TEXT,
            pulled_at TEXT NOT NULL
        );
        """,
    )


def m009_sync_marks(db: sqlite3.Connection) -> None:
    # What this machine pushed to each server (so a sync with nothing new sends nothing and
    # a session that grew sends only its new bytes), and how far it has read each server's
    # change feed.
    _script(
        db,
        """
        CREATE TABLE pushed (
            server TEXT NOT NULL,
            session_id TEXT NOT NULL,
            mark TEXT NOT NULL,
            revision TEXT NOT NULL,
            manifest TEXT NOT NULL,
            pushed_at TEXT NOT NULL,
            PRIMARY KEY (server, session_id)
        );
        CREATE TABLE sync_cursors (
            server TEXT PRIMARY KEY,
            change INTEGER NOT NULL
        );
        """,
    )


def m010_folders_and_recent_files(db: sqlite3.Connection) -> None:
    # What a quick freshness check stats instead of every file (tether.capture.fresh): the
    # store folders a full scan went through, when each was listed (-1: it was not there),
    # and the files by mtime, so that the recently written ones are found without a scan.
    _script(
        db,
        """
        CREATE TABLE folders (
            path TEXT PRIMARY KEY,
            tool TEXT NOT NULL,
            root TEXT NOT NULL,
            checked_ns INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE scan_state (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
        CREATE INDEX sources_mtime ON sources(mtime_ns);
        """,
    )


def m011_compact_parts_and_marks(db: sqlite3.Connection) -> None:
    # The parts' text, kept plain, was half the archive: compressed in blocks, a session's
    # parts together, behind a view `parts` that reads as the table did (tether.archive.parttext).
    # The full-text index keeps its rows: same pks, same text, now read through the view.
    # A record's mark (its id and a checksum, as text) becomes 64 bits of its hash (mark_key).
    from tether.archive import parttext

    (count,) = db.execute("SELECT count(*) FROM parts").fetchone()
    if count > 100_000:  # a minute or so at 10x the bench corpus: not a hang
        from tether.terminal import say

        say(f"tether: compacting the archive's text ({count:,} parts), once; a minute or so")
    _script(db, parttext.SCHEMA)
    parttext.convert(db, "parts")
    db.execute("DROP TABLE parts")
    _script(db, parttext.VIEW)
    db.execute(
        "CREATE TABLE record_marks_keys ("
        " source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
        " mark INTEGER NOT NULL, PRIMARY KEY (source_id, mark)) WITHOUT ROWID"
    )
    db.executemany(
        "INSERT OR IGNORE INTO record_marks_keys VALUES (?, ?)",
        (
            (source_id, mark_key(mark))
            for source_id, mark in db.execute("SELECT * FROM record_marks")
        ),
    )
    db.execute("DROP TABLE record_marks")
    db.execute("ALTER TABLE record_marks_keys RENAME TO record_marks")


def m012_text_on_raw_bytes(db: sqlite3.Connection) -> None:
    # The parts' text is most of it already in the raw bytes it was read from: blocks written
    # from now on are compressed against those bytes, which a trigger keeps while they are
    # (tether.archive.parttext). Blocks written before stay as they are.
    from tether.archive import parttext

    _script(db, parttext.BASES)


def m013_texts_as_raw_bytes_hold_them(db: sqlite3.Connection) -> None:
    # A text based on raw bytes is kept escaped as a JSON string body, the form those bytes
    # hold it in: a block then matches its base in long runs (tether.archive.parttext). Blocks
    # written before keep their plain texts (form NULL); the view reads both.
    from tether.archive import parttext

    _script(db, parttext.ESCAPES)
    _script(db, parttext.VIEW)


RAW_ROWS = """
CREATE TABLE raw_chunks_rows (
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (source_id, generation, seq)
);
"""
MOVE_CHUNKS = 64
"""Raw chunks m014 moves at a time (then deletes from the old table)."""


def m014_raw_chunks_fill_their_pages(db: sqlite3.Connection) -> None:
    # A chunk is a few pages of compressed bytes. In a table WITHOUT ROWID (an index's layout)
    # a row keeps at most a quarter page beside its key, and its last overflow page is half
    # empty on average: 4 MB of the bench corpus's 59. In a rowid table SQLite sizes the part
    # kept in the leaf so that the overflow pages are full, and leaves share the rest.
    # Moved a few chunks at a time, each deleted from the old table as it goes: the new rows
    # take the pages the old ones leave, and the file does not grow by what is moved.
    from tether.archive import parttext

    (count,) = db.execute("SELECT count(*) FROM raw_chunks").fetchone()
    if count > 10_000:  # seconds at 10x the bench corpus: not a hang
        from tether.terminal import say

        say(f"tether: repacking the archive's raw bytes ({count:,} chunks), once")
    db.execute("DROP TRIGGER raw_chunks_based")
    _script(db, RAW_ROWS)
    while True:
        keys = db.execute(
            "SELECT source_id, generation, seq FROM raw_chunks ORDER BY 1, 2, 3 LIMIT ?",
            (MOVE_CHUNKS,),
        ).fetchall()
        if not keys:
            break
        last = keys[-1]
        db.execute(
            "INSERT INTO raw_chunks_rows SELECT * FROM raw_chunks"
            " WHERE (source_id, generation, seq) <= (?, ?, ?) ORDER BY 1, 2, 3",
            last,
        )
        db.execute("DELETE FROM raw_chunks WHERE (source_id, generation, seq) <= (?, ?, ?)", last)
    db.execute("DROP TABLE raw_chunks")
    db.execute("ALTER TABLE raw_chunks_rows RENAME TO raw_chunks")
    _script(db, parttext.GUARD)


def m015_well_known_keys_in_one_byte(db: sqlite3.Connection) -> None:
    # A message's usage and native fields repeat the same keys, and a Claude message its own
    # id: written from now on with each as one byte (tether.archive.jsonkeys). Rows written
    # before are packed here, in place; `prune --vacuum` gives the pages they leave back.
    from tether.archive import jsonkeys

    (count,) = db.execute("SELECT count(*) FROM messages").fetchone()
    if count > 200_000:  # seconds at 10x the bench corpus: not a hang
        from tether.terminal import say

        say(f"tether: packing the archive's message fields ({count:,} messages), once")
    db.create_function("tether_pack", 2, jsonkeys.pack, deterministic=True)
    db.execute(
        "UPDATE messages SET usage = tether_pack(usage, NULL),"
        " native = tether_pack(native, native_id) WHERE usage IS NOT NULL OR native IS NOT NULL"
    )
    db.create_function("tether_pack", 2, None)


def mark_key(mark: str) -> int:
    """A record's mark as the archive keeps it (tether.capture.marks): 64 bits of its hash. The
    text took 40 MB at 10x the bench corpus; two marks of one file share a key once in 2^64."""
    import hashlib

    digest = hashlib.blake2b(mark.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


MIGRATIONS: list[Migration] = [
    m001_sessions_messages_parts,
    m002_fts_for_parts,
    m003_sources_and_raw_archive,
    m004_sources_inside_a_container,
    m005_fts_bulk_settings,
    m006_record_marks,
    m007_names_and_checkpoints,
    m008_session_lineage,
    m009_sync_marks,
    m010_folders_and_recent_files,
    m011_compact_parts_and_marks,
    m012_text_on_raw_bytes,
    m013_texts_as_raw_bytes_hold_them,
    m014_raw_chunks_fill_their_pages,
    m015_well_known_keys_in_one_byte,
]


class Archive(sqlite3.Connection):
    """A connection to the archive (a Python subclass: the SQL functions it is given refer
    back to it weakly, see tether.archive.parttext)."""


class StoreError(TetherError):
    """The archive cannot be opened, read or written, or is not tether's."""


class ArchiveBusy(BusyError, StoreError):
    """Another process held the archive's write lock for longer than tether waits."""


BUSY_TIMEOUT = 30.0
"""Seconds to wait for another process's write (a scan, the watcher) before giving up."""

# SQLite's primary result codes that are about the archive's file, not about tether's SQL
# (an SQL error is a bug and stays one), each with what the user is told.
_FILE_TROUBLE = {
    sqlite3.SQLITE_PERM: "permission denied",
    sqlite3.SQLITE_READONLY: "it is read-only here, and tether writes to it",
    sqlite3.SQLITE_IOERR: "a read or write failed",
    sqlite3.SQLITE_CORRUPT: "it is damaged",
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_CANTOPEN: "its folder cannot be read or written here (see its permissions)",
    sqlite3.SQLITE_NOTADB: "it is not a database",
}


def store_error(exc: sqlite3.Error, path: Path | str, doing: str = "use") -> StoreError | None:
    """What a SQLite error says about the archive at `path` (while `doing` it: open, use), as a
    StoreError; None when it is about the SQL itself."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return ArchiveBusy(
            f"the archive {path} is locked by another process (a scan, the watcher):"
            f" tether waited {BUSY_TIMEOUT:g} s; try again once it is done"
        )
    if primary in _FILE_TROUBLE:
        return StoreError(f"cannot {doing} the archive {path}: {_FILE_TROUBLE[primary]} ({exc})")
    return None


@contextmanager
def store_errors(path: Path | str) -> Iterator[None]:
    """Turn SQLite's errors about the archive's file (locked past the wait, read-only, full,
    damaged) into StoreError, raised from the original."""
    try:
        yield
    except sqlite3.Error as exc:
        error = store_error(exc, path)
        if error is None:
            raise
        raise error from exc


def connect(path: Path | str, readonly: bool = False) -> sqlite3.Connection:
    """Open (and create or migrate) the database. Read-only opens never migrate."""
    try:
        return _connect(path, readonly)
    except sqlite3.Error as exc:
        raise store_error(exc, path, "open") or StoreError(
            f"cannot open the archive {path}: {exc}"
        ) from None


def _connect(path: Path | str, readonly: bool) -> sqlite3.Connection:
    name = os.fspath(path)
    if readonly:
        if not os.path.exists(name):
            raise StoreError(f"no archive at {path}: run `tether scan` first")
        db = sqlite3.connect(
            f"file:{name}?mode=ro", uri=True, isolation_level=None, factory=Archive
        )
    else:
        folder = os.path.dirname(name) or "."
        os.makedirs(folder, exist_ok=True)
        if os.stat(folder).st_mode & 0o077:
            os.chmod(folder, 0o700)
        db = sqlite3.connect(name, isolation_level=None, timeout=BUSY_TIMEOUT, factory=Archive)
        if os.stat(name).st_mode & 0o077:
            os.chmod(name, 0o600)
    try:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        if readonly:
            register_functions(db)  # migrate() gives them to a connection that writes
        else:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            migrate(db)
        db.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        db.close()
        raise
    return db


def migrate(db: sqlite3.Connection) -> list[str]:
    """Run the migrations not yet recorded; returns the names it ran. The connection gets
    the SQL functions the schema's views and triggers call."""
    register_functions(db)
    db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    done = {row[0] for row in db.execute("SELECT name FROM migrations")}
    ran = []
    for migration in MIGRATIONS:
        name = migration.__name__
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                db.execute("ROLLBACK")
                continue
            migration(db)
            db.execute(
                "INSERT INTO migrations VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", (name,)
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        ran.append(name)
    return ran


def register_functions(db: sqlite3.Connection) -> None:
    """The SQL functions the archive's views and triggers call, on this connection."""
    from tether.archive.parttext import register

    register(db)


class Staging(Archive):
    """A staging database: the archive's schema, filled by one worker of a parallel scan and
    then taken over by the archive (tether.capture.staging). Its text is not indexed: the archive
    indexes what it takes over, so the full-text work is done once, from `stage_text`, the
    parts' text kept plain beside their blocks."""


def connect_staging(path: Path) -> Staging:
    """Create a private staging database at path (its journal in memory: it is thrown away
    whole if anything goes wrong, and only ever read once it is closed)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    db = sqlite3.connect(path, isolation_level=None, factory=Staging)
    try:
        db.execute("PRAGMA journal_mode = MEMORY")
        db.execute("PRAGMA synchronous = OFF")
        migrate(db)
        # The text of its parts, plain, for the archive's full-text index (SessionWriter).
        db.execute("CREATE TABLE stage_text (pk INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        db.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        db.close()
        raise
    return db
