"""The Copilot CLI reader on the 1.0.77/1.0.11 samples, 0.0.420 drift, and hand-made
1.0.102, 0.0.342 (flat) and pre-0.0.342 (history-session-state) sessions."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from tether.archive.assemble import Assembly
from tether.capture.feed import FileFeed, feed_from_bytes
from tether.model import Attachment, Message, Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools import copilot
from tether.tools.base import FormatError, Meta, Put, Reset, Source
from tether.tools.registry import get_tool

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "copilot"
SMALL = FIXTURES / "agentsessions_small_events.jsonl"
SUBDIR = FIXTURES / "agentsessions_subdir_v1_events.jsonl"
SUBDIR_ID = "aaaabbbb-1111-2222-3333-ccccddddeeee"
DRIFT = FIXTURES / "agentsessions_schema_drift.jsonl"
LARGE = FIXTURES / "agentsessions_large.jsonl"
STORE = FIXTURES / "store"
NEW_ID = "2b8e3c1a-5d4f-4e6a-9b7c-1d2e3f4a5b6c"
NEW = STORE / "session-state" / NEW_ID / "events.jsonl"
FLAT_ID = "7c0d9e2f-1a3b-4c5d-8e6f-0a1b2c3d4e5f"
FLAT = STORE / "session-state" / f"{FLAT_ID}.jsonl"
LEGACY_ID = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
LEGACY = STORE / "history-session-state" / f"session_{LEGACY_ID}_1759240800000.json"
T = "2026-01-01T00:00:00.000Z"


def read_file(path: Path, native_id: str | None = None) -> tuple[Session, FileFeed]:
    source = copilot.sniff(path, path.read_bytes()[:4096])
    assert source is not None
    if native_id is not None:
        source = Source(source.path, source.mode, native_id)
    feed = FileFeed(source)
    assembly = Assembly("copilot", source.native_id)
    assembly.apply(copilot.read(feed, {}))
    return assembly.session(), feed


def read_bytes(data: bytes, path: Path = Path("x.jsonl")) -> tuple[Session, FileFeed]:
    feed = feed_from_bytes(Source(path, "jsonl", "sid"), data)
    assembly = Assembly("copilot", "sid")
    assembly.apply(copilot.read(feed, {}))
    return assembly.session(), feed


def ev(kind: str, data: dict[str, Any], eid: str = "", ts: str = T) -> dict[str, Any]:
    return {"type": kind, "data": data, "id": eid or kind, "timestamp": ts, "parentId": None}


def lines(*records: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def by_role(session: Session, role: str) -> list[Message]:
    return [m for m in session.messages if m.role == role]


def parts_of(session: Session, kind: type) -> list[Any]:
    return [p for m in session.messages for p in m.parts if isinstance(p, kind)]


def texts(session: Session, role: str) -> list[str]:
    return [p.text for m in by_role(session, role) for p in m.parts if isinstance(p, Text)]


def assert_paired(session: Session) -> None:
    calls = {p.id for p in parts_of(session, ToolCall)}
    results = parts_of(session, ToolResult)
    assert results
    for result in results:
        assert result.call_id in calls


# ---------------------------------------------------------------- the 1.0.77 sample


def test_small_sample_counts_match_the_file() -> None:
    session, feed = read_file(SMALL)
    assert feed.skipped == 0
    assert session.native_id == "copilot_stage0_small"  # from session.start: no id in the name
    assert texts(session, "user") == ["List the files", "[trimmed for fixture]"]
    # m-1, m-2, the sub-agent message, the resumed message and the last (merged) one
    assert len(texts(session, "assistant")) == 5
    assert texts(session, "assistant")[:2] == ["Listing the files.", "Done"]
    calls = parts_of(session, ToolCall)
    results = parts_of(session, ToolResult)
    assert len(calls) == 5  # 4 tool requests + 1 call made up for a result logged alone
    assert len(results) == 4
    assert [r.is_error for r in results] == [False, True, True, True]
    assert [c.native.get("synthesized") for c in calls].count(True) == 1
    assert_paired(session)


def test_small_sample_context_model_and_usage() -> None:
    session, _ = read_file(SMALL)
    assert session.cwd == "/tmp/repo"
    assert session.project == "/tmp/repo"
    assert session.git_branch == "main"
    assert session.git_commit == "0" * 40
    assert session.created_at == "2025-12-18T21:32:04.182Z"
    assert session.native["copilotVersion"] == "1.0.77"
    assert session.native["producer"] == "copilot-agent"
    assert session.native["selectedModel"] == "gpt-5-mini"
    assert session.native["shutdown"]["shutdownType"] == "routine"
    # 1.0.77 shutdown has no per-model usage: the session-wide tokenDetails are used
    assert session.native["usage"] == {
        "input_tokens": 100,
        "output_tokens": 15,
        "cache_read_tokens": 5,
        "cache_write_tokens": 0,
    }
    first = by_role(session, "assistant")[0]
    assert first.model == "gpt-5-mini"
    assert first.usage == {"output_tokens": 12}
    assert first.timestamp == "2025-12-18T21:32:13.000Z"
    assert first.native["messageId"] == "m-1"
    assert first.native["encrypted_reasoning"] is True
    assert "encryptedContent" not in orjson.dumps(first.native).decode()


def test_small_sample_tool_call_arguments_are_parsed_from_the_json_string() -> None:
    session, _ = read_file(SMALL)
    call = parts_of(session, ToolCall)[0]
    assert (call.id, call.name, call.input) == ("call-1", "shell", {"command": "ls"})
    assert call.native["intentionSummary"] == "List the directory"
    result = parts_of(session, ToolResult)[0]
    assert (result.call_id, result.output, result.is_error) == ("call-1", "a.txt\nb.txt\n", False)


def test_small_sample_notices_are_system_messages() -> None:
    session, _ = read_file(SMALL)
    kinds = [m.native["type"] for m in by_role(session, "system")]
    assert kinds == [
        "session.info",
        "session.error",
        "system.message",
        "system.notification",
        "abort",
    ]
    info = by_role(session, "system")[0]
    assert info.native["infoType"] == "folder_trust"
    assert texts(session, "system")[1] == "Example model error"
    assert by_role(session, "system")[1].native["statusCode"] == 400


def test_small_sample_reasoning_event_joins_the_message_after_it() -> None:
    session, _ = read_file(SMALL)
    last = session.messages[-1]
    assert last.role == "assistant"
    assert [p.kind for p in last.parts] == ["reasoning", "text", "tool_call"]
    assert last.model == "gpt-5-mini"  # the message's own model, not the resumed one
    sub = next(m for m in session.messages if m.native.get("parentToolCallId"))
    assert sub.role == "assistant"
    assert [p.kind for p in sub.parts] == ["reasoning", "text", "tool_call"]


def test_small_sample_attachment() -> None:
    session, _ = read_file(SMALL)
    user = by_role(session, "user")[1]
    attachment = user.parts[1]
    assert isinstance(attachment, Attachment)
    assert attachment.native["type"] == "file"
    assert attachment.name == "[trimmed for fixture]"
    assert attachment.uri == "[trimmed for fixture]"


# ---------------------------------------------------------------- the 1.0.11 subdir sample


def test_subdir_sample_takes_its_id_from_the_directory(tmp_path: Path) -> None:
    events = tmp_path / "session-state" / SUBDIR_ID / "events.jsonl"
    events.parent.mkdir(parents=True)
    shutil.copy(SUBDIR, events)
    (source,) = list(copilot.discover(tmp_path))
    assert source == Source(events, "jsonl", SUBDIR_ID)
    session, feed = read_file(events)
    assert feed.skipped == 0
    assert session.native_id == SUBDIR_ID
    assert texts(session, "user") == ["List the files"]
    assert texts(session, "assistant") == ["The directory contains file1 and file2."]
    (call,) = parts_of(session, ToolCall)
    assert call.input == {"command": "ls", "description": "List files"}
    (result,) = parts_of(session, ToolResult)
    assert result.output == "file1\nfile2\n"
    assert_paired(session)
    assert session.cwd == "/tmp/project"
    assert session.created_at == "2026-03-26T17:50:34.263Z"
    assert session.updated_at == "2026-03-26T17:50:37.100Z"
    assert by_role(session, "user")[0].timestamp == "2026-03-26T17:50:35.000Z"
    assert session.native["copilotVersion"] == "1.0.11"
    assert session.title is None  # no workspace.yaml


# ---------------------------------------------------------------- 0.0.420 drift and large


def test_drift_start_before_request_gives_one_call_and_orphan_result_gets_one() -> None:
    session, feed = read_file(DRIFT)
    assert feed.skipped == 0
    calls = parts_of(session, ToolCall)
    assert [c.id for c in calls] == ["call_1", "call_2"]
    assert calls[0].name == "bash"
    assert calls[0].input == {"command": "echo hi"}
    assert calls[1].native == {"synthesized": True}
    results = parts_of(session, ToolResult)
    assert [(r.call_id, r.is_error) for r in results] == [("call_1", False), ("call_2", True)]
    assert_paired(session)
    assert texts(session, "assistant") == ["Finished."]
    assert session.native["model_usage"] == {
        "gpt-4.1": {
            "input_tokens": 1000,
            "output_tokens": 50,
            "cache_read_tokens": 800,
            "cache_write_tokens": 0,
        }
    }


def test_large_keeps_an_unfinished_call_and_the_changed_model() -> None:
    session, feed = read_file(LARGE)
    assert feed.skipped == 0
    assert texts(session, "user") == ["Step 1", "Step 2", "Step 3"]
    assert texts(session, "assistant") == ["Ok", "Captured multiline output.", "Ok"]
    calls = parts_of(session, ToolCall)
    assert [c.id for c in calls] == ["call_1", "call_2"]
    assert calls[1].input == {"command": "echo hi"}
    assert len(parts_of(session, ToolResult)) == 1
    assert session.models == ["gpt-5"]
    assert texts(session, "system") == [
        "Folder /tmp/large has been added to trusted folders.",
        "System notice",
    ]


# ---------------------------------------------------------------- 1.0.102 (hand-made)


def test_new_session_title_context_and_turns() -> None:
    session, feed = read_file(NEW)
    assert feed.skipped == 0
    assert session.native_id == NEW_ID
    assert session.title == "List and read the project files"  # workspace.yaml summary
    assert session.cwd == "/home/dev/proj/sub"
    assert session.project == "/home/dev/proj"
    assert session.git_branch == "main"
    assert session.git_commit == "4f2a9c1e0b7d3a5c6e8f9012a3b4c5d6e7f80912"
    assert session.models == ["gpt-4.1"]
    assert session.created_at == "2026-10-01T10:00:00.000Z"
    assert session.updated_at == "2026-10-01T11:00:04.000Z"
    assert texts(session, "user") == ["List the files in this folder", "Now show a.txt"]
    assert texts(session, "assistant") == [
        "The folder holds a.txt and notes.md.",
        "Reading it.",
        "I cannot read a.txt: permission denied.",
    ]
    calls = parts_of(session, ToolCall)
    assert [(c.name, c.input) for c in calls] == [
        ("bash", {"command": "ls", "description": "List files"}),
        ("bash", {"command": "cat a.txt", "description": "Show a.txt"}),
    ]
    results = parts_of(session, ToolResult)
    assert [r.is_error for r in results] == [False, True]
    assert results[0].output == "a.txt\nnotes.md\n<exited with exit code 0>"
    assert_paired(session)


def test_new_session_system_prompt_resent_each_turn_is_kept_once() -> None:
    session, _ = read_file(NEW)
    (system,) = by_role(session, "system")
    assert system.native["type"] == "system.message"
    assert system.native["role"] == "system"
    assert texts(session, "system")[0].startswith("You are the GitHub Copilot CLI")


def test_new_session_usage_record_lands_on_its_model_call() -> None:
    session, _ = read_file(NEW)
    second = by_role(session, "assistant")[1]
    assert second.native["apiCallId"] == "chatcmpl-002"
    assert second.usage == {
        "input_tokens": 2400,
        "output_tokens": 11,
        "cache_read_tokens": 1800,
        "cache_write_tokens": 0,
    }
    assert by_role(session, "assistant")[0].usage == {"output_tokens": 18}
    assert session.native["usage"]["input_tokens"] == 9900  # the last shutdown's totals
    assert session.native["shutdown"]["totalPremiumRequests"] == 2


def test_new_session_file_attachment() -> None:
    session, _ = read_file(NEW)
    attachment = by_role(session, "user")[0].parts[1]
    assert isinstance(attachment, Attachment)
    assert attachment.media_type == "text/markdown"
    assert attachment.name == "notes.md"
    assert attachment.uri == "/home/dev/proj/sub/notes.md"
    assert by_role(session, "user")[0].native["source"] == "user"


# ---------------------------------------------------------------- 0.0.342 flat and legacy


def test_flat_session_reasoning_string_arguments_and_diff_output() -> None:
    session, feed = read_file(FLAT)
    assert feed.skipped == 0
    assert session.native_id == FLAT_ID
    assert session.cwd is None
    assert session.models == ["claude-sonnet-4.5"]
    first = by_role(session, "assistant")[0]
    assert isinstance(first.parts[0], Reasoning)
    assert first.parts[0].text.startswith("The user wants a rename")
    (call,) = parts_of(session, ToolCall)
    assert call.input == {
        "command": "str_replace",
        "path": "/home/dev/old/main.py",
        "old_str": "foo",
        "new_str": "bar",
    }
    (result,) = parts_of(session, ToolResult)
    assert result.output.startswith("--- a/main.py")  # detailedContent: the richer one
    assert result.native == {"content": "File /home/dev/old/main.py updated."}
    assert texts(session, "system")[-1] == "Aborted (user_initiated)"
    assert_paired(session)


def test_legacy_history_session_state_document() -> None:
    source = copilot.sniff(LEGACY, LEGACY.read_bytes()[:4096])
    assert source == Source(LEGACY, "document", LEGACY_ID)
    feed = FileFeed(source)
    ops = list(copilot.read(feed, {}))
    assert isinstance(ops[0], Reset)  # the whole document replaces what was read before
    assembly = Assembly("copilot", LEGACY_ID)
    assembly.apply(ops)
    session = assembly.session()
    assert feed.skipped == 0
    assert session.created_at == "2025-09-30T14:00:00.000Z"
    assert session.updated_at == "2025-09-30T14:01:10.000Z"
    assert texts(session, "user") == ["What is in README.md?", "List the files"]
    assert texts(session, "system") == ["You are GitHub Copilot CLI."]
    assert texts(session, "assistant") == [
        "Let me look.",
        "README.md says: a small project.",
        "Two entries: README.md and src.",
    ]
    calls = parts_of(session, ToolCall)
    assert [(c.id, c.name) for c in calls] == [
        ("call_legacy_1", "str_replace_editor"),
        ("call_6_0", "bash"),
    ]
    assert calls[1].input == {"command": "ls", "description": "List files"}
    results = parts_of(session, ToolResult)
    assert [r.call_id for r in results] == ["call_legacy_1", "call_6_0"]  # ids paired in order
    assert results[1].output == "README.md\nsrc\n"


def test_legacy_document_that_is_not_copilot_raises_format_error() -> None:
    for data in (b"[1, 2]", b'{"sessionId": "x"}', b"not json"):
        feed = feed_from_bytes(Source(Path("session_x.json"), "document", None), data)
        with pytest.raises(FormatError):
            list(copilot.read(feed, {}))


# ---------------------------------------------------------------- user message kinds


def test_injected_user_messages_are_system_and_real_prompts_user() -> None:
    session, feed = read_bytes(
        lines(
            ev("user.message", {"content": "real prompt", "source": "user"}, "u1"),
            ev("user.message", {"content": "explore src/", "source": "agent-explore-1"}, "u2"),
            ev(
                "user.message", {"content": "<system_notification>done</system_notification>"}, "u3"
            ),
            ev("user.message", {"content": "keep going", "isAutopilotContinuation": True}, "u4"),
            ev(
                "user.message",
                {
                    "content": "hi from B",
                    "transformedContent": "<cross_session_message>from_session_id: b"
                    "</cross_session_message>\nhi from B",
                },
                "u5",
            ),
            ev("skill.invoked", {"name": "pdf", "content": "# PDF skill"}, "u6"),
        )
    )
    assert feed.skipped == 0
    assert texts(session, "user") == ["real prompt", "hi from B"]
    assert by_role(session, "user")[1].native["cross_session"] is True
    system = by_role(session, "system")
    assert [m.native.get("source") or m.native.get("kind") or m.native["type"] for m in system] == [
        "agent-explore-1",
        "system_notification",
        "autopilot_continuation",
        "skill.invoked",
    ]


def test_compaction_summary_and_context_cleared_are_system_notices() -> None:
    session, _ = read_bytes(
        lines(
            ev("session.compaction_complete", {"success": True, "summaryContent": "We did X."}),
            ev("session.context_cleared", {"messagesCleared": 4}),
            ev("session.compaction_complete", {"success": False, "error": "boom"}, "c2"),
        )
    )
    assert texts(session, "system") == ["We did X.", "Context cleared."]


# ---------------------------------------------------------------- assistant grouping


def test_chunks_of_one_model_call_form_one_message_and_placeholders_vanish() -> None:
    msg = "assistant.message"
    session, _ = read_bytes(
        lines(
            ev(msg, {"messageId": "p", "content": "", "toolRequests": []}, "a0"),
            ev(
                msg,
                {
                    "messageId": "a",
                    "apiCallId": "api-1",
                    "chunkIndex": 0,
                    "chunkCount": 2,
                    "reasoningText": "think 1",
                    "content": "part one",
                },
                "a1",
            ),
            ev(
                msg,
                {
                    "messageId": "b",
                    "apiCallId": "api-1",
                    "chunkIndex": 1,
                    "chunkCount": 2,
                    "reasoningText": "think 2",
                    "content": "part two",
                },
                "a2",
            ),
            ev(msg, {"messageId": "c", "apiCallId": "api-2", "content": "next call"}, "a3"),
            ev("assistant.usage", {"model": "m", "apiCallId": "api-1", "inputTokens": 7}, "u"),
        )
    )
    first, second = session.messages
    assert [(p.kind, getattr(p, "text", None)) for p in first.parts] == [
        ("reasoning", "think 1"),
        ("text", "part one"),
        ("reasoning", "think 2"),
        ("text", "part two"),
    ]
    assert first.usage == {"input_tokens": 7}  # matched by apiCallId, not the last message
    assert texts(session, "assistant")[-1] == "next call"
    assert second.usage is None


def test_reasoning_event_is_not_repeated_by_the_message_reasoning_text() -> None:
    session, _ = read_bytes(
        lines(
            ev("assistant.reasoning", {"reasoningId": "r", "content": "same thought"}, "r1"),
            ev(
                "assistant.message",
                {"messageId": "m", "content": "answer", "reasoningText": "same thought"},
                "m1",
            ),
        )
    )
    (message,) = session.messages
    assert [p.kind for p in message.parts] == ["reasoning", "text"]
    assert message.native["messageId"] == "m"


def test_user_requested_tool_and_error_result() -> None:
    session, _ = read_bytes(
        lines(
            ev(
                "tool.user_requested",
                {"toolCallId": "u1", "toolName": "bash", "arguments": {"command": "ls"}},
                "t1",
            ),
            ev("tool.execution_start", {"toolCallId": "u1", "toolName": "bash"}, "t2"),
            ev(
                "tool.execution_complete",
                {"toolCallId": "u1", "success": False, "error": {"message": "denied"}},
                "t3",
            ),
        )
    )
    (call,) = parts_of(session, ToolCall)
    assert call.input == {"command": "ls"}
    assert session.messages[0].native["origin"] == "user_requested"
    (result,) = parts_of(session, ToolResult)
    assert (result.output, result.is_error) == ("denied", True)


def test_unparseable_string_arguments_are_kept_raw() -> None:
    session, feed = read_bytes(
        lines(
            ev(
                "assistant.message",
                {
                    "messageId": "m",
                    "content": "",
                    "toolRequests": [
                        {"toolCallId": "c", "name": "apply_patch", "arguments": "*** Begin Patch"}
                    ],
                },
            ),
        )
    )
    assert parts_of(session, ToolCall)[0].input == "*** Begin Patch"
    assert feed.skipped == 0


def test_open_calls_in_state_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(copilot, "MAX_OPEN_CALLS", 3)
    requests = [{"toolCallId": f"c{i}", "name": "bash", "arguments": {}} for i in range(10)]
    state: dict[str, Any] = {}
    feed = feed_from_bytes(
        Source(Path("x.jsonl"), "jsonl", "s"),
        lines(ev("assistant.message", {"messageId": "m", "content": "", "toolRequests": requests})),
    )
    list(copilot.read(feed, state))
    assert list(state["calls"]) == ["c7", "c8", "c9"]


# ---------------------------------------------------------------- incremental reading


def read_in_pieces(data: bytes, cut: int, path: Path) -> Session:
    assembly = Assembly("copilot", "sid")
    state: dict[str, Any] = {}
    first = feed_from_bytes(Source(path, "jsonl", "sid"), data[:cut])
    assembly.apply(copilot.read(first, state))
    assert first.end == cut
    state = orjson.loads(orjson.dumps(state))  # what capture stores between reads
    second = feed_from_bytes(Source(path, "jsonl", "sid"), data[cut:], start=cut)
    assembly.apply(copilot.read(second, state))
    return assembly.session()


@pytest.mark.parametrize("path", [SMALL, SUBDIR, DRIFT, LARGE, NEW, FLAT], ids=lambda p: p.name)
def test_reading_in_two_pieces_equals_reading_whole(path: Path) -> None:
    data = path.read_bytes()
    whole, _ = read_bytes(data, path)
    cuts = [i + 1 for i, byte in enumerate(data) if byte == ord("\n")][:-1]
    assert cuts
    for cut in cuts:
        assert read_in_pieces(data, cut, path) == whole, f"cut at byte {cut}"


# ---------------------------------------------------------------- bad input


def test_bad_lines_are_skipped_and_the_rest_kept() -> None:
    good = lines(
        ev("user.message", {"content": "hello"}, "u1"),
        ev("assistant.message", {"messageId": "m", "content": "hi"}, "a1"),
    )
    data = (
        good
        + b"{not json\n"
        + b"[1, 2]\n"
        + lines(ev("future.thing", {"x": 1}, "f"), {"data": {}, "id": "no-type"})
        + lines(ev("hook.start", {"hookType": "x"}), ev("session.usage_checkpoint", {}))
        + lines(ev("user.message", {"content": "caf\xe9 ok"}, "u2")).replace(b"\xc3\xa9", b"\xe9")
        + b'{"type":"user.message","data":{"content":"trunc'
    )
    session, feed = read_bytes(data)
    assert texts(session, "user") == ["hello", "caf\ufffd ok"]
    assert texts(session, "assistant") == ["hi"]
    assert feed.skipped == 4  # invalid JSON, a list, an unknown type, a record without type
    assert "unknown record type future.thing" in feed.reasons
    assert feed.repaired == 1
    assert feed.end == len(data) - len(b'{"type":"user.message","data":{"content":"trunc')


def test_records_with_missing_fields_are_skipped_not_raised() -> None:
    session, feed = read_bytes(
        lines(
            ev("user.message", {}),
            {"type": "assistant.message", "data": "oops", "id": "x"},
            ev("tool.execution_complete", {"success": True}),
            ev("tool.execution_start", {}),
            ev("session.start", {}),
            ev("session.shutdown", {"modelMetrics": "bad", "tokenDetails": [1]}),
        )
    )
    assert session.messages == []
    assert feed.skipped == 3


def test_a_log_without_session_start_is_named_after_its_file() -> None:
    data = lines(ev("user.message", {"content": "hi"}))
    feed = feed_from_bytes(Source(Path("/x/abc.jsonl"), "jsonl", None), data)
    assembly = Assembly("copilot")
    assembly.apply(copilot.read(feed, {}))
    assert assembly.session().native_id == "abc"
    session, _ = read_file(SMALL)
    assert session.native_id == "copilot_stage0_small"


def test_empty_file_gives_an_empty_session() -> None:
    session, feed = read_bytes(b"")
    assert session.messages == []
    assert feed.skipped == 0


# ---------------------------------------------------------------- workspace.yaml


def test_workspace_yaml_scalars(tmp_path: Path) -> None:
    path = tmp_path / "workspace.yaml"
    path.write_text(
        "id: abc\n"
        "# a comment\n"
        'cwd: "/home/dev/with space"\n'
        "summary: |-\n"
        "  Fix the build\n"
        "  and the tests\n"
        "branch: 'it''s' \n"
        "repository: acme/x # trailing comment\n"
        "nested:\n"
        "  key: value\n"
        "list:\n"
        "  - a\n"
        "empty: ~\n"
        "folded: >\n"
        "  one\n"
        "  two\n"
    )
    assert copilot.workspace_fields(path) == {
        "id": "abc",
        "cwd": "/home/dev/with space",
        "summary": "Fix the build\nand the tests",
        "branch": "it's",
        "repository": "acme/x",
        "folded": "one two",
    }
    assert copilot.workspace_fields(tmp_path / "missing.yaml") == {}


def test_workspace_name_wins_and_fills_a_missing_context(tmp_path: Path) -> None:
    events = tmp_path / "s1" / "events.jsonl"
    events.parent.mkdir()
    events.write_bytes(lines(ev("user.message", {"content": "hi"})))
    (events.parent / "workspace.yaml").write_text(
        "cwd: /w\ngit_root: /g\nbranch: dev\nsummary: Summary title\nname: My name\n"
    )
    state: dict[str, Any] = {}
    ops = list(copilot.read(FileFeed(Source(events, "jsonl", "s1")), state))
    meta = ops[0]
    assert isinstance(meta, Meta)
    assert (meta.title, meta.cwd, meta.project, meta.git_branch) == ("My name", "/w", "/g", "dev")
    again = list(
        copilot.read(FileFeed(Source(events, "jsonl", "s1"), start=events.stat().st_size), state)
    )
    assert again == []  # an unchanged title is not sent again


# ---------------------------------------------------------------- finding sessions


def test_store_roots_honour_copilot_home(tmp_path: Path) -> None:
    assert copilot.store_roots({}, tmp_path) == [tmp_path / ".copilot"]
    assert copilot.store_roots({"COPILOT_HOME": str(tmp_path / "c")}, tmp_path) == [tmp_path / "c"]


def test_discover_all_layouts_and_skips_superseded_copies(tmp_path: Path) -> None:
    root = tmp_path / ".copilot"
    shutil.copytree(STORE, root)
    state_dir = root / "session-state"
    # an old flat copy of a session that now has its own directory
    (state_dir / f"{NEW_ID}.jsonl").write_bytes(b"")
    # a migrated legacy session
    legacy_copy = root / "history-session-state" / f"session_{FLAT_ID}_1.json"
    legacy_copy.write_text("{}")
    # scratch files inside a session dir, a dir without events, a stray file, a loop
    (state_dir / NEW_ID / "files").mkdir()
    (state_dir / NEW_ID / "files" / "notes.jsonl").write_bytes(b"")
    (state_dir / "no-events").mkdir()
    (state_dir / "README.txt").write_text("x")
    (state_dir / "loop").symlink_to(state_dir)
    sources = sorted(copilot.discover(root), key=lambda s: str(s.path))
    assert sources == [
        Source(root / LEGACY.relative_to(STORE), "document", LEGACY_ID),
        Source(state_dir / NEW_ID / "events.jsonl", "jsonl", NEW_ID),
        Source(state_dir / f"{FLAT_ID}.jsonl", "jsonl", FLAT_ID),
    ]


def test_discover_tolerates_missing_and_unreadable_roots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert list(copilot.discover(tmp_path / "nothing")) == []
    root = tmp_path / ".copilot"
    shutil.copytree(STORE, root)
    real_scandir = copilot.os.scandir

    def scandir(path: Any) -> Any:
        if Path(path).name == "session-state":
            raise PermissionError(13, "denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(copilot.os, "scandir", scandir)
    assert [s.native_id for s in copilot.discover(root)] == [LEGACY_ID]


def test_legacy_ids_from_file_names() -> None:
    assert copilot.legacy_id(f"session_{LEGACY_ID}_1759240800000.json") == LEGACY_ID
    assert copilot.legacy_id(f"{LEGACY_ID}.json") == LEGACY_ID
    assert copilot.legacy_id("session_hhh_1.json") is None


def test_sniff_claims_copilot_files_only() -> None:
    assert copilot.sniff(SMALL, SMALL.read_bytes()[:4096]) == Source(SMALL, "jsonl", None)
    assert copilot.sniff(NEW, NEW.read_bytes()[:200]) == Source(NEW, "jsonl", NEW_ID)  # cut line
    assert copilot.sniff(FLAT, FLAT.read_bytes()[:4096]) == Source(FLAT, "jsonl", FLAT_ID)
    others = FIXTURES.parent
    for path in (
        sorted(others.glob("claude/*.jsonl"))
        + sorted(others.glob("codex/*.jsonl"))
        + sorted(others.glob("gemini/*.json*"))
    ):
        assert copilot.sniff(path, path.read_bytes()[:4096]) is None, path.name
    assert copilot.sniff(Path("x.jsonl"), b"") is None
    assert copilot.sniff(Path("x.jsonl"), b'{"type":"user.message","data":"x"}\n') is None


def test_registry_and_aliases() -> None:
    for alias in ("copilot", "copilot-cli", "github-copilot", "gh-copilot"):
        assert get_tool(alias) is copilot
    assert copilot.capabilities == frozenset({"read", "write", "resume", "autoresume"})
    assert copilot.display_name == "Copilot CLI"


def test_ops_are_puts_with_unique_keys_for_every_fixture() -> None:
    for path in (SMALL, SUBDIR, DRIFT, LARGE, NEW, FLAT):
        source = copilot.sniff(path, path.read_bytes()[:4096])
        assert source is not None
        ops = list(copilot.read(FileFeed(source), {}))
        fresh = [op.key for op in ops if isinstance(op, Put) and not op.merge]
        assert len(fresh) == len(set(fresh)), path.name
