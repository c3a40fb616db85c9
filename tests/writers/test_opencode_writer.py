"""The opencode writer: the export JSON it hands to `opencode import` (shape, ids, times),
the vocabulary both ways, what its report says, and every written session read back
through the opencode reader.

`opencode` here is a stand-in on PATH that answers `debug config`, `models` and `import`
as opencode 1.18.33 does; the real proof (the real `opencode import`, then `opencode run
--session` and `--continue` sending it all to the model) is tests/e2e/test_convert_to_opencode.py.
"""

from __future__ import annotations

import os
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import FIXTURES
from tether.archive.assemble import Assembly
from tether.capture.feed import feed_from_bytes
from tether.convert.session import Converted, convert
from tether.convert.writers import opencode as writer
from tether.convert.writers.base import WriteError
from tether.model import Attachment, Message, Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools import opencode as reader
from tether.tools.base import Source
from tether.tools.vocabulary import Canonical

NOW = datetime(2026, 11, 22, 9, 30, 0, 123000, tzinfo=UTC)
T0 = "2026-01-01T00:00:00Z"
T1 = "2026-01-01T00:00:05Z"
T2 = "2026-01-01T00:00:09Z"
PNG = (  # a real 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

FAKE = """\
#!{python}
import json, os, sys
log = os.environ.get("FAKE_OPENCODE_LOG")
if log:
    with open(log, "a") as fh:
        fh.write(json.dumps([sys.argv[1:], os.getcwd(), os.environ.get("XDG_DATA_HOME")]) + "\\n")
args = sys.argv[1:]
if args[:2] == ["debug", "config"]:
    print(json.dumps({{"model": os.environ["FAKE_OPENCODE_MODEL"]}}
                     if os.environ.get("FAKE_OPENCODE_MODEL") else {{}}))
elif args[:1] == ["models"]:
    print("opencode/big-pickle\\nmock/test-model")
elif args[:1] == ["import"]:
    if os.environ.get("FAKE_OPENCODE_FAIL"):
        print("Error: Missing key", file=sys.stderr)
        sys.exit(1)
    print("Imported session: " + json.load(open(args[1]))["info"]["id"])
"""


@pytest.fixture
def fake_opencode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in `opencode` first on PATH; returns the log of its calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "opencode"
    fake.write_text(FAKE.format(python=sys.executable))
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "opencode-calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_OPENCODE_LOG", str(log))
    monkeypatch.setenv("FAKE_OPENCODE_MODEL", "mock/test-model")
    return log


def calls(log: Path) -> list[Any]:
    return [orjson.loads(line) for line in log.read_bytes().splitlines()] if log.exists() else []


def to_opencode(session: Session, tmp_path: Path, **options: Any) -> Converted:
    cwd = tmp_path / "project"
    cwd.mkdir(exist_ok=True)
    store = tmp_path / "data" / "opencode"
    return convert(session, "opencode", store=store, cwd=cwd, now=NOW, **options)


def exported(result: Converted) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(result.written.path.read_bytes())
    return data


def read_back(export: dict[str, Any]) -> Session:
    """The export as the reader reads a session out of opencode's database."""
    lines = [{"session": export["info"]}, *export["messages"]]
    data = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    feed = feed_from_bytes(Source(Path("x#s"), "jsonl", "s"), data)
    assembly = Assembly("opencode", export["info"]["id"])
    assembly.apply(reader.read(feed, {}))
    assert feed.skipped == 0
    return assembly.session()


def claude_session(*messages: Message, **fields: Any) -> Session:
    return Session(id="c" * 64, tool="claude", native_id="n1", messages=list(messages), **fields)


def shell_session() -> Session:
    return claude_session(
        Message("user", [Text("please list")], T0),
        Message("assistant", [Text("Listing."), ToolCall("tu1", "Bash", {"command": "ls"})], T1),
        Message("user", [ToolResult("tu1", "a.txt\nb.txt")], T1),
        Message("assistant", [Text("Two files.")], T2),
        title="Listing files",
    )


def test_export_holds_the_session_its_messages_and_parts(
    fake_opencode: Path, tmp_path: Path
) -> None:
    result = to_opencode(shell_session(), tmp_path)
    export = exported(result)
    info = export["info"]
    assert info["id"] == result.written.native_id
    assert info["directory"] == str((tmp_path / "project").resolve())
    assert info["title"] == "Listing files" and info["version"] == writer.CLI_VERSION
    roles = [m["info"]["role"] for m in export["messages"]]
    assert roles == ["user", "assistant", "assistant"]
    for message in export["messages"]:
        assert message["info"]["sessionID"] == info["id"]
        for part in message["parts"]:
            assert part["messageID"] == message["info"]["id"]
            assert part["sessionID"] == info["id"]
    user, calling, answering = export["messages"]
    assert user["info"]["model"] == {"providerID": "mock", "modelID": "test-model"}
    assert calling["info"]["parentID"] == answering["info"]["parentID"] == user["info"]["id"]
    assert calling["info"]["finish"] == "tool-calls" and answering["info"]["finish"] == "stop"
    tool = next(p for p in calling["parts"] if p["type"] == "tool")
    assert tool["tool"] == "bash" and tool["callID"] == "tu1"
    assert tool["state"]["status"] == "completed"
    assert tool["state"]["input"] == {"command": "ls"}
    assert tool["state"]["output"] == "a.txt\nb.txt"
    assert [p["type"] for p in calling["parts"]] == ["step-start", "text", "tool", "step-finish"]


