"""The Codex writer: where the rollout goes and how it is named, what every line holds, that
it never overwrites, the vocabulary both ways, and round trips through the Codex reader.

That Codex itself resumes these files (by id and with `exec resume --last`, the request
carrying every turn, call and output) is proven in tests/e2e/test_convert_real_clis.py.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import FIXTURES, checksums
from tether.archive.assemble import Assembly
from tether.capture.feed import FileFeed
from tether.convert.session import ConvertError, convert
from tether.convert.writers import claude as claude_writer
from tether.convert.writers import codex
from tether.convert.writers.base import Report, WriteError, WriteJob
from tether.model import (
    Attachment,
    Message,
    Reasoning,
    Session,
    Text,
    ToolCall,
    ToolResult,
)
from tether.tools import codex as reader
from tether.tools.base import Source
from tether.tools.vocabulary import Canonical, codex_patch

REAL_058 = (
    FIXTURES
    / "codex"
    / ("real_rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl")
)
NEW_0169 = (
    FIXTURES / "codex" / ("rollout-2026-09-01T10-00-00-019f1111-2222-7333-8444-555566667777.jsonl")
)
CLAUDE_REAL = FIXTURES / "claude" / "real_entire_dc_49cb8a2a42_0.jsonl"
NOW = datetime(2026, 3, 1, 2, 30, 45, 123000, tzinfo=UTC)


@pytest.fixture
def local_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time five hours behind UTC: 02:30 UTC on March 1st is February 28th here."""
    monkeypatch.setenv("TZ", "EST+05")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def read_codex(path: Path) -> tuple[Session, FileFeed]:
    source = Source(path, "jsonl", reader.native_id_from_name(path.name))
    feed = FileFeed(source)
    assembly = Assembly("codex", source.native_id)
    assembly.apply(reader.read(feed, {}))
    return assembly.session(), feed


def read_claude(path: Path) -> Session:
    from tether.tools import claude

    source = Source(path, "jsonl", path.stem)
    assembly = Assembly("claude", source.native_id)
    assembly.apply(claude.read(FileFeed(source), {}))
    return assembly.session()


def records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def payloads(path: Path, kind: str, subtype: str | None = None) -> list[dict[str, Any]]:
    return [
        r["payload"]
        for r in records(path)
        if r["type"] == kind and (subtype is None or r["payload"].get("type") == subtype)
    ]


def parts(session: Session, kind: type) -> list[Any]:
    return [p for m in session.messages for p in m.parts if isinstance(p, kind)]


def texts(session: Session, role: str) -> list[str]:
    return [
        p.text for m in session.messages if m.role == role for p in m.parts if isinstance(p, Text)
    ]


def small(*messages: Message, tool: str = "claude", **fields: Any) -> Session:
    return Session(id="s" * 64, tool=tool, native_id="n1", messages=list(messages), **fields)


def job(session: Session, store: Path, cwd: Path, **fields: Any) -> WriteJob:
    return WriteJob(session=session, cwd=cwd, store=store, now=NOW, report=Report(), **fields)


def hello() -> Session:
    return small(
        Message("user", [Text("hi")], "2026-02-01T10:00:00.000Z"),
        Message("assistant", [Text("hello")], "2026-02-01T10:00:01.000Z", model="m-1"),
    )


# ---------------------------------------------------------------- layout and lines


def test_rollout_is_named_as_codex_names_it_in_local_time(tmp_path: Path, local_tz: None) -> None:
    written = codex.write(job(hello(), tmp_path / ".codex", tmp_path))
    native_id = written.native_id
    assert written.path == (
        tmp_path / ".codex/sessions/2026/02/28" / f"rollout-2026-02-28T21-30-45-{native_id}.jsonl"
    )
    assert written.paths == [written.path]
    assert written.path.stat().st_mode & 0o777 == 0o600
    assert reader.native_id_from_name(written.path.name) == native_id
    parsed = uuid.UUID(native_id)
    assert parsed.version == 7
    assert parsed.int >> 80 == int(NOW.timestamp() * 1000)  # time-ordered from `now`
    assert not [p for p in written.path.parent.iterdir() if p != written.path]  # no temp left


