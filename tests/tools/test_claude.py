"""The Claude Code reader, on real transcripts and on hand-made edge cases."""

from __future__ import annotations

import ctypes
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tether.archive.assemble import Assembly
from tether.capture.feed import FileFeed, feed_from_bytes
from tether.model import Attachment, Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools import claude
from tether.tools.base import Meta, Put, Source
from tether.tools.facts import claude as claude_facts

FIXTURES = Path(__file__).parent.parent / "fixtures" / "claude"
COMPACTED = FIXTURES / "real_entire_a6_e4c2a0fbd1_0.jsonl"
PARALLEL = FIXTURES / "real_entire_dc_49cb8a2a42_0.jsonl"
FOREIGN_SUMMARY = FIXTURES / "real_entire_ee_e770a56988_0.jsonl"
SMALL = FIXTURES / "agentsessions_small.jsonl"
PARENT_ID = "0a1b2c3d-4e5f-4061-8071-2a3b4c5d6e7f"
SUBAGENT_DIR = FIXTURES / "agentsessions_subagent"
SUBAGENT = SUBAGENT_DIR / PARENT_ID / "subagents" / "agent-a0ad4f44468bdf20d.jsonl"
REAL = [COMPACTED, PARALLEL, FOREIGN_SUMMARY]
ALL = [*REAL, SMALL, SUBAGENT_DIR / f"{PARENT_ID}.jsonl", SUBAGENT]


# -- helpers ---------------------------------------------------------------------------


def read_file(path: Path, native_id: str | None = None) -> tuple[Session, FileFeed]:
    source = Source(path, "jsonl", native_id)
    feed = FileFeed(source)
    assembly = Assembly("claude", native_id)
    assembly.apply(claude.read(feed, {}))
    return assembly.session(), feed


def read_bytes(
    data: bytes, path: Path = Path("/nowhere/s.jsonl"), native_id: str | None = "s"
) -> tuple[Assembly, FileFeed]:
    feed = feed_from_bytes(Source(path, "jsonl", native_id), data)
    assembly = Assembly("claude", native_id)
    assembly.apply(claude.read(feed, {}))
    return assembly, feed


