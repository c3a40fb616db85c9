"""A session deleted with the real opencode's or Kilo's own `session delete` is gone to
tether: the database file stays, its row does not, and auto-resume starts a new session.

The databases are the ones those CLIs wrote at their pinned versions (tests/fixtures)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tether.autoresume.plan import plan, state_path
from tether.tools import facts, launch
from tether.tools.facts import find_session
from tether.tools.facts.opencode import sessions_since

from . import clis

FIXTURES = clis.REPO / "tests" / "fixtures"
DATABASES = {
    "opencode": FIXTURES / "opencode" / "opencode-1.18.33.db",
    "kilo": FIXTURES / "kilo" / "kilo-7.7.9.db",
}
ENV = {"opencode": clis.OPENCODE_ENV, "kilo": clis.KILO_ENV}


@pytest.mark.e2e
@pytest.mark.parametrize("tool", DATABASES)
def test_a_session_the_cli_deleted_is_not_resumed(tool: str, tmp_path: Path) -> None:
    clis.require_target(tool)
    home, project = tmp_path / "home", tmp_path / "project"
    database = home / ".local" / "share" / tool / f"{tool}.db"
    database.parent.mkdir(parents=True)
    shutil.copyfile(DATABASES[tool], database)
    env = {"HOME": str(home)}
    tool_facts = facts.get(tool)
    store = tool_facts.store_roots(env, str(home))[0]
    [(native_id, _)] = sessions_since(str(database), "/", 0.0)
    assert find_session(tool_facts, store, native_id) == str(database)
    state = Path(state_path(str(project), tool))
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"version": 1, "session_id": native_id}))
    assert plan(tool, [], env, str(project), 1.0).args == launch.resume_args(tool, native_id)

    listed = clis.run_cli([str(clis.binary(tool)), "session", "list"], home, project, ENV[tool])
    assert native_id in listed.proc.stdout, listed.describe()
    gone = clis.run_cli(
        [str(clis.binary(tool)), "session", "delete", native_id], home, project, ENV[tool]
    )
    assert gone.proc.returncode == 0 and f"{native_id} deleted" in gone.proc.stderr, gone.describe()

    assert database.is_file()  # the file stays: only the row went
    assert find_session(tool_facts, store, native_id) is None
    again = plan(tool, [], env, str(project), 2.0)
    assert again.args == [] and f"session {native_id} is gone" in (again.note or "")
