"""The Copilot CLI writer: the folder it makes, the event chain, the vocabulary both ways,
and what its report says; every written session read back through the Copilot reader.

The real proof (copilot --resume and --continue sending it all to the model) is in
tests/e2e/test_convert_real_clis.py; the facts the writer relies on were verified there too.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import FIXTURES, checksums, run
from tests.e2e.clis import PINS
from tests.writers.declared import declared_tools, encode_as_declared, recorded
from tether.archive.assemble import Assembly
from tether.capture.feed import FileFeed
from tether.convert.session import Converted, convert
from tether.convert.writers import claude as claude_writer
from tether.convert.writers import copilot as writer
from tether.convert.writers.base import WriteError
from tether.model import Attachment, Message, Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools import copilot as reader
from tether.tools.registry import get_tool
from tether.tools.vocabulary import Canonical
from tether.tools.vocabulary import copilot as copilot_calls
from tether.tools.vocabulary import copilot as copilot_vocabulary

REAL_ID = "3422d2c9-cb79-5958-8427-2446ef85bafb"
REAL = FIXTURES / "copilot" / "real_1.0.102" / REAL_ID / "events.jsonl"
CLAUDE_REAL = FIXTURES / "claude" / "real_entire_dc_49cb8a2a42_0.jsonl"
PNG = (  # a real 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
T0 = "2026-01-01T00:00:00Z"
NOW = datetime(2026, 11, 22, 9, 30, 0, 123000, tzinfo=UTC)


def read_native(tool: str, path: Path) -> Session:
    """A file read by its tool's reader, as capture would."""
    adapter = get_tool(tool)
    source = adapter.sniff(path, path.read_bytes()[:16384])
    assert source is not None, path
    assembly = Assembly(tool, source.native_id)
    assembly.apply(adapter.read(FileFeed(source), {}))
    return assembly.session()


def to_copilot(session: Session, tmp_path: Path, **options: Any) -> Converted:
    cwd = options.pop("cwd", None) or tmp_path / "project"
    cwd.mkdir(parents=True, exist_ok=True)
    return convert(session, "copilot", store=tmp_path / "store", cwd=cwd, now=NOW, **options)


def events(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def of_type(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r["data"] for r in records if r["type"] == kind]


def conversation(session: Session) -> tuple[list[str], list[str], list[Any], list[Any]]:
    """User texts, assistant texts, calls (id, name, input), results (id, output, error)."""
    users, assistants, calls, results = [], [], [], []
    for message in session.messages:
        for part in message.parts:
            if isinstance(part, Text) and message.role == "user":
                users.append(part.text)
            elif isinstance(part, Text) and message.role == "assistant":
                assistants.append(part.text)
            elif isinstance(part, ToolCall):
                calls.append((part.id, part.name, part.input))
            elif isinstance(part, ToolResult):
                results.append((part.call_id, part.output, part.is_error))
    return users, assistants, calls, results


def claude_session(*messages: Message, **fields: Any) -> Session:
    return Session(id="c" * 64, tool="claude", native_id="n1", messages=list(messages), **fields)


# --- layout ------------------------------------------------------------------------------


def test_a_new_folder_with_the_event_log_and_workspace(tmp_path: Path) -> None:
    converted = to_copilot(read_native("copilot", REAL), tmp_path)
    written = converted.written
    folder = tmp_path / "store" / "session-state" / written.native_id
    assert written.native_id != REAL_ID and len(written.native_id) == 36
    assert written.path == folder / "events.jsonl"
    assert written.paths == [folder / "events.jsonl", folder / "workspace.yaml"]
    assert sorted(p.name for p in folder.iterdir()) == ["events.jsonl", "workspace.yaml"]
    assert folder.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in written.paths} == {0o600}
    assert converted.resume_command == ["copilot", f"--resume={written.native_id}"]