def lines(*records: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def user(uuid: str, content: Any, **extra: Any) -> dict[str, Any]:
    record = {
        "type": "user",
        "uuid": uuid,
        "parentUuid": None,
        "isSidechain": False,
        "sessionId": "s",
        "cwd": "/work/p",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "message": {"role": "user", "content": content},
    }
    record.update(extra)
    return record


def assistant(
    uuid: str, blocks: list[dict[str, Any]], mid: str = "msg_1", **extra: Any
) -> dict[str, Any]:
    record = {
        "type": "assistant",
        "uuid": uuid,
        "parentUuid": None,
        "isSidechain": False,
        "sessionId": "s",
        "timestamp": "2026-01-01T00:00:01.000Z",
        "requestId": "req_1",
        "message": {
            "id": mid,
            "role": "assistant",
            "model": "claude-test",
            "content": blocks,
            "usage": {"input_tokens": 3, "output_tokens": 5},
        },
    }
    record.update(extra)
    return record


def parts_of(session: Session, kind: type) -> list[Any]:
    return [p for m in session.messages for p in m.parts if isinstance(p, kind)]


def by_role(session: Session, role: str) -> list[Any]:
    return [m for m in session.messages if m.role == role]


def assert_paired(session: Session) -> None:
    calls = {c.id for c in parts_of(session, ToolCall)}
    results = [r.call_id for r in parts_of(session, ToolResult)]
    assert results
    assert all(r in calls for r in results)
    assert len(set(results)) == len(results)


def raw_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# -- real transcripts ------------------------------------------------------------------


def test_compacted_real_session() -> None:
    session, feed = read_file(COMPACTED)
    assert feed.skipped == 0
    assert session.native_id == "198393f2-22db-477b-ac77-1825bea883ae"
    assert session.cwd == session.project == "/Users/soph/Work/entire/devenv/cli"
    assert session.git_branch == "soph/bugfix-for-inconsistent-session-state"
    assert session.native["version"] == "2.0.76"
    assert session.models == ["claude-opus-4-5-20251101"]
    assert session.title is None
    assert session.created_at == "2026-01-07T11:47:50.057Z"
    assert session.updated_at == "2026-01-07T12:38:36.026Z"

    users = by_role(session, "user")
    prompts = [m for m in users if "kind" not in m.native]
    assert len(users) == 3
    assert users[0].native["kind"] == "command"
    assert [m.parts[0].text[:30] for m in prompts] == [
        "for the change in cmd/entire/c",
        "the issue is still that this w",
    ]
    # 31 real assistant lines fold into 12 API responses, plus one synthetic notice.
    assistants = by_role(session, "assistant")
    assert len(assistants) == 13
    assert assistants[0].model is None
    assert assistants[0].native["model"] == "<synthetic>"
    assert [type(p) for p in assistants[1].parts] == [Reasoning, Text, ToolCall]
    assert len(parts_of(session, ToolCall)) == 10
    assert len(parts_of(session, ToolResult)) == 10
    assert len(parts_of(session, Reasoning)) == 12
    assert all(r.signature for r in parts_of(session, Reasoning))
    assert len([p for m in assistants for p in m.parts if isinstance(p, Text)]) == 10
    assert_paired(session)
    assert [p.name for p in parts_of(session, ToolCall)] == [
        "Read", "Edit", "Edit", "Bash", "Read", "Read", "Edit", "Bash", "Bash", "Bash"
    ]  # fmt: skip

    systems = by_role(session, "system")
    assert [m.native["kind"] for m in systems] == [
        "meta",
        "command_output",
        "compact_boundary",
        "compact_summary",
    ]
    boundary, summary = systems[2], systems[3]
    assert boundary.parts[0].text == "Conversation compacted"
    assert boundary.native["parentUuid"] is None
    assert boundary.native["logicalParentUuid"] == "026bffd4-bab4-47e0-8da4-7d5152f764ae"
    assert boundary.native["compactMetadata"] == {"trigger": "auto", "preTokens": 155250}
    assert summary.parts[0].text.startswith("This session is being continued")
    assert summary.native["parentUuid"] == boundary.native["uuid"]


def test_usage_is_the_last_line_of_a_response_not_a_sum() -> None:
    last_usage: dict[str, dict[str, Any]] = {}
    for record in raw_records(COMPACTED):
        msg = record.get("message", {})
        if record.get("type") == "assistant" and msg.get("model") != "<synthetic>":
            last_usage[msg["id"]] = msg["usage"]
    session, _ = read_file(COMPACTED)
    seen = 0
    for message in by_role(session, "assistant"):
        expected = last_usage.get(message.native.get("message_id", ""))
        if expected is None:
            continue
        seen += 1
        assert message.usage == {k: expected[k] for k in claude.USAGE_KEYS}
    assert seen == 12


def test_chain_ids_are_kept_for_a_writer() -> None:
    records = [r for r in raw_records(COMPACTED) if r.get("type") == "assistant"]
    group = [r for r in records if r["message"]["id"] == "msg_01FjVa31TuVkfCerTreJkPdx"]
    session, _ = read_file(COMPACTED)
    message = next(
        m for m in session.messages if m.native.get("message_id") == "msg_01FjVa31TuVkfCerTreJkPdx"
    )
    assert message.native["uuid"] == message.native_id == group[0]["uuid"]
    assert message.native["parentUuid"] == group[0]["parentUuid"]
    assert message.native["requestId"] == group[0]["requestId"]
    assert [p.native.get("uuid") for p in message.parts] == [None] + [r["uuid"] for r in group[1:]]
    assert [p.native.get("parentUuid") for p in message.parts[1:]] == [
        r["parentUuid"] for r in group[1:]
    ]
    tool = session.messages[session.messages.index(message) + 1]
    assert tool.role == "tool"
    assert tool.native["parentUuid"] == group[-1]["uuid"]


def test_parallel_tool_calls_and_task_results() -> None:
    session, feed = read_file(PARALLEL)
    assert feed.skipped == 0
    assert session.native_id == "70fc6d83-147d-4fdf-b015-bd67eeb11883"
    assert session.git_branch == "soph/chunking"
    assert session.native["version"] == "2.1.7"
    assert [m.role for m in session.messages] == [
        "user", "assistant", "tool", "tool", "assistant", "tool", "tool", "assistant"
    ]  # fmt: skip
    assert session.messages[0].parts[0].text == (
        "can you review the changes in this branch by two competing agents?"
    )
    calls = parts_of(session, ToolCall)
    assert [c.name for c in calls] == ["Bash", "Bash", "Task", "Task"]
    assert calls[2].input["subagent_type"]
    assert_paired(session)
    task_results = [
        r for r in parts_of(session, ToolResult) if r.call_id in {calls[2].id, calls[3].id}
    ]
    assert all("code review" in r.output for r in task_results)
    assert any("agentId: a983775" in r.output for r in task_results)
    assert not any(r.is_error for r in parts_of(session, ToolResult))
    assert len(parts_of(session, Reasoning)) == 3


def test_summary_of_another_conversation_is_not_the_title() -> None:
    # The file starts with a summary whose leafUuid is in no record of this file.
    session, feed = read_file(FOREIGN_SUMMARY)
    assert feed.skipped == 0
    assert session.title is None
    assert session.native_id == "c93f3533-0f6b-4a61-99bd-7b788208ad61"
    assert len([m for m in by_role(session, "user") if "kind" not in m.native]) == 2
    assert len(by_role(session, "assistant")) == 10
    assert len(parts_of(session, ToolCall)) == 9
    assert len(parts_of(session, ToolResult)) == 9
    assert_paired(session)
    assert "WebSearch" in [c.name for c in parts_of(session, ToolCall)]
    assert by_role(session, "user")[0].parts[0].text.startswith("  • by using this software")


def test_summary_title_when_its_leaf_is_in_the_file() -> None:
    data = lines(
        {"type": "summary", "summary": "Fix the build", "leafUuid": "u2"},
        user("u1", "hello"),
        user("u2", "again"),
    )
    assembly, _ = read_bytes(data)
    assert assembly.session().title == "Fix the build"
    after = lines(user("u1", "hello"), {"type": "summary", "summary": "Later", "leafUuid": "u1"})
    assert read_bytes(after)[0].session().title == "Later"


def test_small_fixture_with_many_record_types() -> None:
    session, feed = read_file(SMALL)
    assert feed.skipped == 0  # every record type in it is known
    assert session.native_id == "ses_stage0_small"
    assert session.title == "Stage0 small fixture"  # custom-title beats ai-title and summary
    assert session.native["agent_name"] == "Claude Code"
    first = session.messages[0]
    assert (first.role, first.parts[0].text) == ("user", "Hello")
    kinds = [m.native.get("kind") for m in by_role(session, "system")]
    assert "api_refusal" in kinds
    assert "compact_boundary" in kinds
    assert "compact_summary" in kinds
    assert "api_error" in kinds
    assert "turn_duration" not in kinds
    assert "session_start" not in kinds
    refusal = next(m for m in session.messages if m.native.get("kind") == "api_refusal")
    assert refusal.parts[0].text == "Refused for policy reasons."
    denied = [r for r in parts_of(session, ToolResult) if r.is_error]
    assert [r.output for r in denied] == ["The user doesn't want to proceed with this tool use."]
    queued = [m for m in session.messages if m.native.get("kind") == "queued_command"]
    assert queued[0].role == "user"
    assert any(isinstance(p, Attachment) for m in session.messages for p in m.parts)
    assert "claude-opus-5" in session.models
    assert "<synthetic>" not in session.models


# -- sub-agents ------------------------------------------------------------------------


def test_subagent_is_its_own_session_linked_to_the_parent() -> None:
    native_id = f"{PARENT_ID}/agent-a0ad4f44468bdf20d"
    session, feed = read_file(SUBAGENT, native_id)
    assert feed.skipped == 0
    assert session.native_id == native_id
    assert session.native["parent_native_id"] == PARENT_ID
    assert session.parent_id is not None
    assert session.native["agent_type"] == "general-purpose"
    assert session.native["agent_id"] == "a0ad4f44468bdf20d"
    assert [m.role for m in session.messages] == ["user", "assistant", "tool"]
    assert session.messages[0].parts[0].text == "Search the repo for TODO comments"
    assert session.messages[2].parts[0].output == "a.txt:1: TODO fix"
    assert not any("isSidechain" in m.native for m in session.messages)

    parent, _ = read_file(SUBAGENT_DIR / f"{PARENT_ID}.jsonl", PARENT_ID)
    assert parent.native_id == PARENT_ID
    assert [m.role for m in parent.messages] == ["user", "assistant"]
    assert parent.parent_id is None


def test_old_layout_sidechain_takes_the_parent_from_its_records(tmp_path: Path) -> None:
    parent = "11111111-2222-4333-8444-555555555555"
    path = tmp_path / "agent-abc123.jsonl"
    data = lines(
        user("c1", "look around", sessionId=parent, isSidechain=True, agentId="abc123"),
        assistant("c2", [{"type": "text", "text": "done"}], sessionId=parent, isSidechain=True),
    )
    path.write_bytes(data)
    source = claude.sniff(path, data)
    assert source is not None
    assert source.native_id is None
    feed = FileFeed(source)
    ops = list(claude.read(feed, {}))
    metas = [op for op in ops if isinstance(op, Meta) and op.native_id]
    assert metas[0].native_id == f"{parent}/agent-abc123"
    assert metas[0].parent_native_id == parent
    assert all(op.native_id != parent for op in metas)
    assembly = Assembly("claude")
    assembly.apply(ops)
    assert [m.role for m in assembly.session().messages] == ["user", "assistant"]


def test_subagent_meta_sidecar_fields(tmp_path: Path) -> None:
    folder = tmp_path / "s1" / "subagents" / "workflows" / "run7"
    folder.mkdir(parents=True)
    path = folder / "agent-x9.jsonl"
    path.write_bytes(lines(user("c1", "go", sessionId="s1")))
    (folder / "agent-x9.meta.json").write_text(
        json.dumps({"agentType": "Explore", "toolUseId": "toolu_9", "parentAgentId": "a0"})
    )
    session, _ = read_file(path, "s1/agent-x9")
    assert session.native["agent_type"] == "Explore"
    assert session.native["tool_use_id"] == "toolu_9"
    assert session.native["parent_agent_id"] == "a0"
    assert session.native["parent_native_id"] == "s1"


# -- discovery -------------------------------------------------------------------------


def make_store(tmp_path: Path) -> Path:
    root = tmp_path / "claude"
    project = root / "projects" / "-tmp"
    project.mkdir(parents=True)
    shutil.copytree(SUBAGENT_DIR, project, dirs_exist_ok=True)
    nested = project / PARENT_ID / "subagents" / "workflows" / "run1"
    nested.mkdir(parents=True)
    (nested / "agent-deep.jsonl").write_text("{}\n")
    (project / "agent-old.jsonl").write_text("{}\n")
    (project / PARENT_ID / "tool-results").mkdir()
    (project / PARENT_ID / "tool-results" / "x.jsonl").write_text("{}\n")
    (project / "sessions-index.json").write_text("{}")
    return root


def test_discover_main_and_subagent_files(tmp_path: Path) -> None:
    root = make_store(tmp_path)
    found = {s.path.relative_to(root / "projects").as_posix(): s for s in claude.discover(root)}
    assert set(found) == {
        f"-tmp/{PARENT_ID}.jsonl",
        f"-tmp/{PARENT_ID}/subagents/agent-a0ad4f44468bdf20d.jsonl",
        f"-tmp/{PARENT_ID}/subagents/workflows/run1/agent-deep.jsonl",
        "-tmp/agent-old.jsonl",
    }
    ids = {k: s.native_id for k, s in found.items()}
    assert ids[f"-tmp/{PARENT_ID}.jsonl"] == PARENT_ID
    assert ids[f"-tmp/{PARENT_ID}/subagents/agent-a0ad4f44468bdf20d.jsonl"] == (
        f"{PARENT_ID}/agent-a0ad4f44468bdf20d"
    )
    assert ids[f"-tmp/{PARENT_ID}/subagents/workflows/run1/agent-deep.jsonl"] == (
        f"{PARENT_ID}/agent-deep"
    )
    assert ids["-tmp/agent-old.jsonl"] is None
    assert all(s.mode == "jsonl" for s in found.values())


def test_discover_tolerates_missing_dirs_and_symlink_loops(tmp_path: Path) -> None:
    assert list(claude.discover(tmp_path / "missing")) == []
    root = make_store(tmp_path)
    subagents = root / "projects" / "-tmp" / PARENT_ID / "subagents"
    (subagents / "loop").symlink_to(subagents)
    (root / "projects" / "-link").symlink_to(root / "projects")
    found = [s.path for s in claude.discover(root)]
    assert len(found) == 4
    assert not any("loop" in p.parts or "-link" in p.parts for p in found)


def test_store_roots_honour_claude_config_dir(tmp_path: Path) -> None:
    assert claude.store_roots({}, tmp_path) == [tmp_path / ".claude"]
    custom = tmp_path / "cfg"
    assert claude.store_roots({"CLAUDE_CONFIG_DIR": str(custom)}, tmp_path) == [custom]


# -- project directory names -----------------------------------------------------------


def js_hash(text: str) -> int:
    h = 0
    units = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(units), 2):
        h = ctypes.c_int32((h << 5) - h + int.from_bytes(units[i : i + 2], "little")).value
    return abs(h)


