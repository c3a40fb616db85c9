"""A team of the four real CLIs, interactive in real tmux: started, stopped and resumed by
`tether team`, each agent's request to the model after the resume carries its own turns."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import clis
from .mockmodel import Request, conversation
from .teamrun import MOVED, MOVED_TO, SECOND, TEAM, THIRD, first_prompt

AGENTS = {"planner": "claude", "coder": "codex", "checker": "gemini", "helper": "copilot"}
TIMEOUT = 300


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


@pytest.fixture(scope="module")
def team_run(
    installed_clis: None, tmux_dir: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One run of the team: start, stop, resume; then stop, move one agent, resume."""
    return run_team(tmp_path_factory.mktemp("team"), tmux_dir)


def git(*args: str, cwd: Path) -> None:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", *identity, *args], cwd=cwd, check=True, capture_output=True)


def make_project(base: Path) -> tuple[Path, Path]:
    """A git repository and a worktree of it, where the codex agent works."""
    root, worktree = base / "proj", base / "wt-coder"
    root.mkdir()
    git("init", "-q", cwd=root)
    git("commit", "-q", "--allow-empty", "-m", "start", cwd=root)
    git("worktree", "add", "-q", str(worktree), cwd=root)
    lines = []
    for name, tool in AGENTS.items():
        lines += [f'[[agents]]\nname = "{name}"\ntool = "{tool}"']
        lines += [f'prompt = "{first_prompt(name)}"']
        if tool == "codex":
            lines += ['cwd = "../wt-coder"']
    team_file = root / ".tether" / "teams" / f"{TEAM}.toml"
    team_file.parent.mkdir(parents=True)
    team_file.write_text("\n".join(lines) + "\n")
    return root.resolve(), worktree.resolve()


