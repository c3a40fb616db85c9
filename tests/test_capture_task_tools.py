"""Cline, Roo Code, Kilo Code, opencode and Qwen Code laid out in one fake home as the tools
lay them out: one scan finds every session, reads nothing twice, changes no native byte,
and `reindex` rebuilds the same sessions from the archived bytes alone."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import FIXTURES, checksums, run
from tests.tools.opencode_store import LARGE, SMALL, STORAGE, build
from tether.tools import facts as facts_common

CLINE_TASK = FIXTURES / "cline" / "1769053680585"
ROO_TASK = FIXTURES / "roo" / "5f2a9c10-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
KILO_TASK = FIXTURES / "kilo" / "c0ffee00-1234-4abc-8def-0123456789ab"
QWEN_ID = "019f0000-0000-7000-8000-000000000001"
QWEN_SAMPLE = FIXTURES / "qwen" / f"agentsessions_{QWEN_ID}.jsonl"


@pytest.fixture(autouse=True)
def linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(facts_common, "PLATFORM", "linux")


def lay_out(home: Path) -> dict[str, set[str]]:
    """The samples where each tool keeps them on Linux; returns tool -> native ids."""
    config = home / ".config"
    remote = home / ".vscode-server" / "data"
    tasks = {
        config / "Code" / "User" / "globalStorage" / "saoudrizwan.claude-dev": CLINE_TASK,
        remote / "User" / "globalStorage" / "rooveterinaryinc.roo-cline": ROO_TASK,
        config / "Windsurf" / "User" / "globalStorage" / "kilocode.kilo-code": KILO_TASK,
    }
    for storage, task in tasks.items():
        shutil.copytree(task, storage / "tasks" / task.name)
    build(home / ".local" / "share" / "kilo" / "kilo.db", sessions=(LARGE,))
    opencode = home / ".local" / "share" / "opencode"
    build(opencode / "opencode.db", sessions=(SMALL,))
    shutil.copytree(STORAGE, opencode / "storage")  # the older JSON tree, beside the database
    (opencode / "storage" / "session" / "proj_test" / "ses_s_stage0_small.json").unlink()
    chats = home / ".qwen" / "projects" / "-tmp-as-qwen-fixture-project" / "chats"
    chats.mkdir(parents=True)
    shutil.copy(QWEN_SAMPLE, chats / f"{QWEN_ID}.jsonl")
    return {
        "cline": {CLINE_TASK.name},
        "roo": {ROO_TASK.name},
        "kilo": {KILO_TASK.name, LARGE},
        "opencode": {SMALL, LARGE},
        "qwen": {QWEN_ID},
    }


def sessions() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = orjson.loads(run("list", "--json", "--no-scan").stdout)
    return rows


def shown(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {r["id"]: orjson.loads(run("show", r["id"], "--json").stdout) for r in rows}


def test_one_scan_finds_every_tool_and_reindex_keeps_them(isolated_home: Path) -> None:
    placed = lay_out(isolated_home)
    before = checksums(isolated_home)
    report = orjson.loads(run("scan", "--json").stdout)
    assert checksums(isolated_home) == before, "capture must never write a native byte"
    assert not report["failed"]
    assert report["sessions_added"] == sum(len(ids) for ids in placed.values())

    rows = sessions()
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["tool"], set()).add(row["native_id"])
        assert row["message_count"] > 0 and row["created_at"] and row["updated_at"]
    assert found == placed

    again = orjson.loads(run("scan", "--json").stdout)
    assert (again["read"], again["sessions_added"], again["sessions_updated"]) == (0, 0, 0)

    first = shown(rows)
    run("reindex")
    assert shown(sessions()) == first


def test_reindex_needs_no_native_file(isolated_home: Path) -> None:
    """What the archive keeps is enough: the tools may delete their files."""
    lay_out(isolated_home)
    run("scan")
    first = shown(sessions())
    for folder in (".config", ".vscode-server", ".local", ".qwen"):
        shutil.rmtree(isolated_home / folder)
    run("reindex")
    assert shown(sessions()) == first