def test_project_dir_name() -> None:
    assert claude_facts.folder_name("/home/u/my_app.v2") == "-home-u-my-app-v2"
    assert claude_facts.folder_name("C:\\Users\\a") == "C--Users-a"
    assert claude_facts.folder_name("/home/ü/café") == "-home---caf-"
    assert claude_facts.folder_name("/tmp/😀x") == "-tmp---x"  # two UTF-16 units
    long_path = "/very/long/" + "directory-name/" * 20
    name = claude_facts.folder_name(long_path)
    prefix, suffix = name[:200], name[201:]
    assert prefix == long_path.replace("/", "-").replace("_", "-")[:200]
    assert name[200] == "-"
    assert int(suffix, 36) == js_hash(long_path)
    assert claude_facts.folder_name("/" + "x" * 199) == "-" + "x" * 199


def test_simple_hash_matches_javascript() -> None:
    assert claude_facts.simple_hash("") == "0"
    assert claude_facts.simple_hash("a") == "2p"
    for text in ["/home/u/project", "é" * 300, "😀" * 50, "/a" * 500]:
        assert int(claude_facts.simple_hash(text), 36) == js_hash(text)


# -- sniff -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_sniff_claims_claude_files(path: Path) -> None:
    source = claude.sniff(path, path.read_bytes()[:4096])
    assert source is not None
    assert source.mode == "jsonl"