def test_every_line_is_numbered_and_the_meta_comes_first(tmp_path: Path) -> None:
    session = hello()
    session.git_branch, session.git_commit = "main", "abc123"
    written = codex.write(job(session, tmp_path / ".codex", tmp_path))
    lines = records(written.path)
    assert [line["ordinal"] for line in lines] == list(range(len(lines)))
    assert all(set(line) == {"timestamp", "ordinal", "type", "payload"} for line in lines)
    meta = lines[0]
    assert meta["type"] == "session_meta"
    assert meta["payload"] == {
        "id": written.native_id,
        "timestamp": "2026-02-01T10:00:00.000Z",
        "cwd": str(tmp_path),
        "originator": "codex_cli_rs",
        "cli_version": codex.CLI_VERSION,
        "source": "cli",
        "model_provider": "openai",  # no config.toml: Codex's default
        "git": {"commit_hash": "abc123", "branch": "main"},
    }  # no model_provider: Codex then resumes it under whichever provider is in use
    kinds = [(r["type"], r["payload"].get("type")) for r in lines[1:]]
    assert kinds == [
        ("event_msg", "task_started"),
        ("turn_context", None),
        ("response_item", "message"),
        ("event_msg", "user_message"),
        ("response_item", "message"),
        ("event_msg", "agent_message"),
        ("event_msg", "task_complete"),
    ]
    turn = lines[2]["payload"]
    assert turn["model"] == "m-1" and turn["cwd"] == str(tmp_path)
    assert turn["turn_id"] == lines[1]["payload"]["turn_id"] == lines[-1]["payload"]["turn_id"]
    assert lines[4]["payload"]["message"] == "hi"  # what the TUI shows
    assert lines[-1]["payload"]["last_agent_message"] == "hello"


def test_a_chosen_id_is_never_written_twice(tmp_path: Path) -> None:
    store = tmp_path / ".codex"
    native_id = "019c0000-0000-7000-8000-000000000001"
    first = codex.write(job(hello(), store, tmp_path, native_id=native_id))
    before = checksums(store)
    with pytest.raises(WriteError, match="exists already"):
        codex.write(job(hello(), store, tmp_path, native_id=native_id))
    later = job(hello(), store, tmp_path, native_id=native_id)
    later.now = datetime(2027, 1, 1, tzinfo=UTC)  # another day's folder: still the same id
    with pytest.raises(WriteError, match="exists already"):
        codex.write(later)
    assert checksums(store) == before
    assert first.native_id == native_id


def test_ids_codex_cannot_take_and_empty_sessions_are_refused(tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="not a UUID"):
        codex.write(job(hello(), tmp_path, tmp_path, native_id="not-a-uuid"))
    with pytest.raises(WriteError, match="nothing to write"):
        codex.write(job(small(), tmp_path, tmp_path))
    assert not (tmp_path / "sessions").exists()


# ---------------------------------------------------------------- vocabulary


@pytest.mark.parametrize(
    ("name", "native", "kind", "args"),
    [
        ("exec_command", {"cmd": "ls -la", "workdir": "/w"}, "shell", {"workdir": "/w"}),
        ("shell", {"command": ["bash", "-lc", "ls -la"], "workdir": "/w"}, "shell", {}),
        ("shell", {"command": ["git", "commit", "-m", "a b"]}, "shell", {}),
        ("shell_command", {"command": "ls -la", "timeout_ms": 500}, "shell", {}),
        ("local_shell", {"type": "exec", "command": ["ls", "-la"]}, "shell", {}),
        ("update_plan", {"plan": [{"step": "a", "status": "completed"}]}, "todo", {}),
        ("read_file", {"file_path": "/a.py", "offset": 3}, "read_file", {"offset": 3}),
        ("list_dir", {"dir_path": "/w"}, "list_dir", {"path": "/w"}),
        ("grep_files", {"pattern": "x", "include": "*.py"}, "grep", {"glob": "*.py"}),
        ("web_search", {"type": "search", "query": "q"}, "web_search", {"query": "q"}),
        ("spawn_agent", {"message": "look"}, "task", {"prompt": "look"}),
    ],
)
def test_codex_calls_decode_to_their_shared_meaning(
    name: str, native: dict[str, Any], kind: str, args: dict[str, Any]
) -> None:
    canonical = codex.vocabulary.decode(name, native)
    assert canonical is not None and canonical.kind == kind
    assert canonical.args.items() >= args.items()
    if kind == "shell":
        expected = "git commit -m 'a b'" if "git" in str(native) else "ls -la"
        assert canonical.args["command"] == expected


