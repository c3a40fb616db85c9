"""Resume in Aider, proven by the real aider-chat: a session each of the four CLIs really
wrote is captured, converted to Aider, and `aider --restore-chat-history` (with the
resume command tether prints) sends its turns, the shell command and its output to the
model, as text: Aider has no tool calls. A second conversion in the same folder never
touches the first history: it gets a file of its own, named on the command line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import checksums, run

from . import clis
from .mockmodel import conversation
from .test_convert_real_clis import capture

SOURCES = list(clis.PINS)


@pytest.fixture
def aider_installed() -> None:
    missing = clis.aider_missing()
    if missing:
        pytest.skip(f"{missing} is not installed: run scripts/install-clis.sh")


def to_aider(ident: str, folder: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("HOME", str(home))
    output = run("convert", ident, "--to", "aider", "--cwd", str(folder), "--json", "--anyway")
    return json.loads(output.output)


def assert_carries(run_: clis.Run, source: clis.RealSession, *extra: str) -> None:
    assert run_.proc.returncode == 0, run_.describe()
    sent = conversation(run_.model_requests()[-1])
    users, assistants = sent.user_texts, sent.assistant_texts
    for prompt in (*source.prompts, *extra):
        assert any(prompt in text for text in users), (prompt, users, run_.describe())
    for reply in source.replies:
        assert any(reply in text for text in assistants), (reply, assistants)
    texts = users + assistants
    assert any(source.command in text for text in texts), texts
    assert any(source.output in text for text in texts), texts
    assert not sent.tool_calls and not sent.tool_outputs


@pytest.mark.e2e
@pytest.mark.parametrize("source_cli", SOURCES, ids=[f"{cli}-to-aider" for cli in SOURCES])
def test_converted_session_resumes_in_aider(
    aider_installed: None,
    real_sessions: clis.RealSessions,
    source_cli: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = real_sessions[source_cli]
    before = checksums(source.home)
    ident = capture(source, monkeypatch)
    home, folder = tmp_path / "aider-home", tmp_path / "project"
    folder.mkdir()

    # a folder without a history: the history is created, restored by aider's own flag
    first = to_aider(ident, folder, home, monkeypatch)
    assert Path(first["path"]) == folder / ".aider.chat.history.md"
    assert Path(first["path"]).stat().st_mode & 0o777 == 0o600
    assert first["resume_command"] == ["aider", "--restore-chat-history"]
    prompt = f"Converted from {source_cli} to aider: go on"
    resumed = clis.run_aider(home, folder, prompt, restore=False, extra=first["resume_command"][1:])
    assert_carries(resumed, source)
    assert f"ECHO: {prompt}" in resumed.proc.stdout, resumed.describe()

    # again: the user's history (now holding aider's own turn) is left as it was
    kept = checksums(folder)
    second = to_aider(ident, folder, home, monkeypatch)
    path = Path(second["path"])
    assert path.parent == folder and path.name.startswith(".aider.chat.history.tether-")
    assert second["resume_command"] == [
        "aider",
        "--restore-chat-history",
        "--chat-history-file",
        str(path),
    ]
    assert {k: v for k, v in checksums(folder).items() if k in kept} == kept
    onward = f"And once more in aider, from {source_cli}"
    again = clis.run_aider(home, folder, onward, restore=False, extra=second["resume_command"][1:])
    assert_carries(again, source, onward)
    assert prompt not in json.dumps(conversation(again.model_requests()[-1]).user_texts)

    assert checksums(source.home) == before
