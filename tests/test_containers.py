"""A file that holds many sessions (a tool's SQLite database): each session is read as a
member of its own, again only when its version changes, and the database is never changed."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest

from tests.conftest import checksums
from tether.archive.db import connect
from tether.archive.store import load_session
from tether.capture.importer import import_paths
from tether.capture.ingest import ScanReport
from tether.capture.reindex import reindex
from tether.capture.scan import scan
from tether.model import Message, Text
from tether.tools import registry
from tether.tools.base import Capability, Feed, Member, Op, Put, Source
from tether.tools.database import is_sqlite, open_readonly


class KeyValueTool:
    """A made-up tool keeping its sessions as rows of one database, as Cursor and opencode do."""

    name = "kvtool"
    display_name = "KV tool"
    aliases: tuple[str, ...] = ()
    capabilities: frozenset[Capability] = frozenset({"read"})
    broken: ClassVar[set[str]] = set()

    def store_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return [home / ".kv"]

    def discover(self, root: Path) -> Iterator[Source]:
        path = root / "kv.db"
        if path.is_file():
            yield self.container(path)

    def sniff(self, path: Path, head: bytes) -> Source | None:
        return self.container(path) if is_sqlite(head) and path.name == "kv.db" else None

    def container(self, path: Path) -> Source:
        def members(skip: Callable[[str], None]) -> Iterator[Member]:
            db = open_readonly(path)
            try:
                for sid, version in db.execute("SELECT id, version FROM chats ORDER BY id"):
                    if sid is None:
                        skip("a chat without an id")
                        continue
                    yield Member(str(sid), str(version), lambda sid=sid: self.load(path, sid))
            finally:
                db.close()

        return Source(path, "container", members=members)

    def load(self, path: Path, sid: str) -> bytes:
        if sid in self.broken:
            raise sqlite3.DatabaseError("database disk image is malformed")
        db = open_readonly(path)
        try:
            rows = db.execute("SELECT line FROM lines WHERE chat = ? ORDER BY n", (sid,))
            return b"".join(orjson.dumps({"text": r[0]}) + b"\n" for r in rows)
        finally:
            db.close()

    def read(self, feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
        for rec in feed.records():
            if rec["text"] == "explode":
                raise RuntimeError("a reader bug")
            state["n"] = state.get("n", 0) + 1
            yield Put(str(state["n"]), Message("user", [Text(rec["text"])]))


TOOL = KeyValueTool()


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.TOOLS, TOOL.name, TOOL)  # type: ignore[arg-type]
    monkeypatch.setattr(KeyValueTool, "broken", set())


def make_store(path: Path, chats: dict[str, list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE chats (id TEXT, version TEXT)")
    db.execute("CREATE TABLE lines (chat TEXT, n INTEGER, line TEXT)")
    for sid, lines in chats.items():
        write_chat(db, sid, lines)
    db.commit()
    db.close()


def write_chat(db: sqlite3.Connection, sid: str, lines: list[str]) -> None:
    db.execute("DELETE FROM chats WHERE id = ?", (sid,))
    db.execute("DELETE FROM lines WHERE chat = ?", (sid,))
    db.execute("INSERT INTO chats VALUES (?, ?)", (sid, str(len(lines))))
    db.executemany("INSERT INTO lines VALUES (?,?,?)", [(sid, i, t) for i, t in enumerate(lines)])


def capture(home: Path) -> tuple[sqlite3.Connection, ScanReport]:
    db = connect(Path(os.environ["TETHER_HOME"]) / "t.db")
    return db, scan(db, {}, home, tools=[TOOL])  # type: ignore[list-item]


def texts(db: sqlite3.Connection) -> dict[str, list[str]]:
    out = {}
    for pk, native_id in db.execute("SELECT pk, native_id FROM sessions ORDER BY native_id"):
        session = load_session(db, pk)
        out[native_id] = [p.text for m in session.messages for p in m.parts if isinstance(p, Text)]
    return out


def test_each_session_of_a_database_is_a_session(isolated_home: Path) -> None:
    store = isolated_home / ".kv" / "kv.db"
    make_store(store, {"a": ["hello", "world"], "b": ["other"]})
    before = checksums(store.parent)
    db, report = capture(isolated_home)
    assert report.sessions_added == 2 and report.read == 2 and not report.failed
    assert texts(db) == {"a": ["hello", "world"], "b": ["other"]}
    assert checksums(store.parent) == before  # nothing created beside it, nothing changed


def test_only_changed_sessions_are_read_again(isolated_home: Path) -> None:
    store = isolated_home / ".kv" / "kv.db"
    make_store(store, {"a": ["hello"], "b": ["other"]})
    db, _ = capture(isolated_home)
    assert scan(db, {}, isolated_home, tools=[TOOL]).read == 0  # type: ignore[list-item]
    raw = sqlite3.connect(store)
    write_chat(raw, "a", ["hello", "again"])
    raw.commit()
    raw.close()
    report = scan(db, {}, isolated_home, tools=[TOOL])  # type: ignore[list-item]
    assert report.read == 1 and report.sessions_updated == 1 and report.sessions_added == 0
    assert texts(db) == {"a": ["hello", "again"], "b": ["other"]}


def test_a_session_gone_from_the_database_stays_in_the_archive(isolated_home: Path) -> None:
    store = isolated_home / ".kv" / "kv.db"
    make_store(store, {"a": ["hello"], "b": ["other"]})
    db, _ = capture(isolated_home)
    raw = sqlite3.connect(store)
    raw.execute("DELETE FROM chats WHERE id = 'b'")
    raw.commit()
    raw.close()
    scan(db, {}, isolated_home, tools=[TOOL])  # type: ignore[list-item]
    assert texts(db) == {"a": ["hello"], "b": ["other"]}
    missing = dict(db.execute("SELECT path, missing_since IS NOT NULL FROM sources"))
    assert missing[f"{store}#a"] == 0 and missing[f"{store}#b"] == 1
    assert missing[str(store)] == 0
    store.unlink()
    scan(db, {}, isolated_home, tools=[TOOL])  # type: ignore[list-item]
    assert all(db.execute("SELECT missing_since IS NOT NULL FROM sources").fetchall())
    assert texts(db) == {"a": ["hello"], "b": ["other"]}


def test_one_unreadable_session_costs_only_itself(isolated_home: Path) -> None:
    store = isolated_home / ".kv" / "kv.db"
    make_store(store, {"a": ["hello"], "b": ["other"], None: ["no id"]})  # type: ignore[dict-item]
    KeyValueTool.broken = {"b"}
    db, report = capture(isolated_home)
    assert texts(db) == {"a": ["hello"]}
    assert [p.path for p in report.failed] == [f"{store}#b"]
    (skipped, reasons) = db.execute(
        "SELECT skipped, reasons FROM sources WHERE path = ?", (str(store),)
    ).fetchone()
    assert skipped == 1 and "without an id" in reasons
    KeyValueTool.broken = set()
    raw = sqlite3.connect(store)
    raw.execute("INSERT INTO lines VALUES ('a', 9, 'more')")
    raw.execute("UPDATE chats SET version = '2' WHERE id = 'a'")
    raw.commit()
    raw.close()
    scan(db, {}, isolated_home, tools=[TOOL])  # type: ignore[list-item]
    assert texts(db) == {"a": ["hello", "more"], "b": ["other"]}


def test_a_file_that_is_not_a_database_is_reported(isolated_home: Path) -> None:
    store = isolated_home / ".kv" / "kv.db"
    store.parent.mkdir(parents=True)
    store.write_bytes(b"SQLite format 3\x00" + b"\xff" * 600)
    db, report = capture(isolated_home)
    assert len(report.failed) == 1 and report.failed[0].path == str(store)
    assert texts(db) == {}


def test_what_a_running_tool_wrote_last_is_read_and_left_as_it_was(isolated_home: Path) -> None:
    store = isolated_home / ".kv" / "kv.db"
    make_store(store, {"a": ["hello"]})
    writer = sqlite3.connect(store, isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    write_chat(writer, "b", ["only in the wal"])
    listing = sorted(p.name for p in store.parent.iterdir())
    main_and_wal = {n: checksums(store.parent)[n] for n in ("kv.db", "kv.db-wal")}
    try:
        db, _ = capture(isolated_home)
        assert texts(db) == {"a": ["hello"], "b": ["only in the wal"]}
        assert sorted(p.name for p in store.parent.iterdir()) == listing
        assert {n: checksums(store.parent)[n] for n in main_and_wal} == main_and_wal
        write_chat(writer, "c", ["later"])  # only the -wal changes
        scan(db, {}, isolated_home, tools=[TOOL])  # type: ignore[list-item]
        assert set(texts(db)) == {"a", "b", "c"}
    finally:
        writer.close()


def test_reindex_and_import_give_every_session(isolated_home: Path, tmp_path: Path) -> None:
    store = isolated_home / ".kv" / "kv.db"
    make_store(store, {"a": ["hello", "world"], "b": ["other"]})
    db, _ = capture(isolated_home)
    before = texts(db)
    result = reindex(db)
    assert result.sessions == 2 and not result.failed
    assert texts(db) == before
    elsewhere = tmp_path / "elsewhere" / "kv.db"
    make_store(elsewhere, {"c": ["imported"]})
    imported = import_paths(db, [elsewhere])
    assert len(imported.sessions) == 1
    assert texts(db)["c"] == ["imported"]
    again = import_paths(db, [elsewhere])  # unchanged: the same session, not read again
    assert again.sessions == imported.sessions and again.scan.read == 0


def test_a_reader_that_raises_on_one_record_costs_only_that_record(
    isolated_home: Path,
) -> None:
    store = isolated_home / ".kv" / "kv.db"
    make_store(store, {"a": ["hello"], "b": ["first", "explode", "after"], "c": ["other"]})
    db, report = capture(isolated_home)
    assert texts(db) == {"a": ["hello"], "b": ["first", "after"], "c": ["other"]}
    assert not report.failed
    assert [p.path for p in report.skipped_in] == [f"{store}#b"]
    assert "RuntimeError: a reader bug" in report.skipped_in[0].message
