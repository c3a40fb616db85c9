"""Gemini CLI reader: real legacy sessions, a real 0.61 JSONL log, hand-made edge cases."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from tether.archive.assemble import Assembly
from tether.capture.feed import FileFeed, feed_from_bytes
from tether.model import Message, Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools import gemini
from tether.tools.base import FormatError, Op, Put, Rewind, Source, SourceMode
from tether.tools.registry import get_tool

FIXTURES = Path(__file__).parent.parent / "fixtures" / "gemini"
REAL_12 = "real_entire_12_cbfeaa512b_0_legacy_session.json"
REAL_AB = "real_entire_ab_2b9748b105_0_legacy_session.json"
CLI061 = "cli061_resumed_tool_call.jsonl"
JSONL_FIXTURES = [
    "agentsessions_jsonl_v040.jsonl",
    CLI061,
    "cli061_resume_stub.jsonl",
    "handmade_tools_v061.jsonl",
    "handmade_checkpoint_rewind.jsonl",
    "handmade_subagent.jsonl",
]
SHOP = "/home/dev/shop"


def source(name: str) -> Source:
    mode: SourceMode = "document" if name.endswith(".json") else "jsonl"
    return Source(FIXTURES / name, mode)


def ops_of(
    data: bytes, mode: SourceMode = "jsonl", state: dict[str, Any] | None = None
) -> list[Op]:
    feed = feed_from_bytes(Source(Path("x"), mode), data)
    return list(gemini.read(feed, {} if state is None else state))


def load(name: str) -> Session:
    return assemble(source(name), (FIXTURES / name).read_bytes())


def assemble(src: Source, data: bytes) -> Session:
    assembly = Assembly("gemini")
    assembly.apply(gemini.read(feed_from_bytes(src, data), {}))
    return assembly.session()


def parts(session: Session, kind: type, role: str | None = None) -> list[Any]:
    return [
        p
        for m in session.messages
        if role is None or m.role == role
        for p in m.parts
        if isinstance(p, kind)
    ]


def first_text(message: Message) -> str:
    part = message.parts[0]
    assert isinstance(part, Text)
    return part.text


def by_role(session: Session, role: str) -> list[Message]:
    return [m for m in session.messages if m.role == role]


def assert_paired(session: Session) -> None:
    calls = {p.id for p in parts(session, ToolCall)}
    results = [p.call_id for p in parts(session, ToolResult)]
    assert results, "the session has tool results"
    assert set(results) <= calls
    assert len(results) == len(set(results)), "one result per call"


def sha(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()


# -- real sessions ---------------------------------------------------------------------------


def test_real_legacy_session_short() -> None:
    raw = orjson.loads((FIXTURES / REAL_12).read_bytes())
    s = load(REAL_12)
    assert s.native_id == "faff42ab-6ea5-4f78-b8c4-f7dd6272af08"
    assert s.created_at == "2026-01-10T02:08:26.108Z"
    assert s.updated_at == "2026-01-10T02:09:27.575Z"
    assert s.models == ["gemini-2.5-flash"]
    assert s.title is None and s.project is None
    assert s.native["projectHash"] == raw["projectHash"]
    users = by_role(s, "user")
    assert [first_text(m) for m in users] == [
        "add new text to test-gemini.txt",
        '",how are you"',
    ]
    texts = parts(s, Text, "assistant")
    assert len(texts) == 2
    assert texts[1].text == 'I have added the text ",how are you" to `test-gemini.txt`.'
    calls = parts(s, ToolCall)
    assert [(c.name, c.input) for c in calls] == [
        ("read_file", {"file_path": "test-gemini.txt"}),
        (
            "write_file",
            {"file_path": "test-gemini.txt", "content": "hello from gemini,how are you"},
        ),
    ]
    assert calls[0].id == "read_file-1768010961326-7266fc4bc8133"
    results = parts(s, ToolResult)
    assert [r.output for r in results] == [
        "hello from gemini",
        "Successfully overwrote file: /Users/peytonmontei/Documents/entire/devenv/entireio/cli/"
        "test-gemini.txt.",
    ]
    assert not any(r.is_error for r in results)
    assert_paired(s)
    assert len(parts(s, Reasoning)) == 6
    assert parts(s, Reasoning)[0].text.startswith("Gathering User Input\n\nI'm currently")
    first = by_role(s, "assistant")[0]
    assert first.usage == {
        "input_tokens": 12874,
        "output_tokens": 18,
        "cached_tokens": 0,
        "reasoning_tokens": 31,
        "tool_tokens": 0,
        "total_tokens": 12923,
    }
    assert first.native_id == "ba610c5b-c33a-45e9-806f-68c4bf326d73"
    # the tool results follow the call they answer
    ids = [m.native_id for m in s.messages]
    at = ids.index("b2136b82-13ad-49bf-891a-1c58ed6915ac")
    assert s.messages[at + 1].role == "tool"
    assert s.messages[at + 1].native["record"] == s.messages[at].native_id


def test_real_legacy_session_long() -> None:
    raw = orjson.loads((FIXTURES / REAL_AB).read_bytes())
    s = load(REAL_AB)
    expected_calls = [c["id"] for m in raw["messages"] for c in m.get("toolCalls", [])]
    assert len(expected_calls) == 9
    assert [c.id for c in parts(s, ToolCall)] == expected_calls
    assert len(parts(s, ToolResult)) == 9
    assert_paired(s)
    assert len(by_role(s, "user")) == 1
    assert len(parts(s, Text, "assistant")) == 10
    system = by_role(s, "system")
    assert len(system) == 1 and system[0].native == {"type": "info"}
    assert first_text(system[0]).startswith("Gemini CLI update available!")
    shell = [c for c in parts(s, ToolCall) if c.name == "run_shell_command"]
    assert shell[0].input == {
        "command": "ls -l docs/blue.md",
        "description": shell[0].input["description"],
    }
    assert shell[0].native["status"] == "success"
    result = next(r for r in parts(s, ToolResult) if r.call_id == shell[0].id)
    assert result.output.startswith("Command: ls -l docs/blue.md\nDirectory: (root)\nOutput:")
    # an assistant message with no text and no thoughts still holds its call and usage
    rm = next(m for m in s.messages if m.native_id == "5b9afa41-4e4f-429c-82f6-20b8e1459d54")
    assert [p.kind for p in rm.parts] == ["tool_call"]
    assert rm.usage is not None


def test_real_cli_061_log_with_three_resumes() -> None:
    """Written by gemini-cli 0.61.0 (run offline against a mock model, then resumed twice)."""
    s = load(CLI061)
    assert s.native_id == "11111111-2222-3333-4444-555555555555"
    assert s.created_at == "2026-11-21T19:44:25.123Z"  # the first metadata line, not a resume's
    assert s.updated_at == "2026-11-21T19:46:33.682Z"
    assert [m.role for m in s.messages] == [
        "system", "user", "assistant", "user", "assistant", "tool", "assistant", "user", "assistant"
    ]  # fmt: skip
    ctx = s.messages[0]
    assert ctx.native["marker"] == "session_context"
    prompts = [first_text(m) for m in by_role(s, "user")]
    assert prompts == ["hello there", "please run shell echo", "third turn"]
    # the checkpoints written on resume restate history without model, tokens or thoughts:
    # the records read before keep theirs
    first_reply = s.messages[2]
    assert first_reply.model == "gemini-2.5-flash" and first_reply.usage is not None
    assert first_reply.timestamp == "2026-11-21T19:44:25.251Z"
    call_msg = s.messages[4]
    assert [p.kind for p in call_msg.parts] == ["reasoning", "text", "tool_call"]
    (call,) = parts(s, ToolCall)
    assert call.input == {"command": "echo hello-from-shell", "description": "say hi"}
    # the tool response is also recorded as a user record (and twice in a checkpoint): one copy
    (result,) = parts(s, ToolResult)
    assert result.call_id == call.id
    assert "hello-from-shell" in result.output
    assert s.models == ["gemini-2.5-flash"]


def test_real_cli_061_resume_stub() -> None:
    s = load("cli061_resume_stub.jsonl")
    assert s.native_id == "11111111-2222-3333-4444-555555555555"
    assert [m.role for m in s.messages] == ["system"]


def test_agent_sessions_jsonl_v040() -> None:
    s = load("agentsessions_jsonl_v040.jsonl")
    assert s.native_id == "gemini_stage0_jsonl"
    assert [m.role for m in s.messages] == ["user", "assistant", "tool", "assistant"]
    (call,) = parts(s, ToolCall)
    assert call.input == {"command": "ls -F", "description": "List files in the current directory."}
    assert parts(s, ToolResult)[0].output.startswith("Output: AgentSessions/")
    assert_paired(s)
    assert s.messages[-1].parts == [Text("Hello! I listed the files.")]
    assert (s.messages[-1].usage or {})["cached_tokens"] == 11502
    assert s.updated_at == "2026-04-29T21:39:45.996Z"


def test_agent_sessions_small_and_large_documents() -> None:
    small = load("agentsessions_small.json")
    assert [m.role for m in small.messages] == ["user", "assistant"]
    assert small.messages[1].parts == [
        Reasoning("Short reasoning placeholder."),
        Text("Hi!"),
    ]
    large = load("agentsessions_large.json")
    assert [m.role for m in large.messages] == [
        "user", "assistant", "tool", "assistant", "tool", "system", "assistant", "user", "assistant"
    ]  # fmt: skip
    assert len(parts(large, ToolCall)) == 2
    assert_paired(large)
    assert parts(large, Text, "assistant")[-1].text == "Ok"


# -- hand-made JSONL edge cases --------------------------------------------------------------


def test_repeated_ids_slash_commands_and_notices() -> None:
    s = load("handmade_tools_v061.jsonl")
    assert s.title == "List files in the project"
    assert s.updated_at == "2026-03-01T10:00:09.500Z"
    assert [(m.role, m.native.get("marker") or m.native.get("type")) for m in s.messages] == [
        ("system", "slash_command"),
        ("system", "info"),
        ("user", "user"),
        ("assistant", "gemini"),
        ("tool", "tool_results"),
        ("assistant", "gemini"),
        ("system", "warning"),
        ("system", "error"),
    ]
    g1 = s.messages[3]
    assert [p.kind for p in g1.parts] == ["reasoning", "text", "tool_call", "tool_call"]
    assert g1.parts[0] == Reasoning(
        "Plan\n\nUse ls first.",
        native={"subject": "Plan", "timestamp": "2026-03-01T10:00:03.500Z"},
    )
    read = g1.parts[3]
    assert isinstance(read, ToolCall) and read.input == {"file_path": "c.txt"}  # JSON string args
    ok, failed = s.messages[4].parts
    assert isinstance(ok, ToolResult) and ok.output == "a.txt\nb.txt" and not ok.is_error
    assert isinstance(failed, ToolResult) and failed.is_error
    assert failed.output == "File not found: c.txt"
    assert_paired(s)


def test_checkpoint_rewind_summary_and_help() -> None:
    data = (FIXTURES / "handmade_checkpoint_rewind.jsonl").read_bytes()
    feed = feed_from_bytes(source("handmade_checkpoint_rewind.jsonl"), data)
    assembly = Assembly("gemini")
    assembly.apply(gemini.read(feed, {}))
    s = assembly.session()
    assert assembly.keys == ["ctx", "u1", "g1", "u3", "g3", "snap", "ack", "u4"]
    assert s.title == "Two questions"
    texts = [first_text(m) for m in s.messages]
    assert "second question" not in texts and "second answer" not in texts
    assert s.messages[5].role == "system" and s.messages[5].native["marker"] == "compaction_summary"
    assert s.messages[6].role == "assistant"
    assert s.messages[7].role == "system" and s.messages[7].native["marker"] == "help_command"
    g3 = s.messages[4]
    assert g3.model == "gemini-2.5-flash" and g3.timestamp == "2026-03-02T09:00:06.000Z"
    assert feed.skipped == 1 and "not read before" in feed.reasons[0]


def test_subagent_log_in_store(tmp_path: Path) -> None:
    chats = tmp_path / ".gemini" / "tmp" / "shop" / "chats" / "parent-session-id"
    chats.mkdir(parents=True)
    path = chats / "9f8e7d6c-0000-4000-8000-123456789abc.jsonl"
    shutil.copy(FIXTURES / "handmade_subagent.jsonl", path)
    (found,) = gemini.discover(tmp_path / ".gemini")
    assert found == Source(path, "jsonl")
    assembly = Assembly("gemini")
    assembly.apply(gemini.read(FileFeed(found), {}))
    s = assembly.session()
    assert s.native_id == "9f8e7d6c-0000-4000-8000-123456789abc"
    assert assembly.parent_native_id == "parent-session-id"
    assert s.native["kind"] == "subagent"
    assert s.project == SHOP and s.cwd == SHOP  # directories[0] hashes to projectHash
    thought, text, call = s.messages[1].parts
    assert thought == Reasoning("Checking.", signature="c2lnbmF0dXJl")
    assert text == Text("Found it in cart.py.")
    assert isinstance(call, ToolCall) and call.id == "fc1" and call.native["thoughtSignature"]
    assert s.messages[2].role == "tool"
    assert_paired(s)


def test_results_dropped_from_the_last_record_rewind_it() -> None:
    with_result = _gemini_record("g1", [_call("c1", "out")])
    without = _gemini_record("g1", [])
    ops = ops_of(_lines(_META, with_result, without))
    assert any(isinstance(op, Rewind) and op.key == "g1" for op in ops)
    assembly = Assembly("gemini")
    assembly.apply(ops)
    assert assembly.keys == ["g1"]
    assert not parts(assembly.session(), ToolResult)


def test_results_dropped_from_an_earlier_record_leave_an_empty_message() -> None:
    user = {"id": "u2", "timestamp": "2026-03-01T10:00:09Z", "type": "user", "content": "next"}
    data = _lines(
        _META,
        _gemini_record("g1", [_call("c1", "out"), _call("c2", "two")]),
        user,
        _gemini_record("g1", [_call("c1", "out")]),
    )
    assembly = Assembly("gemini")
    assembly.apply(ops_of(data))
    assert [r.call_id for r in parts(assembly.session(), ToolResult)] == ["c1"]
    assembly.apply(ops_of(data + _lines(_gemini_record("g1", [])), state={}))
    assert assembly.keys == ["g1", "g1#results", "u2"]
    assert assembly.messages["g1#results"].parts == []
    assert assembly.messages["g1#results"].native == {"superseded": True}


def test_a_pending_call_gets_its_result_when_re_appended() -> None:
    pending = _gemini_record("g1", [{"id": "c1", "name": "ls", "args": {}, "status": "executing"}])
    assembly = Assembly("gemini")
    state: dict[str, Any] = {}
    assembly.apply(ops_of(_lines(_META, pending), state=state))
    assert assembly.keys == ["g1"]
    assembly.apply(ops_of(_lines(_gemini_record("g1", [_call("c1", "done")])), state=state))
    assert assembly.keys == ["g1", "g1#results"]
    assert all(isinstance(op, Put) and not op.merge for op in ops_of(_lines(pending)))


def test_a_response_recorded_first_is_not_repeated_by_the_call_record() -> None:
    response = {"functionResponse": {"id": "c1", "name": "ls", "response": {"output": "out"}}}
    early = {"id": "r1", "timestamp": "2026-03-01T10:00:02Z", "type": "user", "content": [response]}
    data = _lines(
        _META, _gemini_record("g1", []), early, _gemini_record("g1", [_call("c1", "out")])
    )
    assembly = Assembly("gemini")
    assembly.apply(ops_of(data))
    assert assembly.keys == ["g1", "r1"]
    assert_paired(assembly.session())


def test_a_result_holding_sibling_responses_keeps_its_own() -> None:
    """The CLI's masking sync stores a whole user turn as each call's result."""
    turn = [
        {"functionResponse": {"id": cid, "name": "ls", "response": {"output": f"out {cid}"}}}
        for cid in ("c1", "c2")
    ]
    calls = [{"id": cid, "name": "ls", "args": {}, "result": turn} for cid in ("c1", "c2")]
    assembly = Assembly("gemini")
    assembly.apply(ops_of(_lines(_META, _gemini_record("g1", calls))))
    results = parts(assembly.session(), ToolResult)
    assert [(r.call_id, r.output) for r in results] == [("c1", "out c1"), ("c2", "out c2")]


# -- incremental reading ---------------------------------------------------------------------


@pytest.mark.parametrize("name", JSONL_FIXTURES)
def test_reading_in_two_pieces_gives_the_same_session(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    whole = load(name)
    cuts = [i + 1 for i, byte in enumerate(data) if byte == ord("\n")][:-1]
    assert cuts
    for cut in cuts:
        state: dict[str, Any] = {}
        assembly = Assembly("gemini")
        first = feed_from_bytes(source(name), data[:cut])
        assembly.apply(gemini.read(first, state))
        assert first.end == cut
        state = orjson.loads(orjson.dumps(state))  # state is stored as JSON between reads
        assembly.apply(gemini.read(feed_from_bytes(source(name), data[cut:], start=cut), state))
        assert assembly.session() == whole, f"cut at byte {cut}"


def test_rereading_a_rewritten_document_drops_removed_messages() -> None:
    raw = orjson.loads((FIXTURES / REAL_12).read_bytes())
    state: dict[str, Any] = {}
    assembly = Assembly("gemini")
    assembly.apply(ops_of(orjson.dumps(raw), "document", state))
    raw["messages"] = raw["messages"][:2]
    assembly.apply(ops_of(orjson.dumps(raw), "document", state))
    assert len(assembly.session().messages) == 2
    raw["messages"].append(
        {"id": "new", "timestamp": "2026-01-10T03:00:00Z", "type": "user", "content": "more"}
    )
    assembly.apply(ops_of(orjson.dumps(raw), "document", state))
    assert assembly.keys[-1] == "new" and len(assembly.keys) == 3


# -- bad input -------------------------------------------------------------------------------


def _bad(data: bytes) -> tuple[Session, FileFeed]:
    feed = feed_from_bytes(Source(Path("x.jsonl"), "jsonl"), data)
    assembly = Assembly("gemini")
    assembly.apply(gemini.read(feed, {}))
    return assembly.session(), feed


def test_truncated_last_line_waits_for_the_rest() -> None:
    data = (FIXTURES / "agentsessions_jsonl_v040.jsonl").read_bytes()
    cut = data.rindex(b"\n", 0, len(data) - 1) + 40
    session, feed = _bad(data[:cut])
    assert len(session.messages) == 3 and feed.skipped == 0
    assert feed.end < cut


def test_invalid_lines_are_skipped_and_counted() -> None:
    good = (FIXTURES / "handmade_tools_v061.jsonl").read_bytes()
    lines = good.splitlines(keepends=True)
    data = b"".join(
        [
            lines[0],
            b"{not json\n",
            b"[1, 2]\n",
            b'{"what": "ever"}\n',
            b'{"id": "x1", "type": "telemetry", "content": "?"}\n',
            b'{"id": "x2", "type": "gemini", "content": "caf\xe9", "toolCalls": [7]}\n',
            b'{"$set": 5}\n{"$rewindTo": 3}\n',
            *lines[1:],
        ]
    )
    session, feed = _bad(data)
    assert feed.skipped == 7
    assert any("unknown message type 'telemetry'" in r for r in feed.reasons)
    assert feed.repaired == 1
    x2 = next(m for m in session.messages if m.native_id == "x2")
    assert x2.parts == [Text("caf\ufffd")]
    assert len(session.messages) == len(load("handmade_tools_v061.jsonl").messages) + 1


def test_empty_files() -> None:
    session, feed = _bad(b"")
    assert session.messages == [] and feed.skipped == 0
    with pytest.raises(FormatError):
        list(gemini.read(feed_from_bytes(Source(Path("x.json"), "document"), b""), {}))
    with pytest.raises(FormatError):
        list(gemini.read(feed_from_bytes(Source(Path("x.json"), "document"), b"[1]"), {}))


# -- store, discovery, sniffing, project ----------------------------------------------------


def test_store_roots(tmp_path: Path) -> None:
    assert gemini.store_roots({}, tmp_path) == [tmp_path / ".gemini"]
    other = tmp_path / "alt"
    assert gemini.store_roots({"GEMINI_CLI_HOME": str(other)}, tmp_path) == [other / ".gemini"]
    assert get_tool("gemini-cli") is gemini and get_tool("google-gemini") is gemini
    assert gemini.capabilities == frozenset({"read", "write", "resume", "autoresume"})


def test_discover(tmp_path: Path) -> None:
    root = tmp_path / ".gemini"
    slug = root / "tmp" / "shop" / "chats"
    hashed = root / "tmp" / sha("/home/dev/old") / "chats"
    sub = slug / "11111111-aaaa"
    for folder in (slug, hashed, sub):
        folder.mkdir(parents=True)
    wanted = {
        slug / "session-2026-03-01T10-00-7d2c1a4e.jsonl": "jsonl",
        slug / "session-2025-12-01T10-00-0c5e9d3a.json": "document",
        hashed / "session-2025-06-01T10-00-abcdef12.json": "document",
        sub / "22222222-bbbb.jsonl": "jsonl",
    }
    for path in wanted:
        path.write_text("{}")
    (slug / "notes.txt").write_text("x")
    (slug / "checkpoint-tag.json").write_text("{}")
    (root / "tmp" / "shop" / "logs.json").write_text("[]")
    (root / "tmp" / "stray-file").write_text("")
    (sub / "loop").symlink_to(slug)
    found = {s.path: s.mode for s in gemini.discover(root)}
    assert found == wanted
    assert all(s.native_id is None for s in gemini.discover(root))
    assert list(gemini.discover(tmp_path / "missing")) == []


def test_sniff() -> None:
    for name in (REAL_12, "agentsessions_small.json"):
        head = (FIXTURES / name).read_bytes()[:4096]
        assert gemini.sniff(Path(name), head) == Source(Path(name), "document")
    head = (FIXTURES / CLI061).read_bytes()[:4096]
    assert gemini.sniff(Path("a.jsonl"), head) == Source(Path("a.jsonl"), "jsonl")
    claude = b'{"type":"user","sessionId":"abc","uuid":"u","parentUuid":null,"message":{}}\n'
    codex = b'{"timestamp":"2026","type":"session_meta","payload":{"id":"x"}}\n'
    for head in (claude, codex, b"", b"hello", b'{"sessionId": "x"}'):
        assert gemini.sniff(Path("a.jsonl"), head) is None


def test_project_from_marker_registry_or_hash_only(tmp_path: Path) -> None:
    root = tmp_path / ".gemini"
    data = (FIXTURES / "handmade_tools_v061.jsonl").read_bytes()
    # a slug folder with its .project_root marker
    chats = root / "tmp" / "shop" / "chats"
    chats.mkdir(parents=True)
    (chats.parent / ".project_root").write_text(SHOP)
    path = chats / "session-2026-03-01T10-00-7d2c1a4e.jsonl"
    path.write_bytes(data)
    s = _read_path(path)
    assert s.project == SHOP and s.cwd == SHOP
    # an old sha256 folder: found through projects.json
    old = root / "tmp" / sha(SHOP) / "chats"
    old.mkdir(parents=True)
    (old / path.name).write_bytes(data)
    assert _read_path(old / path.name).project is None
    (root / "projects.json").write_bytes(orjson.dumps({"projects": {"/x": "x", SHOP: "shop"}}))
    assert _read_path(old / path.name).project == SHOP
    # only the hash is known
    s = _read_path(FIXTURES / "handmade_tools_v061.jsonl")
    assert s.project is None and s.native["projectHash"] == sha(SHOP)


def _read_path(path: Path) -> Session:
    assembly = Assembly("gemini")
    assembly.apply(gemini.read(FileFeed(Source(path, "jsonl")), {}))
    return assembly.session()


# -- helpers for made-up records -------------------------------------------------------------

_META = {
    "sessionId": "5e5e5e5e-0000-4000-8000-000000000000",
    "projectHash": sha(SHOP),
    "startTime": "2026-03-01T10:00:00.000Z",
    "lastUpdated": "2026-03-01T10:00:00.000Z",
    "kind": "main",
}


def _call(cid: str, output: str) -> dict[str, Any]:
    response = {"functionResponse": {"id": cid, "name": "ls", "response": {"output": output}}}
    return {"id": cid, "name": "ls", "args": {}, "result": [response], "status": "success"}


def _gemini_record(rid: str, calls: list[dict[str, Any]]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": rid,
        "timestamp": "2026-03-01T10:00:01.000Z",
        "type": "gemini",
        "content": "",
        "model": "gemini-2.5-flash",
    }
    if calls:
        record["toolCalls"] = calls
    return record


def _lines(*records: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)
