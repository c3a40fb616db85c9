"""The conversion core: the shape `prepare` promises every writer, the context policy, the
shared vocabulary, and the convert/resume/fork commands (their errors write nothing).

Writers are proven against the real CLIs in tests/e2e/test_convert_real_clis.py; here the
rules that hold for every target are checked on real captured files and on small sessions
built for one edge case each.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import FIXTURES, checksums, run
from tests.stores import CODEX_ID, place_codex
from tether.convert.context import ContextPolicy, estimate_tokens, fit
from tether.convert.session import NO_RESULT, prepare
from tether.convert.writers import claude as claude_writer
from tether.convert.writers import gemini as gemini_writer
from tether.convert.writers import qwen as qwen_writer
from tether.convert.writers.base import Report
from tether.convert.writers.gemini_content import function_call, function_response, thought
from tether.model import Message, Reasoning, Session, Text, ToolCall, ToolResult
from tether.tools.registry import TOOLS
from tether.tools.vocabulary import (
    Canonical,
    Vocabulary,
    decode_gemini_edit,
    first_given,
    given,
    one_line,
    shorten,
)

CLAUDE_REAL = FIXTURES / "claude" / "real_entire_dc_49cb8a2a42_0.jsonl"


def session(*messages: Message, tool: str = "codex") -> Session:
    return Session(id="x" * 64, tool=tool, native_id="n1", messages=list(messages))


def target(name: str = "claude", generic: bool = True, tokens: int = 0) -> Any:
    """A writer as prepare sees it: its name, vocabulary and two facts."""
    return SimpleNamespace(
        name=name,
        vocabulary=claude_writer.vocabulary,
        accepts_generic_calls=generic,
        context_tokens=tokens,
    )


CODEX_VOCAB = Vocabulary(
    [
        # as Codex 0.169 declares its shell tool (tests/e2e: /v1/responses `tools`)
        __import__("tether.tools.vocabulary", fromlist=["Shape"]).Shape(
            "shell", "exec_command", {"command": "cmd", "workdir": "workdir"}
        )
    ]
)


def prep(s: Session, writer: Any = None, redact: bool = True) -> tuple[Session, Report]:
    report = Report()
    out = prepare(s, writer or target(), CODEX_VOCAB, report, ContextPolicy(), redact)
    return out, report


def test_prepare_answers_every_call_right_after_its_turn() -> None:
    s = session(
        Message("system", [Text("<environment_context>cwd</environment_context>")]),
        Message("user", [Text("list the files")]),
        Message("assistant", [Text("Listing.")]),
        Message("assistant", [ToolCall("c1", "exec_command", {"cmd": "ls"})]),
        Message("assistant", [ToolCall("c2", "exec_command", {"cmd": "pwd"})]),
        Message("tool", [ToolResult("c1", "a.txt")]),
        Message("tool", [ToolResult("zz", "from nowhere")]),
        Message("assistant", [Text("Done.")]),
    )
    out, report = prep(s)
    roles = [m.role for m in out.messages]
    assert roles == ["user", "assistant", "tool", "user", "assistant"]
    assistant, tool = out.messages[1], out.messages[2]
    calls = [p for p in assistant.parts if isinstance(p, ToolCall)]
    assert [(c.name, c.input) for c in calls] == [
        ("Bash", {"command": "ls"}),
        ("Bash", {"command": "pwd"}),
    ]
    assert [(r.call_id, r.output, r.is_error) for r in tool.parts] == [  # type: ignore[union-attr]
        ("c1", "a.txt", False),
        ("c2", NO_RESULT, True),
    ]
    assert "from nowhere" in out.messages[3].parts[0].text  # type: ignore[union-attr]
    assert report.dropped["message: system message of the source tool (the target adds its own)"]
    assert report.mapped["tool_call: exec_command -> Bash"] == 2
    assert report.downgraded["tool_result: its call is not in the session"] == 1


def test_prepare_splits_results_from_text_in_one_user_message() -> None:
    s = session(
        Message("user", [Text("run it")]),
        Message("assistant", [ToolCall("t1", "Bash", {"command": "make"})]),
        Message("user", [ToolResult("t1", "ok"), Text("now explain")]),
        tool="claude",
    )
    out, _ = prep(s, target("codex"))
    assert [m.role for m in out.messages] == ["user", "assistant", "tool", "user"]
    assert out.messages[3].parts == [Text("now explain")]


def test_reasoning_signature_only_replays_to_its_own_tool() -> None:
    signed = Reasoning("I think so", signature="sig-abc")
    opaque = Reasoning("", native={"encrypted_content": "gAAA"})
    s = session(
        Message("user", [Text("q")]),
        Message("assistant", [signed, opaque, Text("a")]),
        tool="claude",
    )
    foreign, report = prep(s, target("codex"))
    parts = foreign.messages[1].parts
    assert parts == [Reasoning("I think so"), Text("a")]
    assert report.dropped["reasoning: opaque (encrypted or signed only): its own tool's"] == 1
    own, _ = prep(s, target("claude"))
    assert own.messages[1].parts[0] == signed


def test_calls_without_counterpart_stay_generic_or_become_text() -> None:
    s = session(
        Message("user", [Text("q")]),
        Message("assistant", [ToolCall("c1", "view_image", {"path": "/a.png"})]),
        Message("tool", [ToolResult("c1", "image shown")]),
    )
    generic, report = prep(s, target(generic=True))
    assert generic.messages[1].parts == [
        ToolCall("c1", "view_image", {"path": "/a.png"}, {}),
    ]
    assert report.mapped["tool_call: view_image (generic: no counterpart)"] == 1
    texted, report = prep(s, target(generic=False))
    assert [m.role for m in texted.messages] == ["user", "assistant", "user"]
    assert "view_image" in texted.messages[1].parts[0].text  # type: ignore[union-attr]
    assert "image shown" in texted.messages[2].parts[0].text  # type: ignore[union-attr]
    assert report.downgraded["tool_result: its call was written as text"] == 1


def test_secrets_redacted_across_tools_only() -> None:
    # a well-formed fake key (tests/secrets_corpus.py): the rules check the format
    key = "sk-ant-api03-" + "Zq3" * 31 + "AA"
    s = session(
        Message("user", [Text(f"use {key}")]),
        Message("assistant", [ToolCall("c1", "exec_command", {"cmd": f"export K={key}"})]),
        Message("tool", [ToolResult("c1", key)]),
    )
    out, report = prep(s)
    dumped = json.dumps([repr(m.parts) for m in out.messages])
    assert key not in dumped and "[REDACTED:" in dumped
    assert any("redacted" in note for note in report.notes)
    kept, _ = prep(s, redact=False)
    assert key in json.dumps([repr(m.parts) for m in kept.messages])


def test_context_policy_shortens_old_outputs_and_keeps_every_turn() -> None:
    messages = []
    for i in range(30):
        messages.append(Message("assistant", [ToolCall(f"c{i}", "Bash", {"command": "cat x"})]))
        messages.append(Message("tool", [ToolResult(f"c{i}", f"{i}:" + "y" * 20_000)]))
    report = Report()
    before = estimate_tokens(messages)
    fit(messages, 60_000, ContextPolicy(keep_recent=4), report)
    assert len(messages) == 60
    assert estimate_tokens(messages) <= 60_000 < before
    outputs = [m.parts[0].output for m in messages if m.role == "tool"]  # type: ignore[union-attr]
    assert all(len(o) > 20_000 for o in outputs[-2:])  # the newest, verbatim
    assert all("tether cut" in o and o.startswith(f"{i}:") for i, o in enumerate(outputs[:-2]))
    assert report.shortened


def test_context_policy_says_when_it_cannot_fit() -> None:
    messages = [Message("user", [Text("z" * 50_000)]) for _ in range(3)]
    report = Report()
    fit(messages, 1_000, ContextPolicy(keep_recent=3), report)
    assert len(messages[0].parts[0].text) == 50_000  # type: ignore[union-attr]
    assert any("every turn is kept" in note for note in report.notes)


def test_vocabulary_round_trips_and_refuses_calls_missing_what_they_need() -> None:
    vocab = claude_writer.vocabulary
    call = vocab.decode("Bash", {"command": "ls", "description": "list", "timeout": 5000})
    assert call == Canonical("shell", {"command": "ls", "description": "list", "timeout_ms": 5000})
    assert vocab.encode(call) == (
        "Bash",
        {"command": "ls", "description": "list", "timeout": 5000},
    )
    assert vocab.decode("Bash", {"description": "no command"}) is None
    assert vocab.decode("Task", {"prompt": "p", "subagent_type": "x"}) == Canonical(
        "task", {"prompt": "p", "agent": "x"}
    )
    todo = vocab.decode("TodoWrite", {"todos": [{"content": "a", "status": "completed"}]})
    assert todo == Canonical("todo", {"items": [{"text": "a", "status": "completed"}]})
    assert vocab.encode(todo) == (
        "TodoWrite",
        {"todos": [{"content": "a", "status": "completed", "activeForm": "a"}]},
    )


def test_decoders_take_the_first_given_name_and_drop_what_is_not_given() -> None:
    native = {"file_path": "", "absolute_path": None, "path": "/a", "dir_path": "/b"}
    assert first_given(native, "file_path", "absolute_path", "path", "dir_path") == "/a"
    assert first_given(native, "missing") is None
    assert given(path="/a", old="", new=None, limit=0, flag=False) == {
        "path": "/a",
        "limit": 0,
        "flag": False,
    }


@pytest.mark.parametrize(
    ("native", "replace_all"),
    [
        ({}, False),
        ({"expected_replacements": 1}, False),
        ({"expected_replacements": 2}, True),
        ({"expected_replacements": True}, False),  # a flag where a count belongs: no count
        ({"allow_multiple": True}, True),  # the Gemini CLI's flag
        ({"replace_all": True}, True),  # Qwen Code's
        ({"replace_all": "yes"}, False),
    ],
)
def test_one_edit_decoder_for_gemini_and_its_fork_qwen(
    native: dict[str, Any], replace_all: bool
) -> None:
    base = {"absolute_path": "/a", "old_string": "x", "new_string": ""}
    expected = {"path": "/a", "old": "x"} | ({"replace_all": True} if replace_all else {})
    assert decode_gemini_edit({**base, **native}) == expected
    for vocab, tool in ((gemini_writer.vocabulary, "replace"), (qwen_writer.vocabulary, "edit")):
        assert vocab.decode(tool, {**base, **native}) == Canonical("edit_file", expected)


def test_text_is_shortened_with_an_ellipsis_and_put_on_one_line() -> None:
    assert shorten("abcdef", 6) == "abcdef"
    assert shorten("abcdefg", 6) == "abcde…"
    assert one_line("  a\n\tb  c ", 10) == "a b c"
    assert one_line("word " * 10, 8) == "word wo…"
    assert one_line(" \n ", 5) == ""


def test_gemini_content_parts_for_calls_results_and_thoughts() -> None:
    call = ToolCall("c1", "shell", "ls", native={"thoughtSignature": "sig"})
    assert function_call(call, "run_shell_command") == {
        "functionCall": {"id": "c1", "name": "run_shell_command", "args": {"input": "ls"}},
        "thoughtSignature": "sig",
    }
    assert function_call(ToolCall("c2", "x", {"a": 1}), "x") == {
        "functionCall": {"id": "c2", "name": "x", "args": {"a": 1}}
    }
    assert function_response(ToolResult("c1", "boom", is_error=True), "n") == {
        "functionResponse": {"id": "c1", "name": "n", "response": {"error": "boom"}}
    }
    assert function_response(ToolResult("c1", "ok"), "n")["functionResponse"]["response"] == {
        "output": "ok"
    }
    assert thought("hm") == {"text": "hm", "thought": True}
    assert thought("hm", "sig") == {"text": "hm", "thought": True, "thoughtSignature": "sig"}


# ---------------------------------------------------------------------------------------
# The commands, on a real Claude session


@pytest.fixture
def claude_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `claude` on PATH, so the commands' "is the target installed" check passes."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "claude"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")
    return bin_dir


def import_real(isolated_home: Path) -> tuple[str, Path]:
    """The real sample laid out in ~/.claude with its folder present; its tether id."""
    records = [json.loads(line) for line in CLAUDE_REAL.read_text().splitlines() if line]
    cwd = Path(next(r["cwd"] for r in records if r.get("cwd")))
    project = isolated_home / ".claude" / "projects" / "-sample"
    project.mkdir(parents=True)
    session_id = next(r["sessionId"] for r in records if r.get("sessionId"))
    shutil.copy(CLAUDE_REAL, project / f"{session_id}.jsonl")  # as the CLI names it
    listed = json.loads(run("list", "--json").output)
    return listed[0]["id"], cwd


def test_convert_round_trip_keeps_every_turn_call_and_result(
    isolated_home: Path, tmp_path: Path, claude_on_path: Path
) -> None:
    ident, _ = import_real(isolated_home)
    before = checksums(isolated_home / ".claude")
    original = json.loads(run("show", ident, "--json", "--no-scan").output)
    written = json.loads(
        run("convert", ident, "--to", "claude", "--cwd", str(tmp_path), "--json").output
    )
    assert {k: v for k, v in checksums(isolated_home / ".claude").items() if k in before} == before
    path = Path(written["path"])
    assert path.stat().st_mode & 0o777 == 0o600
    copy = json.loads(run("show", written["native_id"], "--json").output)

    def digest(doc: dict[str, Any]) -> tuple[set[str], list[Any], dict[str, str]]:
        texts, calls, results = set(), [], {}
        for message in doc["messages"]:
            for part in message["parts"]:
                if part["type"] == "text" and message["role"] in ("user", "assistant"):
                    texts.add(part["text"])
                elif part["type"] == "tool_call":
                    calls.append((part["id"], part["name"], part["input"]))
                elif part["type"] == "tool_result":
                    results[part["call_id"]] = part["output"]
        return texts, calls, results

    texts, calls, results = digest(original)
    copy_texts, copy_calls, copy_results = digest(copy)
    assert calls and results
    assert copy_calls == calls  # every call, in order, same id, name and input
    assert copy_results == results  # every result, answering the same call
    assert texts <= copy_texts  # every user and assistant text


def test_convert_errors_write_nothing(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, claude_on_path: Path
) -> None:
    ident, _ = import_real(isolated_home)
    before = checksums(isolated_home)
    result = run("convert", ident, "--to", "emacs", ok=False)
    assert result.exit_code == 2 and "unknown tool 'emacs'" in result.output
    result = run("convert", "nope", "--to", "claude", ok=False)
    assert result.exit_code == 4 and result.output.count("\n") == 1
    monkeypatch.setenv("PATH", "/nonexistent")
    result = run("convert", ident, "--to", "claude", "--cwd", str(tmp_path), ok=False)
    assert result.exit_code == 1
    assert "claude is not installed" in result.output and "--anyway" in result.output
    result = run("convert", ident, "--to", "claude", "--cwd", str(tmp_path / "gone"), ok=False)
    assert result.exit_code != 0
    assert {k: v for k, v in checksums(isolated_home).items() if "tether" not in k} == {
        k: v for k, v in before.items() if "tether" not in k
    }


def test_nothing_to_convert(isolated_home: Path, tmp_path: Path, claude_on_path: Path) -> None:
    doc = json.loads((Path(__file__).parents[1] / "docs" / "examples" / "session.json").read_text())
    doc["messages"] = [
        {"role": "system", "timestamp": None, "parts": [{"type": "text", "text": "context"}]}
    ]
    doc["session"]["native_id"] = "only-system"
    source = tmp_path / "only-system.json"
    source.write_text(json.dumps(doc))
    run("import", str(source))
    listed = json.loads(run("list", "--json", "--all").output)
    ident = next(s["id"] for s in listed if s["native_id"] == "only-system")
    result = run("convert", ident, "--to", "claude", "--cwd", str(tmp_path), ok=False)
    assert result.exit_code == 1 and "no user or assistant messages" in result.output
    assert not (isolated_home / ".claude").exists()


def test_resume_prints_the_native_command_and_restores_a_deleted_file(
    isolated_home: Path, tmp_path: Path, claude_on_path: Path
) -> None:
    ident, _ = import_real(isolated_home)
    native_id = json.loads(run("show", ident, "--json").output)["session"]["native_id"]
    result = run("resume", ident, "--cwd", str(tmp_path), "--print")
    assert result.output.strip() == f"cd {tmp_path} && claude --resume {native_id}"
    # the tool deleted its transcript: resume writes it back from the archive, same id
    for path in (isolated_home / ".claude" / "projects").rglob("*.jsonl"):
        path.unlink()
    result = run("resume", ident, "--cwd", str(tmp_path), "--print", "--no-scan")
    assert f"claude --resume {native_id}" in result.output
    restored = list((isolated_home / ".claude" / "projects").rglob(f"{native_id}.jsonl"))
    assert len(restored) == 1


def test_fork_writes_a_new_session_and_leaves_the_original(
    isolated_home: Path, tmp_path: Path, claude_on_path: Path
) -> None:
    ident, _ = import_real(isolated_home)
    before = checksums(isolated_home / ".claude")
    forked = json.loads(run("fork", ident, "--cwd", str(tmp_path), "--json").output)
    original = json.loads(run("show", ident, "--json", "--no-scan").output)
    assert forked["native_id"] != original["session"]["native_id"]
    assert forked["source"]["id"] == ident
    after = checksums(isolated_home / ".claude")
    assert {k: after[k] for k in before} == before
    assert len(after) == len(before) + 1


def test_read_only_tools_are_refused_as_targets(isolated_home: Path) -> None:
    from tether.tools.registry import TOOLS

    read_only = [name for name, tool in TOOLS.items() if "write" not in tool.capabilities]
    if not read_only:
        pytest.skip("every registered tool can be written")
    ident, _ = import_real(isolated_home)
    result = run("convert", ident, "--to", read_only[0], ok=False)
    assert result.exit_code == 2 and "cannot write them" in result.output


def test_one_native_name_may_stand_for_several_actions() -> None:
    from tether.tools.vocabulary import Shape

    # free text (Codex's patch) reaches a freeform shape's decode as it is
    def new_file(patch: Any) -> dict[str, Any] | None:
        if isinstance(patch, str) and patch.startswith("*** Add File: "):
            path, _, body = patch.removeprefix("*** Add File: ").partition("\n")
            return {"path": path, "content": body}
        return None

    def edit(patch: Any) -> dict[str, Any] | None:
        if isinstance(patch, str) and patch.startswith("*** Update File: "):
            return {"path": patch.removeprefix("*** Update File: ").partition("\n")[0]}
        return None

    vocab = Vocabulary(
        [
            Shape("write_file", "apply_patch", {}, decode=new_file, freeform=True),
            Shape("edit_file", "apply_patch", {}, decode=edit, freeform=True),
        ]
    )
    assert vocab.decode("apply_patch", "*** Add File: a.py\nprint(1)") == Canonical(
        "write_file", {"path": "a.py", "content": "print(1)"}
    )
    assert vocab.decode("apply_patch", "*** Update File: b.py\n@@") == Canonical(
        "edit_file", {"path": "b.py"}
    )
    assert vocab.decode("apply_patch", "*** Delete File: c.py") is None
    # free text reaches only a freeform shape's decode: the others never see a string
    plain = Vocabulary(
        [Shape("shell", "exec_command", {}, decode=lambda native: native.get("cmd"))]
    )
    assert plain.decode("exec_command", "ls") is None


def test_a_generic_call_always_gets_an_object_input() -> None:
    s = session(
        Message("user", [Text("q")]),
        Message("assistant", [ToolCall("c1", "custom_tool", "freeform text")]),
        Message("tool", [ToolResult("c1", "ok")]),
    )
    out, _ = prep(s)
    assert out.messages[1].parts == [ToolCall("c1", "custom_tool", {"input": "freeform text"}, {})]


def test_a_codex_call_whose_arguments_are_not_json_converts_to_every_tool(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Codex records a function call's arguments as text; text that is not JSON (and a
    custom call's free-text input) reached the vocabulary's decoders, which crashed every
    convert and resume --in of the session."""
    path = place_codex(isolated_home)
    lines = []
    for line in path.read_bytes().splitlines():
        record = json.loads(line)
        payload = record.get("payload") or {}
        if payload.get("type") == "function_call":
            payload["arguments"] = "ls -la | not json"
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n")
    run("scan")
    writable = [name for name, tool in TOOLS.items() if "write" in tool.capabilities]
    for name in writable:
        if name in ("opencode", "kilo"):
            continue  # they import a session themselves: they must be installed
        out = tmp_path / name
        out.mkdir()
        args = ("convert", CODEX_ID, "--to", name, "--anyway", "--cwd", str(out), "--json")
        written = json.loads(run(*args).output)
        said = b"".join(Path(p).read_bytes() for p in written["paths"])
        assert b"ls -la | not json" in said, name  # as a generic call, or as text
    resumed = run(
        "resume", CODEX_ID, "--in", "claude", "--anyway", "--cwd", str(tmp_path), "--print"
    )
    assert "claude --resume" in resumed.output


def test_codex_free_text_inputs_decode_or_stay_generic() -> None:
    """A Codex patch (a custom call's free text) decodes to an edit; a shell call whose
    arguments are not JSON has no canonical meaning, and no decoder sees a bare string."""
    from tether.convert.writers import codex as codex_writer
    from tether.tools.vocabulary.codex_patch import update_file

    patch = update_file("a.py", "old line", "new line")
    assert codex_writer.vocabulary.decode("apply_patch", patch) == Canonical(
        "edit_file", {"path": "a.py", "old": "old line", "new": "new line"}
    )
    for name in ("exec_command", "shell", "shell_command", "update_plan", "spawn_agent"):
        assert codex_writer.vocabulary.decode(name, "ls -la | not json") is None