def test_sniff_native_ids() -> None:
    main = SUBAGENT_DIR / f"{PARENT_ID}.jsonl"
    assert claude.sniff(main, main.read_bytes()) == Source(main, "jsonl", PARENT_ID)
    source = claude.sniff(SUBAGENT, SUBAGENT.read_bytes())
    assert source is not None
    assert source.native_id == f"{PARENT_ID}/agent-a0ad4f44468bdf20d"
    source = claude.sniff(COMPACTED, COMPACTED.read_bytes()[:4096])
    assert source is not None
    assert source.native_id is None


@pytest.mark.parametrize(
    "head",
    [
        # Qwen Code: a Claude-like chain, but Gemini-style parts and no isSidechain.
        b'{"uuid":"1","parentUuid":null,"sessionId":"s","timestamp":"t","type":"user",'
        b'"cwd":"/p","message":{"role":"user","parts":[{"text":"hi"}]}}\n',
        # Gemini CLI JSONL
        b'{"sessionId":"g","projectHash":"ab","startTime":"t","lastUpdated":"t","kind":"main"}\n'
        b'{"id":"u","timestamp":"t","type":"user","content":[{"text":"hi"}]}\n',
        # Codex CLI
        b'{"timestamp":"t","type":"session_meta","payload":{"id":"x","cwd":"/p"}}\n',
        # Copilot CLI
        b'{"type":"session.start","data":{"sessionId":"x"},"id":"1","timestamp":"t"}\n',
        b"",
        b"not json at all\n",
        b'[{"type":"user"}]\n',
    ],
)
def test_sniff_rejects_other_formats(head: bytes) -> None:
    assert claude.sniff(Path("x.jsonl"), head) is None


