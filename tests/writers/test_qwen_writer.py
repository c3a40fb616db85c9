"""The Qwen Code writer: where the file goes, its ChatRecord chain, never overwriting, the
vocabulary both ways, what the report says, and round trips through tether's Qwen reader.

That the real CLI resumes (`--resume ID`) and continues (`--continue`) these files is
proven in tests/e2e/test_convert_to_qwen.py.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import FIXTURES, checksums
from tether.archive.assemble import Assembly
from tether.capture.feed import feed_from_bytes
from tether.convert.session import convert
from tether.convert.writers import claude as claude_writer
from tether.convert.writers import qwen as writer
from tether.convert.writers.base import Report, WriteError, WriteJob, Written
from tether.model import Message, Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools import claude as claude_reader
from tether.tools import qwen as qwen_reader
from tether.tools.base import Source
from tether.tools.vocabulary import Canonical

NOW = datetime(2026, 11, 21, 20, 10, 30, tzinfo=UTC)
CLAUDE_REAL = FIXTURES / "claude" / "real_entire_dc_49cb8a2a42_0.jsonl"
QWEN_REAL = FIXTURES / "qwen" / "cli0244_0dda8efd-9952-4eac-940d-b99d928e173d.jsonl"
T0, T1, T2 = "2026-01-01T10:00:00.000Z", "2026-01-01T10:00:01.000Z", "2026-01-01T10:00:02.000Z"


def read(path: Path, tool: str = "qwen") -> Session:
    reader = qwen_reader if tool == "qwen" else claude_reader
    assembly = Assembly(tool)
    assembly.apply(reader.read(feed_from_bytes(Source(path, "jsonl"), path.read_bytes()), {}))
    return assembly.session()


def session(*messages: Message, title: str | None = None, branch: str | None = None) -> Session:
    return Session(
        id="s" * 64,
        tool="claude",
        native_id="src-1",
        title=title,
        git_branch=branch,
        messages=list(messages),
    )


def write(
    s: Session, store: Path, cwd: Path, native_id: str | None = None
) -> tuple[Written, Report]:
    report = Report()
    return writer.write(WriteJob(s, cwd, store, NOW, report, native_id=native_id)), report


def lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def chat(s: Session) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for m in s.messages:
        for p in m.parts:
            if isinstance(p, Text | Reasoning):
                out.append((m.role, p.text))
            elif isinstance(p, ToolCall):
                out.append((m.role, (p.id, p.name, p.input)))
            elif isinstance(p, ToolResult):
                out.append((m.role, (p.call_id, p.output, p.is_error)))
    return out


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "home" / ".qwen"


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    folder = tmp_path / "My Shop.v2"
    folder.mkdir()
    return folder


SHELL_TURNS = session(
    Message("user", [Text("list files")], T0),
    Message(
        "assistant",
        [Reasoning("ls will do"), Text("running ls"), ToolCall("c1", "run_shell_command", {})],
        T1,
        model="qwen3-coder",
        usage={"input_tokens": 10, "output_tokens": 4},
    ),
    Message("tool", [ToolResult("c1", "a.txt\nb.txt")], T1),
    Message("assistant", [Text("two files")], T2),
    title="List the\n files",
    branch="main",
)


def test_file_goes_under_the_clis_project_folder_named_by_its_uuid(store: Path, cwd: Path) -> None:
    written, _ = write(SHELL_TURNS, store, cwd)
    dashed = "".join(c if c.isalnum() else "-" for c in str(cwd))
    assert dashed.endswith("-My-Shop-v2")
    assert written.path == store / "projects" / dashed / "chats" / f"{written.native_id}.jsonl"
    assert qwen_reader.SESSION_ID_RE.match(written.native_id)
    assert written.paths == [written.path]
    assert written.path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in written.path.parent.iterdir()] == [written.path.name]


def test_records_form_one_chain_with_the_cwd_the_cli_checks(store: Path, cwd: Path) -> None:
    written, _ = write(SHELL_TURNS, store, cwd)
    records = lines(written.path)
    assert [r["type"] for r in records] == [
        "user",
        "assistant",
        "tool_result",
        "assistant",
        "system",
    ]
    assert records[0]["parentUuid"] is None
    for before, after in itertools.pairwise(records):
        assert after["parentUuid"] == before["uuid"]
    assert len({r["uuid"] for r in records}) == len(records)
    for r in records:
        assert r["sessionId"] == written.native_id
        assert r["cwd"] == str(cwd) and r["gitBranch"] == "main"
        assert r["version"] == writer.CLI_VERSION
    assert records[1]["message"] == {
        "role": "model",
        "parts": [
            {"text": "ls will do", "thought": True},
            {"text": "running ls"},
            {"functionCall": {"id": "c1", "name": "run_shell_command", "args": {}}},
        ],
    }
    assert records[1]["model"] == "qwen3-coder"
    assert records[1]["usageMetadata"] == {"promptTokenCount": 10, "candidatesTokenCount": 4}
    response = records[2]["message"]["parts"][0]["functionResponse"]
    assert response == {
        "id": "c1",
        "name": "run_shell_command",
        "response": {"output": "a.txt\nb.txt"},
    }
    assert records[2]["toolCallResult"]["callId"] == "c1"
    assert records[-1]["subtype"] == "custom_title"
    assert records[-1]["systemPayload"]["customTitle"] == "List the files"


def test_an_existing_file_is_never_overwritten(store: Path, cwd: Path) -> None:
    first, _ = write(SHELL_TURNS, store, cwd)
    before = checksums(store)
    with pytest.raises(WriteError, match="not overwritten"):
        write(SHELL_TURNS, store, cwd, native_id=first.native_id)
    assert checksums(store) == before
    second, _ = write(SHELL_TURNS, store, cwd)
    assert second.path != first.path and checksums(store).keys() > before.keys()


def test_a_session_with_nothing_to_replay_is_refused(store: Path, cwd: Path) -> None:
    with pytest.raises(WriteError, match="nothing to write"):
        write(session(Message("assistant", [], T0)), store, cwd)
    assert not store.exists()


def test_an_error_result_is_written_as_the_clis_error_response(store: Path, cwd: Path) -> None:
    failed = session(
        Message("user", [Text("go")], T0),
        Message("assistant", [ToolCall("c1", "run_shell_command", {"command": "false"})], T1),
        Message("tool", [ToolResult("c1", "exit 1", True)], T1),
    )
    written, _ = write(failed, store, cwd)
    record = lines(written.path)[2]
    assert record["message"]["parts"][0]["functionResponse"]["response"] == {"error": "exit 1"}
    assert record["toolCallResult"]["status"] == "error"
    back = read(written.path)
    assert chat(back)[-1] == ("tool", ("c1", "exit 1", True))


# -- vocabulary ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "native", "canonical"),
    [
        (
            "run_shell_command",
            {"command": "ls", "directory": "/w", "timeout": 5000},
            Canonical("shell", {"command": "ls", "workdir": "/w", "timeout_ms": 5000}),
        ),
        (
            "read_file",
            {"file_path": "/a", "offset": 9, "limit": 5},
            Canonical("read_file", {"path": "/a", "offset": 10, "limit": 5}),
        ),
        ("read_file", {"absolute_path": "/a"}, Canonical("read_file", {"path": "/a"})),
        (
            "replace",
            {"file_path": "/a", "old_string": "x", "new_string": "y", "expected_replacements": 2},
            Canonical("edit_file", {"path": "/a", "old": "x", "new": "y", "replace_all": True}),
        ),
        (
            "search_file_content",
            {"pattern": "TODO", "include": "*.py"},
            Canonical("grep", {"pattern": "TODO", "glob": "*.py"}),
        ),
        (
            "todo_write",
            {"todos": [{"id": "1", "content": "ship", "status": "in_progress"}]},
            Canonical("todo", {"items": [{"text": "ship", "status": "in_progress"}]}),
        ),
        (
            "task",
            {"description": "look", "prompt": "find it", "subagent_type": "general-purpose"},
            Canonical(
                "task", {"prompt": "find it", "description": "look", "agent": "general-purpose"}
            ),
        ),
    ],
)
def test_vocabulary_decodes_current_and_older_names(
    name: str, native: dict[str, Any], canonical: Canonical
) -> None:
    assert writer.vocabulary.decode(name, native) == canonical


def test_vocabulary_encodes_the_names_and_arguments_the_cli_declares() -> None:
    encode = writer.vocabulary.encode
    assert encode(Canonical("shell", {"command": "ls", "workdir": "/w"})) == (
        "run_shell_command",
        {"command": "ls", "directory": "/w"},
    )
    assert encode(Canonical("read_file", {"path": "/a", "offset": 1, "limit": 3})) == (
        "read_file",
        {"file_path": "/a", "offset": 0, "limit": 3},
    )
    assert encode(Canonical("edit_file", {"path": "/a", "old": "x", "new": "y"})) == (
        "edit",
        {"file_path": "/a", "old_string": "x", "new_string": "y"},
    )
    assert encode(Canonical("todo", {"items": [{"text": "a", "status": "cancelled"}]})) == (
        "todo_write",
        {"todos": [{"id": "1", "content": "a", "status": "pending"}]},
    )
    assert encode(Canonical("task", {"prompt": "find the bug\nin x"})) == (
        "agent",
        {"description": "find the bug", "prompt": "find the bug\nin x"},
    )


# -- conversion: report, round trips -------------------------------------------------------


def test_report_maps_reasoning_and_keeps_unknown_calls_generic(store: Path, cwd: Path) -> None:
    source = session(
        Message("user", [Text("patch it")], T0),
        Message(
            "assistant",
            [
                Reasoning("a patch"),
                ToolCall("t1", "SomeMcpTool", {"x": 1}),
                ToolCall("t2", "Bash", {"command": "echo hi"}),
            ],
            T1,
        ),
        Message("tool", [ToolResult("t1", "ok"), ToolResult("t2", "hi")], T1),
    )
    result = convert(source, "qwen", store=store, cwd=cwd, now=NOW)
    report = result.report.as_dict()
    assert report["mapped"] == {
        "reasoning: as Qwen Code thought parts": 1,
        "tool_call: Bash -> run_shell_command": 1,
        "tool_call: SomeMcpTool (generic: no counterpart)": 1,
    }
    assert report["downgraded"] == {} and report["dropped"] == {}
    back = read(result.written.path)
    assert chat(back) == [
        ("user", "patch it"),
        ("assistant", "a patch"),
        ("assistant", ("t1", "SomeMcpTool", {"x": 1})),
        ("assistant", ("t2", "run_shell_command", {"command": "echo hi"})),
        ("tool", ("t1", "ok", False)),
        ("tool", ("t2", "hi", False)),
    ]
    assert result.resume_command == ["qwen", "--resume", result.written.native_id]


def test_real_claude_session_reads_back_with_every_turn_call_and_result(
    store: Path, cwd: Path
) -> None:
    source = read(CLAUDE_REAL, "claude")
    result = convert(source, "qwen", store=store, cwd=cwd, now=NOW)
    back = read(result.written.path)
    source_calls = [p for m in source.messages for p in m.parts if isinstance(p, ToolCall)]
    calls = [p for m in back.messages for p in m.parts if isinstance(p, ToolCall)]
    results = [p for m in back.messages for p in m.parts if isinstance(p, ToolResult)]
    assert len(calls) == len(source_calls) > 0
    assert {r.call_id for r in results} == {c.id for c in calls}
    for original, call in zip(source_calls, calls, strict=True):
        canonical = claude_writer.vocabulary.decode(original.name, original.input)
        if canonical is None or writer.vocabulary.encode(canonical) is None:
            assert call.name == original.name  # a generic call, under its own name
            continue
        decoded = writer.vocabulary.decode(call.name, call.input)
        assert decoded is not None and decoded.kind == canonical.kind
    source_texts = [t for r, t in chat(source) if r == "user" and isinstance(t, str)]
    back_texts = [t for r, t in chat(back) if r == "user" and isinstance(t, str)]
    assert back_texts and all(any(t in s for s in source_texts) for t in back_texts)
    assert back.cwd == str(cwd)


def test_real_qwen_session_round_trips_unchanged(store: Path, cwd: Path) -> None:
    source = read(QWEN_REAL)
    source.tool = "qwen"
    result = convert(source, "qwen", store=store, cwd=cwd, now=NOW)
    assert chat(read(result.written.path)) == chat(source)
    assert chat(source)[1] == (
        "assistant",
        ("call_mock0001", "run_shell_command", {"command": "echo hello-from-shell"}),
    )
