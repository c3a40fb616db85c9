"""A team of the four real CLIs, interactive in real tmux: started, stopped and resumed by
`tether team`, each agent's request to the model after the resume carries its own turns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .mockmodel import Request
from .teamcase import assert_each_resumed_on_its_own, carries, describe, run_team
from .teamrun import MOVED, MOVED_TO, SECOND, THIRD

AGENTS = {"planner": "claude", "coder": "codex", "checker": "gemini", "helper": "copilot"}


@pytest.fixture(scope="module")
def team_run(
    installed_clis: None,
    tmux_dir: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """One run of the team: start, stop, resume; then stop, move one agent, resume."""
    return run_team(tmp_path_factory.mktemp("team"), tmux_dir, AGENTS, move=True)


@pytest.mark.e2e
def test_a_team_of_four_cli_resumes_each_agent_on_its_own_session(
    team_run: dict[str, Any],
) -> None:
    out = team_run
    # an id given up front, except to codex, which picks its own
    record = assert_each_resumed_on_its_own(out, AGENTS, ("claude", "gemini", "copilot"))
    ids = {name: agent["native_id"] for name, agent in record.items()}
    for row in out["status_started"]:  # each session's own file
        assert row["native_id"][:8] in row["session_file"]
    assert record["coder"]["cwd"] == str(out["worktree"])
    assert record["coder"]["command"][:3] == ["codex", "resume", ids["coder"]]
    exclude = out["root"] / ".git" / "info" / "exclude"
    assert "/.tether/" in exclude.read_text().splitlines()
    # `team stop` ended every agent: what is left is Codex's own shared background server
    daemon = str(Path(out["home"]) / ".codex" / "packages")
    assert all(argv.startswith(daemon) for argv in out["leftovers"]), out["leftovers"]


@pytest.mark.e2e
def test_an_agent_moved_to_another_tool_resumes_there(team_run: dict[str, Any]) -> None:
    """The same run, continued: the claude agent is moved to codex and resumed in it."""
    out = team_run
    assert out["waits"].get("second") is not None, describe(out, AGENTS)
    assert out["steps"]["move"]["code"] == 0, describe(out, AGENTS)
    moved = json.loads(out["steps"]["move"]["out"])
    assert moved["source"]["tool"] == AGENTS[MOVED] and moved["tool"] == MOVED_TO
    resumed = {a["name"]: a for a in json.loads(out["steps"]["resume_moved"]["out"])["agents"]}
    assert (resumed[MOVED]["tool"], resumed[MOVED]["action"]) == (MOVED_TO, "resumed")
    assert resumed[MOVED]["native_id"] == moved["native_id"]
    assert out["waits"]["third"] is not None, describe(out, AGENTS)

    requests = [Request(**r) for r in out["requests"]][out["moved_at"] :]
    kind = {"claude": "anthropic", "codex": "responses", "gemini": "gemini", "copilot": "chat"}
    in_new_tool = [r for r in requests if r.kind == kind[MOVED_TO]]
    assert any(carries(r, MOVED, AGENTS, SECOND, THIRD) for r in in_new_tool), describe(out, AGENTS)
    assert not any(r.kind == kind[AGENTS[MOVED]] for r in requests)  # nothing left on claude
    status = {row["name"]: row for row in out["status_moved"]}
    assert status[MOVED]["tool"] == MOVED_TO and status[MOVED]["state"] == "running"
    record = {a["name"]: a for a in out["record"]["agents"]}
    assert record[MOVED]["moved_from"][0]["native_id"] == moved["source"]["native_id"]