def test_ids_are_opencodes_messages_and_parts_ascending(
    fake_opencode: Path, tmp_path: Path
) -> None:
    export = exported(to_opencode(shell_session(), tmp_path))
    sid = export["info"]["id"]
    assert sid.startswith("ses_") and len(sid) == 4 + 12 + 14
    message_ids = [m["info"]["id"] for m in export["messages"]]
    part_ids = [p["id"] for m in export["messages"] for p in m["parts"]]
    assert all(i.startswith("msg_") for i in message_ids)
    assert all(i.startswith("prt_") for i in part_ids)
    assert message_ids == sorted(message_ids) and len(set(message_ids)) == len(message_ids)
    assert part_ids == sorted(part_ids) and len(set(part_ids)) == len(part_ids)
    # the session id is descending: a later session sorts before an earlier one
    later = writer.Ids(int(NOW.timestamp() * 1000) + 1000).next("ses", descending=True)
    assert later < sid
    # and the message times are the source's
    created = [m["info"]["time"]["created"] for m in export["messages"]]
    assert created[0] == int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
    assert created == sorted(created)


def test_round_trip_gives_back_every_turn_call_and_result(
    fake_opencode: Path, tmp_path: Path
) -> None:
    back = read_back(exported(to_opencode(shell_session(), tmp_path)))
    said = [(m.role, p) for m in back.messages for p in m.parts]
    texts = [(role, p.text) for role, p in said if isinstance(p, Text)]
    assert texts == [
        ("user", "please list"),
        ("assistant", "Listing."),
        ("assistant", "Two files."),
    ]
    call = next(p for _, p in said if isinstance(p, ToolCall))
    assert (call.id, call.name, call.input) == ("tu1", "bash", {"command": "ls"})
    result = next(p for _, p in said if isinstance(p, ToolResult))
    assert (result.call_id, result.output, result.is_error) == ("tu1", "a.txt\nb.txt", False)
    assert back.title == "Listing files"


def test_real_opencode_session_round_trips(fake_opencode: Path, tmp_path: Path) -> None:
    """The database the real opencode 1.18.33 wrote, read, written, and read again."""
    source = reader.database(FIXTURES / "opencode" / "opencode-1.18.33.db")
    assert source.members is not None
    member = next(iter(source.members(lambda reason: None)))
    feed = feed_from_bytes(Source(Path("x#s"), "jsonl", member.key), member.load())
    assembly = Assembly("opencode", member.key)
    assembly.apply(reader.read(feed, {}))
    original = assembly.session()
    back = read_back(exported(to_opencode(original, tmp_path)))

    def seen(session: Session) -> list[tuple[str, str]]:
        out = []
        for message in session.messages:
            for part in message.parts:
                if isinstance(part, Text):
                    out.append((message.role, part.text))
                elif isinstance(part, ToolCall):
                    out.append(("call", f"{part.id} {part.name} {orjson.dumps(part.input)!r}"))
                elif isinstance(part, ToolResult):
                    out.append(("result", f"{part.call_id} {part.output} {part.is_error}"))
        return out

    assert seen(back) == seen(original)
    assert any(kind == "call" for kind, _ in seen(back))


def test_the_import_runs_in_the_folder_on_the_store_asked_for(
    fake_opencode: Path, tmp_path: Path
) -> None:
    result = to_opencode(shell_session(), tmp_path)
    made = calls(fake_opencode)
    assert [c[0][0] for c in made] == ["debug", "import"]
    assert made[-1][0] == ["import", str(result.written.path)]
    assert {c[1] for c in made} == {str((tmp_path / "project").resolve())}
    assert {c[2] for c in made} == {str(tmp_path / "data")}
    # the export stays in tether's own folder, private, and opencode's store is not touched
    assert result.written.path.parent == Path(os.environ["TETHER_HOME"]) / "opencode-imports"
    assert result.written.path.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "data").exists()


