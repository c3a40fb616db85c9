"""opencode and Kilo's CLI keep every session in one SQLite database: deleting a session
(`opencode session delete`, `kilo session delete`) removes its row and leaves the file. The
facts look for the row, so auto-resume (and its sh fast path) and teams start a new session
instead of resuming one the tool no longer has. On the databases the real CLIs wrote
(tests/fixtures); tests/e2e/test_deleted_by_the_real_clis.py deletes with the CLIs."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tether.autoresume import fastfile
from tether.autoresume.plan import plan, state_path
from tether.teams.runner import Teams
from tether.tools import facts, launch
from tether.tools.facts import checked_session, find_session, lookup_readonly

from .conftest import FIXTURES

DATABASES = {
    "opencode": FIXTURES / "opencode" / "opencode-1.18.33.db",
    "kilo": FIXTURES / "kilo" / "kilo-7.7.9.db",
}
ELSEWHERE = "ses_0000000000000000000000000a"


def planted(tool: str, home: Path, root: Path) -> tuple[str, Path]:
    """The tool's real database where the tool keeps it, its one session moved to `root`."""
    folder = home / ".local" / "share" / tool
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / f"{tool}.db"
    shutil.copyfile(DATABASES[tool], database)
    db = sqlite3.connect(database)
    with db:
        db.execute("UPDATE session SET directory = ?", (str(root),))
    [(native_id,)] = db.execute("SELECT id FROM session").fetchall()
    db.close()
    return str(native_id), database


def deleted(database: Path, native_id: str) -> None:
    """What the CLI's `session delete` does to its database (the e2e test runs the CLI)."""
    db = sqlite3.connect(database)
    with db:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("DELETE FROM session WHERE id = ?", (native_id,))
    db.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root.resolve()


@pytest.mark.parametrize("tool", DATABASES)
def test_the_facts_hold_a_session_while_its_row_is_there(
    tool: str, project: Path, isolated_home: Path
) -> None:
    env = {"HOME": str(isolated_home)}
    tool_facts = facts.get(tool)
    store = tool_facts.store_roots(env, str(isolated_home))[0]
    native_id, database = planted(tool, isolated_home, project)
    assert find_session(tool_facts, store, native_id, str(project)) == str(database)
    assert checked_session(tool_facts, store, native_id, str(database)) == str(database)
    assert Teams(project, env).session_file(tool, native_id, str(project)) == database
    assert find_session(tool_facts, store, ELSEWHERE) is None  # a row it never had

    deleted(database, native_id)
    assert database.is_file()
    assert find_session(tool_facts, store, native_id, str(project)) is None
    assert checked_session(tool_facts, store, native_id, str(database)) is None
    assert Teams(project, env).session_file(tool, native_id, str(project)) is None


def test_a_kilo_task_of_the_extension_is_still_its_own_folder(isolated_home: Path) -> None:
    assert facts.get("kilo").holds_session("/any/tasks/t/api_conversation_history.json", "17")


def test_a_database_that_cannot_be_read_is_no_proof_of_a_deletion(tmp_path: Path) -> None:
    """Only a database that answers "no such row" says a session was deleted: one that
    cannot be read (damaged, locked past a second) leaves the session as it was."""
    damaged = tmp_path / "opencode.db"
    damaged.write_bytes(b"not a database, though named like one\n" * 100)
    assert lookup_readonly(str(damaged), "SELECT 1 FROM session", ()) is None
    assert facts.get("opencode").holds_session(str(damaged), ELSEWHERE)
    assert lookup_readonly(str(tmp_path / "missing.db"), "SELECT 1", ()) is None
    readable = tmp_path / "kilo.db"
    shutil.copyfile(DATABASES["kilo"], readable)
    assert not facts.get("kilo").holds_session(str(readable), ELSEWHERE)


@pytest.mark.parametrize("tool", DATABASES)
def test_a_launch_after_the_session_was_deleted_starts_a_new_one(
    tool: str, project: Path, isolated_home: Path, tmp_path: Path
) -> None:
    env = {"HOME": str(isolated_home)}
    native_id, database = planted(tool, isolated_home, project)
    state = Path(state_path(str(project), tool))
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"version": 1, "session_id": native_id}))
    shims = str(tmp_path / "shims")
    real = f"/usr/bin/{tool}"

    resumed = plan(tool, [], env, str(project), 1.0, real=real, shim_dir=shims)
    assert resumed.args == launch.resume_args(tool, native_id)
    # no fast file: sh can test that the database is there, not that the row is
    assert not Path(fastfile.fast_path(shims, tool, str(project))).exists()

    deleted(database, native_id)
    again = plan(tool, [], env, str(project), 2.0, real=real, shim_dir=shims)
    assert again.args == [] and f"session {native_id} is gone" in (again.note or "")
    assert json.loads(state.read_text())["session_id"] is None  # its id is read next time
