"""More real CLIs as judges: the Kilo CLI and the Cline CLI, each driven against the mock to
write a real session (a text turn, a shell tool call and its output, a resume), which
tether reads back whole; and their writers, proven as the others are: a session each of
the four pinned CLIs really wrote, converted to Kilo (`kilo import`) or Cline (two new
files), resumed by the tool's own resume (`kilo run --session ID`, `cline --id ID` in its
TUI), sends all of it to the model as the tool's own turns and tool call/result.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import checksums, run

from . import clis
from .test_convert_real_clis import assert_carries, capture, convert

MORE = ("kilo", "cline")


@pytest.fixture(scope="module")
def more_sessions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, clis.RealSession | str]:
    """One real session per CLI of MORE (side by side); a CLI whose runs failed: why."""
    for cli in MORE:
        clis.require_target(cli)
    base = tmp_path_factory.mktemp("more-sessions")

    def drive(cli: str) -> clis.RealSession | str:
        try:
            return clis.drive_more(cli, base)
        except (AssertionError, OSError, RuntimeError, ValueError) as error:
            return str(error)

    with ThreadPoolExecutor(max_workers=len(MORE)) as pool:
        return dict(zip(MORE, pool.map(drive, MORE), strict=True))


def data_checksums(home: Path) -> dict[str, str]:
    """checksums, but of a SQLite database's -shm: shared memory, not data, where every
    reader of a live database (Kilo's, after its run) takes a read mark."""
    return {path: digest for path, digest in checksums(home).items() if not path.endswith("-shm")}


def session_of(more: dict[str, clis.RealSession | str], cli: str) -> clis.RealSession:
    found = more[cli]
    if isinstance(found, str):
        raise AssertionError(f"the {cli} session could not be made:\n{found}")
    return found


@pytest.mark.e2e
@pytest.mark.parametrize("cli", MORE)
def test_a_real_session_reads_back_whole(
    more_sessions: dict[str, clis.RealSession | str], cli: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = session_of(more_sessions, cli)
    before = data_checksums(source.home)
    ident = capture(source, monkeypatch)
    assert data_checksums(source.home) == before  # capture writes no native byte
    shown = json.loads(run("show", ident, "--json", "--no-scan").output)
    assert shown["session"]["native_id"] == source.session_id
    assert shown["session"]["cwd"] == str(source.cwd)
    parts = [(m["role"], p) for m in shown["messages"] for p in m["parts"]]
    users = [p["text"] for role, p in parts if role == "user" and p["type"] == "text"]
    replies = [p["text"] for role, p in parts if role == "assistant" and p["type"] == "text"]
    assert users == list(source.prompts)  # what was typed, without the CLI's wrapping
    for reply in source.replies:
        assert any(reply in text for text in replies), (reply, replies)
    [call] = [p for _, p in parts if p["type"] == "tool_call"]
    assert call["name"] == source.shell_tool and source.command in json.dumps(call["input"])
    [result] = [p for _, p in parts if p["type"] == "tool_result"]
    assert result["call_id"] == call["id"] and source.output in result["output"]
    assert not result["is_error"]
    # and the CLI itself sent all of it to the model on its last turn
    final = source.final_request()
    assert final.kind == "chat"


def prepare_home(target: str, home: Path) -> None:
    """The target CLI's own settings, as a user's are before they convert (the writer reads
    the model they name)."""
    files = clis.kilo_config_files(home) if target == "kilo" else clis.cline_files(home)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def resume(target: str, home: Path, cwd: Path, prompt: str, native_id: str) -> clis.Run:
    if target == "kilo":
        return clis.run_kilo(home, cwd, prompt, session=native_id)
    return clis.run_cline(home, cwd, prompt, resume=native_id)


SOURCES = ("claude", "codex", *MORE)
"""Two of the four pinned CLIs and the other new one: the writers are what is proven here
(every pinned CLI's session is read in tests/e2e/test_convert_real_clis.py)."""
PAIRS = [(source, target) for source in SOURCES for target in MORE if source != target]


@pytest.mark.e2e
@pytest.mark.parametrize(("source_cli", "target"), PAIRS, ids=[f"{a}-to-{b}" for a, b in PAIRS])
def test_converted_session_resumes_in_kilo_and_cline(
    real_sessions: clis.RealSessions,
    more_sessions: dict[str, clis.RealSession | str],
    source_cli: str,
    target: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = (
        session_of(more_sessions, source_cli) if source_cli in MORE else real_sessions[source_cli]
    )
    before = data_checksums(source.home)
    ident = capture(source, monkeypatch)
    home = tmp_path / f"{target}-home"
    prepare_home(target, home)
    for key, value in (clis.KILO_ENV if target == "kilo" else {}).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    first: dict[str, Any] = convert(ident, target, home, monkeypatch)
    assert first["tool"] == target and Path(first["path"]).is_file()
    assert Path(first["path"]).stat().st_mode & 0o777 == 0o600
    flag = {"kilo": "--session", "cline": "--id"}[target]
    assert first["resume_command"] == [target, flag, first["native_id"]]

    prompt = f"Converted from {source_cli} to {target}: go on"
    resumed = resume(target, home, source.cwd, prompt, first["native_id"])
    assert_carries(resumed, source, target, prompt)
    assert data_checksums(source.home) == before  # the source tool's store is untouched