def run_team(base: Path, tmux_dir: str) -> dict[str, Any]:
    root, worktree = make_project(base)
    spec = {
        "home": str(base / "home"),
        "tether_home": str(base / "tether"),
        "root": str(root),
        "folders": [str(root), str(worktree)],
        "agents": list(AGENTS),
        "tmux_dir": tmux_dir,
        "timeout": TIMEOUT,
        "namespace": clis.use_namespace(),
    }
    spec_path, out_path = base / "spec.json", base / "out.json"
    spec_path.write_text(json.dumps(spec))
    runner = [sys.executable, str(Path(__file__).with_name("teamrun.py"))]
    runner += [str(spec_path), str(out_path)]
    if spec["namespace"]:
        runner = ["unshare", "-n", *runner]
    done = subprocess.run(
        runner, capture_output=True, text=True, timeout=3 * TIMEOUT + 120, check=False
    )
    if not out_path.exists():
        raise AssertionError(f"teamrun failed ({done.returncode}): {done.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(out_path.read_text())
    out["root"], out["worktree"], out["home"] = root, worktree, spec["home"]
    return out


def describe(out: dict[str, Any]) -> str:
    """For assertion messages: the steps, what each request carried, each agent's screen."""
    steps = {
        name: {k: str(v)[-1500:] for k, v in step.items() if k != "argv"}
        for name, step in out["steps"].items()
        if name != "status"
    }
    sent = []
    for at, raw in enumerate(out["requests"]):
        request = Request(**raw)
        users = " ".join(conversation(request).user_texts)
        said = [name for name in AGENTS if first_prompt(name) in users]
        said += [label for label, text in (("2nd", SECOND), ("3rd", THIRD)) if text in users]
        sent.append(f"{at} {request.kind} {said}")
    screens = "\n".join(
        f"--- {agent}\n{screen[-1500:]}" for agent, screen in out["screens"].items()
    )
    return (
        f"waits {out['waits']}, resume_at {out.get('resume_at')}, moved_at {out.get('moved_at')}"
        f"\nsteps {json.dumps(steps, indent=1)}\nrequests {sent}\n{screens}"
    )


def carries(request: Request, agent: str, *prompts: str) -> bool:
    """The request continues `agent`'s own session: its first turn, then `prompts`."""
    sent = conversation(request)
    users = " ".join(sent.user_texts)
    return (
        all(prompt in users for prompt in prompts)
        and first_prompt(agent) in users
        and f"ECHO: {first_prompt(agent)}" in sent.assistant_texts
        and not any(first_prompt(other) in users for other in AGENTS if other != agent)
    )


@pytest.mark.e2e
def test_a_team_of_four_cli_resumes_each_agent_on_its_own_session(
    team_run: dict[str, Any],
) -> None:
    out = team_run
    assert out["steps"]["start"]["code"] == 0, describe(out)
    started = json.loads(out["steps"]["start"]["out"])["agents"]
    assert [(a["name"], a["tool"], a["action"]) for a in started] == [
        (name, tool, "started") for name, tool in AGENTS.items()
    ]
    for agent in started:  # an id given up front, except to codex, which picks its own
        if agent["tool"] == "codex":
            assert agent["native_id"] is None
        else:
            assert uuid.UUID(agent["native_id"])
    assert out["waits"]["first"] is not None, describe(out)

    ids = {row["name"]: row["native_id"] for row in out["status_started"]}
    for row in out["status_started"]:
        assert row["state"] == "running" and row["native_id"][:8] in row["session_file"]
    given = {a["name"]: a["native_id"] for a in started if a["native_id"]}
    assert {name: ids[name] for name in given} == given
    assert json.loads(out["steps"]["stop"]["out"]) == {"team": TEAM, "stopped": True}
    assert [row["state"] for row in out["status_stopped"]] == ["stopped"] * len(AGENTS)

    assert out["steps"]["resume"]["code"] == 0, describe(out)
    resumed = json.loads(out["steps"]["resume"]["out"])["agents"]
    assert {a["name"]: (a["action"], a["native_id"]) for a in resumed} == {
        name: ("resumed", native_id) for name, native_id in ids.items()
    }
    assert out["waits"]["second"] is not None, describe(out)

    requests = [Request(**r) for r in out["requests"]]
    after = [r for r in requests[out["resume_at"] :] if r.kind != "other"]
    for agent in AGENTS:
        assert any(carries(request, agent, SECOND) for request in after), (agent, describe(out))

    assert {row["name"]: row["native_id"] for row in out["status_resumed"]} == ids
    record = {a["name"]: a for a in out["record_resumed"]["agents"]}
    for name, tool in AGENTS.items():
        agent = record[name]
        assert agent["tool"] == tool and agent["tmux_target"] == f"{TEAM}:{name}"
        assert agent["command"][0] == tool and agent["native_id"] == ids[name]
        assert agent["started_at"] < agent["resumed_at"]
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
    assert out["waits"].get("second") is not None, describe(out)
    assert out["steps"]["move"]["code"] == 0, describe(out)
    moved = json.loads(out["steps"]["move"]["out"])
    assert moved["source"]["tool"] == AGENTS[MOVED] and moved["tool"] == MOVED_TO
    resumed = {a["name"]: a for a in json.loads(out["steps"]["resume_moved"]["out"])["agents"]}
    assert (resumed[MOVED]["tool"], resumed[MOVED]["action"]) == (MOVED_TO, "resumed")
    assert resumed[MOVED]["native_id"] == moved["native_id"]
    assert out["waits"]["third"] is not None, describe(out)

    requests = [Request(**r) for r in out["requests"]][out["moved_at"] :]
    kind = {"claude": "anthropic", "codex": "responses", "gemini": "gemini", "copilot": "chat"}
    in_new_tool = [r for r in requests if r.kind == kind[MOVED_TO]]
    assert any(carries(r, MOVED, SECOND, THIRD) for r in in_new_tool), describe(out)
    assert not any(r.kind == kind[AGENTS[MOVED]] for r in requests)  # nothing left on claude
    status = {row["name"]: row for row in out["status_moved"]}
    assert status[MOVED]["tool"] == MOVED_TO and status[MOVED]["state"] == "running"
    record = {a["name"]: a for a in out["record"]["agents"]}
    assert record[MOVED]["moved_from"][0]["native_id"] == moved["source"]["native_id"]
