"""Aider reader: aider's own real chat history, split into sessions; found in known projects."""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from tests.conftest import checksums, run

from tether.archive.assemble import Assembly
from tether.archive.db import connect
from tether.capture.feed import feed_from_bytes
from tether.capture.scan import scan
from tether.model import Session, Text
from tether.tools import aider
from tether.tools.base import Source, member_path
from tether.tools.registry import TOOLS, get_tool

FIXTURES = Path(__file__).parent.parent / "fixtures" / "aider"
HISTORY = FIXTURES / "real_chat-history_head247lines.md"
STARTS = ["2024-08-05 19:33:02", "2024-08-05 19:33:32", "2024-08-05 20:39:59"]


def sessions(path: Path) -> dict[str, Session]:
    source = aider.container(path)
    assert source.members is not None
    skipped: list[str] = []
    out = {}
    for member in source.members(skipped.append):
        sub = Source(member_path(path, member.key), member.mode, member.key)
        assembly = Assembly("aider", member.key)
        assembly.apply(aider.read(feed_from_bytes(sub, member.load()), {}))
        out[member.key.split("@")[0]] = assembly.session()
    assert skipped == []
    return out


def texts(session: Session, role: str) -> list[str]:
    return [
        p.text for m in session.messages if m.role == role for p in m.parts if isinstance(p, Text)
    ]


def utc(local: str) -> str:
    moment = datetime.strptime(local, "%Y-%m-%d %H:%M:%S").astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_the_file_splits_at_each_session_header_and_loses_nothing() -> None:
    data = HISTORY.read_bytes()
    chunks = aider.split_sessions(data)
    assert [c.key for c in chunks] == ["preamble", *(s.replace(" ", "T") for s in STARTS)]
    assert b"".join(c.data for c in chunks) == data


def test_lines_go_to_the_roles_aider_gives_them() -> None:
    """Every `#### ` line is the user's, every `> ` line aider's output, every other line
    (but headers) the assistant's: the messages hold exactly those lines, in order."""
    lines = HISTORY.read_text().splitlines()
    expected: dict[str, list[str]] = {"user": [], "system": [], "assistant": []}
    for line in lines:
        if line.startswith("# "):
            continue
        if line.startswith("#### "):
            expected["user"].append(line[5:].rstrip(" "))
        elif line.startswith("> "):
            expected["system"].append(line[2:].rstrip(" "))
        else:
            expected["assistant"].append(line)
    got: dict[str, list[str]] = {"user": [], "system": [], "assistant": []}
    for session in sessions(HISTORY).values():
        for role, found in got.items():
            for text in texts(session, role):
                found.extend(text.splitlines())
    for role, want in expected.items():
        assert [x for x in got[role] if x.strip()] == [x for x in want if x.strip()], role


def test_a_session_has_its_start_model_prompts_and_commands() -> None:
    s = sessions(HISTORY)["2024-08-05T19:33:32"]
    assert s.native_id == f"2024-08-05T19:33:32@{HISTORY}"  # not the default name: the file itself
    assert s.created_at == utc("2024-08-05 19:33:32")
    assert s.cwd == s.project is None  # the fixture is not named .aider.chat.history.md
    assert s.models == ["claude-3-5-sonnet-20240620"]
    users = texts(s, "user")
    assert users[0] == "Use the Spinner instead of the inlined custom spinner"
    commands = [m.native.get("command") for m in s.messages if m.role == "user"]
    assert "/diff" in commands
    answer = texts(s, "assistant")[0]
    assert answer.startswith("Certainly! I'll modify the `run_install` function")
    assert "<<<<<<< SEARCH" in answer and ">>>>>>> REPLACE" in answer
    assert any(t.startswith("Tokens: 5,244 sent") for t in texts(s, "system"))
    other = sessions(HISTORY)["2024-08-05T20:39:59"]
    assert other.models == ["gpt-4o-mini"]
    assert texts(other, "user")[0] == "hi"


def test_the_cut_start_of_a_file_is_kept_as_its_own_session() -> None:
    s = sessions(HISTORY)["preamble"]
    assert s.created_at is None
    assert texts(s, "user")[0].startswith("# Fix any errors below, if possible.")


