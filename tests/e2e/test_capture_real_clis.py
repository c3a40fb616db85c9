"""tether captures what the real CLIs wrote: every prompt, reply, tool call and tool output
comes back from `show` and is found by `search`, and no native byte changes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import checksums, run

from .clis import PINS, RealSessions

pytestmark = pytest.mark.e2e


def texts(session: dict[str, Any], role: str, kind: str = "text") -> list[str]:
    key = {"text": "text", "tool_result": "output"}[kind]
    return [
        p[key]
        for m in session["messages"]
        if m["role"] == role
        for p in m["parts"]
        if p["type"] == kind
    ]


@pytest.mark.parametrize("cli", PINS)
def test_capture_of_a_real_session(
    cli: str, real_sessions: RealSessions, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = real_sessions[cli]
    monkeypatch.setenv("HOME", str(real.home))
    monkeypatch.setenv("TETHER_HOME", str(tmp_path / "archive"))
    before = checksums(real.home / f".{cli}")
    report = orjson.loads(run("scan", "--json").stdout)
    assert report["failed"] == [] and report["skipped_lines"] == 0, report
    assert checksums(real.home / f".{cli}") == before

    session = orjson.loads(run("show", real.session_id, "--json").stdout)
    info = session["session"]
    assert info["tool"] == cli and info["native_id"] == real.session_id
    assert Path(info["project"] or "").resolve() == real.cwd.resolve()

    users = texts(session, "user")
    for prompt in real.prompts:
        assert sum(prompt in u for u in users) == 1, (prompt, users)
    replies = texts(session, "assistant")
    for reply in real.replies:
        assert any(reply in r for r in replies), (reply, replies)
    calls = [p for m in session["messages"] for p in m["parts"] if p["type"] == "tool_call"]
    assert len(calls) == 1, calls
    assert real.command in orjson.dumps(calls[0]["input"]).decode()
    results = [p for m in session["messages"] for p in m["parts"] if p["type"] == "tool_result"]
    assert [r["call_id"] for r in results] == [calls[0]["id"]]
    assert real.output in results[0]["output"] and not results[0]["is_error"]

    listed = orjson.loads(run("list", "--json", "--tool", cli).stdout)
    assert [r["native_id"] for r in listed] == [real.session_id]
    for word, role in ((real.output, "tool"), (real.replies[0].split()[-1], "assistant")):
        hits = orjson.loads(run("search", word, "--json", "--tool", cli).stdout)
        assert any(h["session_id"] == info["id"] and h["role"] == role for h in hits), word
    assert os.environ["TETHER_HOME"].startswith(str(tmp_path))