def test_without_a_configured_model_the_first_listed_one_and_a_note(
    fake_opencode: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAKE_OPENCODE_MODEL")
    result = to_opencode(shell_session(), tmp_path)
    user = exported(result)["messages"][0]["info"]
    assert user["model"] == {"providerID": "opencode", "modelID": "big-pickle"}
    assert any("opencode/big-pickle" in note for note in result.report.notes)


def test_a_failed_import_leaves_no_export_behind(
    fake_opencode: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_OPENCODE_FAIL", "1")
    with pytest.raises(WriteError, match="Missing key"):
        to_opencode(shell_session(), tmp_path)
    assert not list((Path(os.environ["TETHER_HOME"]) / "opencode-imports").glob("*"))


def test_without_opencode_on_path_a_one_line_how_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(WriteError, match="npm install -g opencode-ai") as caught:
        to_opencode(shell_session(), tmp_path)
    assert "\n" not in str(caught.value)


def test_nothing_to_write_is_an_error(fake_opencode: Path, tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="nothing to write"):
        writer.build_export(_job(claude_session(), tmp_path), ("mock", "m"))


def _job(session: Session, tmp_path: Path) -> Any:
    from tether.convert.writers.base import Report, WriteJob

    return WriteJob(session, tmp_path, tmp_path / "store", NOW, Report())


def test_reasoning_becomes_text_and_attachments_files_or_text(
    fake_opencode: Path, tmp_path: Path
) -> None:
    session = claude_session(
        Message(
            "user",
            [
                Text("see"),
                Attachment("image/png", "dot.png", data=PNG),
                Attachment("application/pdf", "doc.pdf", uri="https://example.invalid/doc.pdf"),
            ],
            T0,
        ),
        Message("assistant", [Reasoning("thinking hard", "sig"), Text("done")], T1),
    )
    result = to_opencode(session, tmp_path)
    user, answer = exported(result)["messages"]
    file = next(p for p in user["parts"] if p["type"] == "file")
    assert file["url"] == f"data:image/png;base64,{PNG}" and file["filename"] == "dot.png"
    assert any("doc.pdf" in p.get("text", "") for p in user["parts"])
    assert not any(p["type"] == "reasoning" for p in answer["parts"])
    assert any(p.get("text", "").startswith("[reasoning]") for p in answer["parts"])
    report = result.report.as_dict()
    assert any(k.startswith("reasoning:") for k in report["downgraded"])
    assert any(k.startswith("attachment:") for k in report["downgraded"])


def test_calls_without_counterpart_become_text(fake_opencode: Path, tmp_path: Path) -> None:
    session = claude_session(
        Message("user", [Text("go")], T0),
        Message("assistant", [ToolCall("t9", "NotebookEdit", {"cell": 1})], T1),
        Message("user", [ToolResult("t9", "edited")], T1),
    )
    export = exported(to_opencode(session, tmp_path))
    parts = [p for m in export["messages"] for p in m["parts"]]
    assert not any(p["type"] == "tool" for p in parts)
    assert any("NotebookEdit" in p.get("text", "") for p in parts)


@pytest.mark.parametrize(
    ("name", "native", "kind", "args"),
    [
        ("bash", {"command": "ls", "workdir": "/w"}, "shell", {"command": "ls", "workdir": "/w"}),
        ("read", {"filePath": "/a", "offset": 2}, "read_file", {"path": "/a", "offset": 2}),
        ("write", {"filePath": "/a", "content": "x"}, "write_file", {"path": "/a", "content": "x"}),
        (
            "edit",
            {"filePath": "/a", "oldString": "o", "newString": "n"},
            "edit_file",
            {"path": "/a", "old": "o", "new": "n"},
        ),
        ("grep", {"pattern": "p", "include": "*.py"}, "grep", {"pattern": "p", "glob": "*.py"}),
        ("glob", {"pattern": "*.md"}, "glob", {"pattern": "*.md"}),
        ("webfetch", {"url": "https://x.invalid"}, "web_fetch", {"url": "https://x.invalid"}),
        (
            "todowrite",
            {"todos": [{"content": "a", "status": "pending", "priority": "high"}]},
            "todo",
            {"items": [{"text": "a", "status": "pending"}]},
        ),
    ],
)
def test_vocabulary_decodes_the_calls_opencode_makes(
    name: str, native: dict[str, Any], kind: str, args: dict[str, Any]
) -> None:
    assert writer.vocabulary.decode(name, native) == Canonical(kind, args)


def test_vocabulary_encodes_as_opencode_declares_its_tools() -> None:
    assert writer.vocabulary.encode(Canonical("shell", {"command": "ls"})) == (
        "bash",
        {"command": "ls"},
    )
    assert writer.vocabulary.encode(Canonical("task", {"prompt": "p", "description": "d"})) == (
        "task",
        {"prompt": "p", "description": "d", "subagent_type": "general"},
    )
    todo = Canonical("todo", {"items": [{"text": "a", "status": "completed"}, "not an item"]})
    assert writer.vocabulary.encode(todo) == (
        "todowrite",
        {"todos": [{"content": "a", "status": "completed", "priority": "medium"}]},
    )
