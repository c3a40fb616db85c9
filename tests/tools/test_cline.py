"""The Cline reader (and the task-folder format it shares with Roo Code and Kilo Code), on a
real Cline 3.51 task and on hand-made bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.conftest import FIXTURES, checksums, run

from tether.archive.assemble import Assembly
from tether.capture.feed import FileFeed, feed_from_bytes
from tether.capture.importer import recognise
from tether.model import Reasoning, Session, ToolCall, ToolResult
from tether.tools import cline, taskdirs
from tether.tools import facts as facts_common
from tether.tools.base import FormatError, Source

TASK_ID = "1769053680585"
TASK = FIXTURES / "cline" / TASK_ID
HISTORY = TASK / "api_conversation_history.json"
EXTENSION = "saoudrizwan.claude-dev"


def read_task(path: Path) -> tuple[Session, FileFeed]:
    feed = FileFeed(taskdirs.source_for(path))
    assembly = Assembly("cline")
    assembly.apply(cline.read(feed, {}))
    return assembly.session(), feed


def parts(session: Session, kind: type) -> list[Any]:
    return [p for m in session.messages for p in m.parts if isinstance(p, kind)]


def native_blocks(kind: str) -> list[dict[str, Any]]:
    return [
        block
        for message in json.loads(HISTORY.read_text())
        for block in message["content"]
        if block["type"] == kind
    ]


def place(storage: Path, task: Path = TASK) -> Path:
    target = storage / "tasks" / task.name
    shutil.copytree(task, target)
    return target / taskdirs.HISTORY


def test_a_real_task_comes_back_typed() -> None:
    session, feed = read_task(HISTORY)
    assert feed.skipped == 0
    assert session.native_id == TASK_ID
    assert session.title is not None and session.title.startswith("You have been given")
    assert session.cwd == session.project == "/workspaces/Online-Card-Architecture"
    assert (session.created_at, session.updated_at) == (
        "2026-01-22T03:48:00.628Z",
        "2026-01-22T04:05:39.430Z",
    )
    assert session.native["version"] == "3.51.0"
    assert session.models == ["claude-sonnet-4-5-20250929"]
    roles = [(m.role, m.native.get("kind")) for m in session.messages]
    assert roles == [
        ("user", None),
        ("system", "environment_details"),
        ("assistant", None),
        ("tool", None),
        ("system", "environment_details"),
        ("assistant", None),
    ]
    # Every tool call the task recorded is a typed call; Cline's text answer to the first
    # is its typed result, with the header kept for a faithful round trip.
    assert [(c.id, c.name) for c in parts(session, ToolCall)] == [
        (b["id"], b["name"]) for b in native_blocks("tool_use")
    ]
    (result,) = parts(session, ToolResult)
    assert result.call_id == "toolu_01CKihH4pyy3kwdBibyp3nfV"
    assert result.output.startswith("using System;")
    assert result.native["header"] == "[read_file for 'ActionSystem.cs'] Result:"
    thoughts = parts(session, Reasoning)
    assert [t.signature for t in thoughts] == [b["signature"] for b in native_blocks("thinking")]
    first_reply = session.messages[2]
    assert first_reply.usage == {"input_tokens": 10, "output_tokens": 595, "cached_tokens": 9573}
    # Messages without `ts` take the time of their API request from ui_messages.json.
    assert session.messages[0].timestamp == "2026-01-22T03:48:01.259Z"
    assert session.messages[3].timestamp == "2026-01-22T03:48:17.770Z"


def test_the_cli_task_index_names_and_places_the_task(tmp_path: Path) -> None:
    data = tmp_path / ".cline" / "data"
    path = place(data)
    (path.parent / "ui_messages.json").unlink()
    index = data / "state" / "taskHistory.json"
    index.parent.mkdir(parents=True)
    item = {
        "id": TASK_ID,
        "ulid": "01KFH6Z0QXJ5M7V8W9X0Y1Z2A3",
        "ts": 1769054739430,
        "task": "Secure the card game's netcode",
        "tokensIn": 20,
        "tokensOut": 1666,
        "totalCost": 0.31,
        "cwdOnTaskInitialization": "/home/dev/cards",
        "modelId": "claude-sonnet-4-5-20250929",
    }
    index.write_text(json.dumps([{"id": "other", "ts": 1, "task": "x"}, item]))
    session, feed = read_task(path)
    assert feed.skipped == 0
    assert session.title == "Secure the card game's netcode"
    assert session.cwd == "/home/dev/cards"
    assert session.updated_at == "2026-01-22T04:05:39.430Z"
    assert session.native["totalCost"] == 0.31 and session.native["tokensOut"] == 1666


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b'[{"role": "user", "content": "hi"}', "not valid JSON"),
        (b'{"messages": []}', "unknown task history version None"),
        (b'"hello"', "not a task history"),
    ],
)
def test_unreadable_task_files_raise_format_errors(data: bytes, message: str) -> None:
    feed = feed_from_bytes(Source(Path("t/api_conversation_history.json"), "document", "t"), data)
    with pytest.raises(FormatError, match=message):
        list(cline.read(feed, {}))


def test_bad_messages_and_blocks_are_counted() -> None:
    history = [
        "not a message",
        {"role": "user", "content": [{"type": "text", "text": "hello"}, {"type": "hologram"}, 7]},
        {"role": "narrator", "content": "?"},
        {"role": "assistant"},
        {"role": "assistant", "content": [{"type": "text", "text": "hi"}]},
    ]
    feed = feed_from_bytes(
        Source(Path("/none/tasks/1769053680000/api_conversation_history.json"), "document", None),
        json.dumps(history).encode(),
    )
    assembly = Assembly("cline")
    assembly.apply(cline.read(feed, {}))
    session = assembly.session()
    assert [m.role for m in session.messages] == ["user", "assistant"]
    assert feed.reasons == [
        "message 0 is not an object",
        "unknown content block 'hologram'",
        "message 2 has unknown role 'narrator'",
        "message 3 has no content",
    ]
    assert session.native_id == "1769053680000"  # the folder's name
    assert session.created_at == "2026-01-22T03:48:00.000Z"  # no times anywhere: the task id


def test_store_roots_on_linux_and_macos_with_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "h"
    apps = ("Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf")
    monkeypatch.setattr(facts_common, "PLATFORM", "linux")
    roots = cline.store_roots({}, home)
    for app in apps:
        assert home / ".config" / app / "User" / "globalStorage" / EXTENSION in roots
    for server in (".vscode-server", ".vscode-remote", ".cursor-server"):
        assert home / server / "data" / "User" / "globalStorage" / EXTENSION in roots
    assert roots[0] == home / ".cline" / "data"  # the CLI's, where the CLI tether runs writes
    assert not any("Library" in str(r) for r in roots)

    monkeypatch.setattr(facts_common, "PLATFORM", "darwin")
    roots = cline.store_roots({}, home)
    mac = home / "Library" / "Application Support"
    assert roots == [
        home / ".cline" / "data",
        *(mac / app / "User" / "globalStorage" / EXTENSION for app in facts_common.EDITOR_APPS),
    ]
    assert all(mac / app / "User" / "globalStorage" / EXTENSION in roots for app in apps)

    monkeypatch.setattr(facts_common, "PLATFORM", "linux")
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "VSCODE_PORTABLE": str(tmp_path / "portable"),
        "CLINE_DIR": str(tmp_path / "cl"),
    }
    roots = cline.store_roots(env, home)
    assert roots[1] == tmp_path / "portable" / "user-data" / "User" / "globalStorage" / EXTENSION
    assert tmp_path / "xdg" / "Code" / "User" / "globalStorage" / EXTENSION in roots
    assert home / ".config" / "Code" / "User" / "globalStorage" / EXTENSION not in roots
    assert roots[0] == tmp_path / "cl" / "data"
    env["CLINE_DATA_DIR"] = str(tmp_path / "data")
    assert cline.store_roots(env, home)[0] == tmp_path / "data"


def test_scan_finds_tasks_in_every_editor_and_the_cli(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts_common, "PLATFORM", "darwin")
    mac = isolated_home / "Library" / "Application Support"
    vscode = mac / "Code" / "User" / "globalStorage" / EXTENSION
    cursor = mac / "Cursor" / "User"
    later = isolated_home / "staging" / "1769060000000"
    shutil.copytree(TASK, later)
    place(vscode)
    place(cursor / "globalStorage" / EXTENSION, later)
    place(isolated_home / ".cline" / "data", later)
    (vscode / "tasks" / "_index.json").write_text("{}")  # a file among the task folders
    (vscode / "tasks" / "1769070000000").mkdir()  # a task with no conversation yet
    before = checksums(isolated_home)
    report = orjson.loads(run("scan", "--json").stdout)
    assert checksums(isolated_home) == before
    assert report["files"] == 3 and report["sessions_added"] == 3 and not report["failed"]
    rows = orjson.loads(run("list", "--json", "--tool", "cline").stdout)
    ids = sorted(r["native_id"] for r in rows)
    # The same task id in two places is two sessions, never merged into one.
    assert ids[:2] == [TASK_ID, "1769060000000"] and ids[2].startswith("1769060000000#")
    assert {r["cwd"] for r in rows} == {"/workspaces/Online-Card-Architecture"}
    found = orjson.loads(run("search", "ActionSystem", "--json", "--tool", "cline").stdout)
    assert {r["native_id"] for r in found} == set(ids)


def test_import_recognises_a_task_file_by_where_it_is(tmp_path: Path) -> None:
    path = place(tmp_path / "anywhere" / EXTENSION)
    found = recognise(path)
    assert found is not None and found[0].name == "cline"
    assert (found[1].path, found[1].mode, found[1].native_id) == (path, "container", TASK_ID)
    loose = place(tmp_path / "export")
    found = recognise(loose)
    assert found is not None and found[0].name == "cline"  # a timestamp id: Cline's
    other = tmp_path / "notes.json"
    other.write_text("[1, 2]")
    assert cline.sniff(other, other.read_bytes()) is None


def test_a_broken_task_is_reported_and_the_others_read(isolated_home: Path) -> None:
    data = isolated_home / ".cline" / "data"
    place(data)
    broken = data / "tasks" / "1769099999999"
    broken.mkdir()
    (broken / taskdirs.HISTORY).write_text('[{"role": "user", "content": "cut off')
    result = run("scan", "--json", ok=False)
    assert result.exit_code == 1
    report = orjson.loads(result.stdout)
    assert report["sessions_added"] == 1
    (failure,) = report["failed"]
    assert "1769099999999" in failure["path"] and "not valid JSON" in failure["message"]
    (broken / taskdirs.HISTORY).write_text("[]")  # the extension rewrote it: read again
    report = orjson.loads(run("scan", "--json").stdout)
    assert report["sessions_added"] == 1 and not report["failed"]


# ---------------------------------------------------------------------------------------
# The CLI's own sessions (3.0 and later): sessions/<id>/<id>.messages.json + <id>.json

CLI_ID = "1796596648204_r88tr"
CLI_SESSION = FIXTURES / "cline" / "cli-3.0.65" / "sessions" / CLI_ID


def test_a_real_cli_session_comes_back_with_its_turns_call_and_output(
    isolated_home: Path,
) -> None:
    data = isolated_home / ".cline" / "data"
    shutil.copytree(CLI_SESSION, data / "sessions" / CLI_ID)
    before = checksums(isolated_home)
    run("scan")
    assert checksums(isolated_home) == before  # nothing of Cline's store changes
    [row] = orjson.loads(run("list", "--json", "--tool", "cline").stdout)
    assert (row["native_id"], row["title"]) == (CLI_ID, "Hello from a TUI: remember zebra")
    assert row["cwd"] == row["project"] == "/tmp/exp/c3/proj" and row["models"] == ["test-model"]
    shown = orjson.loads(run("show", row["id"], "--json").stdout)
    messages = [(m["role"], m["parts"]) for m in shown["messages"]]
    assert [role for role, _ in messages] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "tool",
        "assistant",
    ]
    texts = [p["text"] for _, parts in messages for p in parts if p["type"] == "text"]
    # the CLI's <user_input mode="act"> wrapper is not what the user typed
    assert texts[:3] == [
        "Hello from a TUI: remember zebra",
        "ECHO: Hello from a TUI: remember zebra",
        "RUN:echo cline-out | tr a-z A-Z",
    ]
    call = messages[3][1][0]
    assert (call["type"], call["name"]) == ("tool_call", "run_commands")
    assert call["input"] == {"commands": ["echo cline-out | tr a-z A-Z"]}
    result = messages[4][1][0]
    assert (result["call_id"], result["output"], result["is_error"]) == (
        call["id"],
        "CLINE-OUT\n",
        False,
    )
    assert shown["messages"][0]["native"]["mode"] == "act"
    assert shown["session"]["native"]["version"] == "3.0.65"


def test_a_cli_session_is_recognised_on_import_and_bad_ones_are_counted(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "elsewhere" / CLI_ID
    shutil.copytree(CLI_SESSION, copy)
    messages = copy / f"{CLI_ID}.messages.json"
    found = recognise(messages)
    assert found is not None and found[0].name == "cline" and found[1].native_id == CLI_ID
    doc = json.loads(messages.read_text())
    doc["messages"][1:1] = [{"role": "narrator", "content": []}, "not a message"]
    doc["messages"][0]["content"].append({"type": "hologram"})
    feed = feed_from_bytes(Source(messages, "document", CLI_ID), json.dumps(doc).encode())
    assembly = Assembly("cline")
    assembly.apply(cline.read(feed, {}))
    assert feed.reasons == [
        "message 0: unknown content block 'hologram'",
        "message 1: role 'narrator' with content list",
        "message 2 is not an object",
    ]
    session = assembly.session()
    assert session.cwd == "/tmp/exp/c3/proj"  # from the record beside it
    assert len(session.messages) == 6
