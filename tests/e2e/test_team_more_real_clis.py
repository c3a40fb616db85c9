"""A team of Qwen Code, opencode, Kilo's CLI and Cline, interactive in real tmux against
the mock model: started, stopped and resumed by `tether team`; after the resume, each
agent's request to the model carries its own first turn and the new prompt.

Each runs as a user would run it in a team: its TUI. Qwen Code is given its session id up
front (--session-id); opencode, Kilo and Cline name their sessions themselves, and tether
finds them after the launch (in opencode.db, kilo.db and Cline's session folders). Their
resumes (`cline --id ID`, `opencode --session ID`, `kilo --session ID`) open the TUI on the
session and would drop a prompt given with it, so `team resume` gives none and the run
types it, as their user would; Qwen's `--resume ID -i PROMPT` takes it."""

from __future__ import annotations

from typing import Any

import pytest

from . import clis
from .conftest import require_qwen_and_opencode
from .teamcase import assert_each_resumed_on_its_own, describe, run_team

AGENTS = {"planner": "qwen", "coder": "opencode", "checker": "kilo", "helper": "cline"}


@pytest.fixture(scope="module")
def team_run(
    installed_clis: None, tmux_dir: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One run of the team: start, stop, resume."""
    require_qwen_and_opencode()
    for cli in ("kilo", "cline"):
        clis.require_target(cli)
    return run_team(tmp_path_factory.mktemp("team-more"), tmux_dir, AGENTS, move=False)


@pytest.mark.e2e
def test_a_team_of_qwen_opencode_kilo_and_cline_resumes_each_on_its_own_session(
    team_run: dict[str, Any],
) -> None:
    out = team_run
    record = assert_each_resumed_on_its_own(out, AGENTS, ("qwen",))
    ids = {name: agent["native_id"] for name, agent in record.items()}
    typed = {"coder": True, "checker": True, "helper": True}  # all but Qwen
    assert out["typed"] == typed, describe(out, AGENTS)
    assert record["planner"]["command"][1:3] == ["--resume", ids["planner"]]
    assert record["coder"]["command"] == ["opencode", "--session", ids["coder"]]
    assert record["checker"]["command"] == ["kilo", "--session", ids["checker"]]
    assert record["helper"]["command"] == ["cline", "--id", ids["helper"]]