def test_sniff_with_a_first_line_longer_than_the_head() -> None:
    record = user("u1", "x" * 10000)
    head = json.dumps({"parentUuid": None, "isSidechain": False, **record}).encode()[:2048]
    assert claude.sniff(Path("x.jsonl"), head.replace(b": ", b":").replace(b", ", b",")) is not None


# -- incremental reading ---------------------------------------------------------------


def read_in_two(data: bytes, cut: int, native_id: str | None) -> Session:
    path = Path("/nowhere/s.jsonl")
    state: dict[str, Any] = {}
    assembly = Assembly("claude", native_id)
    first = feed_from_bytes(Source(path, "jsonl", native_id), data[:cut])
    assembly.apply(claude.read(first, state))
    state = json.loads(json.dumps(state))  # capture keeps it as JSON between reads
    second = feed_from_bytes(Source(path, "jsonl", native_id), data[cut:], start=cut)
    assembly.apply(claude.read(second, state))
    return assembly.session()


@pytest.mark.parametrize("path", [*REAL, SMALL], ids=lambda p: p.name)
def test_reading_in_two_pieces_equals_reading_whole(path: Path) -> None:
    data = path.read_bytes()
    whole = read_bytes(data, native_id=None)[0].session()
    assert whole.messages
    cuts = [i + 1 for i, byte in enumerate(data) if byte == 0x0A][:-1]
    for cut in cuts:
        assert read_in_two(data, cut, None) == whole, f"split at byte {cut}"