def test_events_open_with_session_start_and_chain_by_parent_id(tmp_path: Path) -> None:
    written = to_copilot(read_native("copilot", REAL), tmp_path).written
    records = events(written.path)
    assert records[0]["type"] == "session.start" and records[0]["parentId"] is None
    start = records[0]["data"]
    assert start["sessionId"] == written.native_id
    assert (start["version"], start["producer"], start["copilotVersion"]) == (
        1,
        "copilot-agent",
        writer.CLI_VERSION,
    )
    assert start["context"] == {"cwd": str(tmp_path / "project")}
    for before, after in itertools.pairwise(records):
        assert after["parentId"] == before["id"]
    assert len({r["id"] for r in records}) == len(records)
    assert all(set(r) == {"type", "data", "id", "timestamp", "parentId"} for r in records)
    # every turn that starts ends, and every result answers a call made before it
    starts, ends = of_type(records, "assistant.turn_start"), of_type(records, "assistant.turn_end")
    assert [s["turnId"] for s in starts] == [e["turnId"] for e in ends] and starts
    asked: set[str] = set()
    for record in records:
        if record["type"] == "assistant.message":
            asked |= {r["toolCallId"] for r in record["data"]["toolRequests"]}
        if record["type"] == "tool.execution_complete":
            assert record["data"]["toolCallId"] in asked


def test_round_trip_gives_back_every_turn_call_and_result(tmp_path: Path) -> None:
    original = read_native("copilot", REAL)
    written = to_copilot(original, tmp_path).written
    copy = read_native("copilot", written.path)
    users, assistants, calls, results = conversation(original)
    assert calls and results and len(users) == 3
    assert conversation(copy) == (users, assistants, calls, results)
    assert (
        copy.title == original.title == "Hello from copilot: please remember the word zebra-copilot"
    )
    assert copy.cwd == str(tmp_path / "project") and copy.native_id == written.native_id
    # its own model may replay: the CLI resumes with session.start's selectedModel
    assert events(written.path)[0]["data"]["selectedModel"] == "gpt-4.1"


def test_user_messages_carry_their_own_time_as_the_cli_sends_it(tmp_path: Path) -> None:
    written = to_copilot(read_native("copilot", REAL), tmp_path).written
    users = of_type(events(written.path), "user.message")
    original = of_type(events(REAL), "user.message")
    assert [u["content"] for u in users] == [u["content"] for u in original]
    # the same model-facing text the CLI recorded: the time of the message, then the message
    assert [u["transformedContent"] for u in users] == [u["transformedContent"] for u in original]


# --- never over anything -----------------------------------------------------------------


def test_never_writes_over_an_existing_session(tmp_path: Path) -> None:
    session = read_native("copilot", REAL)
    store = tmp_path / "store" / "session-state"
    (store / REAL_ID).mkdir(parents=True)
    shutil.copy(REAL, store / REAL_ID / "events.jsonl")
    flat = "7c0d9e2f-1a3b-4c5d-8e6f-0a1b2c3d4e5f"
    (store / f"{flat}.jsonl").write_bytes(b"{}\n")
    before = checksums(tmp_path / "store")
    for taken in (REAL_ID, flat):
        with pytest.raises(WriteError, match="not overwritten"):
            to_copilot(session, tmp_path, native_id=taken)
    assert checksums(tmp_path / "store") == before
    assert sorted(p.name for p in store.iterdir()) == [REAL_ID, f"{flat}.jsonl"]


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = writer.write_new

    def failing(path: Path, data: bytes) -> None:
        if path.name == "events.jsonl":
            raise OSError("disk full")
        real_write(path, data)

    monkeypatch.setattr(writer, "write_new", failing)
    with pytest.raises(OSError, match="disk full"):
        to_copilot(read_native("copilot", REAL), tmp_path)
    assert list((tmp_path / "store" / "session-state").iterdir()) == []


def test_nothing_to_write_is_an_error_and_writes_nothing(tmp_path: Path) -> None:
    from tether.convert.writers.base import Report, WriteJob

    empty = claude_session(Message("user", [Attachment("image/png")]))
    empty.messages[0].parts = []
    job = WriteJob(empty, tmp_path, tmp_path / "store", NOW, Report())
    with pytest.raises(WriteError, match="nothing to write"):
        writer.write(job)
    assert not (tmp_path / "store").exists()


