"""What the team tests with the real CLIs share: a git project with a team file, one run
of tests/e2e/teamrun.py over it (in a loopback-only network namespace where it can), and
how to read what happened."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tether.tools import facts

from . import clis
from .mockmodel import Request, conversation
from .teamrun import SECOND, TEAM, THIRD, first_prompt

TIMEOUT = 300


def git(*args: str, cwd: Path) -> None:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", *identity, *args], cwd=cwd, check=True, capture_output=True)


def make_project(base: Path, agents: dict[str, str]) -> tuple[Path, Path]:
    """A git repository and a worktree of it, where a codex agent works."""
    root, worktree = base / "proj", base / "wt-coder"
    root.mkdir()
    git("init", "-q", cwd=root)
    git("commit", "-q", "--allow-empty", "-m", "start", cwd=root)
    git("worktree", "add", "-q", str(worktree), cwd=root)
    lines = []
    for name, tool in agents.items():
        lines += [f'[[agents]]\nname = "{name}"\ntool = "{tool}"']
        lines += [f'prompt = "{first_prompt(name)}"']
        if tool == "codex":
            lines += ['cwd = "../wt-coder"']
    team_file = root / ".tether" / "teams" / f"{TEAM}.toml"
    team_file.parent.mkdir(parents=True)
    team_file.write_text("\n".join(lines) + "\n")
    return root.resolve(), worktree.resolve()


def run_team(base: Path, tmux_dir: str, agents: dict[str, str], move: bool) -> dict[str, Any]:
    """Start, stop, resume the team of `agents` (name: tool); with `move`, then stop, move
    one agent to another tool and resume (tests/e2e/teamrun.py)."""
    root, worktree = make_project(base, agents)
    spec = {
        "home": str(base / "home"),
        "tether_home": str(base / "tether"),
        "root": str(root),
        "folders": [str(root), str(worktree)],
        "agents": list(agents),
        "tmux_dir": tmux_dir,
        "timeout": TIMEOUT,
        "namespace": clis.use_namespace(),
        "move": move,
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


def describe(out: dict[str, Any], agents: dict[str, str]) -> str:
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
        said = [name for name in agents if first_prompt(name) in users]
        said += [label for label, text in (("2nd", SECOND), ("3rd", THIRD)) if text in users]
        sent.append(f"{at} {request.kind} {said}")
    screens = "\n".join(
        f"--- {agent}\n{screen[-1500:]}" for agent, screen in out["screens"].items()
    )
    return (
        f"waits {out['waits']}, resume_at {out.get('resume_at')}, moved_at {out.get('moved_at')}"
        f", typed {out.get('typed')}\nsteps {json.dumps(steps, indent=1)}\nrequests {sent}"
        f"\n{screens}"
    )


def carries(request: Request, agent: str, agents: dict[str, str], *prompts: str) -> bool:
    """The request continues `agent`'s own session: its first turn, then `prompts`."""
    sent = conversation(request)
    users = " ".join(sent.user_texts)
    echo = f"ECHO: {first_prompt(agent)}"  # Kilo's prompts end with its context: so its echo
    return (
        all(prompt in users for prompt in prompts)
        and first_prompt(agent) in users
        and any(text.startswith(echo) for text in sent.assistant_texts)
        and not any(first_prompt(other) in users for other in agents if other != agent)
    )


def assert_each_resumed_on_its_own(
    out: dict[str, Any], agents: dict[str, str], preassigned: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """The team started (an id given up front to the `preassigned` tools, the others found
    afterwards), stopped, and came back with every agent on its own session, each agent's
    request after the resume carrying its own first turn and the second prompt. The
    agents' records after the resume, by name."""
    why = describe(out, agents)
    assert out["steps"]["start"]["code"] == 0, why
    started = json.loads(out["steps"]["start"]["out"])["agents"]
    assert [(a["name"], a["tool"], a["action"]) for a in started] == [
        (name, tool, "started") for name, tool in agents.items()
    ]
    for agent in started:
        given = agent["tool"] in preassigned
        assert (agent["native_id"] is not None) == given, agent
    assert out["waits"]["first"] is not None, why

    ids = {row["name"]: row["native_id"] for row in out["status_started"]}
    for row in out["status_started"]:
        assert row["state"] == "running" and row["session_file"], row
        assert facts.get(row["tool"]).valid_id(row["native_id"]), row
    given = {a["name"]: a["native_id"] for a in started if a["native_id"]}
    assert {name: ids[name] for name in given} == given
    assert json.loads(out["steps"]["stop"]["out"]) == {"team": TEAM, "stopped": True}
    assert [row["state"] for row in out["status_stopped"]] == ["stopped"] * len(agents)

    assert out["steps"]["resume"]["code"] == 0, why
    resumed = json.loads(out["steps"]["resume"]["out"])["agents"]
    assert {a["name"]: (a["action"], a["native_id"]) for a in resumed} == {
        name: ("resumed", native_id) for name, native_id in ids.items()
    }
    assert out["waits"]["second"] is not None, why
    requests = [Request(**r) for r in out["requests"]]
    after = [r for r in requests[out["resume_at"] :] if r.kind != "other"]
    for agent in agents:
        assert any(carries(request, agent, agents, SECOND) for request in after), (agent, why)

    assert {row["name"]: row["native_id"] for row in out["status_resumed"]} == ids
    record = {a["name"]: a for a in out["record_resumed"]["agents"]}
    for name, tool in agents.items():
        agent = record[name]
        assert agent["tool"] == tool and agent["tmux_target"] == f"{TEAM}:{name}"
        assert agent["command"][0] == tool and agent["native_id"] == ids[name]
        assert agent["started_at"] < agent["resumed_at"]
    return record