def test_title_priority_survives_incremental_reads() -> None:
    data = lines(
        user("u1", "hi"),
        {"type": "custom-title", "customTitle": "Mine", "sessionId": "s"},
        {"type": "ai-title", "aiTitle": "Generated", "sessionId": "s"},
        {"type": "summary", "summary": "Old", "leafUuid": "u1"},
        {"type": "custom-title", "customTitle": "Mine, renamed", "sessionId": "s"},
        {"type": "ai-title", "aiTitle": "Generated again", "sessionId": "s"},
    )
    cut = data.index(b'{"type": "ai-title"')
    session = read_in_two(data, cut, "s")
    assert session.title == "Mine, renamed"
    ai_only = lines(
        {"type": "summary", "summary": "Old", "leafUuid": "u1"},
        user("u1", "hi"),
        {"type": "ai-title", "aiTitle": "One", "sessionId": "s"},
        {"type": "ai-title", "aiTitle": "Two", "sessionId": "s"},
    )
    assert read_in_two(ai_only, ai_only.index(b'{"type": "ai'), "s").title == "Two"


def test_title_records_never_give_timestamps() -> None:
    data = lines(
        {"type": "custom-title", "customTitle": "T", "timestamp": "2030-01-01T00:00:00.000Z"},
        user("u1", "hi"),
    )
    assembly, _ = read_bytes(data)
    session = assembly.session()
    assert session.title == "T"
    assert session.created_at == session.updated_at == "2026-01-01T00:00:00.000Z"


def test_a_new_full_read_starts_from_fresh_state() -> None:
    data = lines(user("u1", "hi"), assistant("a1", [{"type": "text", "text": "yo"}]))
    state: dict[str, Any] = {}
    feed = feed_from_bytes(Source(Path("s.jsonl"), "jsonl", "s"), data)
    first = [op.key for op in claude.read(feed, state) if isinstance(op, Put)]
    feed = feed_from_bytes(Source(Path("s.jsonl"), "jsonl", "s"), data)
    again = [op.key for op in claude.read(feed, state) if isinstance(op, Put)]
    assert first == again == ["1", "2"]


# -- message shapes --------------------------------------------------------------------


def test_user_line_with_text_and_tool_results_is_split() -> None:
    data = lines(
        assistant("a1", [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"c": 1}}]),
        user(
            "u1",
            [
                {"type": "tool_result", "tool_use_id": "t1", "content": "out", "is_error": True},
                {"type": "text", "text": "and also do this"},
            ],
        ),
    )
    assembly, _ = read_bytes(data)
    session = assembly.session()
    assert [m.role for m in session.messages] == ["assistant", "tool", "user"]
    assert len(set(assembly.keys)) == 3
    result = session.messages[1].parts[0]
    assert isinstance(result, ToolResult)
    assert (result.call_id, result.output, result.is_error) == ("t1", "out", True)
    assert session.messages[2].parts == [Text("and also do this")]
    assert session.messages[1].native_id == session.messages[2].native_id == "u1"


