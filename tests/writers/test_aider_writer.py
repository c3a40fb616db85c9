"""The Aider writer: the history file it makes (never the user's own), the resume arguments,
tool calls and reasoning as text, every written history read back through the Aider reader.

The real proof (aider --restore-chat-history sending it all to the model) is in
tests/e2e/test_convert_to_aider.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import FIXTURES, checksums
from tether.archive.assemble import Assembly
from tether.capture.feed import feed_from_bytes
from tether.convert.session import Converted, convert
from tether.convert.writers import aider as writer
from tether.model import Attachment, Message, Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools import aider as reader
from tether.tools.base import Source, member_path

CLAUDE_REAL = FIXTURES / "claude" / "real_entire_dc_49cb8a2a42_0.jsonl"
T0 = "2026-01-01T00:00:00Z"
NOW = datetime(2026, 11, 22, 9, 30, 0, tzinfo=UTC)
PNG = (  # a real 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def read_back(path: Path) -> dict[str, Session]:
    """Every session of a history file, by native id, as capture would read them."""
    source = reader.container(path)
    assert source.members is not None
    out = {}
    for member in source.members(lambda reason: None):
        sub = Source(member_path(path, member.key), member.mode, member.key)
        assembly = Assembly("aider", member.key)
        assembly.apply(reader.read(feed_from_bytes(sub, member.load()), {}))
        out[member.key] = assembly.session()
    return out


def texts(session: Session, role: str) -> list[str]:
    return [
        p.text for m in session.messages if m.role == role for p in m.parts if isinstance(p, Text)
    ]


def source_session() -> Session:
    return Session(
        id="s" * 64,
        tool="claude",
        native_id="abc-123",
        cwd="/nowhere",
        messages=[
            Message("user", [Text("fix the bug\nin two lines")], T0),
            Message(
                "assistant",
                [
                    Reasoning("think first"),
                    Text("# Plan\n> quoted\n#### not a user line\nplain"),
                    ToolCall("c1", "Bash", {"command": "echo MARK-7"}),
                ],
                T0,
                model="claude-opus-4-8",
            ),
            Message("tool", [ToolResult("c1", "MARK-7\n")], T0),
            Message("user", [Text("thanks"), Attachment("image/png", "a.png", PNG)], T0),
            Message("assistant", [Text("done")], T0),
        ],
    )


def to_aider(session: Session, cwd: Path, tmp_path: Path) -> Converted:
    cwd.mkdir(parents=True, exist_ok=True)
    return convert(session, "aider", store=tmp_path / "unused", cwd=cwd, now=NOW)


def test_a_new_folder_gets_its_history_and_reads_back_the_same(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    result = to_aider(source_session(), folder, tmp_path)
    path = result.written.path
    assert path == folder / ".aider.chat.history.md"
    assert path.stat().st_mode & 0o777 == 0o600
    assert result.resume_command == ["aider", "--restore-chat-history"]
    assert not (tmp_path / "unused").exists()

    sessions = read_back(path)
    assert list(sessions) == [result.written.native_id]
    session = sessions[result.written.native_id]
    assert session.cwd == str(folder)
    users, assistants = texts(session, "user"), texts(session, "assistant")
    assert users[0] == "fix the bug\nin two lines"
    assert "echo MARK-7" in assistants[0] and "think first" in assistants[0]
    # lines aider would take as a header, its output or the user stay the assistant's
    assert " # Plan\n > quoted\n #### not a user line\nplain" in assistants[0]
    assert "MARK-7" in users[1] and "thanks" in users[1]
    assert assistants[1] == "done"
    assert all(m.model == "claude-opus-4-8" for m in session.messages if m.role == "assistant")
    header = path.read_text().splitlines()[1]
    local = NOW.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert header == f"# aider chat started at {local}"


def test_aider_has_no_tool_calls_so_every_call_is_text() -> None:
    assert writer.vocabulary.decode("Bash", {"command": "ls"}) is None
    assert writer.accepts_generic_calls is False


def test_the_report_says_what_became_text_or_was_dropped(tmp_path: Path) -> None:
    report = to_aider(source_session(), tmp_path / "p", tmp_path).report.as_dict()
    assert report["downgraded"]["tool_call: Bash: no counterpart in aider"] == 1
    assert report["downgraded"]["tool_result: its call was written as text"] == 1
    assert any(key.startswith("reasoning") for key in report["downgraded"])
    assert any(key.startswith("attachment") for key in report["dropped"])
    assert any("a space was put in front" in note for note in report["notes"])


def test_the_users_own_history_is_never_touched(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    own = folder / ".aider.chat.history.md"
    own.write_text("\n# aider chat started at 2025-01-01 10:00:00\n\n#### mine  \n\nyes\n")
    before = checksums(folder)
    first = to_aider(source_session(), folder, tmp_path)
    second = to_aider(source_session(), folder, tmp_path)
    assert {k: v for k, v in checksums(folder).items() if k in before} == before
    paths = {first.written.path, second.written.path}
    assert len(paths) == 2 and own not in paths
    for result in (first, second):
        path = result.written.path
        assert path.name.startswith(".aider.chat.history.tether-") and path.suffix == ".md"
        assert result.resume_command == [
            "aider",
            "--restore-chat-history",
            "--chat-history-file",
            str(path),
        ]
        assert texts(read_back(path)[result.written.native_id], "assistant")[-1] == "done"


def test_below_a_git_root_the_history_is_named(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    folder = tmp_path / "repo" / "sub"
    result = to_aider(source_session(), folder, tmp_path)
    assert result.written.path == folder / ".aider.chat.history.md"
    assert result.resume_command[-2:] == ["--chat-history-file", str(result.written.path)]


def test_a_restore_keeps_the_start_of_the_native_id(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    native_id = f"2024-08-05T19:33:02@{folder}"
    session = source_session()
    result = convert(session, "aider", store=tmp_path, cwd=folder, now=NOW, native_id=native_id)
    assert result.written.native_id == native_id
    assert list(read_back(result.written.path)) == [native_id]


def test_a_real_claude_session_converts_with_its_calls_as_text(tmp_path: Path) -> None:
    from tests.writers.test_copilot_writer import read_native

    source = read_native("claude", CLAUDE_REAL)
    calls = [p for m in source.messages for p in m.parts if isinstance(p, ToolCall)]
    result = to_aider(source, tmp_path / "p", tmp_path)
    session = read_back(result.written.path)[result.written.native_id]
    written = "\n".join(texts(session, "user") + texts(session, "assistant"))
    assert calls and all(f"[tool call {call.name}:" in written for call in calls)
    first_user = next(t for t in texts(source, "user") if t.strip())
    assert first_user.strip().splitlines()[0] in written


def test_a_history_written_beside_the_users_is_found_by_scan(isolated_home: Path) -> None:
    """The tether-named history (the user already had one) is captured like the user's."""
    from tether.tools import aider as reader

    folder = isolated_home / "proj"
    folder.mkdir()
    (folder / reader.HISTORY).write_text(
        "# aider chat started at 2024-01-01 10:00:00\n\n#### hi\n\nHello.\n"
    )
    named = folder / ".aider.chat.history.tether-0123456789ab.md"
    named.write_text("# aider chat started at 2024-01-01 10:00:00\n\n#### again\n\nSure.\n")
    sources = list(reader.discover(folder))
    assert [s.path.name for s in sources] == [reader.HISTORY, named.name]
    ids = set()
    for source in sources:
        assert source.members is not None
        ids |= {member.key for member in source.members(lambda reason: None)}
    assert ids == {f"2024-01-01T10:00:00@{folder}", f"2024-01-01T10:00:00@{named}"}
