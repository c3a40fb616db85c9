"""Fixtures of the end-to-end tests: the pinned CLIs, and one real session written by each."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from subprocess import SubprocessError

import pytest

from . import clis


def require_clis() -> None:
    """Skip when the pinned CLIs are not installed, unless TETHER_E2E asks for them (CI)."""
    missing = clis.missing_clis()
    if not missing:
        return
    message = f"pinned CLIs not installed ({', '.join(missing)}): run scripts/install-clis.sh"
    if os.environ.get("TETHER_E2E", "0") not in ("", "0"):
        pytest.fail(f"{message} (TETHER_E2E is set, so this is a failure)", pytrace=False)
    pytest.skip(f"{message}, or set TETHER_E2E=1 to make this a failure")


def require_qwen_and_opencode() -> None:
    """Skip when Qwen Code or opencode (pinned too) is missing, unless TETHER_E2E is set."""
    missing = [m for m in (clis.target_missing("qwen"), clis.opencode_missing()) if m]
    if not missing:
        return
    message = f"{', '.join(missing)} not installed: run scripts/install-clis.sh"
    if os.environ.get("TETHER_E2E", "0") not in ("", "0"):
        pytest.fail(f"{message} (TETHER_E2E is set, so this is a failure)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def tmux_dir() -> Iterator[str]:
    """A private tmux server's socket folder (short: socket paths are limited)."""
    if shutil.which("tmux") is None:
        message = "tmux is not installed (apt install tmux)"
        if os.environ.get("TETHER_E2E", "0") not in ("", "0"):
            pytest.fail(f"{message}, and TETHER_E2E is set", pytrace=False)
        pytest.skip(message)
    folder = tempfile.mkdtemp(prefix="tt-e2e-", dir="/tmp")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def installed_clis() -> None:
    require_clis()


def _drive(cli: str, base: Path) -> clis.RealSession | str:
    try:
        return clis.drive_session(cli, base)
    except (AssertionError, OSError, RuntimeError, ValueError, SubprocessError) as error:
        return str(error)


@pytest.fixture(scope="session")
def real_sessions(
    installed_clis: None, tmp_path_factory: pytest.TempPathFactory
) -> clis.RealSessions:
    """Each pinned CLI, run once per test session: homes holding their real native files.

    The four CLIs run side by side, each in its own HOME under one temporary folder.
    """
    base = tmp_path_factory.mktemp("real-sessions")
    result = clis.RealSessions()
    with ThreadPoolExecutor(max_workers=len(clis.PINS)) as pool:
        outcomes = dict(
            zip(clis.PINS, pool.map(lambda cli: _drive(cli, base), clis.PINS), strict=True)
        )
    for cli, outcome in outcomes.items():
        if isinstance(outcome, str):
            result.failures[cli] = outcome
        else:
            result.sessions[cli] = outcome
    return result
