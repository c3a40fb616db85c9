"""A session tether wrote survives the Gemini CLI's automatic session clean-up (on by default).

The pitfall (packages/cli/src/utils/sessionCleanup.ts, 0.61): resuming a session in a later
minute than its file's name leaves a stub `session-<now>-<id8>.jsonl` (metadata and context,
no conversation). The next start of another session judges the stub invalid and deletes
every `session-*-<id8>.json[l]` file: with the CLI's own naming, the session itself. These
tests run the pinned CLI with clean-up ON, resume in a later minute (the file is written with
a write time five minutes back), start another session, and look at what is left.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tether.archive.assemble import Assembly
from tether.capture.feed import feed_from_bytes
from tether.convert.session import convert
from tether.model import Session, Text, ToolResult
from tether.tools import gemini as gemini_reader
from tether.tools.base import Source

from . import clis
from .mockmodel import conversation

SOURCE = FIXTURES / "gemini" / "cli061_resumed_tool_call.jsonl"
CLEANUP_ON: dict[str, Any] = copy.deepcopy(clis.GEMINI_SETTINGS)
CLEANUP_ON["general"]["sessionRetention"] = {"enabled": True, "maxAge": "30d"}  # the defaults


def source_session() -> Session:
    assembly = Assembly("gemini")
    feed = feed_from_bytes(Source(SOURCE, "jsonl"), SOURCE.read_bytes())
    assembly.apply(gemini_reader.read(feed, {}))
    return assembly.session()


def run(home: Path, cwd: Path, prompt: str, **kwargs: Any) -> clis.Run:
    done = clis.run_gemini(home, cwd, prompt, settings=CLEANUP_ON, **kwargs)
    assert done.proc.returncode == 0 and done.model_requests(), done.describe()
    return done


def assert_carries(done: clis.Run, source: Session) -> None:
    sent = conversation(done.model_requests()[-1])
    for message in source.messages:
        for part in message.parts:
            if message.role == "user" and isinstance(part, Text):
                assert any(part.text in text for text in sent.user_texts), part.text
            if isinstance(part, ToolResult):
                assert any(part.output in out for out in sent.tool_outputs), sent.tool_outputs


def resume_later_then_start_another(home: Path, cwd: Path, native_id: str, path: Path) -> None:
    """Resume in a later minute (a stub is left), then start another session (clean-up)."""
    resumed = run(home, cwd, "Resumed a minute later: go on", resume=native_id)
    source = source_session()
    assert_carries(resumed, source)
    # each result once (the CLI's own logs make it send every result twice on resume)
    results = [p for m in source.messages for p in m.parts if isinstance(p, ToolResult)]
    assert len(conversation(resumed.model_requests()[-1]).tool_outputs) == len(results)
    stubs = [p for p in path.parent.iterdir() if p != path and native_id[:8] in p.name]
    assert stubs, "the resume left no stub: the pitfall's precondition is missing"
    run(home, cwd, "Another session in the same folder")
    assert not any(stub.exists() for stub in stubs), "the clean-up did not run"


@pytest.mark.e2e
@pytest.mark.parametrize("callers_id", [False, True], ids=["new-id", "callers-uuid"])
def test_converted_session_survives_the_clis_session_cleanup(
    installed_clis: None, tmp_path: Path, callers_id: bool
) -> None:
    """tether's own ids, and a UUID a caller chose (a restore keeps the CLI's own id)."""
    home, cwd = tmp_path / "home", tmp_path / "project"
    cwd.mkdir()
    written = convert(
        source_session(),
        "gemini",
        store=home / ".gemini",
        cwd=cwd,
        now=datetime.now(UTC) - timedelta(minutes=5),
        native_id=str(uuid.uuid4()) if callers_id else None,
    ).written
    resume_later_then_start_another(home, cwd, written.native_id, written.path)

    assert written.path.is_file(), "the clean-up deleted the session"
    listed = run(home, cwd, "unused", extra=("--list-sessions",))
    assert f"[{written.native_id}]" in listed.proc.stdout, listed.describe()
    again = run(home, cwd, "Still there?", resume=written.native_id)
    assert_carries(again, source_session())


@pytest.mark.e2e
def test_the_clis_own_naming_loses_the_session(installed_clis: None, tmp_path: Path) -> None:
    """The control: the same steps with a UUID id and the CLI's own file name."""
    home, cwd = tmp_path / "home", tmp_path / "project"
    cwd.mkdir()
    past = datetime.now(UTC) - timedelta(minutes=5)
    native_id = str(uuid.uuid4())
    written = convert(
        source_session(), "gemini", store=home / ".gemini", cwd=cwd, now=past, native_id=native_id
    ).written
    own = written.path.with_name(f"session-{past:%Y-%m-%dT%H-%M}-{native_id[:8]}.jsonl")
    written.path.rename(own)
    resume_later_then_start_another(home, cwd, native_id, own)

    assert not own.exists(), "the clean-up kept the session: the pitfall is gone"
