"""The Codex CLI reader on real and hand-made rollouts (0.58, 0.146 shapes, 0.169, pre-0.32)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard
from tests.privileges import where_modes_stop_root

from tether.archive.assemble import Assembly
from tether.capture.feed import FileFeed, feed_from_bytes
from tether.model import Message, Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools import codex
from tether.tools.base import Meta, Put, Rewind, Source
from tether.tools.registry import get_tool

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "codex"
REAL_ID = "019a93b9-f380-7600-98ff-940e6b99603c"
REAL = FIXTURES / f"real_rollout-2025-11-17T15-30-28-{REAL_ID}.jsonl"
NEW_ID = "019f1111-2222-7333-8444-555566667777"
NEW = FIXTURES / f"rollout-2026-09-01T10-00-00-{NEW_ID}.jsonl"
LEGACY_ID = "5973b6c0-94b8-487b-a530-2aeb6098ae0e"
LEGACY = FIXTURES / f"rollout-2025-07-01T09-00-00-{LEGACY_ID}.jsonl"
SMALL = FIXTURES / "agentsessions_small.jsonl"
LARGE = FIXTURES / "agentsessions_large.jsonl"
DRIFT = FIXTURES / "agentsessions_schema_drift.jsonl"


def read_bytes(data: bytes, native_id: str | None = None) -> tuple[Session, FileFeed]:
    feed = feed_from_bytes(Source(Path("rollout.jsonl"), "jsonl", native_id), data)
    assembly = Assembly("codex", native_id)
    assembly.apply(codex.read(feed, {}))
    return assembly.session(), feed


def read_file(path: Path) -> tuple[Session, FileFeed]:
    source = Source(path, "jsonl", codex.native_id_from_name(path.name))
    feed = FileFeed(source)
    assembly = Assembly("codex", source.native_id)
    assembly.apply(codex.read(feed, {}))
    return assembly.session(), feed


def lines(*records: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def item(payload: dict[str, Any], ts: str = "2026-01-01T00:00:00.000Z") -> dict[str, Any]:
    return {"timestamp": ts, "type": "response_item", "payload": payload}


def event(payload: dict[str, Any]) -> dict[str, Any]:
    return {"timestamp": "2026-01-01T00:00:00.000Z", "type": "event_msg", "payload": payload}


def by_role(session: Session, role: str) -> list[Message]:
    return [m for m in session.messages if m.role == role]


def parts_of(session: Session, kind: type) -> list[Any]:
    return [p for m in session.messages for p in m.parts if isinstance(p, kind)]


def assert_paired(session: Session) -> None:
    calls = {p.id for p in parts_of(session, ToolCall)}
    for result in parts_of(session, ToolResult):
        assert result.call_id in calls


def native_records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


# ---------------------------------------------------------------- the real 0.58 rollout


def test_real_rollout_counts_match_the_file() -> None:
    session, feed = read_file(REAL)
    records = native_records(REAL)
    events = [r["payload"]["type"] for r in records if r["type"] == "event_msg"]
    items = [r["payload"]["type"] for r in records if r["type"] == "response_item"]
    assert feed.skipped == 0
    # one prompt typed; the other user-role item is the injected environment context
    assert events.count("user_message") == 1
    assert len(by_role(session, "user")) == events.count("user_message")
    system = by_role(session, "system")
    assert len(system) == 1
    assert system[0].native["context"] == "environment_context"
    assert system[0].parts[0].text.startswith("<environment_context>")  # type: ignore[union-attr]
    # 39 function calls, each its own model response (reasoning + call): 39 assistant messages
    assert items.count("function_call") == 39
    assert len(parts_of(session, ToolCall)) == 39
    assert len(by_role(session, "assistant")) == 39
    assert len(by_role(session, "tool")) == items.count("function_call_output") == 39
    assert_paired(session)
    # 38 reasoning items, one with an empty summary (only encrypted content)
    assert items.count("reasoning") == 38
    assert len(parts_of(session, Reasoning)) == 37
    # the agent_reasoning events are copies, not extra parts
    assert events.count("agent_reasoning") == 39
    assert not parts_of(session, Text)[2:]  # only the env context and the prompt have text


def test_real_rollout_fields() -> None:
    session, _ = read_file(REAL)
    assert session.native_id == REAL_ID
    assert session.cwd == session.project == "/home/user/projects/temp/chatbot-ui"
    assert session.git_branch == "main"
    assert session.git_commit == "0f022a043b3f8ca67224e1c56d5b85e28a81b910"
    assert session.models == ["gpt-5.1-codex"]
    assert session.title is None  # capture falls back to the first prompt
    assert session.created_at == "2025-11-17T21:30:28.608Z"
    assert session.updated_at == "2025-11-17T21:38:45.618Z"
    assert session.native["cli_version"] == "0.58.0"
    assert session.native["originator"] == "codex_cli_rs"
    assert session.native["model_provider"] == "openai"
    prompt = by_role(session, "user")[0]
    assert prompt.parts[0].text.startswith("finish up the users work")  # type: ignore[union-attr]
    assert prompt.timestamp == "2025-11-17T21:32:46.911Z"
    first = by_role(session, "assistant")[0]
    assert first.model == "gpt-5.1-codex"
    assert [p.kind for p in first.parts] == ["reasoning", "tool_call"]
    assert first.parts[0].text == "**Planning repository inspection**"  # type: ignore[union-attr]
    assert first.parts[0].native == {"encrypted": True}  # a large opaque blob is only flagged
    call = first.parts[1]
    assert isinstance(call, ToolCall)
    assert call.name == "shell"
    assert call.id == "call_GfHib9GW3d5m9EB1wMTper0j"
    assert call.input == {
        "command": ["bash", "-lc", "ls"],
        "workdir": "/home/user/projects/temp/chatbot-ui",
    }


def test_real_rollout_tool_outputs_unwrap_the_json_envelope() -> None:
    session, _ = read_file(REAL)
    results = parts_of(session, ToolResult)
    first = results[0]
    assert first.output.startswith("LM Studio configuration.md\nREADME.md\n")
    assert first.native["exit_code"] == 0
    assert not first.is_error
    # 2 commands exit 2, 1 exits 1; update_plan answers "Plan updated" with no envelope
    assert sorted(r.native.get("exit_code", -1) for r in results if r.is_error) == [1, 2, 2]
    assert [r.output for r in results if "exit_code" not in r.native] == ["Plan updated"] * 2


def test_real_rollout_usage_is_counted_once() -> None:
    session, _ = read_file(REAL)
    final = session.native["total_token_usage"]
    assert final["total_tokens"] == 1121566
    usages = [m.usage for m in session.messages if m.usage]
    # 79 token_count events carry 39 distinct snapshots: one per model call
    assert len(usages) == 39
    assert all(m.role == "assistant" for m in session.messages if m.usage)
    assert sum(u["total_tokens"] for u in usages) == final["total_tokens"]
    assert sum(u["output_tokens"] for u in usages) == final["output_tokens"]
    assert by_role(session, "assistant")[0].usage == {
        "input_tokens": 10128,
        "cached_input_tokens": 0,
        "output_tokens": 37,
        "reasoning_output_tokens": 0,
        "total_tokens": 10165,
    }


# ---------------------------------------------------------------- 0.169 (ordinal) and pre-0.32


def test_v0169_rollout_with_ordinals() -> None:
    session, feed = read_file(NEW)
    assert feed.skipped == 0
    assert session.native_id == NEW_ID
    assert session.title == "List the project files"
    assert session.cwd == "/home/dev/proj"
    assert session.git_branch == "feature/x"
    assert session.git_commit == "abc123"
    assert session.native["originator"] == "codex_exec"
    assert session.native["source"] == "exec"
    assert session.models == ["test-model"]
    users = by_role(session, "user")
    assert [m.parts[0].text for m in users] == ["hello", "run ls"]  # type: ignore[union-attr]
    system = by_role(session, "system")
    assert [m.native.get("context") or m.native["role"] for m in system] == [
        "developer",
        "agents_md",
        "environment_context",
    ]
    texts = [p.text for m in by_role(session, "assistant") for p in m.parts if isinstance(p, Text)]
    assert texts == ["Hi! How can I help?", "There are two files: a.txt and b.txt."]
    final = by_role(session, "assistant")[-1].parts[0]
    assert final.native == {"id": "msg_a2", "phase": "final_answer"}
    calls = parts_of(session, ToolCall)
    assert [(c.name, c.input) for c in calls] == [
        ("exec_command", {"cmd": "ls"}),
        ("exec_command", {"cmd": "cat missing.txt"}),
    ]
    assert_paired(session)
    ok, failed = parts_of(session, ToolResult)
    assert ok.output.startswith("Chunk ID: 4f2a") and not ok.is_error
    assert failed.is_error and failed.native["exit_code"] == 1
    reasoning = parts_of(session, Reasoning)
    assert [r.text for r in reasoning] == ["**Listing files**"]
    assert reasoning[0].native["encrypted_content"] == "gAAAA-small-secret"
    # token_usage_record lines count usage; token_count lines only repeat them
    usages = [m.usage["total_tokens"] for m in session.messages if m.usage]
    assert usages == [110, 220, 265, 312]
    assert session.native["total_token_usage"]["total_tokens"] == 907
    roles = [m.role for m in session.messages]
    assert roles == [
        "system",
        "system",
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]


def test_zst_rollout_reads_like_the_plain_one(tmp_path: Path) -> None:
    packed = tmp_path / (NEW.name + ".zst")
    packed.write_bytes(zstandard.ZstdCompressor().compress(NEW.read_bytes()))
    assert codex.native_id_from_name(packed.name) == NEW_ID
    plain, _ = read_file(NEW)
    compressed, feed = read_file(packed)
    assert feed.skipped == 0
    assert compressed == plain
    assert len(compressed.messages) == 11


def test_pre_032_rollout_without_envelope() -> None:
    session, feed = read_file(LEGACY)
    assert feed.skipped == 0  # record_type:state lines are skipped quietly
    assert session.native_id == LEGACY_ID
    assert session.git_branch == "main"
    assert session.git_commit == "deadbeef"
    assert session.native["repository_url"] == "https://example.invalid/r.git"
    roles = [m.role for m in session.messages]
    assert roles == ["system", "system", "user", "assistant", "tool", "assistant"]
    assert [m.native["context"] for m in by_role(session, "system")] == [
        "user_instructions",
        "environment_context",
    ]
    first, last = by_role(session, "assistant")
    assert [p.kind for p in first.parts] == ["reasoning", "tool_call"]
    assert [p.text for p in last.parts] == ["Just main.py."]  # type: ignore[union-attr]
    assert session.messages[2].parts[0].text == "what is in here?"  # type: ignore[union-attr]
    result = parts_of(session, ToolResult)[0]
    assert result.output == "main.py\n"
    assert result.native["exit_code"] == 0
    assert result.native["duration_seconds"] == 0.1
    assert parts_of(session, Reasoning)[0].native == {"id": "rs_old", "encrypted": True}


# ---------------------------------------------------------------- synthesized fixtures


def test_agentsessions_small_146_shapes() -> None:
    session, feed = read_file(SMALL)
    assert feed.skipped == 0
    assert session.native_id == "019fc8be-3658-7ca3-9e29-000000000000"
    assert session.cwd == "/tmp/repo"
    assert session.native["cli_version"] == "0.146.0"
    # later session_meta lines name other threads (copied in): they do not override
    assert session.parent_id is None
    # the thread_name_updated event names another thread ("[trimmed…]"): no title
    assert session.title is None
    assert session.models[0] == "gpt-5.6-luna"
    users = by_role(session, "user")
    assert [m.parts[0].text for m in users] == ["List the files"]  # type: ignore[union-attr]
    first = by_role(session, "assistant")[0]
    assert [p.kind for p in first.parts] == ["reasoning", "tool_call", "tool_call"]
    custom = first.parts[1]
    assert isinstance(custom, ToolCall)
    assert custom.native["type"] == "custom_tool_call"
    assert custom.input == '{"command":["ls"]}'  # freeform input stays text
    names = [c.name for c in parts_of(session, ToolCall)]
    assert {"shell", "tool_search", "web_search", "image_generation"} <= set(names)
    outputs = {r.call_id: r.output for r in parts_of(session, ToolResult)}
    assert outputs["call-2"] == "a.txt\n"  # output as one content item object
    assert outputs["call-1"] == "a.txt\nb.txt\n"  # output as a list of content items
    compacted = [m for m in session.messages if m.native.get("type") == "compacted"]
    assert compacted and all(m.role == "system" for m in compacted)
    assert any(m.native.get("type") == "agent_message" for m in by_role(session, "system"))
    assert any(m.native.get("event") == "error" for m in by_role(session, "system"))
    # timestamps the fixture trimmed to text are dropped, not kept as dates
    assert session.updated_at == "2026-08-03T10:48:56.000Z"


def test_agentsessions_large_and_schema_drift() -> None:
    session, feed = read_file(LARGE)
    assert [m.parts[0].text for m in by_role(session, "user")] == [  # type: ignore[union-attr]
        "Start",
        "Step 1",
        "Step 2",
        "Step 3",
        "Step 4",
        "Step 5",
    ]
    assert by_role(session, "system")[0].native["context"] == "environment_context"
    assert feed.skipped == 2  # the invented tool_call / tool_result item types
    drift, feed = read_file(DRIFT)
    assert drift.messages == []
    assert feed.skipped == 4


# ---------------------------------------------------------------- incremental reading


@pytest.mark.parametrize("path", [REAL, NEW, SMALL, LEGACY], ids=lambda p: p.name[:20])
def test_reading_in_two_pieces_equals_reading_whole(path: Path) -> None:
    data = path.read_bytes()
    native_id = codex.native_id_from_name(path.name)
    whole, _ = read_bytes(data, native_id)
    ends = [i + 1 for i, byte in enumerate(data) if byte == 0x0A]
    for cut in ends[:: max(1, len(ends) // 15)]:
        source = Source(Path("rollout.jsonl"), "jsonl", native_id)
        state: dict[str, Any] = {}
        assembly = Assembly("codex", native_id)
        assembly.apply(codex.read(feed_from_bytes(source, data[:cut]), state))
        state = orjson.loads(orjson.dumps(state))  # it must survive the database
        second = feed_from_bytes(source, data[cut:], start=cut)
        assembly.apply(codex.read(second, state))
        assert assembly.session() == whole, f"cut at byte {cut}"


# ---------------------------------------------------------------- bad input


def test_bad_lines_are_skipped_and_the_rest_kept() -> None:
    good = NEW.read_bytes().splitlines(keepends=True)
    data = b"".join(
        [
            good[0],
            b"{not json\n",
            b"[1, 2, 3]\n",
            b'{"timestamp":"2026-09-01T10:00:01.000Z","type":"mystery","payload":{}}\n',
            *good[1:7],
            b'{"timestamp":"2026-09-01T10:00:02.000Z","type":"response_item","payload":{"type":'
            b'"message","role":"user","content":[{"type":"input_text","text":"caf\xe9 \xff"}]}}\n',
            *good[7:],
            b'{"timestamp":"2026-09-01T10:00:09.000Z","type":"response_item","payl',
        ]
    )
    session, feed = read_bytes(data, NEW_ID)
    assert feed.skipped == 3
    assert any("mystery" in reason for reason in feed.reasons)
    users = [m.parts[0].text for m in by_role(session, "user")]  # type: ignore[union-attr]
    assert users == ["hello", "caf\ufffd \ufffd", "run ls"]
    assert session.title == "List the project files"
    # the truncated last line is left for the next read
    assert feed.end == len(data) - len(data.rsplit(b"\n", 1)[1])


def test_empty_file_and_unknown_items() -> None:
    session, feed = read_bytes(b"", NEW_ID)
    assert session.messages == [] and feed.skipped == 0
    data = lines(
        item({"type": "hologram", "id": "h1"}),
        item({"type": "ghost_snapshot", "ghost_commit": {"id": "x"}}),
        {"timestamp": "2026-01-01T00:00:00Z", "type": "world_state", "payload": {"full": True}},
    )
    session, feed = read_bytes(data)
    assert session.messages == []
    assert feed.reasons == ["unknown response item 'hologram'"]


# ---------------------------------------------------------------- edge cases


def test_unparseable_arguments_and_odd_outputs() -> None:
    data = lines(
        item({"type": "function_call", "name": "shell", "arguments": "{oops", "call_id": "c1"}),
        item(
            {"type": "function_call_output", "call_id": "c1", "output": "Exit code: 2\nOutput:\n"}
        ),
        item({"type": "local_shell_call", "call_id": "c2", "action": {"command": ["ls"]}}),
        item(
            {
                "type": "function_call_output",
                "call_id": "c2",
                "output": [{"type": "input_text", "text": "x"}, {"type": "input_image"}],
            }
        ),
        item({"type": "function_call_output", "call_id": "c3", "output": '{"output": 1}'}),
    )
    session, feed = read_bytes(data)
    assert feed.skipped == 0
    calls = parts_of(session, ToolCall)
    assert calls[0].input == "{oops"
    assert calls[1].name == "local_shell" and calls[1].input == {"command": ["ls"]}
    results = parts_of(session, ToolResult)
    assert results[0].is_error and results[0].native["exit_code"] == 2
    assert results[1].output == "x\n[image]" and not results[1].is_error
    assert results[2].output == '{"output": 1}'  # not the envelope: kept as written


def test_event_copies_are_not_duplicated() -> None:
    data = lines(
        item({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "q"}]}),
        event({"type": "user_message", "message": "q"}),
        item({"type": "reasoning", "summary": [{"type": "summary_text", "text": "think"}]}),
        event({"type": "agent_reasoning", "text": "think"}),
        item(
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "a"}],
            }
        ),
        event({"type": "agent_message", "message": "a"}),
    )
    session, _ = read_bytes(data)
    assert [m.role for m in session.messages] == ["user", "assistant"]
    assert [p.kind for p in session.messages[1].parts] == ["reasoning", "text"]


def test_compaction_rollback_and_compaction_output() -> None:
    prefix = (
        "Another language model started to solve this problem and produced a summary of its "
        "thinking process. You also have access to the state of the tools that were used by "
        "that language model. Use this to build on the work that has already been done and "
        "avoid duplicating work. Here is the summary produced by the other language model, "
        "use the information in this summary to assist with your own analysis:"
    )

    def user(text: str) -> dict[str, Any]:
        return item(
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        )

    def reply(text: str) -> dict[str, Any]:
        return item(
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text}],
            }
        )

    data = lines(
        user("one"),
        reply("1"),
        {
            "timestamp": "2026-01-01T00:00:01Z",
            "type": "response_item",
            "payload": {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "SUMMARY DRAFT"}],
            },
            "metadata": {"compaction_output": True},
        },
        {
            "timestamp": "2026-01-01T00:00:02Z",
            "type": "compacted",
            "payload": {"message": prefix + "\nWe did one.", "replacement_history": []},
        },
        user("two"),
        reply("2"),
        user("three"),
        reply("3"),
        event({"type": "thread_rolled_back", "num_turns": 2}),
        user("two again"),
        reply("2b"),
    )
    session, _ = read_bytes(data)
    texts = [(m.role, m.parts[0].text) for m in session.messages]  # type: ignore[union-attr]
    assert texts == [
        ("user", "one"),
        ("assistant", "1"),
        ("system", "We did one."),
        ("user", "two again"),
        ("assistant", "2b"),
    ]
    assert session.messages[2].native == {"type": "compacted"}


def test_forks_and_subagents() -> None:
    parent = "019f0000-0000-7000-8000-00000000000a"
    child = "019f0000-0000-7000-8000-00000000000b"

    def meta(own: str, **extra: Any) -> dict[str, Any]:
        payload = {"id": own, "timestamp": "2026-01-01T00:00:00Z", "cwd": "/p", **extra}
        return {
            "timestamp": "2026-01-01T00:00:00Z",
            "ordinal": 0,
            "type": "session_meta",
            "payload": payload,
        }

    def numbered(record: dict[str, Any], ordinal: int) -> dict[str, Any]:
        return {**record, "ordinal": ordinal}

    user = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "inherited"}],
    }
    mine = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "mine"}]}
    fork = lines(meta(child, forked_from_id=parent), meta(parent), item(user), item(mine))
    session, _ = read_bytes(fork, child)
    assert session.native_id == child
    assert session.native["parent_native_id"] == parent
    assert session.native["forked_from_id"] == parent
    assert len(by_role(session, "user")) == 2  # a fork keeps the history it copied
    spawn = {"subagent": {"thread_spawn": {"parent_thread_id": parent, "depth": 1}}}
    sub = lines(
        meta(child, source=spawn, agent_nickname="scout", subagent_history_start_ordinal=3),
        numbered(meta(parent), 1),
        numbered(item(user), 2),
        numbered(item(mine), 3),
    )
    session, _ = read_bytes(sub, child)
    assert session.native["parent_native_id"] == parent
    assert session.native["agent_nickname"] == "scout"
    assert [m.parts[0].text for m in session.messages] == ["mine"]  # type: ignore[union-attr]


def test_meta_ops_come_first_and_name_the_session() -> None:
    feed = FileFeed(Source(NEW, "jsonl", None))
    ops = list(codex.read(feed, {}))
    assert isinstance(ops[0], Meta) and ops[0].native_id == NEW_ID
    assert any(isinstance(op, Put) and op.merge for op in ops)
    assert not any(isinstance(op, Rewind) for op in ops)


# ---------------------------------------------------------------- locating rollouts


def test_store_roots(tmp_path: Path) -> None:
    assert codex.store_roots({}, tmp_path) == [tmp_path / ".codex"]
    assert codex.store_roots({"CODEX_HOME": str(tmp_path / "c")}, tmp_path) == [tmp_path / "c"]
    assert get_tool("openai-codex") is get_tool("codex-cli") is get_tool("codex")


def test_discover(tmp_path: Path) -> None:
    root = tmp_path / ".codex"
    day = root / "sessions" / "2026" / "09" / "01"
    day.mkdir(parents=True)
    (day / NEW.name).write_bytes(NEW.read_bytes())
    (day / (NEW.name + ".zst")).write_bytes(b"stale")  # plain wins
    other = "rollout-2026-09-01T11-00-00-019f1111-2222-7333-8444-000000000001.jsonl.zst"
    (day / other).write_bytes(b"")
    (day / "notes.txt").write_text("x")
    (day / "rollout-broken.jsonl").write_text("")
    archived = root / "archived_sessions"
    archived.mkdir()
    (archived / LEGACY.name).write_bytes(LEGACY.read_bytes())
    (root / "sessions" / "2026" / "loop").symlink_to(root / "sessions")
    (root / "state_5.sqlite").write_bytes(b"")
    found = {s.path.name: s for s in codex.discover(root)}
    assert set(found) == {NEW.name, other, LEGACY.name, "rollout-broken.jsonl"}
    assert found[NEW.name].native_id == NEW_ID
    assert found[other].native_id == "019f1111-2222-7333-8444-000000000001"
    assert found["rollout-broken.jsonl"].native_id is None
    assert all(s.mode == "jsonl" for s in found.values())
    assert list(codex.discover(tmp_path / "missing")) == []


def test_discover_survives_unreadable_dirs(tmp_path: Path) -> None:
    locked = tmp_path / "sessions" / "2026"
    locked.mkdir(parents=True)
    locked.chmod(0)
    try:
        assert where_modes_stop_root(lambda: list(codex.discover(tmp_path))) == []
    finally:
        locked.chmod(0o755)


def test_native_id_from_name() -> None:
    assert codex.native_id_from_name(REAL.name[len("real_") :]) == REAL_ID
    assert codex.native_id_from_name(f"rollout-2025-05-07-{REAL_ID}.jsonl") == REAL_ID
    reverted = f"rollout-2026-01-01T00-00-00-{REAL_ID}_{NEW_ID}.jsonl"
    assert codex.native_id_from_name(reverted) == f"{REAL_ID}_{NEW_ID}"
    assert codex.native_id_from_name("rollout-2026-01-01T00-00-00-nope.jsonl") is None
    assert codex.native_id_from_name(f"{REAL_ID}.jsonl") is None


def test_sniff() -> None:
    head = NEW.read_bytes()[:2048]
    assert codex.sniff(NEW, head) == Source(NEW, "jsonl", NEW_ID)
    assert codex.sniff(Path("/tmp/export.jsonl"), head) == Source(
        Path("/tmp/export.jsonl"), "jsonl", None
    )
    claude = b'{"type":"user","sessionId":"x","message":{"role":"user","content":"hi"}}\n'
    assert codex.sniff(Path("/tmp/a.jsonl"), claude) is None
    copilot = b'{"type":"session.start","data":{"sessionId":"x"},"id":"1"}\n'
    assert codex.sniff(Path("/tmp/events.jsonl"), copilot) is None
