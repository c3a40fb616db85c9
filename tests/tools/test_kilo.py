"""Kilo Code: the VS Code extension's task folders and the Kilo CLI's kilo.db (an opencode
fork's store), side by side in one home."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from tests.conftest import FIXTURES, checksums, run
from tests.tools.opencode_store import LARGE, SMALL, build

from tether.archive.assemble import Assembly
from tether.capture.feed import FileFeed
from tether.capture.importer import recognise
from tether.model import Text
from tether.tools import facts as facts_common
from tether.tools import kilo, taskdirs

TASK_ID = "c0ffee00-1234-4abc-8def-0123456789ab"
TASK = FIXTURES / "kilo" / TASK_ID
EXTENSION = "kilocode.kilo-code"


def test_an_xml_era_task_takes_its_times_and_cwd_from_beside_it() -> None:
    feed = FileFeed(taskdirs.source_for(TASK / taskdirs.HISTORY))
    assembly = Assembly("kilo")
    assembly.apply(kilo.read(feed, {}))
    session = assembly.session()
    assert feed.skipped == 0
    assert (session.title, session.cwd) == ("Rename the Cart class to Basket", "/home/dev/store")
    stamps = [m.timestamp for m in session.messages if m.role in ("user", "assistant")]
    assert stamps == [
        "2026-03-03T01:06:40.500Z",
        "2026-03-03T01:06:40.500Z",
        "2026-03-03T01:06:44.000Z",
        "2026-03-03T01:06:44.000Z",
    ]
    # The XML tool protocol has no call ids: its results stay text, marked as tool output.
    output = next(m for m in session.messages if m.native.get("kind") == "tool_output")
    assert output.role == "user"
    assert output.parts[0] == Text("[search_files for 'class Cart'] Result:")
    assert session.updated_at == "2026-03-03T01:06:49.000Z"


def test_store_roots_are_the_extension_and_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts_common, "PLATFORM", "linux")
    home = tmp_path / "h"
    roots = kilo.store_roots({}, home)
    assert home / ".config" / "Code" / "User" / "globalStorage" / EXTENSION in roots
    assert roots[0] == home / ".local" / "share" / "kilo"  # the CLI's, which tether runs
    assert kilo.store_roots({"XDG_DATA_HOME": str(tmp_path / "x")}, home)[0] == (
        tmp_path / "x" / "kilo"
    )
    assert kilo.store_roots({"KILO_DATA_DIR": str(tmp_path / "k")}, home)[0] == tmp_path / "k"


def test_scan_reads_the_extension_and_the_cli(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts_common, "PLATFORM", "linux")
    storage = isolated_home / ".config" / "VSCodium" / "User" / "globalStorage" / EXTENSION
    shutil.copytree(TASK, storage / "tasks" / TASK_ID)
    data = isolated_home / ".local" / "share" / "kilo"
    build(data / "kilo.db")
    opencode_data = isolated_home / ".local" / "share" / "opencode"
    build(opencode_data / "opencode.db", sessions=(SMALL,))
    before = checksums(isolated_home)
    report = orjson.loads(run("scan", "--json").stdout)
    assert checksums(isolated_home) == before
    assert report["sessions_added"] == 4 and not report["failed"]
    rows = orjson.loads(run("list", "--json", "--tool", "kilo-code").stdout)
    assert {r["native_id"] for r in rows} == {TASK_ID, LARGE, SMALL}
    assert {r["tool"] for r in rows} == {"kilo"}
    opencode_rows = orjson.loads(run("list", "--json", "--tool", "opencode").stdout)
    assert [r["native_id"] for r in opencode_rows] == [SMALL]


def test_import_tells_kilo_db_from_opencode_db(tmp_path: Path) -> None:
    build(tmp_path / "kilo" / "kilo.db")
    build(tmp_path / "opencode" / "opencode.db")
    found = recognise(tmp_path / "kilo" / "kilo.db")
    assert found is not None and found[0].name == "kilo" and found[1].mode == "container"
    found = recognise(tmp_path / "opencode" / "opencode.db")
    assert found is not None and found[0].name == "opencode"
    task = tmp_path / EXTENSION / "tasks" / TASK_ID
    shutil.copytree(TASK, task)
    found = recognise(task / taskdirs.HISTORY)
    assert found is not None and found[0].name == "kilo" and found[1].mode == "container"


def test_a_real_kilo_cli_database_comes_back_with_its_call_and_output(
    isolated_home: Path,
) -> None:
    data = isolated_home / ".local" / "share" / "kilo"
    data.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "kilo" / "kilo-7.7.9.db", data / "kilo.db")
    before = checksums(isolated_home)
    run("scan")
    assert checksums(isolated_home) == before
    [row] = orjson.loads(run("list", "--json", "--tool", "kilo").stdout)
    assert row["native_id"] == "ses_db288f9bfffe6yoqIC7c4e1Rrz"
    assert row["cwd"] == "/tmp/exp/ki/proj" and row["models"] == ["test-model"]
    shown = orjson.loads(run("show", row["id"], "--json").stdout)
    parts = [(m["role"], p) for m in shown["messages"] for p in m["parts"]]
    texts = [p["text"] for role, p in parts if p["type"] == "text" and role == "user"]
    assert texts == ["Hello from kilo remember zebra", "Now list. RUN:echo kilo-tool-output"]
    [call] = [p for _, p in parts if p["type"] == "tool_call"]
    assert (call["name"], call["input"]) == ("bash", {"command": "echo kilo-tool-output"})
    [result] = [p for _, p in parts if p["type"] == "tool_result"]
    assert result["call_id"] == call["id"] and result["output"] == "kilo-tool-output\n"
    replies = [p["text"] for role, p in parts if p["type"] == "text" and role == "assistant"]
    assert replies[0].startswith("ECHO: Hello from kilo") and replies[-1] == (
        "TOOL-DONE: kilo-tool-output"
    )