def test_content_blocks() -> None:
    png = {"type": "base64", "media_type": "image/png", "data": "iVB"}
    image = {"type": "image", "source": png}
    pdf = {"type": "document", "title": "spec", "source": {"type": "base64", "data": "JVB"}}
    search = {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {"query": "q"}}
    found = {"type": "web_search_result", "title": "r"}
    search_result = {"type": "web_search_tool_result", "tool_use_id": "s1", "content": [found]}
    shot = {
        "type": "tool_result",
        "tool_use_id": "t1",
        "content": [{"type": "text", "text": "shot:"}, image],
    }
    data = lines(
        user("u1", [{"type": "text", "text": "look"}, image, pdf]),
        assistant("a1", [{"type": "redacted_thinking", "data": "opaque"}]),
        assistant("a2", [{"type": "thinking", "thinking": "hmm", "signature": "sig"}]),
        assistant("a3", [{"type": "tool_use", "id": "t1", "name": "X", "input": '{"a": 1}'}]),
        assistant("a4", [{"type": "tool_use", "id": "t2", "name": "Y", "input": "{broken"}]),
        assistant("a5", [search]),
        assistant("a6", [search_result]),
        user("u2", [shot]),
    )
    assembly, feed = read_bytes(data)
    session = assembly.session()
    assert feed.skipped == 0
    prompt = session.messages[0]
    assert prompt.parts[1] == Attachment("image/png", data="iVB")
    assert prompt.parts[2] == Attachment("application/pdf", "spec", data="JVB")
    reply = session.messages[1]
    assert reply.role == "assistant"
    assert reply.parts[0] == Reasoning("", native={"redacted": "opaque"})
    assert reply.parts[1] == Reasoning("hmm", "sig", native={"uuid": "a2", "parentUuid": None})
    calls = parts_of(session, ToolCall)
    assert [c.input for c in calls] == [{"a": 1}, "{broken", {"query": "q"}]
    assert calls[2].native == {"type": "server_tool_use", "uuid": "a5", "parentUuid": None}
    server_result = next(m for m in session.messages if m.role == "tool")
    assert server_result.parts[0].call_id == "s1"
    assert "web_search_result" in server_result.parts[0].output
    last = session.messages[-1]
    assert last.role == "tool"
    assert last.parts[0].output == "shot:\n[image]"
    assert last.parts[1] == Attachment("image/png", data="iVB")


def test_injected_user_text_is_system() -> None:
    data = lines(
        user("u1", "Caveat: local commands below", isMeta=True),
        user("u2", "<command-name>/model</command-name>\n<command-args></command-args>"),
        user("u3", "<local-command-stdout>Set model to opus</local-command-stdout>"),
        user("u4", [{"type": "text", "text": "[Request interrupted by user for tool use]"}]),
        user("u5", "Summary of earlier work", isCompactSummary=True),
        user(
            "u6",
            [
                {"type": "text", "text": "<ide_opened_file>a.py</ide_opened_file>"},
                {"type": "text", "text": "fix this file"},
            ],
        ),
        user("u7", "<bash-input>ls</bash-input>"),
        user("u8", "<bash-stdout>a b</bash-stdout><bash-stderr></bash-stderr>"),
    )
    session = read_bytes(data)[0].session()
    roles = [(m.role, m.native.get("kind")) for m in session.messages]
    assert roles == [
        ("system", "meta"),
        ("user", "command"),
        ("system", "command_output"),
        ("system", "interrupted"),
        ("system", "compact_summary"),
        ("user", None),
        ("user", "bash_input"),
        ("system", "bash_output"),
    ]


