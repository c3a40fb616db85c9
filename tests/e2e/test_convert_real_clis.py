"""Resume anywhere, proven by the real CLIs: for every ordered pair (A, B) of the four CLIs,
a session that A really wrote (text turns, a real shell tool call and its output) is captured,
converted to B, and B's own resume sends all of it to the model, as B's native turns and
tool call/result pair. Round trips (A, A) included.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import checksums, run

from . import clis
from .mockmodel import conversation

CLIS = list(clis.PINS)
PAIRS = [(source, target) for source in CLIS for target in CLIS]


def capture(session: clis.RealSession, monkeypatch: pytest.MonkeyPatch) -> str:
    """Scan the home the source CLI wrote into this test's archive; the session's tether id."""
    monkeypatch.setenv("HOME", str(session.home))
    run("scan", "-q")
    listed = json.loads(run("list", "--json", "--no-scan", "--tool", session.cli).output)
    assert len(listed) == 1, listed
    return str(listed[0]["id"])


def convert(ident: str, target: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """`tether convert ID --to target --json` into the target CLI's own home, configured as
    a user's is before they convert (Codex records the provider its config selects)."""
    if target == "codex" and not (home / ".codex" / "config.toml").exists():
        (home / ".codex").mkdir(parents=True, exist_ok=True)
        (home / ".codex" / "config.toml").write_text(clis.CODEX_CONFIG)
    monkeypatch.setenv("HOME", str(home))
    bin_dir = str(clis.binary(target).parent)
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ.get("PATH", ""))
    result: dict[str, Any] = json.loads(
        run("convert", ident, "--to", target, "--json", "--no-scan").output
    )
    return result


def assert_carries(run_: clis.Run, source: clis.RealSession, target: str, *extra: str) -> None:
    """The last request of the run carries the source session's turns, call and output."""
    assert run_.proc.returncode == 0, run_.describe()
    sent = conversation(run_.model_requests()[-1])
    users, assistants = sent.user_texts, sent.assistant_texts
    for prompt in (*source.prompts, *extra):
        assert any(prompt in text for text in users), (prompt, users, run_.describe())
    for reply in source.replies:
        assert any(reply in text for text in assistants), (reply, assistants)
    shell = clis.SHELL_TOOL[target]
    calls = [args for name, args in sent.tool_calls if name == shell]
    assert any(source.command in json.dumps(args) for args in calls), sent.tool_calls
    assert any(source.output in output for output in sent.tool_outputs), sent.tool_outputs


@pytest.mark.e2e
@pytest.mark.parametrize(("source_cli", "target"), PAIRS, ids=[f"{a}-to-{b}" for a, b in PAIRS])
def test_converted_session_resumes_in_target(
    real_sessions: clis.RealSessions,
    source_cli: str,
    target: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = real_sessions[source_cli]
    before = checksums(source.home)
    ident = capture(source, monkeypatch)
    home = tmp_path / f"{target}-home"
    first = convert(ident, target, home, monkeypatch)
    assert set(first) >= {"native_id", "tool", "path", "resume_command", "report"}
    assert first["tool"] == target and Path(first["path"]).is_file()
    assert Path(first["path"]).stat().st_mode & 0o777 == 0o600
    assert first["resume_command"][0] == target
    assert first["native_id"] in " ".join(first["resume_command"])

    # B resumes it by id, with a new prompt
    runner = clis.RUNNERS[target]
    prompt = f"Converted from {source_cli} to {target}: go on"
    resumed = runner(home, source.cwd, prompt, resume=first["native_id"])
    assert_carries(resumed, source, target)
    assert f"ECHO: {prompt}" in resumed.proc.stdout, resumed.describe()

    # B goes on, finding it as its latest session in this folder (B lists it there),
    # and the request still carries everything, plus the turn just added
    onward = f"And once more in {target}"
    latest = runner(home, source.cwd, onward, continue_last=True)
    assert_carries(latest, source, target, prompt, onward)

    # converting again gives an independent session; the first one is left as it was
    written = checksums(home)
    second = convert(ident, target, home, monkeypatch)
    assert second["native_id"] != first["native_id"]
    assert second["path"] != first["path"] and Path(second["path"]).is_file()
    after = checksums(home)
    assert {k: v for k, v in after.items() if k in written} == written

    # the source tool's store is untouched
    assert checksums(source.home) == before