def test_shell_calls_of_every_codex_generation_decode() -> None:
    for path in (REAL_058, NEW_0169):
        session, _ = read_codex(path)
        calls = [c for c in parts(session, ToolCall) if c.name in ("shell", "exec_command")]
        assert calls
        for call in calls:
            canonical = codex.vocabulary.decode(call.name, call.input)
            assert canonical is not None and canonical.kind == "shell"
            assert "bash" not in canonical.args["command"][:5]  # the argv wrapper is gone


def test_shared_calls_encode_as_codex_declares_them() -> None:
    encode = codex.vocabulary.encode
    assert encode(Canonical("shell", {"command": "ls", "description": "list"})) == (
        "exec_command",
        {"cmd": "ls"},
    )
    items = [{"text": "a", "status": "in_progress"}, {"text": "b", "status": "odd"}]
    assert encode(Canonical("todo", {"items": items})) == (
        "update_plan",
        {"plan": [{"step": "a", "status": "in_progress"}, {"step": "b", "status": "pending"}]},
    )
    assert encode(Canonical("grep", {"pattern": "x", "glob": "*.py"})) == (
        "grep_files",
        {"pattern": "x", "include": "*.py"},
    )
    # calls the API answers itself, or with another meaning: no Codex form (stay generic)
    assert encode(Canonical("web_search", {"query": "q"})) is None
    assert encode(Canonical("task", {"prompt": "p"})) is None
    assert encode(Canonical("web_fetch", {"url": "u"})) is None
    assert (
        encode(Canonical("edit_file", {"path": "a", "old": "x", "new": "y", "replace_all": True}))
        is None
    )


def test_edits_and_new_files_become_patches_an_edit_decodes_back() -> None:
    edit = Canonical("edit_file", {"path": "src/a.py", "old": "x = 1\ny = 2", "new": "x = 3"})
    encoded = codex.vocabulary.encode(edit)
    assert encoded is not None and encoded[0] == "apply_patch"
    assert encoded[1]["input"].startswith("*** Begin Patch\n*** Update File: src/a.py\n@@\n")
    assert codex.vocabulary.decode(*encoded) == edit
    new = codex.vocabulary.encode(Canonical("write_file", {"path": "b.txt", "content": "1\n2"}))
    assert new == (
        "apply_patch",
        {"input": "*** Begin Patch\n*** Add File: b.txt\n+1\n+2\n*** End Patch\n"},
    )
    # patches that hold more than one edit keep no single shared meaning
    two = codex_patch.update_file("a", "x", "y").replace(
        "*** End Patch", "@@\n-p\n+q\n*** End Patch"
    )
    assert codex.vocabulary.decode("apply_patch", {"input": two}) is None
    context = "*** Begin Patch\n*** Update File: a\n@@\n keep\n-old\n+new\n*** End Patch"
    assert codex_patch.parse_update(context) == ("a", "keep\nold", "keep\nnew")


# ---------------------------------------------------------------- round trips


