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
from .teamrun import SECOND, TEAM, first_prompt

AGENTS = {"planner": "claude", "coder": "codex", "checker": "gemini", "helper": "copilot"}
TIMEOUT = 300


@pytest.fixture
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
    out["root"], out["worktree"] = root, worktree
    return out


def describe(out: dict[str, Any]) -> str:
    steps = {
        name: {k: v[-1500:] for k, v in step.items() if k != "argv"}
        for name, step in out["steps"].items()
        if name != "status"
    }
    screens = "\n".join(
        f"--- {agent}\n{screen[-1500:]}" for agent, screen in out["screens"].items()
    )
    return f"waits {out['waits']}\nsteps {json.dumps(steps, indent=1)}\n{screens}"


def carries(request: Request, agent: str) -> bool:
    """The request continues `agent`'s own session: its first turn, then the new prompt."""
    sent = conversation(request)
    users = " ".join(sent.user_texts)
    return (
        SECOND in users
        and first_prompt(agent) in users
        and f"ECHO: {first_prompt(agent)}" in sent.assistant_texts
        and not any(first_prompt(other) in users for other in AGENTS if other != agent)
    )


@pytest.mark.e2e
def test_a_team_of_four_cli_resumes_each_agent_on_its_own_session(
    installed_clis: None, tmp_path: Path, tmux_dir: str
) -> None:
    out = run_team(tmp_path, tmux_dir)
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
        assert any(carries(request, agent) for request in after), (agent, describe(out))

    assert {row["name"]: row["native_id"] for row in out["status_resumed"]} == ids
    record = {a["name"]: a for a in out["record"]["agents"]}
    for name, tool in AGENTS.items():
        agent = record[name]
        assert agent["tool"] == tool and agent["tmux_target"] == f"{TEAM}:{name}"
        assert agent["command"][0] == tool and agent["native_id"] == ids[name]
        assert agent["started_at"] < agent["resumed_at"]
    assert record["coder"]["cwd"] == str(out["worktree"])
    assert record["coder"]["command"][:3] == ["codex", "resume", ids["coder"]]
    exclude = out["root"] / ".git" / "info" / "exclude"
    assert "/.tether/" in exclude.read_text().splitlines()
