"""Every tool at once: one fake home holding each of the thirteen tools' own layouts, filled
with the real (or shape-faithful) samples the per-tool tests use, and one `tether list`
that shows sessions of all of them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from tests import test_capture_task_tools as task_tools
from tests.conftest import FIXTURES, checksums, run
from tests.stores import place_claude, place_codex
from tests.tools import test_amp, test_antigravity, test_cursor
from tether.tools import aider
from tether.tools import facts as facts_common
from tether.tools.registry import TOOLS


@pytest.fixture(autouse=True)
def linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(facts_common, "PLATFORM", "linux")


def lay_out_every_tool(home: Path) -> None:
    place_claude(home)
    place_codex(home)
    chats = home / ".gemini" / "tmp" / "myproj" / "chats"
    chats.mkdir(parents=True)
    shutil.copy(
        FIXTURES / "gemini" / "cli061_resumed_tool_call.jsonl",
        chats / "session-2026-11-21T19-44-11111111.jsonl",
    )
    shutil.copytree(FIXTURES / "copilot" / "store", home / ".copilot")
    task_tools.lay_out(home)  # cline, roo, kilo (extension and CLI), opencode, qwen
    test_cursor.cli_layout(home)
    threads = home / ".local" / "share" / "amp" / "threads"
    threads.mkdir(parents=True)
    shutil.copy(test_amp.THREAD, threads)
    logs = home / ".gemini" / "antigravity-cli" / "brain" / test_antigravity.CONVERSATION
    logs = logs / ".system_generated" / "logs"
    logs.mkdir(parents=True)
    shutil.copy(test_antigravity.SAMPLE, logs / "transcript.jsonl")
    # Aider keeps its history in the project: in a folder another tool's session names.
    project = home / "work" / "my-app"  # the Cursor agent's project (cli_layout)
    shutil.copy(FIXTURES / "aider" / "real_chat-history_head247lines.md", project / aider.HISTORY)


def test_one_list_shows_all_thirteen_tools(isolated_home: Path) -> None:
    assert len(TOOLS) == 13
    lay_out_every_tool(isolated_home)
    before = checksums(isolated_home)
    run("scan", ok=False)  # exit 1: the Cursor chat store's opaque blob is counted, once
    run("scan")  # learns aider's project from the first; nothing else is read again
    assert checksums(isolated_home) == before, "capture must never write a native byte"
    rows = orjson.loads(run("list", "--json", "--limit", "1000").stdout)
    assert {row["tool"] for row in rows} == set(TOOLS)
    for row in rows:
        assert row["message_count"] > 0, row
    hits = orjson.loads(run("search", "the", "--json", "--limit", "1000").stdout)
    assert len({hit["tool"] for hit in hits}) >= 10