def test_bad_input_never_raises(tmp_path: Path) -> None:
    path = tmp_path / aider.HISTORY
    path.write_bytes(b"")
    assert sessions(path) == {}
    path.write_bytes(b"# aider chat started at 2024-01-01 10:00:00\n\n#### caf\xe9 \xff  \nok\n")
    s = sessions(path)["2024-01-01T10:00:00"]
    assert texts(s, "user") == ["caf\ufffd \ufffd"]
    assert s.cwd == str(tmp_path)
    path.write_bytes(b"# aider chat started at 2024-01-01 10:00:00\n" * 2)
    assert [s.messages for s in sessions(path).values()] == [[], []]
    assert list(sessions(path)) == ["2024-01-01T10:00:00", "2024-01-01T10:00:00#2"]


def test_sniff_and_discover(tmp_path: Path) -> None:
    assert aider.sniff(HISTORY, HISTORY.read_bytes()[:16384]) is not None
    assert aider.sniff(Path("notes.md"), b"# Notes\n\nhello\n") is None
    assert list(aider.discover(tmp_path)) == []
    (tmp_path / aider.HISTORY).write_text("#### hi\n")
    [found] = aider.discover(tmp_path)
    assert found.mode == "container" and found.path == tmp_path / aider.HISTORY
    assert get_tool("aider-chat") is aider


def amp_thread(folder: Path, home: Path) -> Path:
    """A session of another tool whose working directory is `folder`."""
    threads = home / ".local" / "share" / "amp" / "threads"
    threads.mkdir(parents=True, exist_ok=True)
    path = threads / "T-00000000-0000-4000-8000-000000000001.json"
    doc = {
        "id": path.stem,
        "created": 1767880800000,
        "env": {"initial": {"cwd": str(folder)}},
        "messages": [{"role": "user", "content": "hello", "meta": {"sentAt": 1767880800000}}],
    }
    path.write_bytes(orjson.dumps(doc))
    return path


def listed(tool: str) -> list[dict[str, Any]]:
    return orjson.loads(run("list", "--json", "--tool", tool, "--limit", "50").output)  # type: ignore[no-any-return]


def test_scan_finds_the_history_in_a_project_tether_knows(
    isolated_home: Path, tmp_path: Path
) -> None:
    project = tmp_path / "work" / "aider"
    project.mkdir(parents=True)
    shutil.copy(HISTORY, project / aider.HISTORY)
    amp_thread(project, isolated_home)
    before = checksums(project)
    run("scan")  # learns the project from the Amp thread
    run("scan")
    found = listed("aider")
    talks = [s for s in sessions(HISTORY).values() if texts(s, "user") or texts(s, "assistant")]
    assert len(found) == len(talks) == 3  # one session is only aider's start-up output
    assert {s["project"] for s in found} == {str(project)}
    hits = orjson.loads(run("search", "inlined custom spinner", "--json").output)
    assert hits and hits[0]["tool"] == "aider"
    assert checksums(project) == before

    with (project / aider.HISTORY).open("ab") as fh:
        fh.write(b"\n# aider chat started at 2024-08-06 09:00:00\n\n#### one more  \n\nSure.\n")
    report = orjson.loads(run("scan", "--json").output)
    assert (report["read"], report["sessions_added"]) == (1, 1)
    with (project / aider.HISTORY).open("ab") as fh:
        fh.write(b"\n#### and again  \n")
    report = orjson.loads(run("scan", "--json").output)
    assert (report["read"], report["sessions_updated"]) == (1, 1)
    assert len(listed("aider")) == len(talks) + 1


def test_import_reads_every_session_of_a_history(tmp_path: Path) -> None:
    result = run("import", str(HISTORY), "--json")
    assert len(orjson.loads(result.output)["sessions"]) == 4


def test_store_roots_are_the_known_project_folders(isolated_home: Path, tmp_path: Path) -> None:
    env = {"TETHER_HOME": os.environ["TETHER_HOME"]}
    assert aider.store_roots(env, isolated_home) == []  # no archive yet
    amp_thread(tmp_path / "proj", isolated_home)
    run("scan")
    assert aider.store_roots(env, isolated_home) == [tmp_path / "proj"]


def test_a_project_that_is_the_home_does_not_hide_other_tools_files(
    isolated_home: Path,
) -> None:
    thread = amp_thread(isolated_home, isolated_home)
    run("scan")
    db = connect(Path(os.environ["TETHER_HOME"]) / "tether.db")
    scan(db, dict(os.environ), isolated_home, tools=[TOOLS["aider"]])
    missing = db.execute(
        "SELECT missing_since FROM sources WHERE path = ?", (str(thread),)
    ).fetchone()
    assert missing == (None,)
    assert isinstance(db, sqlite3.Connection)
