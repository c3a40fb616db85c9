"""The opencode reader: the legacy JSON storage sample, and opencode.db built with the real
schema from the same records, read through capture as a user's store would be."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.conftest import checksums, run
from tests.tools.opencode_store import LARGE, SMALL, STORAGE, build, insert_message, insert_part

from tether.archive.assemble import Assembly
from tether.capture.feed import feed_from_bytes
from tether.capture.importer import recognise
from tether.model import Attachment, Message, Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools import opencode
from tether.tools.base import Source


def sessions_of(source: Source) -> dict[str, tuple[Session, int]]:
    """Every member of a container read as capture reads it: (session, skipped lines)."""
    assert source.members is not None
    reasons: list[str] = []
    found = {}
    for member in source.members(reasons.append):
        feed = feed_from_bytes(Source(Path(f"x#{member.key}"), "jsonl", member.key), member.load())
        assembly = Assembly("opencode", member.key)
        assembly.apply(opencode.read(feed, {}))
        found[member.key] = (assembly.session(), feed.skipped)
    assert not reasons
    return found


def read_lines(*records: dict[str, Any]) -> tuple[Session, int]:
    data = b"".join(orjson.dumps(r) + b"\n" for r in records)
    feed = feed_from_bytes(Source(Path("x#s"), "jsonl", "s"), data)
    assembly = Assembly("opencode", "s")
    assembly.apply(opencode.read(feed, {}))
    return assembly.session(), feed.skipped


def parts(session: Session, kind: type) -> list[Any]:
    return [p for m in session.messages for p in m.parts if isinstance(p, kind)]


def legacy_tree(home: Path) -> Path:
    data = home / ".local" / "share" / "opencode"
    shutil.copytree(STORAGE, data / "storage")
    return data


def sample_files(sid: str, folder: str) -> list[dict[str, Any]]:
    out = []
    for message in sorted((STORAGE / "message" / sid).glob("*.json")):
        info = json.loads(message.read_text())
        if folder == "message":
            out.append(info)
        else:
            out.extend(json.loads(p.read_text()) for p in (STORAGE / "part" / info["id"]).glob("*"))
    return out


# -- the legacy JSON storage -------------------------------------------------------------


def test_legacy_storage_sessions_come_back_whole(isolated_home: Path) -> None:
    data = legacy_tree(isolated_home)
    sources = list(opencode.discover(data))
    assert len(sources) == 2 and all(s.mode == "container" for s in sources)
    found = {k: v for s in sources for k, v in sessions_of(s).items()}
    assert set(found) == {LARGE, SMALL}

    small, skipped = found[SMALL]
    assert skipped == 0
    assert (small.title, small.cwd, small.project) == ("OpenCode Small", "/tmp/repo", "/tmp/repo")
    assert small.created_at == "2024-10-27T03:33:20.000Z"
    assert small.updated_at == "2024-10-27T03:33:25.000Z"
    assert [m.role for m in small.messages] == ["user", "assistant", "tool"]
    assert small.models == ["gpt-4o-mini"]
    (call,) = parts(small, ToolCall)
    (result,) = parts(small, ToolResult)
    assert (call.id, call.name, call.input["command"]) == ("call_1", "bash", "ls")
    assert (result.call_id, result.output, result.is_error) == ("call_1", "a.txt\nb.txt\n", False)

    # Every text, tool call and output the sample's part files hold comes back.
    for sid in (SMALL, LARGE):
        session = found[sid][0]
        for part in sample_files(sid, "part"):
            if part["type"] == "text":
                assert part["text"] in [t.text for t in parts(session, Text)]
            elif part["type"] == "tool":
                assert part["callID"] in [r.call_id for r in parts(session, ToolResult)]
                assert part["state"]["output"] in [r.output for r in parts(session, ToolResult)]


def test_legacy_large_session_keeps_every_kind_of_part(isolated_home: Path) -> None:
    data = legacy_tree(isolated_home)
    large = next(s for s in opencode.discover(data) if s.path.stem == "ses_s_stage0_large")
    session, skipped = sessions_of(large)[LARGE]
    assert skipped == 0
    roles = [m.role for m in session.messages]
    assert roles == ["user", "assistant", "tool", "system", "user", "assistant"]
    reply = session.messages[1]
    assert reply.usage == {"input_tokens": 120, "output_tokens": 16}
    assert reply.native["patches"] == [["/tmp/large/error.log"]]
    (reasoning,) = parts(session, Reasoning)
    assert reasoning.text == "Investigating failing command."
    (attachment,) = parts(session, Attachment)
    assert (attachment.name, attachment.uri) == ("error.log", "file:///tmp/large/error.log")
    synthetic = [t for t in parts(session, Text) if t.native.get("synthetic")]
    assert [t.text for t in synthetic] == ["Command failed with exit code 1."]
    (result,) = parts(session, ToolResult)
    assert result.native["exit"] == 1 and not result.is_error
    aborted = session.messages[3]
    assert aborted.native == {"kind": "error", "name": "MessageAbortedError"}
    assert aborted.parts[0].text == "MessageAbortedError: The operation was aborted."


def test_a_broken_legacy_message_file_costs_only_itself(tmp_path: Path) -> None:
    storage = tmp_path / "opencode" / "storage"
    shutil.copytree(STORAGE, storage)
    first = storage / "message" / SMALL / "msg_0001.json"
    first.write_bytes(b'{"id": "m_user_small", "role": "us')  # cut off mid-write
    source = opencode.legacy(storage / "session" / "proj_test" / "ses_s_stage0_small.json")
    session, skipped = sessions_of(source)[SMALL]
    assert skipped == 1
    assert [m.role for m in session.messages] == ["assistant", "tool"]


def test_a_legacy_session_file_that_is_not_a_session_is_listed_as_nothing(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    (storage / "session" / "p").mkdir(parents=True)
    (storage / "message").mkdir()
    bad = storage / "session" / "p" / "ses_x.json"
    bad.write_text("[1, 2]")
    source = opencode.legacy(bad)
    assert source.members is not None
    reasons: list[str] = []
    assert list(source.members(reasons.append)) == []
    assert reasons == ["ses_x.json is not a session with a usable id"]


# -- opencode.db -------------------------------------------------------------------------


def test_database_sessions_match_the_legacy_ones(tmp_path: Path) -> None:
    path = tmp_path / "opencode.db"
    build(path)
    from_db = sessions_of(opencode.database(path))
    legacy_files = sorted((STORAGE / "session" / "proj_test").glob("*.json"))
    from_files = {k: v for f in legacy_files for k, v in sessions_of(opencode.legacy(f)).items()}
    assert set(from_db) == set(from_files) == {LARGE, SMALL}
    for sid, (session, skipped) in from_db.items():
        legacy, _ = from_files[sid]
        assert skipped == 0
        assert (session.title, session.cwd, session.created_at) == (
            legacy.title,
            legacy.cwd,
            legacy.created_at,
        )
        assert [(m.role, [p.kind for p in m.parts]) for m in session.messages] == [
            (m.role, [p.kind for p in m.parts]) for m in legacy.messages
        ]


def scan(home: Path, ok: bool = True) -> dict[str, Any]:
    result = run("scan", "--json", ok=ok)
    assert result.exit_code == (0 if ok else 1)
    report: dict[str, Any] = orjson.loads(result.stdout)
    return report


def test_scan_reads_opencode_db_without_touching_it(isolated_home: Path) -> None:
    data = isolated_home / ".local" / "share" / "opencode"
    build(data / "opencode.db")
    build(data / "opencode-dev.db", sessions=(SMALL,))  # another channel's database
    before = checksums(isolated_home)
    report = scan(isolated_home)
    assert report["sessions_added"] == 3 and not report["failed"]
    assert checksums(isolated_home) == before
    assert sorted(p.name for p in data.iterdir()) == ["opencode-dev.db", "opencode.db"]

    rows = orjson.loads(run("list", "--json", "--tool", "opencode").stdout)
    assert {r["title"] for r in rows} == {"OpenCode Large", "OpenCode Small"}
    shown = orjson.loads(run("show", LARGE, "--json").stdout)
    calls = [p for m in shown["messages"] for p in m["parts"] if p["type"] == "tool_call"]
    assert [c["id"] for c in calls] == ["call_large_1"]
    found = orjson.loads(run("search", "non-existent-directory", "--json").stdout)
    assert {r["native_id"] for r in found} == {LARGE}

    again = scan(isolated_home)
    assert again["read"] == 0 and again["sessions_updated"] == 0


def test_a_new_part_reads_only_its_session_again(isolated_home: Path) -> None:
    path = isolated_home / ".local" / "share" / "opencode" / "opencode.db"
    build(path)
    scan(isolated_home)
    db = sqlite3.connect(path)
    insert_message(db, SMALL, {"id": "msg_zz", "role": "user", "time": {"created": 1730000009000}})
    insert_part(db, SMALL, "msg_zz", "prt_zz", {"type": "text", "text": "and the hidden files?"}, 2)
    db.commit()
    db.close()
    report = scan(isolated_home)
    assert (report["sessions_updated"], report["sessions_added"]) == (1, 0)
    shown = orjson.loads(run("show", SMALL, "--json").stdout)
    assert shown["messages"][-1]["parts"][0]["text"] == "and the hidden files?"


def test_a_running_opencode_wal_is_read_and_left_alone(isolated_home: Path) -> None:
    path = isolated_home / ".local" / "share" / "opencode" / "opencode.db"
    build(path, wal=True)
    writer = sqlite3.connect(path)  # opencode still running: its -wal and -shm exist
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    insert_message(writer, SMALL, {"id": "msg_w", "role": "user", "time": {"created": 5}})
    insert_part(writer, SMALL, "msg_w", "prt_w", {"type": "text", "text": "only in the wal"}, 3)
    writer.commit()
    listing = sorted(p.name for p in path.parent.iterdir())
    # A reader takes a read mark in the -shm, as every reader does; the rest stays as it was.
    before = {n: h for n, h in checksums(path.parent).items() if not n.endswith("-shm")}
    scan(isolated_home)
    after = {n: h for n, h in checksums(path.parent).items() if not n.endswith("-shm")}
    assert after == before and sorted(p.name for p in path.parent.iterdir()) == listing
    writer.close()
    found = orjson.loads(run("search", "only in the wal", "--json").stdout)
    assert {r["native_id"] for r in found} == {SMALL}


def test_a_corrupt_or_foreign_database_is_reported_not_fatal(isolated_home: Path) -> None:
    data = isolated_home / ".local" / "share" / "opencode"
    data.mkdir(parents=True)
    (data / "opencode.db").write_bytes(b"SQLite format 3\x00" + b"\x07" * 4000)
    other = sqlite3.connect(data / "opencode-local.db")
    other.execute("CREATE TABLE kv (k, v)")
    other.commit()
    other.close()
    report = scan(isolated_home, ok=False)
    assert [Path(f["path"]).name for f in report["failed"]] == ["opencode.db"]
    assert report["sessions_added"] == 0


def test_steps_become_assistant_and_tool_messages_in_order() -> None:
    session, skipped = read_lines(
        {"session": {"id": "s", "title": "t", "directory": "/w", "time": {"created": 1}}},
        {"info": {"id": "m1", "role": "user", "time": {"created": 1730000001000}}, "parts": [
            {"type": "text", "text": "fix it"},
            {"type": "file", "mime": "image/png", "url": "data:image/png;base64,iVBOR"},
        ]},
        {"info": {"id": "m2", "role": "assistant", "modelID": "m",
                  "time": {"created": 1730000002000}}, "parts": [
            {"type": "step-start"},
            {"type": "reasoning", "text": "look", "metadata": {"anthropic": {"signature": "sg"}}},
            {"type": "tool", "callID": "c1", "tool": "read",
             "state": {"status": "completed", "input": {"filePath": "a"}, "output": "A",
                       "time": {"start": 1730000002100, "end": 1730000002200}}},
            {"type": "step-finish", "reason": "tool-calls"},
            {"type": "step-start"},
            {"type": "tool", "callID": "c2", "tool": "bash",
             "state": {"status": "error", "input": {"command": "x"}, "error": "boom"}},
            {"type": "tool", "callID": "c3", "tool": "bash",
             "state": {"status": "running", "input": {"command": "y"}}},
            {"type": "text", "text": "stopped"},
            {"type": "mystery"},
        ]},
    )  # fmt: skip
    assert skipped == 1
    assert [m.role for m in session.messages] == ["user", "assistant", "tool", "assistant", "tool"]
    (image,) = parts(session, Attachment)
    assert (image.media_type, image.data) == ("image/png", "iVBOR")
    assert parts(session, Reasoning)[0].signature == "sg"
    first, second = session.messages[2].parts, session.messages[4].parts
    assert [(r.call_id, r.output, r.is_error) for r in first] == [("c1", "A", False)]
    assert [(r.call_id, r.output, r.is_error) for r in second] == [("c2", "boom", True)]
    assert session.messages[2].timestamp == "2024-10-27T03:33:22.200Z"
    running = next(c for c in parts(session, ToolCall) if c.id == "c3")
    assert running.native["status"] == "running"


def test_lines_that_are_neither_session_nor_message_are_counted() -> None:
    session, skipped = read_lines(
        {"what": 1},
        {"info": {"id": "m", "role": "robot"}, "parts": []},
        {"info": {"id": "m2", "role": "user"}, "parts": [1, {"type": "text", "text": "hi"}]},
    )
    assert skipped == 3
    assert [m.parts for m in session.messages] == [[Text("hi")]]
    assert isinstance(session.messages[0], Message)


# -- where stores are, and import --------------------------------------------------------


def test_store_roots_honour_the_overrides(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert opencode.store_roots({}, home) == [home / ".local" / "share" / "opencode"]
    xdg = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert opencode.store_roots(xdg, home) == [tmp_path / "xdg" / "opencode"]
    own = {**xdg, "OPENCODE_DATA_DIR": str(tmp_path / "oc")}
    assert opencode.store_roots(own, home) == [tmp_path / "oc"]


@pytest.mark.parametrize("name", ["opencode.db", "sessions-copy.db"])
def test_import_recognises_an_opencode_database(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    build(path)
    found = recognise(path)
    assert found is not None
    tool, source = found
    assert tool.name == "opencode" and source.mode == "container"
    assert not (tmp_path / f"{name}-wal").exists() and not (tmp_path / f"{name}-shm").exists()


def test_a_member_loads_after_its_listing_closed(tmp_path: Path) -> None:
    path = tmp_path / "opencode.db"
    build(path)
    source = opencode.database(path)
    assert source.members is not None
    listed = list(source.members(lambda reason: None))  # the listing's connection is closed
    during = sessions_of(source)
    for member in listed:
        feed = feed_from_bytes(Source(Path("x"), "jsonl", member.key), member.load())
        assembly = Assembly("opencode", member.key)
        assembly.apply(opencode.read(feed, {}))
        assert assembly.session() == during[member.key][0]


REAL_DB = STORAGE.parent / "opencode-1.18.33.db"
REAL_ID = "ses_e0039f86affeIuYF95pKfuh924"


def test_a_database_opencode_1_18_wrote(isolated_home: Path) -> None:
    data = isolated_home / ".local" / "share" / "opencode"
    data.mkdir(parents=True)
    shutil.copy(REAL_DB, data / "opencode.db")
    report = scan(isolated_home)
    assert report["sessions_added"] == 1 and not report["failed"] and not report["skipped_in"]
    shown = orjson.loads(run("show", REAL_ID, "--json").stdout)
    assert shown["session"]["cwd"] == "/tmp/w/o/proj"
    assert shown["session"]["title"] == 'ECHO: "RUN:echo hello-from-shell"'
    got = [p for m in shown["messages"] for p in m["parts"]]
    db = sqlite3.connect(REAL_DB)
    rows = [json.loads(r[0]) for r in db.execute("SELECT data FROM part ORDER BY id")]
    db.close()
    texts = [r["text"] for r in rows if r["type"] == "text"]
    tools = [r for r in rows if r["type"] == "tool"]
    assert [p["text"] for p in got if p["type"] == "text"] == texts
    assert [p["id"] for p in got if p["type"] == "tool_call"] == [t["callID"] for t in tools]
    outputs = [(p["call_id"], p["output"]) for p in got if p["type"] == "tool_result"]
    assert outputs == [(t["callID"], t["state"]["output"]) for t in tools]
    roles = [m["role"] for m in shown["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant", "user", "assistant"]