# --- from another tool -------------------------------------------------------------------


def test_claude_session_becomes_copilot_calls_reasoning_and_models(tmp_path: Path) -> None:
    source = read_native("claude", CLAUDE_REAL)
    converted = to_copilot(source, tmp_path)
    records = events(converted.written.path)
    messages = of_type(records, "assistant.message")
    requests = [r for m in messages for r in m["toolRequests"]]
    shells = [r for r in requests if r["name"] == "bash"]
    tasks = [r for r in requests if r["name"] == "task"]
    assert len(shells) == 2 and len(tasks) == 2 and len(requests) == 4
    sources = [p for m in source.messages for p in m.parts if isinstance(p, ToolCall)]
    bash_inputs = [c.input for c in sources if c.name == "Bash"]
    assert [s["arguments"]["command"] for s in shells] == [i["command"] for i in bash_inputs]
    for shell in shells:  # bash requires a description
        assert 0 < len(shell["arguments"]["description"]) <= copilot_calls.DESCRIPTION_MAX
    for task in tasks:  # every argument task requires, agent_type from its enum
        assert {"description", "prompt", "agent_type", "name"} <= set(task["arguments"])
        assert task["arguments"]["agent_type"] in copilot_calls.AGENT_TYPES
    assert any(m.get("reasoningText") for m in messages)
    assert {m.get("model") for m in messages} <= set(source.models) | {None}
    assert "selectedModel" not in records[0]["data"]  # a Claude model name is no Copilot model
    report = converted.report.as_dict()
    assert report["mapped"]["tool_call: Bash -> bash"] == 2
    assert report["mapped"]["tool_call: Task -> task"] == 2
    assert report["mapped"]["reasoning: reasoningText (Copilot's own, readable form)"] >= 1
    # and it reads back: same calls under Copilot's names, every result paired
    copy = read_native("copilot", converted.written.path)
    _, _, calls, results = conversation(copy)
    assert [c[0] for c in calls] == [r[0] for r in results]
    decoded = [writer.vocabulary.decode(name, args) for _, name, args in calls]
    assert [d.args["command"] for d in decoded if d and d.kind == "shell"] == [
        i["command"] for i in bash_inputs
    ]


def test_inline_images_stay_attachments_other_attachments_become_text(tmp_path: Path) -> None:
    # the fixtures' images are redacted: a real 1x1 PNG, which 1.0.102 replays as image_url
    source = claude_session(
        Message("user", [Text("look"), Attachment("image/png", "dot.png", data=PNG)], T0),
        Message("assistant", [Text("a dot")]),
        Message("user", [Text("see"), Attachment("application/pdf", "spec.pdf", uri="/x/s.pdf")]),
    )
    converted = to_copilot(source, tmp_path)
    users = of_type(events(converted.written.path), "user.message")
    blobs = [a for u in users for a in u.get("attachments", [])]
    assert blobs and all(a["type"] == "blob" and a["mimeType"].startswith("image/") for a in blobs)
    assert "[attachment: spec.pdf (application/pdf)]" in users[-1]["content"]
    report = converted.report.as_dict()
    assert report["mapped"]["attachment: inline image -> blob"] == len(blobs)
    reason = "attachment: not an inline image: Copilot reads files when sent"
    assert report["downgraded"][reason] == 1
    copy = read_native("copilot", converted.written.path)
    images = [p for m in copy.messages for p in m.parts if isinstance(p, Attachment)]
    assert [(a.media_type, a.data) for a in images] == [(a["mimeType"], a["data"]) for a in blobs]


