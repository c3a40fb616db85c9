"""The Gemini CLI writer: where the file goes (the CLI's project registry, untouched), its
name (safe from the CLI's session clean-up), its records, the vocabulary both ways, and
round trips through tether's own Gemini reader.

That the real CLI resumes, lists and keeps these files is proven in tests/e2e
(test_convert_real_clis.py, test_gemini_cleanup.py).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import FIXTURES, checksums
from tests.e2e.clis import PINS
from tests.writers.declared import encode_as_declared, recorded
from tether.archive.assemble import Assembly
from tether.capture.feed import feed_from_bytes
from tether.convert.session import convert
from tether.convert.writers import claude as claude_writer
from tether.convert.writers import gemini as writer
from tether.convert.writers.base import Report, WriteError, WriteJob
from tether.convert.writers.gemini_project import PROJECT_ROOT, project_folder, slugify
from tether.model import Attachment, Message, Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools import claude as claude_reader
from tether.tools import gemini as gemini_reader
from tether.tools.base import Source, SourceMode
from tether.tools.vocabulary import Canonical

NOW = datetime(2026, 11, 21, 20, 10, 30, 507000, tzinfo=UTC)
GEMINI = FIXTURES / "gemini"
CLAUDE_REAL = FIXTURES / "claude" / "real_entire_dc_49cb8a2a42_0.jsonl"
CLEANUP_SHORT_ID = re.compile(r"-([a-zA-Z0-9]{8})\.jsonl?$")
"""The CLI's sessionCleanup.ts SHORT_ID_REGEX: what a stub's clean-up deletes by."""


def read(path: Path, tool: str = "gemini") -> Session:
    mode: SourceMode = "document" if path.suffix == ".json" else "jsonl"
    reader = gemini_reader if tool == "gemini" else claude_reader
    assembly = Assembly(tool)
    assembly.apply(reader.read(feed_from_bytes(Source(path, mode), path.read_bytes()), {}))
    return assembly.session()


def session(*messages: Message, tool: str = "claude", title: str | None = None) -> Session:
    return Session(id="s" * 64, tool=tool, native_id="src-1", title=title, messages=list(messages))


def write(
    s: Session, store: Path, cwd: Path, native_id: str | None = None, same_tool: bool = False
) -> tuple[Any, Report]:
    report = Report()
    job = WriteJob(s, cwd, store, NOW, report, same_tool=same_tool, native_id=native_id)
    return writer.write(job), report


def lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def chat(s: Session) -> list[tuple[str, Any]]:
    """Every non-system part in order, as (role, what it says)."""
    out: list[tuple[str, Any]] = []
    for m in s.messages:
        if m.role == "system":
            continue
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
    return tmp_path / "home" / ".gemini"


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    folder = tmp_path / "My Shop"
    folder.mkdir()
    return folder


HELLO = session(
    Message("user", [Text("hello")], "2026-01-01T10:00:00.000Z"),
    Message("assistant", [Text("hi there")], "2026-01-01T10:00:01.000Z", model="claude-x"),
)


# -- layout, naming, modes -----------------------------------------------------------------


def test_new_folder_is_claimed_with_the_clis_marker_and_the_registry_is_untouched(
    store: Path, cwd: Path
) -> None:
    written, _ = write(HELLO, store, cwd)
    folder = store / "tmp" / "my-shop"
    assert written.path.parent == folder / "chats"
    assert (folder / PROJECT_ROOT).read_text() == str(cwd)
    assert written.paths == [written.path, folder / PROJECT_ROOT]
    assert not (store / "projects.json").exists()
    assert written.path.name == f"session-2026-11-21T20-10-{written.native_id[:8]}.jsonl"
    assert written.path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in written.path.parent.iterdir()] == [written.path.name]


def test_metadata_line_is_what_the_cli_lists_and_resumes(store: Path, cwd: Path) -> None:
    written, _ = write(session(*HELLO.messages, title="Fix the\n  build"), store, cwd)
    meta, *records = lines(written.path)
    assert meta == {
        "sessionId": written.native_id,
        "projectHash": hashlib.sha256(str(cwd).encode()).hexdigest(),
        "startTime": "2026-11-21T20:10:30.507Z",
        "lastUpdated": "2026-11-21T20:10:30.507Z",
        "kind": "main",
        "summary": "Fix the build",
    }
    assert [(r["type"], r["content"], r["timestamp"]) for r in records] == [
        ("user", [{"text": "hello"}], "2026-01-01T10:00:00.000Z"),
        ("gemini", [{"text": "hi there"}], "2026-01-01T10:00:01.000Z"),
    ]
    assert records[1]["model"] == "claude-x"
    assert len({r["id"] for r in records}) == 2


def test_new_ids_keep_every_stub_out_of_the_cleanup_pattern(store: Path, cwd: Path) -> None:
    """A stub is named session-<minute>-<id8>.jsonl; with `_` in id8 the clean-up's
    pattern never matches it, so it deletes the stub alone, never the session."""
    first, _ = write(HELLO, store, cwd)
    second, _ = write(HELLO, store, cwd)
    assert first.native_id != second.native_id and first.path != second.path
    for written in (first, second):
        sid = written.native_id
        assert re.fullmatch(
            r"[0-9a-f]{4}_[0-9a-f]{3}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", sid
        )
        stub = f"session-2026-11-21T20-15-{sid[:8]}.jsonl"
        assert CLEANUP_SHORT_ID.search(stub) is None
        assert CLEANUP_SHORT_ID.search(written.path.name) is None
        # gemini --delete-session derives the 8 characters after the last '-'
        assert written.path.stem.split("-")[-1] == sid[:8]


def test_a_callers_uuid_gets_a_suffix_no_stub_can_share(store: Path, cwd: Path) -> None:
    sid = "80032e2d-a629-549e-98da-da2520206e22"
    written, _ = write(HELLO, store, cwd, native_id=sid)
    assert written.native_id == sid
    assert written.path.name == "session-2026-11-21T20-10-80032e2d-80032e2_.jsonl"
    stub = "session-2026-11-21T20-15-80032e2d.jsonl"
    short = CLEANUP_SHORT_ID.search(stub)
    assert short is not None and not written.path.name.endswith(f"-{short.group(1)}.jsonl")
    assert sid[:8] in written.path.name  # the CLI's isCurrentSession test
    assert len(written.path.stem.split("-")[-1]) == 8  # --delete-session still finds it


def test_never_overwrites(store: Path, cwd: Path) -> None:
    written, _ = write(HELLO, store, cwd, native_id="abcd_fixed")
    before = checksums(store)
    with pytest.raises(WriteError, match="exists already"):
        write(HELLO, store, cwd, native_id="abcd_fixed")
    assert checksums(store) == before
    assert written.path.name == "session-2026-11-21T20-10-abcd_fix.jsonl"


def test_nothing_to_write_leaves_nothing(store: Path, cwd: Path) -> None:
    with pytest.raises(WriteError, match="nothing to write"):
        write(session(Message("user", [])), store, cwd)
    assert not store.exists()


# -- the project folder, as the CLI resolves it ----------------------------------------------


def registry(store: Path, projects: dict[str, str]) -> None:
    store.mkdir(parents=True, exist_ok=True)
    (store / "projects.json").write_text(orjson.dumps({"projects": projects}).decode())


def marker(folder: Path, owner: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / PROJECT_ROOT).write_text(owner)


def test_registered_folder_is_used_and_not_reclaimed(store: Path, cwd: Path) -> None:
    registry(store, {str(cwd): "shop-2"})
    marker(store / "tmp" / "shop-2", str(cwd))
    before = checksums(store)
    written, _ = write(HELLO, store, cwd)
    assert written.path.parent == store / "tmp" / "shop-2" / "chats"
    assert written.paths == [written.path]
    after = checksums(store)
    assert {k: v for k, v in after.items() if k in before} == before


def test_registered_slug_owned_by_another_folder_is_not_used(store: Path, cwd: Path) -> None:
    registry(store, {str(cwd): "my-shop", "/elsewhere/x": "x"})
    marker(store / "tmp" / "my-shop", "/elsewhere/my-shop")
    folder = project_folder(store, cwd)
    assert folder.path == store / "tmp" / "my-shop-1" and folder.claim


def test_a_marker_naming_the_folder_wins(store: Path, cwd: Path) -> None:
    marker(store / "history" / "old-name", str(cwd))
    folder = project_folder(store, cwd)
    assert folder.path == store / "tmp" / "old-name" and not folder.claim


def test_taken_slugs_are_skipped(store: Path, cwd: Path) -> None:
    registry(store, {"/a/my-shop": "my-shop"})
    marker(store / "tmp" / "my-shop-1", "/b/my-shop")
    assert project_folder(store, cwd).path == store / "tmp" / "my-shop-2"


def test_an_invalid_registry_counts_as_empty_as_in_the_cli(store: Path, cwd: Path) -> None:
    registry(store, {str(cwd): "Not A Slug"})
    assert project_folder(store, cwd).path == store / "tmp" / "my-shop"


def test_a_pre_029_folder_still_to_migrate_gets_the_session(store: Path, cwd: Path) -> None:
    legacy = store / "tmp" / hashlib.sha256(str(cwd).encode()).hexdigest()
    (legacy / "chats").mkdir(parents=True)
    written, _ = write(HELLO, store, cwd)
    assert written.path.parent == legacy / "chats" and written.paths == [written.path]
    # once the slug folder holds sessions, the CLI migrates nothing: write there
    registry(store, {str(cwd): "my-shop"})
    (store / "tmp" / "my-shop" / "chats").mkdir(parents=True)
    (store / "tmp" / "my-shop" / "chats" / "x.jsonl").write_text("")
    assert project_folder(store, cwd).path == store / "tmp" / "my-shop"


@pytest.mark.parametrize(
    ("name", "slug"),
    [("My Shop", "my-shop"), ("--a__b--", "a-b"), ("Ünïcode", "n-code"), ("", "project")],
)
def test_slugify_as_the_cli(name: str, slug: str) -> None:
    assert slugify(name) == slug


# -- records ---------------------------------------------------------------------------------


SHELL = session(
    Message("user", [Text("list it")], "2026-01-01T10:00:00.000Z"),
    Message(
        "assistant",
        [
            Reasoning("I should run ls"),
            Text("Running it."),
            ToolCall("c1", "Bash", {"command": "ls"}),
        ],
        "2026-01-01T10:00:01.000Z",
    ),
    Message("tool", [ToolResult("c1", "a.txt\nb.txt")], "2026-01-01T10:00:02.000Z"),
    Message("assistant", [Text("Two files.")], "2026-01-01T10:00:03.000Z"),
)


def converted(s: Session, store: Path, cwd: Path, **kwargs: Any) -> Any:
    return convert(s, "gemini", store=store, cwd=cwd, now=NOW, **kwargs)


def test_a_call_and_its_result_live_in_one_gemini_record(store: Path, cwd: Path) -> None:
    result = converted(SHELL, store, cwd)
    records = lines(result.written.path)[1:]
    assert [r["type"] for r in records] == ["user", "gemini", "gemini"]
    call_record = records[1]
    assert call_record["content"] == [{"text": "Running it."}]
    assert call_record["thoughts"] == [
        {"subject": "", "description": "I should run ls", "timestamp": "2026-01-01T10:00:01.000Z"}
    ]
    (call,) = call_record["toolCalls"]
    assert call["name"] == "run_shell_command" and call["args"] == {"command": "ls"}
    assert call["status"] == "success"
    assert call["result"] == [
        {
            "functionResponse": {
                "id": call["id"],
                "name": "run_shell_command",
                "response": {"output": "a.txt\nb.txt"},
            }
        }
    ]
    assert call["displayName"] == "Shell" and call["resultDisplay"] == "a.txt\nb.txt"
    report = result.report.as_dict()
    assert report["mapped"]["tool_call: Bash -> run_shell_command"] == 1
    assert report["mapped"]["reasoning: as Gemini thoughts"] == 1


def test_an_error_result_is_an_error_response(store: Path, cwd: Path) -> None:
    s = session(
        Message("user", [Text("go")]),
        Message("assistant", [ToolCall("c1", "Bash", {"command": "false"})]),
        Message("tool", [ToolResult("c1", "exit 1", is_error=True)]),
    )
    (call,) = lines(converted(s, store, cwd).written.path)[2]["toolCalls"]
    assert call["status"] == "error"
    assert call["result"][0]["functionResponse"]["response"] == {"error": "exit 1"}


def test_generic_calls_stay_calls_under_a_name_the_api_takes(store: Path, cwd: Path) -> None:
    s = session(
        Message("user", [Text("go")]),
        Message(
            "assistant",
            [
                ToolCall("c1", "mcp__db__query", {"sql": "select 1"}),
                ToolCall("c2", "9 odd/name", "raw input"),
            ],
        ),
        Message("tool", [ToolResult("c1", "1"), ToolResult("c2", "ok")]),
    )
    result = converted(s, store, cwd)
    calls = lines(result.written.path)[2]["toolCalls"]
    assert [(c["name"], c["args"]) for c in calls] == [
        ("mcp__db__query", {"sql": "select 1"}),
        ("_9_odd_name", {"input": "raw input"}),
    ]
    report = result.report.as_dict()
    assert report["mapped"]["tool_call: mcp__db__query (generic: no counterpart)"] == 1
    assert (
        "tool name '9 odd/name' became '_9_odd_name' (Gemini's function names)" in (report["notes"])
    )


def test_attachments_inline_when_gemini_takes_them_else_text(store: Path, cwd: Path) -> None:
    s = session(
        Message(
            "user",
            [
                Text("see"),
                Attachment("image/png", "a.png", data="iVBORw0K"),
                Attachment("application/zip", "b.zip", uri="file:///b.zip"),
            ],
        ),
        Message("assistant", [Text("seen"), Attachment("image/png", "c.png", data="xx")]),
    )
    result = converted(s, store, cwd)
    user, model = lines(result.written.path)[1:]
    assert user["content"] == [
        {"text": "see"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0K"}},
        {"text": "[attachment: b.zip (application/zip)]"},
    ]
    assert model["content"] == [{"text": "seen"}, {"text": "[attachment: c.png (image/png)]"}]
    downgraded = result.report.as_dict()["downgraded"]
    assert downgraded == {
        "attachment: in a model turn": 1,
        "attachment: not inline data Gemini takes": 1,
    }


def test_user_text_the_cli_would_skip_is_kept(store: Path, cwd: Path) -> None:
    s = session(
        Message("user", [Text("/tmp/x fails, why?")]), Message("assistant", [Text("Let me see.")])
    )
    result = converted(s, store, cwd)
    user = lines(result.written.path)[1]
    assert user["content"] == [{"text": "\u200b/tmp/x fails, why?"}]
    assert any("zero-width" in note for note in result.report.notes)


# -- vocabulary ------------------------------------------------------------------------------


def test_the_recorded_declarations_are_of_the_pinned_cli() -> None:
    assert recorded("gemini")["version"] == writer.CLI_VERSION == PINS["gemini"][1]


CANONICAL = [
    Canonical("shell", {"command": "ls -la", "description": "list", "workdir": "/w"}),
    Canonical("read_file", {"path": "/w/a.py", "offset": 10, "limit": 5}),
    Canonical("write_file", {"path": "/w/a.py", "content": "x = 1\n"}),
    Canonical(
        "edit_file", {"path": "/w/a.py", "old": "x = 1", "new": "x = 2", "replace_all": True}
    ),
    Canonical("list_dir", {"path": "/w"}),
    Canonical("glob", {"pattern": "**/*.py", "path": "/w"}),
    Canonical("grep", {"pattern": "def main", "path": "/w", "glob": "*.py"}),
    Canonical("web_fetch", {"url": "https://example.com/a", "prompt": "Summarise"}),
    Canonical("web_search", {"query": "gemini cli"}),
    Canonical("todo", {"items": [{"text": "ship", "status": "in_progress"}]}),
    Canonical("task", {"prompt": "Investigate the bug", "agent": "codebase_investigator"}),
]


@pytest.mark.parametrize("call", CANONICAL, ids=[c.kind for c in CANONICAL])
def test_every_action_encodes_to_a_declared_tool_and_decodes_back(call: Canonical) -> None:
    tool, args = encode_as_declared("gemini", writer.vocabulary, call)
    assert writer.vocabulary.decode(tool, args) == call


@pytest.mark.parametrize(
    ("tool", "args", "canonical"),
    [
        (
            "run_shell_command",
            {"command": "ls", "directory": "/w"},
            {"command": "ls", "workdir": "/w"},
        ),
        (
            "read_file",
            {"absolute_path": "/a", "offset": 0, "limit": 20},
            {"path": "/a", "offset": 1, "limit": 20},
        ),
        ("read_file", {"file_path": "a.py"}, {"path": "a.py"}),
        (
            "search_file_content",
            {"pattern": "x", "path": "/w", "include": "*.ts"},
            {"pattern": "x", "path": "/w", "glob": "*.ts"},
        ),
        ("list_directory", {"path": "/w"}, {"path": "/w"}),
        (
            "replace",
            {"file_path": "/a", "old_string": "a", "new_string": "b", "expected_replacements": 3},
            {"path": "/a", "old": "a", "new": "b", "replace_all": True},
        ),
        (
            "web_fetch",
            {"prompt": "Read https://x.dev/p and summarise"},
            {"url": "https://x.dev/p", "prompt": "Read https://x.dev/p and summarise"},
        ),
        (
            "write_todos",
            {"todos": [{"description": "a", "status": "cancelled"}]},
            {"items": [{"text": "a", "status": "completed"}]},
        ),
    ],
)
def test_older_names_and_arguments_decode(
    tool: str, args: dict[str, Any], canonical: dict[str, Any]
) -> None:
    decoded = writer.vocabulary.decode(tool, args)
    assert decoded is not None and decoded.args == canonical


def test_the_real_shell_call_decodes() -> None:
    real = read(GEMINI / "cli061_resumed_tool_call.jsonl")
    (call,) = [p for m in real.messages for p in m.parts if isinstance(p, ToolCall)]
    decoded = writer.vocabulary.decode(call.name, call.input)
    assert decoded == Canonical(
        "shell", {"command": "echo hello-from-shell", "description": "say hi"}
    )


# -- round trips through the reader ------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture",
    ["real_entire_ab_2b9748b105_0_legacy_session.json", "cli061_resumed_tool_call.jsonl"],
)
def test_gemini_round_trip_gives_back_every_turn_call_and_result(
    fixture: str, store: Path, cwd: Path
) -> None:
    source = read(GEMINI / fixture)
    result = converted(source, store, cwd)
    back = read(result.written.path)
    assert back.native_id == result.written.native_id
    assert back.project == str(cwd)
    assert chat(back) == chat(source)
    assert chat(back), "the fixture holds a conversation"
    thoughts = [p for m in back.messages for p in m.parts if isinstance(p, Reasoning)]
    original = [p for m in source.messages for p in m.parts if isinstance(p, Reasoning)]
    assert [t.native.get("subject") for t in thoughts] == [
        t.native.get("subject") for t in original
    ]
    models = {m.model for m in back.messages if m.role == "assistant"}
    assert models == {m.model for m in source.messages if m.role == "assistant"}


def test_claude_session_reads_back_as_gemini_calls(store: Path, cwd: Path) -> None:
    source = read(CLAUDE_REAL, "claude")
    result = converted(source, store, cwd)
    back = read(result.written.path)
    source_calls = [p for m in source.messages for p in m.parts if isinstance(p, ToolCall)]
    calls = [p for m in back.messages for p in m.parts if isinstance(p, ToolCall)]
    assert len(calls) == len(source_calls) > 0
    for original, call in zip(source_calls, calls, strict=True):
        canonical = claude_writer.vocabulary.decode(original.name, original.input)
        if canonical is None or writer.vocabulary.encode(canonical) is None:
            assert call.name == original.name  # a generic call, under its own name
            continue
        decoded = writer.vocabulary.decode(call.name, call.input)
        assert decoded is not None and decoded.kind == canonical.kind
        assert decoded.args.items() <= canonical.args.items()  # what both sides carry
    results = {
        p.call_id: p.output for m in back.messages for p in m.parts if isinstance(p, ToolResult)
    }
    assert set(results) == {c.id for c in calls}
    user_texts = [
        p.text for m in back.messages if m.role == "user" for p in m.parts if isinstance(p, Text)
    ]
    source_texts = [
        p.text for m in source.messages if m.role == "user" for p in m.parts if isinstance(p, Text)
    ]
    assert source_texts and all(any(t in mine for mine in user_texts) for t in source_texts)


def test_signed_thoughts_replay_in_content_on_a_round_trip(store: Path, cwd: Path) -> None:
    s = session(
        Message("user", [Text("go")]),
        Message(
            "assistant",
            [
                Reasoning("plan", signature="sig-1"),
                ToolCall(
                    "c1", "run_shell_command", {"command": "ls"}, {"thoughtSignature": "sig-2"}
                ),
            ],
        ),
        Message("tool", [ToolResult("c1", "a")]),
        tool="gemini",
    )
    model = lines(converted(s, store, cwd).written.path)[2]
    assert model["content"] == [
        {"text": "plan", "thought": True, "thoughtSignature": "sig-1"},
        {
            "functionCall": {"id": "c1", "name": "run_shell_command", "args": {"command": "ls"}},
            "thoughtSignature": "sig-2",
        },
    ]
    assert model["toolCalls"][0]["result"][0]["functionResponse"]["response"] == {"output": "a"}
    back = read(Path(converted(s, store, cwd).written.path))
    assert chat(back) == chat(s)


def test_source_folder_is_never_written(store: Path, cwd: Path, tmp_path: Path) -> None:
    before = checksums(GEMINI)
    converted(read(GEMINI / "cli061_resumed_tool_call.jsonl"), store, cwd)
    assert checksums(GEMINI) == before
    assert [p.name for p in store.iterdir()] == ["tmp"]
