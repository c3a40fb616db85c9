"""Amp reader: a thread file in the shape Amp wrote (see fixtures/amp/SOURCES.txt), bad input."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.conftest import checksums, run

from tether.archive.assemble import Assembly
from tether.capture.feed import feed_from_bytes
from tether.model import Attachment, Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools import amp
from tether.tools.base import FormatError, Source
from tether.tools.registry import get_tool

FIXTURES = Path(__file__).parent.parent / "fixtures" / "amp"
THREAD = FIXTURES / "T-7f3c2a9e-4b1d-4e8a-9c55-0d2e6b1a8f34.json"


def assemble(data: bytes, native_id: str | None = None) -> tuple[Session, list[str]]:
    feed = feed_from_bytes(Source(Path("T-x.json"), "document", native_id), data)
    assembly = Assembly("amp", native_id)
    assembly.apply(amp.read(feed, {}))
    return assembly.session(), feed.reasons


def parts(session: Session, kind: type) -> list[Any]:
    return [p for m in session.messages for p in m.parts if isinstance(p, kind)]


def test_thread_fields_come_from_the_file() -> None:
    raw = orjson.loads(THREAD.read_bytes())
    s, reasons = assemble(THREAD.read_bytes())
    assert reasons == []
    assert s.native_id == raw["id"]
    assert s.title == raw["title"]
    assert s.cwd == s.project == "/home/dev/billing"  # from env.initial.trees[0].uri
    assert s.created_at == "2026-01-08T14:00:00.000Z"
    assert s.models == ["claude-sonnet-4-5-20250929"]
    assert s.native["model"] == "claude-sonnet-4-5-20250929"


def test_every_block_becomes_a_typed_part() -> None:
    raw = orjson.loads(THREAD.read_bytes())
    s, _ = assemble(THREAD.read_bytes())
    uses = [b for m in raw["messages"] for b in m["content"] if b["type"] == "tool_use"]
    calls = parts(s, ToolCall)
    assert [(c.id, c.name, c.input) for c in calls] == [
        (b["id"], b["name"], b["input"]) for b in uses
    ]
    results = parts(s, ToolResult)
    assert [r.call_id for r in results] == [c.id for c in calls]
    assert results[0].output.startswith("1: import time") and not results[0].is_error
    assert results[1].output == "F\nAssertionError: assert 0.061 < 0.05\n"
    assert results[1].is_error and results[1].native == {"status": "error"}
    thinking = parts(s, Reasoning)
    assert thinking[0].signature == raw["messages"][1]["content"][0]["signature"]
    assert [a.media_type for a in parts(s, Attachment)] == ["image/png"]
    assert [m.role for m in s.messages] == [
        "user", "assistant", "tool", "assistant", "tool", "assistant", "user", "system",
    ]  # fmt: skip
    first = s.messages[1]
    assert first.usage == {
        "input_tokens": 12,
        "output_tokens": 96,
        "cache_creation_input_tokens": 4180,
        "cache_read_input_tokens": 0,
        "total_input_tokens": 4192,
    }
    assert first.native == {"type": "complete", "stopReason": "tool_use"}
    assert s.messages[0].timestamp == "2026-01-08T14:00:01.000Z"  # meta.sentAt
    assert s.messages[-1].parts[0].text.startswith("Found the flaky assertion")  # type: ignore[union-attr]


def test_cwd_and_model_variants() -> None:
    doc = {
        "id": "T-1",
        "env": {"initial": {"cwd": "/srv/app", "trees": [{"uri": "file:///elsewhere"}]}},
        "messages": [{"role": "user", "content": "hi there"}],
    }
    s, _ = assemble(orjson.dumps(doc))
    assert s.cwd == "/srv/app"
    assert [p.text for p in parts(s, Text)] == ["hi there"]
    doc["env"] = {"initial": {"trees": [{"uri": "file:///home/a%20b/x"}]}}
    s, _ = assemble(orjson.dumps(doc))
    assert s.cwd == "/home/a b/x"


def test_a_user_message_with_results_and_a_prompt_keeps_both() -> None:
    doc = {
        "id": "T-2",
        "messages": [
            {"role": "assistant", "messageId": 1, "content": [
                {"type": "tool_use", "id": "c1", "name": "Bash", "input": {"cmd": "ls"}}]},
            {"role": "user", "messageId": 2, "content": [
                {"type": "tool_result", "toolUseID": "c1", "run": {"status": "cancelled"}},
                {"type": "text", "text": "stop, do it differently"}]},
        ],
    }  # fmt: skip
    s, _ = assemble(orjson.dumps(doc))
    assert [m.role for m in s.messages] == ["assistant", "tool", "user"]
    result = parts(s, ToolResult)[0]
    assert (result.call_id, result.output, result.is_error) == ("c1", "[cancelled]", True)


def test_bad_messages_and_blocks_are_skipped_and_counted() -> None:
    doc = {
        "id": "T-3",
        "messages": [
            "not a message",
            {"role": "user", "content": [{"type": "text", "text": "kept"}, {"type": "weird"}]},
            {"role": "robot", "content": []},
            {"role": "assistant", "content": [{"type": "mystery"}, {"type": "text", "text": "ok"}]},
        ],
    }
    s, reasons = assemble(orjson.dumps(doc))
    assert [p.text for p in parts(s, Text)] == ["kept", "ok"]
    assert len(reasons) == 4


@pytest.mark.parametrize(
    "data", [b"", b"{not json", b"[1, 2]", b'{"id": "T-4", "messages": {"a": 1}}']
)
def test_files_that_are_not_threads_raise_format_error(data: bytes) -> None:
    with pytest.raises(FormatError):
        assemble(data)


def test_a_thread_without_id_is_named_after_its_file() -> None:
    s, _ = assemble(b'{"messages": []}', native_id="T-from-name")
    assert s.native_id == "T-from-name"


def test_store_roots_discover_and_sniff(tmp_path: Path) -> None:
    home = tmp_path / "home"
    roots = amp.store_roots({"XDG_DATA_HOME": str(tmp_path / "xdg")}, home)
    assert roots[:2] == [tmp_path / "xdg" / "amp", home / ".local" / "share" / "amp"]
    assert home / ".config/Code/User/globalStorage/sourcegraph.amp" in roots
    threads = roots[1] / "threads"
    threads.mkdir(parents=True)
    shutil.copy(THREAD, threads)
    (threads / "notes.json").write_text("{}")
    (threads / "T-dir.json").mkdir()
    found = list(amp.discover(roots[1]))
    assert [(s.path.name, s.native_id) for s in found] == [(THREAD.name, THREAD.stem)]
    assert list(amp.discover(tmp_path / "missing")) == []
    assert amp.sniff(THREAD, THREAD.read_bytes()[:16384]) is not None
    assert amp.sniff(Path("x.json"), b'{"sessionId": "abc", "messages": []}') is None
    assert get_tool("ampcode") is amp


def test_scan_finds_threads_in_a_fake_home(isolated_home: Path) -> None:
    threads = isolated_home / ".local" / "share" / "amp" / "threads"
    threads.mkdir(parents=True)
    shutil.copy(THREAD, threads)
    before = checksums(threads)
    run("scan")
    listed = orjson.loads(run("list", "--json", "--tool", "amp").output)
    assert [s["native_id"] for s in listed] == [THREAD.stem]
    found = orjson.loads(run("search", "wall-clock", "--json").output)
    assert found and found[0]["tool"] == "amp"
    assert checksums(threads) == before