def test_calls_without_counterpart_stay_native_calls_under_a_safe_name(tmp_path: Path) -> None:
    todo = {"todos": [{"content": "ship", "status": "pending", "activeForm": "shipping"}]}
    source = claude_session(
        Message("user", [Text("plan it")], T0),
        Message(
            "assistant",
            [
                Reasoning("think first"),
                ToolCall("t1", "TodoWrite", todo),
                ToolCall("t2", "mcp:srv.tool", {"q": 1}),
                ToolCall("t3", "apply_patch", "*** Begin Patch"),
            ],
        ),
        Message(
            "user",
            [
                ToolResult("t1", "ok"),
                ToolResult("t2", "boom", is_error=True),
                ToolResult("t3", "patched"),
            ],
        ),
        Message("assistant", [Text("done")]),
    )
    converted = to_copilot(source, tmp_path)
    records = events(converted.written.path)
    requests = of_type(records, "assistant.message")[0]["toolRequests"]
    assert [(r["name"], r["arguments"]) for r in requests] == [
        ("TodoWrite", todo),
        ("mcp_srv_tool", {"q": 1}),
        ("apply_patch", {"input": "*** Begin Patch"}),  # arguments are an object
    ]
    starts = of_type(records, "tool.execution_start")
    assert [(s["toolName"], s["arguments"]) for s in starts] == [
        (r["name"], r["arguments"]) for r in requests
    ]
    completes = of_type(records, "tool.execution_complete")
    assert [(c["success"], c.get("error")) for c in completes] == [
        (True, None),
        (False, {"message": "boom"}),
        (True, None),
    ]
    report = converted.report.as_dict()
    assert report["mapped"]["tool_call: TodoWrite (generic: no counterpart)"] == 1
    assert report["mapped"]["tool_call: mcp:srv.tool (generic: no counterpart)"] == 1
    copy = read_native("copilot", converted.written.path)
    assert conversation(copy)[3] == [
        ("t1", "ok", False),
        ("t2", "boom", True),
        ("t3", "patched", False),
    ]
    assert [p.text for m in copy.messages for p in m.parts if isinstance(p, Reasoning)] == [
        "think first"
    ]


def test_git_facts_only_where_the_session_resumes_in_their_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    inside = repo / "src"
    inside.mkdir(parents=True)
    source = claude_session(
        Message("user", [Text("hi")], T0),
        Message("assistant", [Text("hello")]),
        project=str(repo),
        git_branch="feat/x",
        git_commit="abc123",
    )
    written = to_copilot(source, tmp_path, cwd=inside).written
    context = events(written.path)[0]["data"]["context"]
    assert context == {
        "cwd": str(inside),
        "gitRoot": str(repo),
        "branch": "feat/x",
        "headCommit": "abc123",
    }
    fields = reader.workspace_fields(written.path.parent / "workspace.yaml")
    assert (fields["git_root"], fields["branch"], fields["cwd"]) == (
        str(repo),
        "feat/x",
        str(inside),
    )
    elsewhere = to_copilot(source, tmp_path, cwd=tmp_path / "other").written
    assert events(elsewhere.path)[0]["data"]["context"] == {"cwd": str(tmp_path / "other")}
    assert "git_root" not in reader.workspace_fields(elsewhere.path.parent / "workspace.yaml")


@pytest.mark.parametrize(
    "title",
    ['Fix: the "parser" # again', "true", "multi\nline  title", "ünïcode ✓ 'quoted'", "12345"],
)
def test_workspace_name_reads_back_as_the_title(tmp_path: Path, title: str) -> None:
    source = claude_session(
        Message("user", [Text("hi")], T0),
        Message("assistant", [Text("hello")]),
        title=title,
    )
    written = to_copilot(source, tmp_path).written
    fields = reader.workspace_fields(written.path.parent / "workspace.yaml")
    assert fields["name"] == " ".join(title.split())
    assert fields["id"] == written.native_id
    assert (fields["created_at"], fields["updated_at"]) == (
        "2026-01-01T00:00:00.000Z",
        "2026-11-22T09:30:00.123Z",
    )
    assert read_native("copilot", written.path).title == " ".join(title.split())