def test_system_records() -> None:
    base = {"type": "system", "uuid": "x", "parentUuid": None, "timestamp": "2026-01-01T00:00:00Z"}
    data = lines(
        {**base, "subtype": "turn_duration", "durationMs": 5},
        {**base, "subtype": "stop_hook_summary", "hookErrors": [], "stopReason": ""},
        {**base, "subtype": "stop_hook_summary", "hookErrors": ["hook failed: exit 2"]},
        {**base, "subtype": "api_error", "error": {"status": 529, "message": "Overloaded"}},
        {**base, "subtype": "api_error", "error": {"status": 0, "headers": {}}},
        {**base, "subtype": "informational", "content": "Model switched"},
        {**base, "subtype": "local_command", "content": "<command-name>/cost</command-name>"},
        {**base, "subtype": "compact_boundary", "logicalParentUuid": "p", "content": ""},
    )
    assembly, feed = read_bytes(data)
    session = assembly.session()
    assert feed.skipped == 0
    texts = [(m.native["kind"], m.parts[0].text) for m in session.messages]
    assert texts == [
        ("stop_hook_summary", "hook failed: exit 2"),
        ("api_error", "Overloaded"),
        ("informational", "Model switched"),
        ("local_command", "<command-name>/cost</command-name>"),
        ("compact_boundary", "Conversation compacted"),
    ]
    assert all(m.role == "system" for m in session.messages)


def test_synthetic_api_error_message_is_system() -> None:
    record = assistant("a1", [{"type": "text", "text": "API Error: 500"}], isApiErrorMessage=True)
    record["message"]["model"] = "<synthetic>"
    session = read_bytes(lines(record))[0].session()
    assert [(m.role, m.native["kind"]) for m in session.messages] == [("system", "api_error")]
    assert session.models == []


def test_session_fields_from_records() -> None:
    data = lines(
        {"type": "permission-mode", "permissionMode": "default", "sessionId": "s"},
        user("u1", "hi", cwd="/first", gitBranch="main", version="2.1.1"),
        user("u2", "cd", cwd="/first/sub", gitBranch="feature", version="2.1.2"),
        {"type": "tag", "tag": "keep", "sessionId": "s"},
    )
    session = read_bytes(data, native_id=None)[0].session()
    assert session.native_id == "s"
    assert session.cwd == session.project == "/first"
    assert session.git_branch == "feature"
    assert session.native["version"] == "2.1.2"
    assert session.native["tag"] == "keep"


# -- bad input -------------------------------------------------------------------------


def test_truncated_last_line_waits_for_the_rest() -> None:
    complete = lines(user("u1", "hi"))
    partial = json.dumps(assistant("a1", [{"type": "text", "text": "yo"}])).encode()
    assembly, feed = read_bytes(complete + partial[:40])
    assert feed.skipped == 0
    assert feed.end == len(complete)
    assert [m.role for m in assembly.session().messages] == ["user"]


def test_bad_lines_are_skipped_and_counted() -> None:
    good = lines(user("u1", "hi"))
    bad_utf8 = json.dumps(user("u2", "caf\u00e9")).encode().replace(b"\\u00e9", b"\xff")
    data = (
        good
        + b"{not json\n"
        + b"[1, 2]\n"
        + lines({"type": "brand-new-type", "x": 1})
        + bad_utf8
        + b"\n"
        + lines(user("u3", "still here"))
    )
    assembly, feed = read_bytes(data)
    texts = [m.parts[0].text for m in assembly.session().messages]
    assert texts == ["hi", "caf\ufffd", "still here"]
    assert feed.skipped == 3
    assert feed.repaired == 1
    assert any("unknown record type 'brand-new-type'" in r for r in feed.reasons)


def test_unusable_records_do_not_raise() -> None:
    data = lines(
        {"type": "user", "uuid": "u1"},
        {"type": "assistant", "uuid": "a1", "message": "nope"},
        {"type": "assistant", "uuid": "a2", "message": {"content": [1, None, {"type": "?"}]}},
        {"type": "system"},
        {"type": "attachment", "attachment": None},
        {"type": None},
        {"type": "summary"},
    )
    assembly, feed = read_bytes(data)
    assert feed.skipped == 4  # no content, message not an object, unknown block, no type
    assert assembly.keys == []


def test_empty_file() -> None:
    assembly, feed = read_bytes(b"")
    assert assembly.keys == []
    assert feed.skipped == 0
    assert claude.sniff(Path("e.jsonl"), b"") is None
