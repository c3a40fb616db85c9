"""Cursor reader: the editor's state.vscdb, cursor-agent transcripts and chat stores.

The databases are built from the fixtures' rows with Cursor's own schema (see
fixtures/cursor/SOURCES.txt); the transcripts are redacted real samples.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.conftest import checksums, run

from tether.archive.assemble import Assembly
from tether.archive.db import connect
from tether.capture.feed import feed_from_bytes
from tether.capture.reindex import archived_bytes
from tether.capture.scan import scan
from tether.model import Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools import cursor, cursor_agent
from tether.tools.base import Member, Source, member_path
from tether.tools.registry import get_tool

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cursor"
ROWS = FIXTURES / "ide_state_vscdb_rows.ndjson"
ITEMS = FIXTURES / "ide_state_vscdb_itemtable.ndjson"
CHAT = FIXTURES / "agent_store_chat.json"
MODERN = "9f6c1e52-3d4b-4a7e-8c21-5b0d7e4f2a10"
LEGACY = "1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b"
PUBLIC = "33333333-3333-4333-8333-333333333333"
SECRETS = (
    b"c2VjcmV0LWJsb2Ita2V5",
    b"c3BlY3VsYXRpdmUta2V5",
    b"bm90LWEtcmVhbC1rZXk",
    b"secret-token",
)


def rows(path: Path) -> list[dict[str, str]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def make_state_db(path: Path, extra: list[dict[str, str]] | None = None) -> None:
    """A state.vscdb as Cursor lays it out: two key-value tables, WAL journal."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    for table in ("ItemTable", "cursorDiskKV"):
        db.execute(f"CREATE TABLE {table} (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
    db.executemany("INSERT INTO ItemTable VALUES (:key, :value)", rows(ITEMS))
    db.executemany("INSERT INTO cursorDiskKV VALUES (:key, :value)", rows(ROWS) + (extra or []))
    db.commit()
    db.close()


def make_store_db(path: Path, chat: dict[str, Any] | None = None) -> dict[str, Any]:
    """A cursor-agent store.db: hex-JSON meta, a root node over a sub-node and messages,
    and one blob that is neither JSON nor a node (as an encrypted one is)."""
    chat = chat or orjson.loads(CHAT.read_bytes())
    blobs: dict[str, bytes] = {}

    def put(data: bytes) -> str:
        blob_id = hashlib.sha256(data).hexdigest()
        blobs[blob_id] = data
        return blob_id

    def node(children: list[str]) -> str:
        return put(b"".join(b"\x0a\x20" + bytes.fromhex(c) for c in children))

    ids = [put(orjson.dumps(m)) for m in chat["messages"]]
    opaque = put(b"\x00\x93\xfe\x11 ciphertext")
    first = node(ids[:3])
    root = node([first, *ids[3:], opaque])
    meta = {**chat["meta"], "latestRootBlobId": root}
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("CREATE TABLE blobs (id TEXT PRIMARY KEY, data BLOB)")
    db.execute("INSERT INTO meta VALUES ('0', ?)", (orjson.dumps(meta).hex(),))
    db.executemany("INSERT INTO blobs VALUES (?, ?)", list(blobs.items()))
    db.commit()
    db.close()
    return meta


def members(source: Source) -> tuple[list[Member], list[str]]:
    assert source.members is not None
    skipped: list[str] = []
    return list(source.members(skipped.append)), skipped


def assemble_member(container: Path, member: Member) -> tuple[Session, list[str]]:
    sub = Source(member_path(container, member.key), member.mode, member.key)
    feed = feed_from_bytes(sub, member.load())
    assembly = Assembly("cursor", member.key)
    assembly.apply(cursor.read(feed, {}))
    return assembly.session(), feed.reasons


def composers(path: Path) -> dict[str, tuple[Session, list[str]]]:
    listed, _ = members(cursor.sniff(path, b"SQLite format 3\x00") or Source(path, "document"))
    return {m.key: assemble_member(path, m) for m in listed}


def parts(session: Session, kind: type) -> list[Any]:
    return [p for m in session.messages for p in m.parts if isinstance(p, kind)]


def texts(session: Session, role: str) -> list[str]:
    found = [m for m in session.messages if m.role == role]
    return [p.text for m in found for p in m.parts if isinstance(p, Text)]


# -- the editor's database -------------------------------------------------------------


def test_every_used_composer_is_a_member_and_bad_ones_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "state.vscdb"
    make_state_db(path)
    listed, skipped = members(cursor.sniff(path, path.read_bytes()[:100]))  # type: ignore[arg-type]
    stored = {r["key"].split(":", 1)[1] for r in rows(ROWS) if r["key"].startswith("composerData")}
    assert {m.key for m in listed} == stored - {"0e0e0e0e-0000-4000-8000-000000000000"} - {
        "bad-json-composer"
    }  # the unused composer holds nothing; the broken one is counted
    assert skipped == ["composer bad-json-composer is not JSON"]


def test_a_modern_composer_reads_as_its_bubbles(tmp_path: Path) -> None:
    path = tmp_path / "state.vscdb"
    make_state_db(path)
    s, reasons = composers(path)[MODERN]
    assert s.native_id == MODERN and s.title == "Fix the cart total rounding"
    assert s.cwd == s.project == "/home/dev/shop" and s.git_branch == "fix/rounding"
    assert (s.created_at, s.updated_at) == ("2026-01-08T14:00:00.000Z", "2026-01-08T14:05:09.000Z")
    assert reasons == ["bubble b-missing listed by the composer is not stored"]
    assert texts(s, "user") == [
        "The cart total is off by a cent for three items at 0.1. Fix it.",
        "Now add a test for refunds",  # from the rich text when the text is empty
    ]
    calls = parts(s, ToolCall)
    assert [(c.id, c.name) for c in calls] == [
        ("toolu_01ReadCart", "read_file"),
        ("toolu_01EditCart", "edit_file"),
        ("toolu_01RunTests", "run_terminal_cmd"),
    ]
    assert calls[0].input == {"target_file": "cart.py", "should_read_entire_file": True}
    results = parts(s, ToolResult)
    assert [r.call_id for r in results] == [c.id for c in calls]
    assert results[0].output == "def total(items):\n    return sum(items)\n"
    assert results[2].output.startswith("F\nAssertionError") and results[2].is_error
    assert not results[0].is_error
    thinking = parts(s, Reasoning)[0]
    assert thinking.signature == "sig-abc" and thinking.text.startswith("Floating point")
    assert s.models == ["claude-4.5-sonnet-thinking", "gpt-5"]
    first = next(m for m in s.messages if m.role == "assistant")
    assert first.usage == {"input_tokens": 5120, "output_tokens": 210}


def test_legacy_and_public_shaped_composers(tmp_path: Path) -> None:
    path = tmp_path / "state.vscdb"
    make_state_db(path)
    found = composers(path)
    legacy, _ = found[LEGACY]
    assert texts(legacy, "user") == ["What does @retry do in client.py?"]
    assert texts(legacy, "assistant")[0].startswith("It re-runs the call")
    public, reasons = found[PUBLIC]
    assert reasons == []
    assert [r.output for r in parts(public, ToolResult)] == ["excluded tool output"]
    assert parts(public, Reasoning)[0].text == "excluded reasoning between requested windows"


def test_a_database_that_is_not_cursors_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "state.vscdb"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with pytest.raises(Exception, match="not a readable SQLite database"):
        members(cursor.sniff(path, path.read_bytes()[:100]))  # type: ignore[arg-type]
    other = tmp_path / "other" / "state.vscdb"
    other.parent.mkdir()
    sqlite3.connect(other).execute("CREATE TABLE ItemTable (key TEXT, value BLOB)").close()
    assert members(cursor.sniff(other, other.read_bytes()[:100]))[0] == []  # type: ignore[arg-type]


def ide_home(home: Path) -> Path:
    return home / ".config" / "Cursor" / "User" / "globalStorage" / "state.vscdb"


def test_scan_reads_the_editor_database_without_changing_it(isolated_home: Path) -> None:
    path = ide_home(isolated_home)
    make_state_db(path)
    listing = sorted(p.name for p in path.parent.iterdir())
    before = checksums(path.parent)
    first = run("scan", ok=False)  # the fixture's broken composer and missing bubble
    assert first.exit_code == 1 and "2 line(s) skipped in 2 file(s)" in first.output
    assert sorted(p.name for p in path.parent.iterdir()) == listing  # no -wal or -shm created
    assert checksums(path.parent) == before
    listed = orjson.loads(run("list", "--json", "--tool", "cursor").output)
    assert {s["native_id"] for s in listed} == {MODERN, LEGACY, PUBLIC}
    hits = orjson.loads(run("search", "AssertionError", "--json").output)
    assert {h["native_id"] for h in hits} == {MODERN}
    db = connect(Path(os.environ["TETHER_HOME"]) / "tether.db")
    for (source_id,) in db.execute("SELECT id FROM sources WHERE tool = 'cursor'"):
        archived = archived_bytes(db, source_id)
        assert not any(secret in archived for secret in SECRETS)
        assert b"originalFileStates" not in archived


def test_a_running_editor_s_last_writes_are_read_and_only_changed_composers(
    isolated_home: Path,
) -> None:
    path = ide_home(isolated_home)
    make_state_db(path)
    db = connect(Path(os.environ["TETHER_HOME"]) / "tether.db")
    scan(db, dict(os.environ), isolated_home, tools=[cursor])  # type: ignore[list-item]
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        composer = next(r for r in rows(ROWS) if r["key"] == f"composerData:{LEGACY}")
        doc = orjson.loads(composer["value"])
        doc["lastUpdatedAt"] += 1000
        doc["conversation"].append({"type": 1, "bubbleId": "l-u2", "text": "And jitter?"})
        writer.execute(
            "INSERT INTO cursorDiskKV VALUES (?, ?)", (composer["key"], orjson.dumps(doc).decode())
        )
        listing = sorted(p.name for p in path.parent.iterdir())
        main_wal = {n: checksums(path.parent)[n] for n in ("state.vscdb", "state.vscdb-wal")}
        report = scan(db, dict(os.environ), isolated_home, tools=[cursor])  # type: ignore[list-item]
        assert (report.read, report.sessions_updated, report.sessions_added) == (1, 1, 0)
        assert sorted(p.name for p in path.parent.iterdir()) == listing
        assert {n: checksums(path.parent)[n] for n in main_wal} == main_wal
        assert "And jitter?" in run("show", LEGACY[:8], "--json").output
    finally:
        writer.close()


# -- the CLI's transcripts and chat stores --------------------------------------------------


def assemble_transcript(path: Path, data: bytes | None = None) -> tuple[Session, list[str]]:
    feed = feed_from_bytes(Source(path, "jsonl"), path.read_bytes() if data is None else data)
    assembly = Assembly("cursor")
    assembly.apply(cursor.read(feed, {}))
    return assembly.session(), feed.reasons


def test_transcript_user_queries_are_unwrapped_and_tool_uses_typed() -> None:
    s, reasons = assemble_transcript(FIXTURES / "agentsessions_test-session.jsonl")
    assert reasons == []
    assert texts(s, "user") == ["run ls command", "now show me the git status"]
    calls = parts(s, ToolCall)
    assert [(c.name, c.input["command"]) for c in calls] == [
        ("Shell", "ls -la /tmp"),
        ("Shell", "git status"),
    ]
    assert len({c.id for c in calls}) == 2 and all(c.id for c in calls)
    assert s.native_id == "agentsessions_test-session"


def test_transcript_results_answer_the_calls_they_follow() -> None:
    s, _ = assemble_transcript(FIXTURES / "agentsessions_large.jsonl")
    calls, results = parts(s, ToolCall), parts(s, ToolResult)
    assert [r.call_id for r in results] == [c.id for c in calls]
    assert [r.native["tool_use_id"] for r in results] == ["t1", "t2"]
    assert results[1].output == "hello world"
    assert parts(s, Reasoning)[0].text == "Let me check the directory."


def test_transcript_bad_lines_are_counted() -> None:
    data = b'{"role":"user","message":{"content":"hi"}}\n{oops\n{"role":"robot"}\n' + (
        b'{"type":"turn_ended","status":"success"}\n'
        b'{"role":"assistant","message":{"content":[{"type":"wat"},{"type":"text","text":"ok"}]}}\n'
    )
    s, reasons = assemble_transcript(Path("x.jsonl"), data)
    assert texts(s, "user") == ["hi"] and texts(s, "assistant") == ["ok"]
    assert len(reasons) == 3


def test_project_folders_decode_by_what_exists() -> None:
    folders = {Path("/home"), Path("/home/dev"), Path("/home/dev/my-app")}
    probe = folders.__contains__
    assert cursor_agent.project_folder("-home-dev-my-app", probe) == "/home/dev/my-app"
    assert cursor_agent.project_folder("home-dev-my-app", probe) == "/home/dev/my-app"
    assert cursor_agent.project_folder("-srv-gone", probe) is None


def test_a_chat_store_reads_its_message_tree(tmp_path: Path) -> None:
    path = tmp_path / "chats" / "0123abcd" / "ac437fdf-3e7e-4a54-98a4-7bb04fd3efc6" / "store.db"
    meta = make_store_db(path)
    [member], _ = members(cursor.sniff(path, path.read_bytes()[:100]))  # type: ignore[arg-type]
    assert member.key == meta["agentId"]
    s, reasons = assemble_member(path, member)
    assert s.title == meta["name"] and s.created_at == "2026-01-19T22:45:46.153Z"
    assert [m.role for m in s.messages] == [
        "system",
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
    ]
    assert texts(s, "user") == ["Why does `make build` fail?"]
    call, result = parts(s, ToolCall)[0], parts(s, ToolResult)[0]
    assert (call.id, call.name, call.input) == (
        "toolu_01TMU4XLbonJJkR7gx4mxeN5",
        "Shell",
        {"command": "make build"},
    )
    assert (result.call_id, result.is_error) == (call.id, True)
    assert result.output == "go: missing go.sum entry for module github.com/x/y"
    assert parts(s, Reasoning)[0].signature == "c2lnbmF0dXJl"
    assert s.models == ["claude-4.5-opus-high-thinking"]
    assert len(reasons) == 1 and "encrypted" in reasons[0]
    assert b"blobEncryptionKey" not in member.load()


def cli_layout(home: Path) -> dict[str, Path]:
    project = home / "work" / "my-app"
    project.mkdir(parents=True)
    encoded = str(project).replace("/", "-")
    transcripts = home / ".cursor" / "projects" / encoded / "agent-transcripts"
    main = transcripts / "5d1f0a9e" / "5d1f0a9e.jsonl"
    sub = transcripts / "5d1f0a9e" / "subagents" / "7c2b.jsonl"
    flat = transcripts / "older-chat.jsonl"
    for path, sample in (
        (main, FIXTURES / "subagent" / "parent.jsonl"),
        (sub, FIXTURES / "subagent" / "subagents" / "child.jsonl"),
        (flat, FIXTURES / "agentsessions_agent_transcript_small.jsonl"),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample, path)
    chats = home / ".cursor" / "chats" / hashlib.md5(str(project).encode()).hexdigest()
    make_store_db(chats / "5d1f0a9e" / "store.db")  # has a transcript: not read twice
    make_store_db(chats / "ac437fdf-3e7e-4a54-98a4-7bb04fd3efc6" / "store.db")
    return {"project": project, "main": main, "sub": sub, "flat": flat}


def test_discover_the_cli_layout(tmp_path: Path) -> None:
    placed = cli_layout(tmp_path)
    found = {
        (s.path.relative_to(tmp_path / ".cursor").parts[0], s.path.name, s.native_id, s.mode)
        for s in cursor.discover(tmp_path / ".cursor")
    }
    assert found == {
        ("projects", "5d1f0a9e.jsonl", "5d1f0a9e", "jsonl"),
        ("projects", "7c2b.jsonl", "7c2b", "jsonl"),
        ("projects", "older-chat.jsonl", "older-chat", "jsonl"),
        ("chats", "store.db", None, "container"),
    }
    assert placed["main"].is_file()


def test_scan_the_cli_layout_in_a_fake_home(isolated_home: Path) -> None:
    placed = cli_layout(isolated_home)
    before = checksums(isolated_home / ".cursor")
    assert run("scan", ok=False).exit_code == 1  # the chat store's opaque blob: counted
    assert checksums(isolated_home / ".cursor") == before
    listed = {
        s["native_id"]: s for s in orjson.loads(run("list", "--json", "--tool", "cursor").output)
    }
    assert set(listed) == {"5d1f0a9e", "7c2b", "older-chat", "ac437fdf-3e7e-4a54-98a4-7bb04fd3efc6"}
    assert listed["5d1f0a9e"]["cwd"] == str(placed["project"])
    assert listed["7c2b"]["parent_id"] == listed["5d1f0a9e"]["id"]
    doctor = orjson.loads(run("doctor", "--json").output)
    skipped = [p for p in doctor["problems"] if "store.db#" in p["path"]]
    assert skipped and "encrypted" in skipped[0]["reasons"][0]


def test_store_roots_and_aliases(tmp_path: Path) -> None:
    roots = cursor.store_roots(
        {"CURSOR_CONFIG_DIR": str(tmp_path / "cfg"), "XDG_CONFIG_HOME": str(tmp_path / "xdg")},
        tmp_path,
    )
    assert roots == [
        tmp_path / "cfg",
        tmp_path / ".cursor",
        tmp_path / "xdg" / "Cursor" / "User" / "globalStorage",
        tmp_path / ".config" / "Cursor" / "User" / "globalStorage",
        tmp_path / "Library" / "Application Support" / "Cursor" / "User" / "globalStorage",
    ]
    assert get_tool("cursor-agent") is cursor
    assert cursor.sniff(Path("x.jsonl"), b'{"type":"user","message":{"content":"a"}}\n') is None
    assert cursor.sniff(Path("other.db"), b"SQLite format 3\x00") is None