# --- vocabulary ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("native_name", "native", "kind", "canonical"),
    [
        (
            "bash",
            {"command": "ls", "description": "List"},
            "shell",
            {"command": "ls", "description": "List"},
        ),
        ("shell", {"command": "ls"}, "shell", {"command": "ls"}),
        ("powershell", {"command": "dir"}, "shell", {"command": "dir"}),
        (
            "view",
            {"path": "/a", "view_range": [10, 19]},
            "read_file",
            {"path": "/a", "offset": 10, "limit": 10},
        ),
        ("view", {"path": "/a", "view_range": [5, -1]}, "read_file", {"path": "/a", "offset": 5}),
        ("create", {"path": "/a", "file_text": "x"}, "write_file", {"path": "/a", "content": "x"}),
        (
            "edit",
            {"path": "/a", "old_str": "x", "new_str": "y"},
            "edit_file",
            {"path": "/a", "old": "x", "new": "y"},
        ),
        (
            "grep",
            {"pattern": "re", "paths": ["src"], "glob": "*.py"},
            "grep",
            {"pattern": "re", "path": "src", "glob": "*.py"},
        ),
        (
            "glob",
            {"pattern": "**/*.ts", "paths": "web"},
            "glob",
            {"pattern": "**/*.ts", "path": "web"},
        ),
        ("web_fetch", {"url": "https://x.dev", "raw": True}, "web_fetch", {"url": "https://x.dev"}),
        (
            "task",
            {"description": "d", "prompt": "p", "agent_type": "explore", "name": "n"},
            "task",
            {"description": "d", "prompt": "p", "agent": "explore"},
        ),
    ],
)
def test_vocabulary_decodes_the_calls_copilot_makes(
    native_name: str, native: dict[str, Any], kind: str, canonical: dict[str, Any]
) -> None:
    assert writer.vocabulary.decode(native_name, native) == Canonical(kind, canonical)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "canonical", "encoded"),
    [
        (
            "shell",
            {"command": "make test"},
            ("bash", {"command": "make test", "description": "make test"}),
        ),
        (
            "shell",
            {"command": "ls", "workdir": "/my dir"},
            ("bash", {"command": "cd '/my dir' && ls", "description": "cd '/my dir' && ls"}),
        ),
        (
            "read_file",
            {"path": "/a", "offset": 3, "limit": 2},
            ("view", {"path": "/a", "view_range": [3, 4]}),
        ),
        ("read_file", {"path": "/a", "limit": 5}, ("view", {"path": "/a", "view_range": [1, 5]})),
        ("list_dir", {"path": "/d"}, ("view", {"path": "/d"})),
        (
            "edit_file",
            {"path": "/a", "old": "x", "new": "y"},
            ("edit", {"path": "/a", "old_str": "x", "new_str": "y"}),
        ),
        ("edit_file", {"path": "/a", "old": "x", "new": "y", "replace_all": True}, None),
        ("grep", {"pattern": "re", "path": "src"}, ("grep", {"pattern": "re", "paths": "src"})),
        ("web_search", {"query": "q"}, ("web_search", {"query": "q"})),
        (
            "task",
            {"prompt": "Find the bug", "agent": "Explore"},
            (
                "task",
                {
                    "description": "Find the bug",
                    "prompt": "Find the bug",
                    "agent_type": "explore",
                    "name": "find-the-bug",
                },
            ),
        ),
        (
            "task",
            {"prompt": "p", "description": "Review it", "agent": "nope"},
            (
                "task",
                {
                    "description": "Review it",
                    "prompt": "p",
                    "agent_type": "general-purpose",
                    "name": "review-it",
                },
            ),
        ),
        ("todo", {"items": [{"text": "x", "status": "pending"}]}, None),
    ],
)
def test_vocabulary_encodes_canonical_calls_as_copilot_declares_them(
    kind: str, canonical: dict[str, Any], encoded: tuple[str, dict[str, Any]] | None
) -> None:
    assert writer.vocabulary.encode(Canonical(kind, canonical)) == encoded  # type: ignore[arg-type]