def test_codex_round_trip_gives_back_every_turn_call_and_result(tmp_path: Path) -> None:
    for fixture in (REAL_058, NEW_0169):
        original, _ = read_codex(fixture)
        store = tmp_path / fixture.stem / ".codex"
        done = convert(original, "codex", store=store, cwd=tmp_path, now=NOW)
        back, feed = read_codex(done.written.path)
        assert feed.skipped == 0
        assert texts(back, "user") == texts(original, "user")
        replies = texts(back, "assistant")
        assert [t for t in replies if not t.startswith("[reasoning]")] == texts(
            original, "assistant"
        )
        assert [p.native.get("phase") for p in parts(back, Text) if p.native.get("phase")] == [
            p.native.get("phase") for p in parts(original, Text) if p.native.get("phase")
        ]
        assert [c.input for c in parts(back, ToolCall)] == [
            c.input for c in parts(original, ToolCall)
        ]
        assert [(c.id, c.name) for c in parts(back, ToolCall)] == [
            (c.id, c.name) for c in parts(original, ToolCall)
        ]
        assert [(r.call_id, r.output, r.is_error) for r in parts(back, ToolResult)] == [
            (r.call_id, r.output, r.is_error) for r in parts(original, ToolResult)
        ]
        assert back.cwd == str(tmp_path)
        assert back.git_branch == original.git_branch
        assert back.models == original.models
        assert back.title == original.title


def test_round_trip_keeps_codex_outputs_byte_for_byte(tmp_path: Path) -> None:
    original, _ = read_codex(REAL_058)
    done = convert(original, "codex", store=tmp_path / ".codex", cwd=tmp_path, now=NOW)
    old = [p["output"] for p in payloads(REAL_058, "response_item", "function_call_output")]
    new = [
        p["output"] for p in payloads(done.written.path, "response_item", "function_call_output")
    ]
    assert new == old  # the JSON envelopes 0.58 wrote, rebuilt as they were


def test_own_encrypted_reasoning_replays_other_reasoning_becomes_text(tmp_path: Path) -> None:
    original, _ = read_codex(NEW_0169)
    done = convert(original, "codex", store=tmp_path / "a", cwd=tmp_path, now=NOW)
    assert payloads(done.written.path, "response_item", "reasoning") == [
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "**Listing files**"}],
            "content": None,
            "encrypted_content": "gAAAA-small-secret",
        }
    ]
    assert payloads(done.written.path, "event_msg", "agent_reasoning") == [
        {"type": "agent_reasoning", "text": "**Listing files**"}
    ]
    back, _ = read_codex(done.written.path)
    assert [r.text for r in parts(back, Reasoning)] == ["**Listing files**"]
    # the same reasoning from another tool: text, and said so
    foreign = small(
        Message("user", [Text("q")]),
        Message("assistant", [Reasoning("I think", signature="claude-sig"), Text("a")]),
    )
    report_done = convert(foreign, "codex", store=tmp_path / "b", cwd=tmp_path, now=NOW)
    assert not payloads(report_done.written.path, "response_item", "reasoning")
    said = payloads(report_done.written.path, "event_msg", "agent_message")
    assert said == [
        {"type": "agent_message", "message": "[reasoning]\nI think"},
        {"type": "agent_message", "message": "a"},
    ]
    assert (
        report_done.report.downgraded[
            "reasoning: Codex replays only reasoning it encrypted itself (as text)"
        ]
        == 1
    )
    assert "claude-sig" not in report_done.written.path.read_text()


def test_claude_session_becomes_native_codex_calls(tmp_path: Path) -> None:
    original = read_claude(CLAUDE_REAL)
    done = convert(original, "codex", store=tmp_path / ".codex", cwd=tmp_path, now=NOW)
    back, feed = read_codex(done.written.path)
    assert feed.skipped == 0
    bash = [c for c in parts(original, ToolCall) if c.name == "Bash"]
    shell = [c for c in parts(back, ToolCall) if c.name == "exec_command"]
    assert bash and [c.input["command"] for c in bash] == [c.input["cmd"] for c in shell]
    assert done.report.mapped["tool_call: Bash -> exec_command"] == len(bash)
    # every call answered right after it, by id, with the output Claude recorded
    outputs = {r.call_id: r.output for r in parts(back, ToolResult)}
    assert set(outputs) == {c.id for c in parts(back, ToolCall)}
    assert texts(back, "user") == texts(original, "user")
    replies = texts(back, "assistant")
    assert all(any(text in reply for reply in replies) for text in texts(original, "assistant"))


