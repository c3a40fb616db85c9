"""Resume in opencode, proven by the real opencode: a session each of the four CLIs really
wrote is captured, converted to opencode (`opencode import` inserts it), and `opencode run
--session ID` sends all of it to the model as opencode's own turns and `bash` call/result.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import checksums

from . import clis
from .test_convert_real_clis import CLIS, assert_carries, capture, convert


@pytest.fixture(scope="module")
def opencode_installed() -> None:
    missing = clis.opencode_missing()
    if missing:
        message = f"{missing} not installed: run scripts/install-clis.sh"
        if os.environ.get("TETHER_E2E", "0") not in ("", "0"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def rows(home: Path, native_id: str) -> list[tuple[object, ...]]:
    """The imported session's message and part rows, read-only."""
    db_path = home / ".local" / "share" / "opencode" / "opencode.db"
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        messages = db.execute(
            "SELECT id, data FROM message WHERE session_id = ? ORDER BY id", (native_id,)
        ).fetchall()
        parts = db.execute(
            "SELECT id, data FROM part WHERE session_id = ? ORDER BY id", (native_id,)
        ).fetchall()
    finally:
        db.close()
    return [*messages, *parts]


@pytest.mark.e2e
@pytest.mark.parametrize("source_cli", CLIS, ids=[f"{cli}-to-opencode" for cli in CLIS])
def test_converted_session_resumes_in_opencode(
    opencode_installed: None,
    real_sessions: clis.RealSessions,
    source_cli: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = real_sessions[source_cli]
    before = checksums(source.home)
    ident = capture(source, monkeypatch)
    home = tmp_path / "opencode-home"
    for path, text in clis.opencode_config_files(home).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for key, value in clis.OPENCODE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    first = convert(ident, "opencode", home, monkeypatch)
    assert first["tool"] == "opencode" and first["native_id"].startswith("ses_")
    assert Path(first["path"]).is_file()
    assert Path(first["path"]).stat().st_mode & 0o777 == 0o600
    assert first["resume_command"] == ["opencode", "--session", first["native_id"]]
    # the rows opencode inserted, in the order tether wrote them
    export = json.loads(Path(first["path"]).read_text())
    written = [m["info"]["id"] for m in export["messages"]]
    imported = rows(home, first["native_id"])
    assert [row[0] for row in imported[: len(written)]] == written

    prompt = f"Converted from {source_cli} to opencode: go on"
    resumed = clis.run_opencode(home, source.cwd, prompt, session=first["native_id"])
    assert_carries(resumed, source, "opencode")
    assert f"ECHO: {prompt}" in resumed.proc.stdout, resumed.describe()

    # opencode's own "latest session" finds it, and the request still carries everything
    onward = f"And once more in opencode from {source_cli}"
    latest = clis.run_opencode(home, source.cwd, onward, continue_last=True)
    assert_carries(latest, source, "opencode", prompt, onward)

    # converting again gives an independent session; the first one's rows stay as they were
    kept = rows(home, first["native_id"])
    second = convert(ident, "opencode", home, monkeypatch)
    assert second["native_id"] != first["native_id"]
    assert second["path"] != first["path"] and Path(second["path"]).is_file()
    assert rows(home, first["native_id"]) == kept

    # the source tool's store is untouched
    assert checksums(source.home) == before