CANONICAL = [
    Canonical("shell", {"command": "ls -la", "description": "list", "workdir": "/w"}),
    Canonical("read_file", {"path": "/w/a.py", "offset": 10, "limit": 5}),
    Canonical("write_file", {"path": "/w/a.py", "content": "x = 1\n"}),
    Canonical("edit_file", {"path": "/w/a.py", "old": "x = 1", "new": "x = 2"}),
    Canonical("list_dir", {"path": "/w"}),
    Canonical("glob", {"pattern": "**/*.py", "path": "/w"}),
    Canonical("grep", {"pattern": "def main", "path": "/w", "glob": "*.py"}),
    Canonical("web_fetch", {"url": "https://example.com/a"}),
    Canonical("task", {"prompt": "Investigate the bug", "agent": "Explore"}),
]


def test_the_recorded_declarations_are_of_the_pinned_cli() -> None:
    assert recorded("copilot")["version"] == writer.CLI_VERSION == PINS["copilot"][1]


@pytest.mark.parametrize("call", CANONICAL, ids=[c.kind for c in CANONICAL])
def test_every_action_encodes_to_a_tool_the_pinned_cli_declares(call: Canonical) -> None:
    encode_as_declared("copilot", writer.vocabulary, call)


def test_web_search_is_the_one_action_the_recording_cannot_show() -> None:
    """1.0.102 has no web_search of its own: its changelog names GitHub's MCP server's
    (`github-mcp-server/web_search`), there for a signed-in user only, and the recording
    runs with a bring-your-own-key provider. The call is kept by name; the CLI replays it."""
    assert "web_search" not in declared_tools("copilot")
    assert writer.vocabulary.encode(Canonical("web_search", {"query": "q"})) == (
        "web_search",
        {"query": "q"},
    )
    assert writer.accepts_generic_calls


def test_the_agent_types_are_the_ones_task_declares() -> None:
    declared = declared_tools("copilot")["task"]["properties"]["agent_type"]["enum"]
    assert set(declared) == copilot_vocabulary.AGENT_TYPES


def test_a_long_shell_description_is_cut_to_what_bash_allows() -> None:
    command = "echo " + "x" * 300
    encoded = writer.vocabulary.encode(Canonical("shell", {"command": command}))
    assert encoded is not None
    assert encoded[1]["command"] == command
    assert len(encoded[1]["description"]) == copilot_calls.DESCRIPTION_MAX


def test_calls_from_copilot_map_to_claude_both_ways() -> None:
    native = {"command": "git status", "description": "Show status"}
    canonical = writer.vocabulary.decode("bash", native)
    assert canonical is not None
    assert claude_writer.vocabulary.encode(canonical) == ("Bash", native)
    back = claude_writer.vocabulary.decode("Bash", native)
    assert back is not None and writer.vocabulary.encode(back) == ("bash", native)


# --- the command line ----------------------------------------------------------------------


def test_convert_command_writes_into_copilot_home(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tether convert ID --to copilot --json`: into $COPILOT_HOME, nothing else touched."""
    source_home = tmp_path / "source-copilot"
    shutil.copytree(REAL.parent, source_home / "session-state" / REAL_ID)
    monkeypatch.setenv("COPILOT_HOME", str(source_home))
    listed = json.loads(run("list", "--json", "--tool", "copilot").output)
    assert [s["native_id"] for s in listed] == [REAL_ID]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "copilot").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "copilot").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")
    before = checksums(source_home)
    target = tmp_path / "target-copilot"
    monkeypatch.setenv("COPILOT_HOME", str(target))
    result = json.loads(
        run("convert", listed[0]["id"], "--to", "copilot", "--cwd", str(tmp_path), "--json").output
    )
    assert result["tool"] == "copilot"
    assert Path(result["path"]) == target / "session-state" / result["native_id"] / "events.jsonl"
    assert result["resume_command"] == ["copilot", f"--resume={result['native_id']}"]
    assert checksums(source_home) == before