def test_generic_calls_keep_their_name_as_a_function_call(tmp_path: Path) -> None:
    session = small(
        Message("user", [Text("fetch it")]),
        Message(
            "assistant",
            [
                ToolCall("c1", "mcp__docs__search", {"q": "x"}),
                ToolCall("c2", "odd.tool name", {"a": 1}),
            ],
        ),
        Message("tool", [ToolResult("c1", "found"), ToolResult("c2", "ok")]),
    )
    done = convert(session, "codex", store=tmp_path / ".codex", cwd=tmp_path, now=NOW)
    calls = payloads(done.written.path, "response_item", "function_call")
    assert [(c["name"], c["arguments"], c["call_id"]) for c in calls] == [
        ("mcp__docs__search", '{"q":"x"}', "c1"),
        ("odd_tool_name", '{"a":1}', "c2"),
    ]
    outputs = payloads(done.written.path, "response_item", "function_call_output")
    assert [(o["call_id"], o["output"]) for o in outputs] == [("c1", "found"), ("c2", "ok")]
    report = done.report.as_dict()
    assert report["mapped"]["tool_call: mcp__docs__search (generic: no counterpart)"] == 1
    assert "tool names the OpenAI API rejects were spelled with '_' instead" in report["notes"]


def test_attachments_images_inline_others_as_text(tmp_path: Path) -> None:
    session = small(
        Message(
            "user",
            [
                Text("see"),
                Attachment("image/png", "a.png", data="iVBORw0KGgo="),
                Attachment("application/pdf", "spec.pdf", uri="file:///spec.pdf"),
            ],
        ),
        Message("assistant", [Text("seen"), Attachment("image/png", "out.png", data="AAAA")]),
    )
    done = convert(session, "codex", store=tmp_path / ".codex", cwd=tmp_path, now=NOW)
    user = payloads(done.written.path, "response_item", "message")[0]
    assert user["content"] == [
        {"type": "input_text", "text": "see"},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="},
        {"type": "input_text", "text": "[attachment: spec.pdf (application/pdf)]"},
    ]
    shown = payloads(done.written.path, "event_msg", "user_message")[0]
    assert shown["images"] == ["data:image/png;base64,iVBORw0KGgo="]
    downgraded = done.report.downgraded
    assert downgraded["attachment: not an inline image"] == 1
    assert downgraded["attachment: an assistant attachment"] == 1
    back, _ = read_codex(done.written.path)
    assert [a.data for a in parts(back, Attachment)] == ["iVBORw0KGgo="]


def test_freeform_and_server_side_calls_round_trip_in_their_own_form(tmp_path: Path) -> None:
    patch = codex_patch.update_file("a.py", "x", "y")
    rollout = (
        tmp_path / "in" / "rollout-2026-01-01T00-00-00-019c0000-0000-7000-8000-00000000000a.jsonl"
    )
    rollout.parent.mkdir()
    lines = [
        {
            "type": "session_meta",
            "payload": {"id": "019c0000-0000-7000-8000-00000000000a", "cwd": "/w"},
        },
        {
            "type": "response_item",
            "payload": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "fix"}],
            },
        },
        {
            "type": "response_item",
            "payload": {
                "type": "custom_tool_call",
                "call_id": "p1",
                "name": "apply_patch",
                "input": patch,
            },
        },
        {
            "type": "response_item",
            "payload": {"type": "custom_tool_call_output", "call_id": "p1", "output": "Success."},
        },
        {
            "type": "response_item",
            "payload": {
                "type": "web_search_call",
                "id": "ws_1",
                "status": "completed",
                "action": {"type": "search", "query": "q"},
            },
        },
        {
            "type": "response_item",
            "payload": {
                "type": "local_shell_call",
                "call_id": "l1",
                "status": "completed",
                "action": {"type": "exec", "command": ["ls"]},
            },
        },
        {
            "type": "response_item",
            "payload": {"type": "function_call_output", "call_id": "l1", "output": "a"},
        },
    ]
    stamp = "2026-01-01T00:00:00.000Z"
    rollout.write_bytes(b"".join(orjson.dumps({"timestamp": stamp, **r}) + b"\n" for r in lines))
    original, _ = read_codex(rollout)
    done = convert(original, "codex", store=tmp_path / ".codex", cwd=tmp_path, now=NOW)
    items = [(p["type"], p.get("call_id")) for p in payloads(done.written.path, "response_item")]
    assert items == [
        ("message", None),
        ("custom_tool_call", "p1"),
        ("custom_tool_call_output", "p1"),
        ("web_search_call", None),  # answered by the API itself: no output item
        ("local_shell_call", "l1"),
        ("function_call_output", "l1"),
    ]
    custom = payloads(done.written.path, "response_item", "custom_tool_call")[0]
    assert custom["input"] == patch


