"""The Roo Code reader: the legacy Anthropic task history and the v2 envelope of AI SDK
messages, with the per-task history item beside them."""

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
from tether.model import Attachment, Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools import facts as facts_common
from tether.tools import roo, taskdirs
from tether.tools.base import FormatError, Source

LEGACY_ID = "0b7e3f52-1a2b-4c3d-9e8f-0123456789ab"
V2_ID = "5f2a9c10-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
LEGACY = FIXTURES / "roo" / LEGACY_ID
V2 = FIXTURES / "roo" / V2_ID
PARENT = "7d1c0000-0000-4000-8000-000000000001"


def read_task(folder: Path) -> tuple[Session, FileFeed]:
    feed = FileFeed(taskdirs.source_for(folder / taskdirs.HISTORY))
    assembly = Assembly("roo")
    assembly.apply(roo.read(feed, {}))
    return assembly.session(), feed


def parts(session: Session, kind: type) -> list[Any]:
    return [p for m in session.messages for p in m.parts if isinstance(p, kind)]


def test_legacy_history_with_condense_and_reasoning_items() -> None:
    session, feed = read_task(LEGACY)
    assert feed.skipped == 0
    assert session.title == "Add a /health endpoint to the shop API"
    assert session.cwd == "/home/dev/shop"
    assert session.native["mode"] == "code" and session.native["totalCost"] == 0.0123
    assert session.native["rootTaskId"] == PARENT
    assert (session.created_at, session.updated_at) == (
        "2026-03-02T10:15:00.000Z",
        "2026-03-02T10:15:12.000Z",
    )
    calls = parts(session, ToolCall)
    results = parts(session, ToolResult)
    assert [c.id for c in calls] == [r.call_id for r in results] == ["toolu_roo_01", "toolu_roo_02"]
    assert [r.is_error for r in results] == [False, True]
    assert results[0].output.startswith("1 | import express")
    (reasoning,) = parts(session, Reasoning)
    assert reasoning.text == "Plan: add route, then test."
    assert reasoning.native["encrypted_content"] == "gAAAAABpZ-encrypted-blob"
    summary = next(m for m in session.messages if m.native.get("kind") == "condense_summary")
    assert summary.role == "system" and summary.native["condenseId"] == "cond-1"
    # The messages a condense replaced are kept, marked, not dropped.
    hidden = [m for m in session.messages if m.native.get("condenseParent") == "cond-1"]
    assert [m.role for m in hidden] == ["tool", "system"]
    assert session.messages[-1].parts == [Text("Done: /health now answers ok.")]


def test_the_parent_task_links_the_sub_task(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts_common, "PLATFORM", "linux")
    storage = isolated_home / ".config" / "Code" / "User" / "globalStorage"
    tasks = storage / "rooveterinaryinc.roo-cline" / "tasks"
    shutil.copytree(LEGACY, tasks / LEGACY_ID)
    shutil.copytree(V2, tasks / V2_ID)
    before = checksums(isolated_home)
    report = orjson.loads(run("scan", "--json").stdout)
    assert report["sessions_added"] == 2 and checksums(isolated_home) == before
    rows = {r["native_id"]: r for r in orjson.loads(run("list", "--json", "--tool", "roo").stdout)}
    assert set(rows) == {LEGACY_ID, V2_ID}
    assert rows[LEGACY_ID]["parent_id"] is not None
    assert rows[V2_ID]["title"] == "Build failure"


def test_v2_envelope_of_ai_sdk_messages() -> None:
    session, feed = read_task(V2)
    assert feed.skipped == 0
    assert (session.title, session.cwd) == ("Build failure", "/home/dev/shop")
    assert [m.role for m in session.messages] == [
        "user",
        "system",
        "assistant",
        "tool",
        "assistant",
        "system",
    ]
    (image,) = parts(session, Attachment)
    assert (image.media_type, image.data) == ("image/png", "iVBORw0KGgo=")
    (thought,) = parts(session, Reasoning)
    assert (thought.text, thought.signature) == ("Check the compiler output.", "sig-roo-v2")
    (call,) = parts(session, ToolCall)
    assert (call.id, call.name, call.input) == (
        "call_v2_1",
        "execute_command",
        {"command": "npm run build"},
    )
    (result,) = parts(session, ToolResult)
    assert result.call_id == "call_v2_1" and result.is_error
    assert result.native == {"name": "execute_command"}
    assert session.messages[-1].native["kind"] == "truncation_marker"


@pytest.mark.parametrize(
    ("output", "text", "failed"),
    [
        ({"type": "json", "value": {"ok": True}}, '{"ok":true}', False),
        ({"type": "error-text", "value": "denied"}, "denied", True),
        (
            {"type": "content", "value": [{"type": "text", "text": "a"}, {"type": "media"}]},
            "a\n[media]",
            False,
        ),
        ("plain", "plain", False),
    ],
)
def test_ai_sdk_tool_outputs(output: Any, text: str, failed: bool) -> None:
    doc = {
        "version": 2,
        "messages": [
            {
                "role": "tool",
                "content": [{"type": "tool-result", "toolCallId": "c", "output": output}],
            }
        ],
    }
    feed = feed_from_bytes(
        Source(Path("t/api_conversation_history.json"), "document", "t"), json.dumps(doc).encode()
    )
    assembly = Assembly("roo")
    assembly.apply(roo.read(feed, {}))
    (result,) = parts(assembly.session(), ToolResult)
    assert (result.output, result.is_error) == (text, failed)


def test_an_unknown_envelope_version_is_a_format_error() -> None:
    feed = feed_from_bytes(
        Source(Path("t/api_conversation_history.json"), "document", "t"),
        b'{"version": 3, "messages": []}',
    )
    with pytest.raises(FormatError, match="unknown task history version 3"):
        list(roo.read(feed, {}))


def test_store_roots_are_every_editors_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts_common, "PLATFORM", "linux")
    roots = roo.store_roots({}, tmp_path)
    assert {r.name for r in roots} == {"rooveterinaryinc.roo-cline"}
    windsurf = tmp_path / ".config" / "Windsurf" / "User" / "globalStorage"
    assert windsurf / "rooveterinaryinc.roo-cline" in roots
    monkeypatch.setattr(facts_common, "PLATFORM", "darwin")
    mac = tmp_path / "Library" / "Application Support" / "VSCodium" / "User" / "globalStorage"
    assert mac / "rooveterinaryinc.roo-cline" in roo.store_roots({}, tmp_path)


def test_import_tells_roo_tasks_from_cline_tasks(tmp_path: Path) -> None:
    loose = tmp_path / "export" / V2_ID
    shutil.copytree(V2, loose)
    found = recognise(loose / taskdirs.HISTORY)
    assert found is not None and found[0].name == "roo"
    assert found[1].native_id == V2_ID
