"""Antigravity reader: the agy step log (redacted real sample), protobuf stores, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.conftest import checksums, run

from tether.archive.assemble import Assembly
from tether.capture.feed import feed_from_bytes
from tether.model import Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools import antigravity
from tether.tools.base import FormatError, Source
from tether.tools.registry import get_tool

FIXTURES = Path(__file__).parent.parent / "fixtures" / "antigravity"
SAMPLE = FIXTURES / "agentsessions_cli_small_transcript.jsonl"
CONVERSATION = "3f1d2c4b-5a6e-4f70-8a9b-0c1d2e3f4a5b"


def assemble(data: bytes, state: dict[str, Any] | None = None) -> tuple[Session, list[str]]:
    feed = feed_from_bytes(Source(Path("transcript.jsonl"), "jsonl", "c1"), data)
    assembly = Assembly("antigravity", "c1")
    assembly.apply(antigravity.read(feed, {} if state is None else state))
    return assembly.session(), feed.reasons


def parts(session: Session, kind: type) -> list[Any]:
    return [p for m in session.messages for p in m.parts if isinstance(p, kind)]


def steps() -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in SAMPLE.read_bytes().splitlines()]


def test_sample_user_prompts_model_and_context() -> None:
    s, reasons = assemble(SAMPLE.read_bytes())
    assert reasons == []
    first = s.messages[0]
    assert (first.role, first.parts[0].text) == ("user", "List the files.")  # type: ignore[union-attr]
    assert "USER_SETTINGS_CHANGE" in first.native["context"]
    assert s.models == ["Gemini 3.5 Flash (Medium)"]
    assert s.created_at == "2026-06-26T21:16:16.000Z"
    assert s.updated_at == "2026-06-26T21:16:26.000Z"


def test_sample_tool_calls_and_results_are_typed_and_paired() -> None:
    s, _ = assemble(SAMPLE.read_bytes())
    planned = [c for rec in steps() for c in rec.get("tool_calls", [])]
    calls = parts(s, ToolCall)
    logged = [c for c in calls if not c.native.get("synthesized")]
    assert [c.name for c in logged] == [c["name"] for c in planned]
    assert logged[0].input == {"DirectoryPath": "/tmp/repo", "toolSummary": "Listing contents"}
    results = parts(s, ToolResult)
    tool_steps = [
        r
        for r in steps()
        if r["type"] not in ("USER_INPUT", "PLANNER_RESPONSE", "CONVERSATION_HISTORY", "GENERIC")
        and r["source"] not in ("SYSTEM", "[trimmed for fixture]")
    ]
    assert [r.output for r in results] == [r["content"] for r in tool_steps]
    ids = [c.id for c in calls]
    assert [r.call_id for r in results] == ids  # every result answers one call, in order
    assert results[0].output == '{"name":"a.txt"}\n{"name":"b.txt"}\n'
    assert calls[0].id == results[0].call_id and not calls[0].native
    assert calls[1].name == "view_file" and calls[1].native == {"synthesized": True}
    by_step = {m.native.get("step_index"): m for m in s.messages if m.role == "tool"}
    assert by_step[4].native["truncated_fields"] == ["content"]


def test_sample_reasoning_checkpoint_and_system_steps() -> None:
    s, _ = assemble(SAMPLE.read_bytes())
    assert [r.text for r in parts(s, Reasoning)] == [
        rec["thinking"] for rec in steps() if rec.get("thinking")
    ]
    systems = [m for m in s.messages if m.role == "system"]
    assert systems[0].native["kind"] == "checkpoint"
    assert systems[0].parts[0].text == "# Resuming from a compaction"  # type: ignore[union-attr]
    assert all(m.native.get("step_index") != 1 for m in s.messages)  # CONVERSATION_HISTORY
    answer = next(m for m in s.messages if m.native.get("step_index") == 6)
    assert [type(p) for p in answer.parts] == [Reasoning, Text]


def test_reading_in_pieces_equals_reading_whole() -> None:
    data = SAMPLE.read_bytes()
    whole, _ = assemble(data)
    lines = data.splitlines(keepends=True)
    state: dict[str, Any] = {}
    assembly = Assembly("antigravity", "c1")
    offset = 0
    for cut in (3, 9, len(lines)):
        chunk_start = sum(len(line) for line in lines[:offset])
        upto = b"".join(lines[:cut])
        feed = feed_from_bytes(Source(Path("t.jsonl"), "jsonl", "c1"), upto[chunk_start:])
        feed.start = chunk_start
        assembly.apply(antigravity.read(feed, state))
        offset = cut
    assert assembly.session().messages == whole.messages


def test_bad_lines_are_skipped_and_the_rest_kept() -> None:
    data = b"\n".join(
        [
            b'{"step_index":0,"source":"USER_EXPLICIT","type":"USER_INPUT","content":"hello"}',
            b"{truncated",
            b'{"step_index":1,"source":"MODEL"}',
            b'{"step_index":2,"source":"MODEL","type":"PLANNER_RESPONSE","tool_calls":[7,'
            b'{"name":"run_command","args":{"CommandLine":"\\"ls\\"","Cwd":"not json"}}]}',
            b'{"step_index":3,"source":"MODEL","type":"RUN_COMMAND","status":"ERROR",'
            b'"content":"boom"}',
            b"",
        ]
    )
    s, reasons = assemble(data)
    assert len(reasons) == 3
    assert [m.role for m in s.messages] == ["user", "assistant", "tool"]
    call = parts(s, ToolCall)[0]
    assert call.input == {"CommandLine": "ls", "Cwd": "not json"}
    result = parts(s, ToolResult)[0]
    assert (result.call_id, result.output, result.is_error) == (call.id, "boom", True)


def test_protobuf_conversations_are_not_readable() -> None:
    for suffix in (".db", ".pb"):
        feed = feed_from_bytes(Source(Path(f"x{suffix}"), "document", "x"), b"\x0a\x20abc")
        with pytest.raises(FormatError, match="not readable"):
            list(antigravity.read(feed, {}))


def test_store_roots_discover_and_sniff(tmp_path: Path) -> None:
    roots = antigravity.store_roots({}, tmp_path)
    assert roots == [tmp_path / ".gemini/antigravity-cli", tmp_path / ".gemini/antigravity"]
    cli = roots[0]
    logs = cli / "brain" / CONVERSATION / ".system_generated" / "logs"
    logs.mkdir(parents=True)
    shutil.copy(SAMPLE, logs / "transcript.jsonl")
    (cli / "brain" / "no-transcript").mkdir()
    (cli / "conversations").mkdir()
    (cli / "conversations" / f"{CONVERSATION}.db").write_bytes(b"SQLite format 3\x00")
    (cli / "conversations" / "lonely.db").write_bytes(b"SQLite format 3\x00")
    (cli / "conversations" / "notes.txt").write_text("x")
    found = {(s.path.name, s.native_id, s.mode) for s in antigravity.discover(cli)}
    assert found == {
        ("transcript.jsonl", CONVERSATION, "jsonl"),
        ("lonely.db", "lonely", "document"),
    }
    sniffed = antigravity.sniff(logs / "transcript.jsonl", SAMPLE.read_bytes())
    assert sniffed is not None and sniffed.native_id == CONVERSATION
    assert antigravity.sniff(Path("x.jsonl"), b'{"type":"user","sessionId":"a"}\n') is None
    assert get_tool("agy") is antigravity


def test_scan_reads_transcripts_and_doctor_names_what_it_cannot(isolated_home: Path) -> None:
    logs = isolated_home / ".gemini/antigravity-cli/brain" / CONVERSATION
    logs = logs / ".system_generated" / "logs"
    logs.mkdir(parents=True)
    shutil.copy(SAMPLE, logs / "transcript.jsonl")
    ide = isolated_home / ".gemini" / "antigravity" / "conversations"
    ide.mkdir(parents=True)
    (ide / "9a8b7c6d.pb").write_bytes(bytes(range(256)))
    before = checksums(isolated_home / ".gemini")
    first = run("scan", ok=False)  # exit 1: one file could not be read, once
    assert first.exit_code == 1 and "9a8b7c6d.pb" in first.output
    run("scan")  # unchanged: not tried again
    listed = orjson.loads(run("list", "--json", "--tool", "antigravity").output)
    assert [s["native_id"] for s in listed] == [CONVERSATION]
    doctor = orjson.loads(run("doctor", "--json").output)
    errors = {p["path"]: p.get("error", "") for p in doctor["problems"]}
    assert "not readable" in errors[str(ide / "9a8b7c6d.pb")]
    assert checksums(isolated_home / ".gemini") == before