def test_conversion_leaves_the_source_and_other_sessions_alone(tmp_path: Path) -> None:
    store = tmp_path / ".codex"
    original, _ = read_codex(NEW_0169)
    first = convert(original, "codex", store=store, cwd=tmp_path, now=NOW)
    before = checksums(store)
    second = convert(original, "codex", store=store, cwd=tmp_path, now=NOW)
    assert second.written.native_id != first.written.native_id
    after = checksums(store)
    assert {k: v for k, v in after.items() if k in before} == before
    assert len(after) == len(before) + 1


def test_a_session_with_nothing_to_say_writes_nothing(tmp_path: Path) -> None:
    session = small(Message("system", [Text("context only")]))
    with pytest.raises(ConvertError):
        convert(session, "codex", store=tmp_path / ".codex", cwd=tmp_path, now=NOW)
    assert not (tmp_path / ".codex").exists()


def test_the_claude_writer_takes_codex_calls_back(tmp_path: Path) -> None:
    """Codex -> Claude: the shell call arrives as Claude's own Bash call."""
    original, _ = read_codex(NEW_0169)
    done = convert(original, "claude", store=tmp_path / ".claude", cwd=tmp_path, now=NOW)
    assert done.report.mapped["tool_call: exec_command -> Bash"] == 2
    assert claude_writer.name == "claude"


def test_report_says_when_codex_lists_from_its_own_index(tmp_path: Path) -> None:
    fresh = codex.write(job(hello(), tmp_path / "fresh", tmp_path))
    fresh_job = job(hello(), tmp_path / "fresh", tmp_path)
    codex.write(fresh_job)
    assert codex.UNLISTED not in fresh_job.report.notes
    indexed = tmp_path / "indexed"
    indexed.mkdir()
    (indexed / "state_5.sqlite").write_bytes(b"")  # Codex's own index: left as it is
    indexed_job = job(hello(), indexed, tmp_path)
    codex.write(indexed_job)
    assert codex.UNLISTED in indexed_job.report.notes
    assert (indexed / "state_5.sqlite").read_bytes() == b""
    assert fresh.path.is_file()


def test_the_thread_records_the_provider_codex_will_resume_with(tmp_path: Path) -> None:
    """Codex's interactive resume refuses a thread without a provider, and any resume one
    recorded under another provider: the writer records the one config.toml selects."""
    store = tmp_path / ".codex"
    store.mkdir()
    (store / "config.toml").write_text('model_provider = "mock"\n')
    meta = records(codex.write(job(hello(), store, tmp_path)).path)[0]["payload"]
    assert meta["model_provider"] == "mock"
    (store / "config.toml").write_text(
        'model_provider = "mock"\nprofile = "work"\n[profiles.work]\nmodel_provider = "azure"\n'
    )
    assert codex.configured_provider(store) == "azure"
    (store / "config.toml").write_bytes(b"\xff not toml")
    assert codex.configured_provider(store) == "openai"
