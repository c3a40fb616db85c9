"""The Qwen Code reader, on the agent-sessions fixtures and on hand-made edge cases."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
from tests.conftest import FIXTURES, checksums, run

from tether.archive.assemble import Assembly
from tether.capture.feed import FileFeed, feed_from_bytes
from tether.capture.importer import recognise
from tether.model import Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools import qwen
from tether.tools.base import Source

QWEN = FIXTURES / "qwen"
BASIC = QWEN / "agentsessions_019f0000-0000-7000-8000-000000000001.jsonl"
WRONG_ID = QWEN / "agentsessions_019f0000-0000-7000-8000-000000000002.jsonl"
REWIND = QWEN / "agentsessions_019f0000-0000-7000-8000-000000000004.jsonl"
GLUED = QWEN / "agentsessions_019f0000-0000-7000-8000-000000000005.jsonl"
FORK = QWEN / "agentsessions_019f0000-0000-7000-8000-000000000006.jsonl"
TELEMETRY = QWEN / "agentsessions_system_telemetry.jsonl"


def read_file(path: Path, native_id: str | None = None) -> tuple[Session, FileFeed]:
    feed = FileFeed(Source(path, "jsonl", native_id))
    assembly = Assembly("qwen", native_id)
    assembly.apply(qwen.read(feed, {}))
    return assembly.session(), feed


def read_bytes(data: bytes) -> tuple[Session, FileFeed]:
    feed = feed_from_bytes(Source(Path("s.jsonl"), "jsonl", "s"), data)
    assembly = Assembly("qwen", "s")
    assembly.apply(qwen.read(feed, {}))
    return assembly.session(), feed


def parts(session: Session, kind: type) -> list[Any]:
    return [p for m in session.messages for p in m.parts if isinstance(p, kind)]


def record(uuid: str, parent: str | None, kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "parentUuid": parent,
        "sessionId": "s",
        "timestamp": "2026-08-17T12:00:00.000Z",
        "type": kind,
        "cwd": "/w",
        "version": "0.22.3",
        **extra,
    }


def user(uuid: str, parent: str | None, text: str) -> dict[str, Any]:
    return record(uuid, parent, "user", message={"role": "user", "parts": [{"text": text}]})


def model(uuid: str, parent: str | None, text: str) -> dict[str, Any]:
    return record(uuid, parent, "assistant", message={"role": "model", "parts": [{"text": text}]})


def lines(*recs: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in recs)


def test_a_chain_becomes_typed_messages() -> None:
    session, feed = read_file(BASIC, "019f0000-0000-7000-8000-000000000001")
    assert feed.skipped == 0
    assert (session.cwd, session.git_branch) == ("/tmp/as-qwen-fixture/project", "fixture-branch")
    assert session.native["version"] == "0.21.13"
    roles = [(m.role, m.native.get("kind")) for m in session.messages]
    assert roles == [
        ("user", None),
        ("system", "hook_context"),
        ("assistant", None),
        ("tool", None),
        ("assistant", None),
        ("system", "notification"),
    ]
    assert session.messages[0].parts == [Text("Inspect the synthetic fixture.")]
    (thought,) = parts(session, Reasoning)
    assert thought.text == "I should read the synthetic file."
    (call,) = parts(session, ToolCall)
    (result,) = parts(session, ToolResult)
    assert (call.id, call.name) == ("synthetic-call-1", "read_file")
    assert call.input == {"path": "/tmp/as-qwen-fixture/project/README.md"}
    assert (result.call_id, result.output, result.is_error) == (
        "synthetic-call-1",
        "Synthetic file contents.",
        False,
    )
    assert result.native == {"name": "read_file", "status": "success"}
    assert session.messages[2].model == "synthetic-model"
    native = session.messages[0].native
    assert native["uuid"] == "019f0000-0000-7000-8000-000000000011"
    assert native["parentUuid"] is None


def test_a_rewind_drops_the_abandoned_branch() -> None:
    session, feed = read_file(REWIND, "019f0000-0000-7000-8000-000000000004")
    assert feed.skipped == 0
    texts = [p.text for p in parts(session, Text)]
    assert "Discarded branch answer." not in texts
    assert texts == [
        "Begin the active-chain fixture.",
        "Continue from the rewound branch.",
        "Active branch answer.",
    ]
    # One response recorded twice under one uuid is one message: thoughts, then the rest.
    reply = session.messages[-1]
    assert [p.kind for p in reply.parts] == ["reasoning", "tool_call", "text"]
    assert reply.model == "synthetic-active-model"
    assert reply.usage == {"input_tokens": 12, "output_tokens": 4}
    assert session.models == ["synthetic-active-model"]
    # A /rename title is never replaced by a generated one (as the CLI keeps it).
    assert session.title == "Discarded branch title"
    assert session.messages[1].native["kind"] == "mid_turn_user_message"


def test_a_rewind_read_in_a_later_pass_drops_what_was_read_before(tmp_path: Path) -> None:
    """The watcher reads a file as it grows: a rewind may come long after its branch."""
    data = REWIND.read_bytes()
    cut = data.index(b'"subtype":"rewind"')
    cut = data.rindex(b"\n", 0, cut) + 1
    state: dict[str, Any] = {}
    assembly = Assembly("qwen", "s")
    source = Source(Path("s.jsonl"), "jsonl", "s")
    first = feed_from_bytes(source, data[:cut])
    assembly.apply(qwen.read(first, state))
    assert "Discarded branch answer." in [p.text for p in parts(assembly.session(), Text)]
    state = orjson.loads(orjson.dumps(state))  # as capture keeps it between reads
    second = feed_from_bytes(source, data[cut:], start=cut)
    assembly.apply(qwen.read(second, state))
    whole, _ = read_file(REWIND, "s")
    assert [m.parts for m in assembly.session().messages] == [m.parts for m in whole.messages]


def test_a_rewind_to_the_root_or_to_an_unknown_record() -> None:
    session, feed = read_bytes(
        lines(
            user("u1", None, "first"),
            model("a1", "u1", "answer"),
            record("r1", None, "system", subtype="rewind", systemPayload={"truncatedCount": 1}),
            user("u2", "r1", "again"),
            record("r2", "nowhere", "system", subtype="rewind", systemPayload={}),
        )
    )
    assert [p.text for p in parts(session, Text)] == ["again"]
    assert feed.reasons == ["rewind to a record not read before"]


def test_a_fork_names_its_parent_and_unknown_records_are_counted() -> None:
    session, feed = read_file(FORK, "019f0000-0000-7000-8000-000000000006")
    assert feed.skipped == 2
    assert feed.reasons == [
        "unknown record type 'session_checkpoint'",
        "unknown system record 'quantum_flux'",
    ]
    assert session.native["parent_native_id"] == "019f0000-0000-7000-8000-000000000001"
    assert [p.text for p in parts(session, Text)] == ["synthetic forked prompt", "synthetic reply"]
    assert session.git_branch == "main"


def test_glued_records_are_skipped_not_fatal() -> None:
    session, feed = read_file(GLUED, "019f0000-0000-7000-8000-000000000005")
    assert feed.skipped == 1
    assert session.messages == []


def test_telemetry_and_slash_commands() -> None:
    session, feed = read_file(TELEMETRY, "t")
    assert feed.skipped == 0
    kinds = [(m.role, m.native.get("kind")) for m in session.messages]
    assert kinds == [
        ("assistant", None),
        ("tool", None),
        ("system", "slash_command"),
        ("system", "slash_command"),
    ]
    assert session.models == ["coder-model"]


def test_titles_compression_and_bad_records() -> None:
    compressed = {"info": {"originalTokenCount": 900}, "compressedHistory": [
        {"role": "user", "parts": [{"text": "Summary: the build is fixed."}]},
    ]}  # fmt: skip
    session, feed = read_bytes(
        lines(
            user("u1", None, "fix the build"),
            record(
                "t1",
                "u1",
                "system",
                subtype="custom_title",
                systemPayload={"customTitle": "Auto title", "titleSource": "auto"},
            ),
            record(
                "t2",
                "t1",
                "system",
                subtype="custom_title",
                systemPayload={"customTitle": "Better auto title", "titleSource": "auto"},
            ),
            record("c1", "t2", "system", subtype="chat_compression", systemPayload=compressed),
            record("x1", "c1", "assistant", message={"role": "model"}),
            record("x2", "x1", "tool_result", message={"role": "user", "parts": []}),
            record("x3", "x2", "user", subtype="brand_new"),
        )
    )
    assert session.title == "Better auto title"
    summary = session.messages[1]
    assert (summary.role, summary.native["kind"]) == ("system", "chat_compression")
    assert summary.parts == [Text("Summary: the build is fixed.")]
    assert summary.native["info"] == {"originalTokenCount": 900}
    assert feed.reasons == [
        "assistant record without message parts",
        "tool result record without a function response",
        "unknown user record 'brand_new'",
        "user record without message parts",
    ]


def test_failed_tool_results_are_errors() -> None:
    call = {"functionCall": {"id": "c1", "name": "run_shell_command", "args": '{"command": "x"}'}}
    response = {"functionResponse": {"id": "c1", "name": "run_shell_command",
                                     "response": {"error": "exit 1"}}}  # fmt: skip
    session, _ = read_bytes(
        lines(
            user("u1", None, "go"),
            record("a1", "u1", "assistant", message={"role": "model", "parts": [call]}),
            record(
                "r1",
                "a1",
                "tool_result",
                message={"role": "user", "parts": [response]},
                toolCallResult={"callId": "c1", "status": "error"},
            ),
        )
    )
    (tool_call,) = parts(session, ToolCall)
    assert tool_call.input == {"command": "x"}
    (result,) = parts(session, ToolResult)
    assert (result.call_id, result.output, result.is_error) == ("c1", "exit 1", True)


# -- where sessions are, and import ------------------------------------------------------


def test_store_roots_honour_qwen_runtime_dir(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert qwen.store_roots({}, home) == [home / ".qwen"]
    runtime = {"QWEN_RUNTIME_DIR": str(tmp_path / "rt")}
    assert qwen.store_roots(runtime, home) == [tmp_path / "rt", home / ".qwen"]


def place(home: Path, sample: Path, sid: str, archive: bool = False) -> Path:
    chats = home / ".qwen" / "projects" / "-tmp-as-qwen-fixture-project" / "chats"
    folder = chats / "archive" if archive else chats
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sid}.jsonl"
    shutil.copy(sample, path)
    return path


def test_scan_finds_sessions_by_file_name(isolated_home: Path) -> None:
    place(isolated_home, BASIC, "019f0000-0000-7000-8000-000000000001")
    place(isolated_home, WRONG_ID, "019f0000-0000-7000-8000-000000000002", archive=True)
    before = checksums(isolated_home)
    report = orjson.loads(run("scan", "--json").stdout)
    assert report["sessions_added"] == 2
    assert checksums(isolated_home) == before
    rows = orjson.loads(run("list", "--json", "--tool", "qwen-code").stdout)
    # The file name is the id the CLI resumes by, whatever a record inside says.
    assert {r["native_id"] for r in rows} == {
        "019f0000-0000-7000-8000-000000000001",
        "019f0000-0000-7000-8000-000000000002",
    }
    shown = orjson.loads(run("show", "019f0000-0000-7000-8000-000000000001", "--json").stdout)
    ids = {p.get("id") or p.get("call_id") for m in shown["messages"] for p in m["parts"]}
    assert "synthetic-call-1" in ids


def test_import_recognises_a_qwen_file(tmp_path: Path) -> None:
    copy = tmp_path / "exported.jsonl"
    shutil.copy(BASIC, copy)
    found = recognise(copy)
    assert found is not None and found[0].name == "qwen"
    assert found[1].native_id is None  # not a session id: the records' sessionId is used
    session, _ = read_file(copy)
    assert session.native_id == "019f0000-0000-7000-8000-000000000001"
    named = tmp_path / "019f0000-0000-7000-8000-000000000002.jsonl"
    shutil.copy(WRONG_ID, named)
    found = recognise(named)
    assert found is not None and found[1].native_id == named.stem
    assert qwen.sniff(tmp_path / "x.jsonl", records_head(FIXTURES / "claude")) is None


def records_head(folder: Path) -> bytes:
    """The head of a Claude Code transcript, which must not pass for a Qwen one."""
    sample = sorted(folder.glob("real_entire_*.jsonl"))[0]
    return sample.read_bytes()[:16384]


REAL = QWEN / "cli0244_0dda8efd-9952-4eac-940d-b99d928e173d.jsonl"


def test_a_file_qwen_code_0_24_wrote() -> None:
    session, feed = read_file(REAL, "0dda8efd-9952-4eac-940d-b99d928e173d")
    assert feed.skipped == 0
    assert (session.cwd, session.native["version"]) == ("/tmp/w/q/proj", "0.24.4")
    raw = [orjson.loads(line) for line in REAL.read_bytes().splitlines() if line.strip()]
    sent = [
        part
        for rec in raw
        if rec["type"] in ("user", "assistant", "tool_result")
        for part in rec["message"]["parts"]
    ]
    texts = [p["text"] for p in sent if "text" in p]
    calls = [p["functionCall"]["id"] for p in sent if "functionCall" in p]
    answers = [p["functionResponse"]["id"] for p in sent if "functionResponse" in p]
    assert [t.text for t in parts(session, Text)] == texts
    assert [c.id for c in parts(session, ToolCall)] == calls == ["call_mock0001"]
    results = parts(session, ToolResult)
    assert [r.call_id for r in results] == answers
    assert "hello-from-shell" in results[0].output and not results[0].is_error
    assert [m.role for m in session.messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
    ]
