"""Auto-resume through the shims, with the real CLIs: in a project, the second launch of a
tool carries the first launch's turn in its request to the model.

Headless runs (TETHER_AUTORESUME_HEADLESS=1), each launched as a user would type it: the
shim folder first on PATH, the real CLI further down, from a subfolder of a git project.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tether.autoresume import shims

from . import clis
from .mockmodel import conversation

CLIS = list(clis.PINS)
MORE: dict[str, Callable[..., clis.Run]] = {
    "qwen": clis.run_qwen,
    "opencode": clis.run_opencode,
    "kilo": clis.run_kilo,
    "cline": functools.partial(clis.run_cline, tui=True),  # its resume is the TUI's
}
"""The other CLIs that resume by id, installable here (Antigravity's and Cursor's are not:
tests/test_autoresume_every_tool.py runs stand-ins of them through the shims)."""


@pytest.fixture
def through_shims(installed_clis: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The harness's runs go through tether's shims: argv[0] is the shim, and PATH holds the
    shim folder first and the pinned CLIs after it."""
    folder = tmp_path / "tether-home" / "shims"
    shims.install([*CLIS, *MORE], folder)
    real_bins = [str(clis.binary("claude").parent), str(clis.binary("kilo").parent)]
    plain_env: Callable[[Path], dict[str, str]] = clis.base_env

    def env_with_shims(home: Path) -> dict[str, str]:
        env = plain_env(home)
        env["PATH"] = os.pathsep.join([str(folder), *real_bins, env["PATH"]])
        env["TETHER_AUTORESUME_HEADLESS"] = "1"
        return env

    monkeypatch.setattr(clis, "base_env", env_with_shims)
    monkeypatch.setattr(clis, "binary", lambda cli: folder / cli)
    return folder


def git_project(base: Path, cli: str) -> Path:
    root = base / f"{cli}-project"
    (root / "sub").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root.resolve()


def state(root: Path, cli: str) -> dict[str, object]:
    return dict(json.loads((root / ".tether" / "autoresume" / f"{cli}.json").read_text()))


@pytest.mark.e2e
@pytest.mark.parametrize("cli", [*CLIS, *MORE])
def test_second_launch_carries_the_first_launchs_turn(
    through_shims: Path, tmp_path: Path, cli: str
) -> None:
    if cli in MORE:
        clis.require_target(cli)
    home, root = tmp_path / "home", git_project(tmp_path, cli)
    first_prompt = f"Please remember the word walnut-{cli}"
    second_prompt = f"Which word did I ask {cli} to remember?"
    run = clis.RUNNERS.get(cli) or MORE[cli]

    first = run(home, root / "sub", first_prompt)
    said = first.proc.stderr + first.proc.stdout  # a TUI's stderr is its terminal
    assert first.proc.returncode == 0 and first.model_requests(), first.describe()
    assert f"tether: {cli}: new session" in said, first.describe()
    started = state(root, cli)

    second = run(home, root / "sub", second_prompt)
    said = second.proc.stderr + second.proc.stdout
    assert second.proc.returncode == 0 and second.model_requests(), second.describe()
    resumed = state(root, cli)
    session_id = resumed["session_id"]
    assert isinstance(session_id, str)
    assert f"tether: {cli}: resuming session {session_id}" in said, second.describe()
    if started["session_id"] is not None:  # pre-assigned at the first launch
        assert started["session_id"] == session_id

    sent = conversation(second.model_requests()[-1])
    assert any(first_prompt in text for text in sent.user_texts), sent.user_texts
    replies = sent.assistant_texts
    assert any(f"ECHO: {first_prompt}" in text for text in replies), replies
    assert any(second_prompt in text for text in sent.user_texts), sent.user_texts
    assert isinstance(resumed["session_file"], str) and Path(resumed["session_file"]).is_file()
    assert "/.tether/" in (root / ".git" / "info" / "exclude").read_text().splitlines()


@pytest.mark.e2e
def test_unusable_state_still_runs_the_real_cli(through_shims: Path, tmp_path: Path) -> None:
    home, root = tmp_path / "home", git_project(tmp_path, "claude")
    path = root / ".tether" / "autoresume" / "claude.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe not json")
    prompt = "Hello through a broken state file"
    ran = clis.run_claude(home, root / "sub", prompt)
    assert ran.proc.returncode == 0, ran.describe()
    assert any(prompt in text for text in conversation(ran.model_requests()[-1]).user_texts)
    assert "auto-resume skipped" in ran.proc.stderr and "tether reset claude" in ran.proc.stderr
    assert path.read_bytes() == b"\xff\xfe not json"


@pytest.mark.e2e
def test_own_flags_reach_the_real_cli_unchanged(through_shims: Path, tmp_path: Path) -> None:
    home, root = tmp_path / "home", git_project(tmp_path, "gemini")
    ran = clis.run_cli([str(through_shims / "gemini"), "--version"], home, root, {})
    assert ran.proc.returncode == 0, ran.describe()
    assert ran.proc.stdout.strip() == clis.PINS["gemini"][1]
    assert ran.proc.stderr.strip() == "" or "tether" not in ran.proc.stderr
    assert not (root / ".tether").exists()
