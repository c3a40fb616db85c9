"""The harness itself: each real CLI keeps a session where we expect it, and its resume
sends the earlier turns (text, shell tool call and output) back to the mock model."""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from . import clis
from .mockmodel import (
    ANTHROPIC,
    CHAT,
    GEMINI,
    RESPONSES,
    MockModel,
    Request,
    conversation,
    decide,
    kind_of,
)

CLIS = list(clis.PINS)


@pytest.mark.e2e
@pytest.mark.parametrize("cli", CLIS)
def test_resume_sends_the_whole_session_back(real_sessions: clis.RealSessions, cli: str) -> None:
    session = real_sessions[cli]
    text_run, tool_run, resume_run = session.runs
    # the tool turn: the prompt, then the tool's result in a second request
    assert conversation(tool_run.model_requests()[-1]).ends_with_tool_output, tool_run.describe()
    sent = conversation(session.final_request())
    assert any(session.prompts[0] in text for text in sent.user_texts), sent.user_texts
    assert any(session.prompts[1] in text for text in sent.user_texts), sent.user_texts
    assert session.replies[0] in sent.assistant_texts
    assert session.replies[1] in sent.assistant_texts
    calls = [args for name, args in sent.tool_calls if name == session.shell_tool]
    assert any(session.command in json.dumps(args) for args in calls), sent.tool_calls
    assert any(session.output in output for output in sent.tool_outputs), sent.tool_outputs
    assert session.replies[2] in resume_run.proc.stdout, resume_run.describe()
    assert text_run.proc.returncode == tool_run.proc.returncode == 0


@pytest.mark.e2e
@pytest.mark.parametrize("cli", CLIS)
def test_native_session_file_is_where_the_formats_say(
    real_sessions: clis.RealSessions, cli: str
) -> None:
    session = real_sessions[cli]
    home, sid = session.home, session.session_id
    path = session.native_file
    if cli == "claude":
        assert path == clis.claude_session_file(home, session.cwd, sid)
    elif cli == "codex":
        assert clis.codex_session_files(home) == [path]
        assert re.fullmatch(rf"rollout-(\d{{4}})-(\d\d)-(\d\d)T\d\d-\d\d-\d\d-{sid}", path.stem)
        day = path.relative_to(home / ".codex" / "sessions").parts[:3]
        assert "-".join(day) == path.stem.removeprefix("rollout-")[:10]
    elif cli == "gemini":
        slug = session.cwd.name  # the cwd's basename, lower case, registered in projects.json
        assert path.parent == home / ".gemini" / "tmp" / slug / "chats"
        registry = json.loads((home / ".gemini" / "projects.json").read_text())
        assert registry["projects"][str(session.cwd)] == slug
        assert clis.gemini_session_files(home) == sorted(session.native_files)
        for each in session.native_files:  # the real file, and maybe stubs (see native_files)
            assert re.fullmatch(rf"session-\d{{4}}-\d\d-\d\dT\d\d-\d\d-{sid[:8]}", each.stem)
            assert json.loads(each.read_text().splitlines()[0])["sessionId"] == sid
    else:
        assert path == home / ".copilot" / "session-state" / sid / "events.jsonl"
    text = path.read_text()
    for needle in (session.prompts[0], session.replies[0], session.output, session.prompts[2]):
        assert needle in text, f"{needle!r} not in {path}"


@pytest.mark.e2e
def test_runs_are_cut_off_from_the_network(tmp_path: Path) -> None:
    if not clis.use_namespace():
        pytest.skip("not root, no unshare -n, or TETHER_E2E_NETNS=0: runs use plain 127.0.0.1")
    probe = "import socket; print(sorted(name for _, name in socket.if_nameindex()))"
    run = clis.run_cli([sys.executable, "-c", probe], tmp_path / "cli-home", tmp_path, {})
    assert run.proc.stdout.strip() == "['lo']", run.describe()


# ---------------------------------------------------------------------------------------
# The mock alone (no CLI needed)


def _post(url: str, body: dict[str, Any]) -> str:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.read().decode())


SHELL = {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}
PROTOCOL_CASES = {
    ANTHROPIC: (
        "/v1/messages?beta=true",
        {
            "stream": True,
            "tools": [{"name": "Bash", "input_schema": SHELL}],
            "messages": [{"role": "user", "content": "go RUN:echo hi"}],
        },
    ),
    RESPONSES: (
        "/v1/responses",
        {
            "stream": True,
            "tools": [
                {
                    "type": "function",
                    "name": "exec_command",
                    "parameters": {"properties": {"cmd": {}}},
                }
            ],
            "input": [
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "go RUN:echo hi"}],
                }
            ],
        },
    ),
    GEMINI: (
        "/v1beta/models/m:streamGenerateContent?alt=sse",
        {
            "tools": [
                {
                    "functionDeclarations": [
                        {"name": "run_shell_command", "parametersJsonSchema": SHELL}
                    ]
                }
            ],
            "contents": [{"role": "user", "parts": [{"text": "go RUN:echo hi"}]}],
        },
    ),
    CHAT: (
        "/v1/chat/completions",
        {
            "stream": True,
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "bash",
                        "parameters": {
                            **SHELL,
                            "properties": {
                                "command": {"type": "string"},
                                "description": {"type": "string"},
                            },
                            "required": ["command", "description"],
                        },
                    },
                }
            ],
            "messages": [
                {
                    "role": "user",
                    "content": "<current_datetime>x</current_datetime>\n\ngo RUN:echo hi",
                }
            ],
        },
    ),
}


@pytest.mark.parametrize("kind", list(PROTOCOL_CASES))
def test_mock_calls_the_offered_shell_tool(kind: str) -> None:
    path, body = PROTOCOL_CASES[kind]
    with MockModel() as mock:
        answer = _post(mock.url + path, body)
    [request] = mock.requests
    assert request.kind == kind == kind_of(request.path)
    assert request.body == body
    assert "echo hi" in answer
    reply = decide(request)
    assert reply.tool and "echo hi" in json.dumps(reply.args)


@pytest.mark.parametrize(
    ("output", "marker"),
    [
        ("CLAUDE-TOOL-OUTPUT", "CLAUDE-TOOL-OUTPUT"),
        ("Chunk ID: 1\nProcess exited with code 0\nOutput:\nCODEX-OUT\n", "CODEX-OUT"),
        (
            "<untrusted_context>\nOutput: GEM-OUT\nProcess Group PGID: 9\n</untrusted_context>",
            "GEM-OUT",
        ),
        ("COPILOT-OUT\n<shellId: 0 completed with exit code 0>", "COPILOT-OUT"),
    ],
)
def test_mock_answers_a_tool_result_with_its_output(output: str, marker: str) -> None:
    body = {
        "messages": [
            {"role": "user", "content": "RUN:x"},
            {"role": "assistant", "content": [{"type": "tool_use", "name": "Bash", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "content": output}]},
        ]
    }
    request = Request("POST", "/v1/messages", "", {}, body, ANTHROPIC)
    assert decide(request).text == f"TOOL-DONE: {marker}"
    assert conversation(request).tool_outputs == [output]
