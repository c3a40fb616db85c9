"""Resume in Qwen Code, proven by the real CLI: a session each of the four CLIs really wrote
(text turns, a real shell call and its output) is captured, converted to qwen, and
`qwen --resume ID` then `qwen --continue` send all of it to the model, as Qwen Code's own
turns and run_shell_command call/result pair.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import checksums

from . import clis
from .mockmodel import conversation
from .test_convert_real_clis import capture, convert

QWEN_SHELL = "run_shell_command"


@pytest.fixture(scope="session")
def installed_qwen(installed_clis: None) -> None:
    missing = clis.target_missing("qwen")
    if missing is None:
        return
    message = f"{missing} not installed: run scripts/install-clis.sh"
    if os.environ.get("TETHER_E2E", "0") not in ("", "0"):
        pytest.fail(f"{message} (TETHER_E2E is set, so this is a failure)", pytrace=False)
    pytest.skip(message)


def assert_carries(run_: clis.Run, source: clis.RealSession, *extra: str) -> None:
    """The run's last request carries the source's turns, its call (as qwen's) and output."""
    assert run_.proc.returncode == 0, run_.describe()
    sent = conversation(run_.model_requests()[-1])
    users, assistants = sent.user_texts, sent.assistant_texts
    for prompt in (*source.prompts, *extra):
        assert any(prompt in text for text in users), (prompt, users, run_.describe())
    for reply in source.replies:
        assert any(reply in text for text in assistants), (reply, assistants)
    calls = [args for name, args in sent.tool_calls if name == QWEN_SHELL]
    assert any(source.command in json.dumps(args) for args in calls), sent.tool_calls
    assert any(source.output in output for output in sent.tool_outputs), sent.tool_outputs


@pytest.mark.e2e
@pytest.mark.parametrize("source_cli", list(clis.PINS), ids=[f"{c}-to-qwen" for c in clis.PINS])
def test_converted_session_resumes_in_qwen(
    real_sessions: clis.RealSessions,
    installed_qwen: None,
    source_cli: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = real_sessions[source_cli]
    before = checksums(source.home)
    ident = capture(source, monkeypatch)
    home = tmp_path / "qwen-home"
    first = convert(ident, "qwen", home, monkeypatch)
    assert first["tool"] == "qwen" and Path(first["path"]).is_file()
    assert Path(first["path"]).stat().st_mode & 0o777 == 0o600
    assert first["resume_command"] == ["qwen", "--resume", first["native_id"]]

    prompt = f"Converted from {source_cli} to qwen: go on"
    resumed = clis.run_qwen(home, source.cwd, prompt, resume=first["native_id"])
    assert_carries(resumed, source)
    assert f"ECHO: {prompt}" in resumed.proc.stdout, resumed.describe()

    # qwen --continue takes it as the folder's latest session, with the turn just added
    onward = "And once more in qwen"
    latest = clis.run_qwen(home, source.cwd, onward, continue_last=True)
    assert_carries(latest, source, prompt, onward)
    assert f"ECHO: {onward}" in latest.proc.stdout, latest.describe()

    # converting again gives an independent session; the first one is left as it was
    written = checksums(home)
    second = convert(ident, "qwen", home, monkeypatch)
    assert second["native_id"] != first["native_id"]
    assert second["path"] != first["path"] and Path(second["path"]).is_file()
    after = checksums(home)
    assert {k: v for k, v in after.items() if k in written} == written

    # the source tool's store is untouched
    assert checksums(source.home) == before
