"""Teams: team files, records, the tmux driver and the team commands.

The commands run real tmux (a private server per test) over stand-in CLIs: small scripts
named claude, codex and gemini that log their argv and folder, then wait. The stand-in codex
writes a rollout as the real one does, so finding its session afterwards is tested too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, eventually, run
from tests.test_json_output import SHAPES, assert_shape
from tether.teams.runner import (
    AgentRecord,
    TeamError,
    TeamRecord,
    Teams,
    load_record,
    save_record,
    stamp,
)
from tether.teams.teamfile import TeamFileError, defined_teams, load_team
from tether.teams.tmux import Tmux, TmuxError, escape
from tether.tools.facts import codex as codex_facts
from tether.tools.facts.claude import folder_name as claude_folder

CODEX_ROLLOUT = (
    FIXTURES
    / "codex"
    / "real_rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl"
)
needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

FAKE_CLI = """\
import json, os, sys, time, uuid
tool = os.path.basename(sys.argv[0])
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({"tool": tool, "argv": sys.argv[1:], "cwd": os.getcwd()}) + "\\n")
if tool == "codex" and "resume" not in sys.argv[1:2]:
    meta = json.loads(open(os.environ["FAKE_CODEX_META"]).readline())
    native_id = str(uuid.uuid4())
    meta["payload"].update(id=native_id, cwd=os.getcwd())
    day = time.strftime("%Y/%m/%d")
    folder = os.path.join(os.environ["HOME"], ".codex", "sessions", day)
    os.makedirs(folder, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H-%M-%S")
    with open(os.path.join(folder, f"rollout-{stamp}-{native_id}.jsonl"), "w") as out:
        out.write(json.dumps(meta) + "\\n")
if os.path.exists(os.environ["FAKE_EXIT"]):
    sys.exit(int(open(os.environ["FAKE_EXIT"]).read()))
time.sleep(600)
"""


# ---------------------------------------------------------------------------------------
# Team files


def write_team(root: Path, name: str, text: str) -> Path:
    path = root / ".tether" / "teams" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


MIXED = """\
description = "review a change"

[[agents]]
name = "planner"
tool = "claude-code"
args = ["--model", "sonnet"]
prompt = "Plan the change;"

[[agents]]
name = "coder"
tool = "codex"
cwd = "wt"
args = "-c 'model=\\"o3\\"'"
prompt = "Write it"

[[agents]]
name = "checker"
tool = "gemini"
env = { GEMINI_FLAG = "1" }
"""


def test_team_file_lists_agents_with_tools_args_folders_and_prompts(tmp_path: Path) -> None:
    source = write_team(tmp_path, "review", MIXED)
    team = load_team(tmp_path, "review")
    assert team.source == source and team.tmux_session == "review"
    assert [(a.name, a.tool) for a in team.agents] == [
        ("planner", "claude"),
        ("coder", "codex"),
        ("checker", "gemini"),
    ]
    planner, coder, checker = team.agents
    assert planner.args == ("--model", "sonnet") and planner.prompt == "Plan the change;"
    assert coder.args == ("-c", 'model="o3"')  # one string is split as a shell would
    assert coder.folder(tmp_path) == (tmp_path / "wt").resolve()
    assert checker.folder(tmp_path) == tmp_path.resolve() and checker.env == {"GEMINI_FLAG": "1"}
    assert defined_teams(tmp_path) == {"review": source}


def test_team_table_in_the_project_tether_toml(tmp_path: Path) -> None:
    (tmp_path / "tether.toml").write_text(
        '[teams.pair]\ntmux_session = "pair-run"\n'
        '[[teams.pair.agents]]\nname = "a"\ntool = "copilot"\n'
        '[[teams.pair.agents]]\nname = "b"\ntool = "claude"\n'
    )
    team = load_team(tmp_path, "pair")
    assert [a.tool for a in team.agents] == ["copilot", "claude"]
    assert team.tmux_session == "pair-run"
    assert defined_teams(tmp_path) == {"pair": tmp_path / "tether.toml"}
    write_team(tmp_path, "pair", MIXED)
    with pytest.raises(TeamFileError, match="defined twice"):
        load_team(tmp_path, "pair")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[agents]\nname=", "invalid TOML"),
        ("", "no agents"),
        ('agents = "x"', "no agents"),
        ('[[agents]]\ntool = "claude"', "agent 1 has no name"),
        ('[[agents]]\nname = "a"', "missing tool"),
        ('[[agents]]\nname = "a"\ntool = "vim"', "tool 'vim' cannot run in a team"),
        ('[[agents]]\nname = "a"\ntool = "amp"', "tool 'amp' cannot run in a team"),
        ('[[agents]]\nname = "a"\ntool = "aider"', "tool 'aider' cannot run in a team"),
        ('[[agents]]\nname = "a b"\ntool = "claude"', "bad agent name 'a b'"),
        ('[[agents]]\nname = "a"\ntool = "claude"\npromt = "x"', "unknown key 'promt'"),
        ('[[agents]]\nname = "a"\ntool = "claude"\nargs = [1]', "args must be a list"),
        ('[[agents]]\nname = "a"\ntool = "claude"\nargs = "\'x"', "args: No closing"),
        ('[[agents]]\nname = "a"\ntool = "claude"\nenv = {A = 1}', "env must be a table"),
        ('[[agents]]\nname = "a"\ntool = "claude"\ncwd = 3', "cwd must be a string"),
        ('[[agents]]\nname = "a"\ntool = "claude"\n[[agents]]\nname = "a"\ntool = "codex"', "two"),
        ('colour = "red"\n[[agents]]\nname = "a"\ntool = "claude"', "unknown key 'colour'"),
    ],
)
def test_team_file_errors_say_which_file_and_what(tmp_path: Path, text: str, message: str) -> None:
    path = write_team(tmp_path, "t", text)
    with pytest.raises(TeamFileError, match=message) as caught:
        load_team(tmp_path, "t")
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_team_file_that_is_not_utf8_or_missing(tmp_path: Path) -> None:
    write_team(tmp_path, "t", "").write_bytes(b'[[agents]]\nname = "\xff"\n')
    with pytest.raises(TeamFileError, match="not UTF-8"):
        load_team(tmp_path, "t")
    with pytest.raises(TeamFileError, match="no team 'other' here"):
        load_team(tmp_path, "other")
    with pytest.raises(TeamFileError, match="bad team name"):
        load_team(tmp_path, "../etc")


# ---------------------------------------------------------------------------------------
# Records


def test_record_round_trip_and_bad_records(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    record = TeamRecord(team="t", root=str(tmp_path), tmux_session="t")
    record.put(AgentRecord("a", "claude", ["claude"], str(tmp_path), "t:a", native_id="x"))
    record.put(AgentRecord("b", "codex", ["codex"], str(tmp_path), "t:b"))
    record.put(AgentRecord("a", "gemini", ["gemini"], str(tmp_path), "t:a"))  # replaced in place
    save_record(tmp_path, record)
    loaded = load_record(tmp_path, "t")
    assert loaded == record and [a.name for a in loaded.agents] == ["a", "b"]
    saved = json.loads((tmp_path / ".tether/teams/t.json").read_text())
    assert set(saved["agents"][0]) == {
        *("name", "tool", "command", "cwd", "tmux_target", "native_id"),
        *("started_at", "resumed_at", "moved_from"),
    }
    assert "/.tether/" in (tmp_path / ".git/info/exclude").read_text().splitlines()
    assert not (tmp_path / ".gitignore").exists()
    assert [p.name for p in (tmp_path / ".tether/teams").iterdir()] == ["t.json"]  # no temp file
    saved["agents"][0]["from_a_later_version"] = 1
    (tmp_path / ".tether/teams/t.json").write_text(json.dumps(saved))
    assert load_record(tmp_path, "t") == record
    for bad in (b"", b"\xff\xfe", b"[1]", b'{"team": 1, "agents": [{"x": 1}]}'):
        (tmp_path / ".tether/teams/t.json").write_bytes(bad)
        with pytest.raises(TeamError, match="move it away"):
            load_record(tmp_path, "t")
    assert load_record(tmp_path, "never") is None


# ---------------------------------------------------------------------------------------
# tmux


def test_tmux_missing_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_team(tmp_path, "t", '[[agents]]\nname = "a"\ntool = "claude"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(TmuxError, match=r"apt install tmux.*brew install tmux"):
        Tmux.find(os.environ)
    for command in ("start", "stop", "resume"):
        result = run("team", command, "t", ok=False)
        assert result.exit_code == 1
        assert result.output == (
            "tether: error: tmux is not installed: install it with `apt install tmux` "
            "(Debian, Ubuntu) or `brew install tmux` (macOS)\n"
        )
    status = run("team", "status", "t", "--json")  # nothing can run without tmux
    assert json.loads(status.stdout)["agents"][0]["state"] == "not started"


def test_escape_keeps_a_trailing_semicolon_an_argument() -> None:
    assert escape("a;") == "a\\;" and escape("a\\;") == "a\\\\;"
    assert escape(";a") == ";a" and escape("x") == "x"


@pytest.fixture
def tmux_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A private tmux server (short socket path), stand-in CLIs first on PATH."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    sockets = tempfile.mkdtemp(prefix="tt-", dir="/tmp")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("claude", "codex", "gemini", "copilot"):
        script = bin_dir / tool
        script.write_text(f"#!{sys.executable}\n{FAKE_CLI}")
        script.chmod(0o755)
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.setenv("TMUX_TMPDIR", sockets)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "calls.jsonl"))
    monkeypatch.setenv("FAKE_CODEX_META", str(CODEX_ROLLOUT))
    monkeypatch.setenv("FAKE_EXIT", str(tmp_path / "exit-with"))  # a file: the code to exit with
    yield dict(os.environ)
    subprocess.run(["tmux", "kill-server"], capture_output=True, check=False)
    shutil.rmtree(sockets, ignore_errors=True)


def team_json(*args: str) -> Any:
    """What `tether team ARGS --json` prints, held to its documented keys."""
    out = json.loads(run("team", *args, "--json").stdout)
    assert_shape(out, SHAPES[f"team {args[0]}"], f"team {args[0]}")
    return out


def calls(tmp_path: Path) -> list[dict[str, Any]]:
    log = tmp_path / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_tmux_window_keeps_the_output_and_exit_status_of_a_program(
    tmux_env: dict[str, str], tmp_path: Path
) -> None:
    tmux = Tmux.find(tmux_env)
    pane = tmux.open("s1", "gone", str(tmp_path), ["sh", "-c", "echo bye; exit 3"])
    assert pane.startswith("%")
    panes = eventually(
        lambda: {k: p for k, p in tmux.panes("s1").items() if p.exit_status}, "its exit status"
    )
    assert panes["gone"].exit_status == 3 and not panes["gone"].running
    out = tmp_path / "argv.json"
    script = (  # written whole (a rename): the test may read it any time
        "import json, os, sys; open(sys.argv[1] + '.tmp', 'w').write(json.dumps(sys.argv[2:]));"
        " os.replace(sys.argv[1] + '.tmp', sys.argv[1])"
    )
    tmux.open("s1", "echo", str(tmp_path), [sys.executable, "-c", script, str(out), "a;", "b c"])
    argv = eventually(lambda: out.exists() and json.loads(out.read_text()), "its argv")
    assert argv == ["a;", "b c"]
    tmux.respawn(panes["gone"].pane_id, str(tmp_path), ["sleep", "30"])
    assert eventually(lambda: tmux.panes("s1")["gone"].running, "the respawned program")
    assert tmux.kill_session("s1") and not tmux.has_session("s1")
    assert tmux.panes("s1") == {} and not tmux.kill_session("s1")


def test_every_program_that_exits_at_once_shows_its_exit_status(
    tmux_env: dict[str, str], tmp_path: Path
) -> None:
    """Debian's tmux (built with libutempter) can drop the SIGCHLD of a program that exits at
    once, and then keeps it a zombie with no exit status until its next SIGCHLD: `panes`
    sends it one. Without that, 62 of 200 such runs lost their status here. A tmux server
    each: the exit of another program would reap the lost one."""
    runs = 20
    statuses = []
    for run_number in range(runs):
        sockets = Path(tmux_env["TMUX_TMPDIR"]) / str(run_number)  # short: a socket's path
        sockets.mkdir()
        tmux = Tmux.find({**tmux_env, "TMUX_TMPDIR": str(sockets)})
        tmux.open("s3", "quick", str(tmp_path), [sys.executable, "-c", "raise SystemExit(3)"])
        try:
            pane = eventually(
                lambda t=tmux: (p := t.panes("s3").get("quick")) and not p.running and p,
                "the program ended",
            )
        finally:
            tmux.run("kill-server")
        statuses.append(pane.exit_status)
    assert statuses == [3] * runs


def running(pid: int) -> bool:
    """Whether the process lives (a zombie does not: it only waits to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


STUBBORN = """\
import os, signal, sys, time
for name in sys.argv[2:]:
    signal.signal(getattr(signal, name), signal.SIG_IGN)
open(sys.argv[1], "w").write(str(os.getpid()))
time.sleep(600)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_stop_ends_programs_that_outlive_a_hang_up(
    tmux_env: dict[str, str], tmp_path: Path
) -> None:
    tmux = Tmux.find(tmux_env)
    ignoring = {"hup": ["SIGHUP"], "deaf": ["SIGHUP", "SIGTERM"]}  # as Gemini CLI does, or worse
    for name, signals in ignoring.items():
        argv = [sys.executable, "-c", STUBBORN, str(tmp_path / name), *signals]
        tmux.open("s2", name, str(tmp_path), argv)
    pids = [
        int(eventually(lambda n=name: (tmp_path / n).exists() and (tmp_path / n).read_text(), name))
        for name in ignoring
    ]
    assert all(running(pid) for pid in pids)
    assert tmux.stop_session("s2", grace=0.5)
    assert not tmux.has_session("s2")
    assert eventually(lambda: not any(running(pid) for pid in pids), "every program ended")
    assert not tmux.stop_session("s2")


# ---------------------------------------------------------------------------------------
# Start, status, stop, resume (real tmux, stand-in CLIs)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    (root / "wt").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    write_team(root, "review", MIXED)
    monkeypatch.chdir(root / "wt")  # the project root is found from below
    return root


def test_start_status_stop_resume(project: Path, tmux_env: dict[str, str], tmp_path: Path) -> None:
    started = team_json("start", "review")["agents"]
    assert [(a["name"], a["tool"], a["action"]) for a in started] == [
        ("planner", "claude", "started"),
        ("coder", "codex", "started"),
        ("checker", "gemini", "started"),
    ]
    planner_id, checker_id = started[0]["native_id"], started[2]["native_id"]
    assert uuid.UUID(planner_id) and uuid.UUID(checker_id) and started[1]["native_id"] is None
    started_three = eventually(lambda: len(calls(tmp_path)) == 3 and calls(tmp_path), "3 launches")
    first = {c["tool"]: c for c in started_three}
    assert first["claude"]["argv"] == [
        *("--session-id", planner_id, "--model", "sonnet", "Plan the change;")
    ]
    assert first["codex"]["argv"] == ["-c", 'model="o3"', "Write it"]
    assert first["codex"]["cwd"] == str((project / "wt").resolve())
    assert first["gemini"]["argv"] == ["--session-id", checker_id]
    assert first["claude"]["cwd"] == first["gemini"]["cwd"] == str(project.resolve())

    record = json.loads((project / ".tether/teams/review.json").read_text())
    assert [a["tmux_target"] for a in record["agents"]] == [
        "review:planner",
        "review:coder",
        "review:checker",
    ]
    assert record["agents"][0]["command"] == ["claude", *first["claude"]["argv"]]

    status = team_json("status", "review")["agents"]
    assert [a["state"] for a in status] == ["running"] * 3
    codex_id = status[1]["native_id"]  # found among the rollouts begun since its launch
    rollout = eventually(
        lambda: list((Path(os.environ["HOME"]) / ".codex").rglob("rollout-*")), "codex's rollout"
    )
    assert [p.name.endswith(f"{codex_id}.jsonl") for p in rollout] == [True]
    assert status[1]["session_file"] == str(rollout[0]) and status[1]["last_activity"]
    assert status[0]["session_file"] is None  # the stand-in claude writes no session
    assert "planner" in run("team", "status", "review").stdout
    listed = team_json("list")
    assert [(t["name"], t["running"], len(t["agents"])) for t in listed] == [("review", True, 3)]

    again = run("team", "start", "review", ok=False)
    assert again.exit_code == 1 and "running already" in again.output
    assert team_json("stop", "review")["stopped"] is True
    assert [
        a["state"] for a in json.loads(run("team", "status", "review", "--json").stdout)["agents"]
    ] == ["stopped"] * 3
    assert "was not running" in run("team", "stop", "review").stdout
    refused = run("team", "start", "review", ok=False)
    assert "has sessions already" in refused.output and "--fresh" in refused.output

    # the claude agent's file exists: it resumes; gemini's never got one: same id, started
    claude_file = (
        Path(os.environ["HOME"])
        / ".claude/projects"
        / claude_folder(str(project.resolve()))
        / f"{planner_id}.jsonl"
    )
    claude_file.parent.mkdir(parents=True)
    claude_file.write_text("{}\n")
    resumed = team_json("resume", "review", "--prompt", "go on")
    assert [(a["name"], a["action"], a["native_id"]) for a in resumed["agents"]] == [
        ("planner", "resumed", planner_id),
        ("coder", "resumed", codex_id),
        ("checker", "started", checker_id),
    ]
    later = {
        c["tool"]: c
        for c in eventually(
            lambda: len(calls(tmp_path)) == 6 and calls(tmp_path)[3:], "3 more launches"
        )
    }
    assert later["claude"]["argv"] == ["--resume", planner_id, "--model", "sonnet", "go on"]
    assert later["codex"]["argv"] == ["resume", codex_id, "-c", 'model="o3"', "go on"]
    assert later["codex"]["cwd"] == first["codex"]["cwd"]
    assert later["gemini"]["argv"] == ["--session-id", checker_id, "-i", "go on"]
    record = json.loads((project / ".tether/teams/review.json").read_text())
    assert record["agents"][0]["resumed_at"] and record["agents"][2]["resumed_at"] is None
    assert len(list((Path(os.environ["HOME"]) / ".codex").rglob("rollout-*"))) == 1

    # resuming a running team leaves its agents alone
    kept = json.loads(run("team", "resume", "review", "--json").stdout)["agents"]
    assert [a["action"] for a in kept] == ["running"] * 3
    assert len(calls(tmp_path)) == 6


def test_folder_names_never_reach_tmux_as_formats(
    tmp_path: Path, tmux_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """tmux runs `#(command)` in a start folder (-c) and a window or session name: a team
    file's cwd, or a project folder named so, must not run anything."""
    root = tmp_path / "proj-#(touch PWNED-ROOT)"
    (root / "wt-#(touch PWNED-CWD)").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    agents = '[[agents]]\nname = "a"\ntool = "claude"\ncwd = "wt-#(touch PWNED-CWD)"\n'
    write_team(root, "t", agents + '[[agents]]\nname = "b"\ntool = "gemini"\n')
    monkeypatch.chdir(root)
    out = run("team", "start", "t").stdout
    assert "a: cd " in out and "&& claude --session-id" in out  # what a team file runs, shown
    seen = {
        c["tool"]: c["cwd"]
        for c in eventually(lambda: len(calls(tmp_path)) == 2 and calls(tmp_path), "two launches")
    }
    assert seen == {"claude": str(root / "wt-#(touch PWNED-CWD)"), "gemini": str(root)}
    pane = next(iter(Tmux.find(tmux_env).panes("t").values()))
    Tmux.find(tmux_env).respawn(pane.pane_id, str(root / "wt-#(touch PWNED-CWD)"), ["true"])
    time.sleep(0.5)
    assert not list(tmp_path.rglob("PWNED*")) and not list(Path.cwd().glob("PWNED*"))
    run("team", "stop", "t")


def test_an_agent_that_exits_is_shown_and_respawned_in_its_window(
    project: Path, tmux_env: dict[str, str], tmp_path: Path
) -> None:
    write_team(project, "solo", '[[agents]]\nname = "only"\ntool = "copilot"\nprompt = "hi"\n')
    (tmp_path / "exit-with").write_text("2")
    run("team", "start", "solo")
    status = eventually(
        lambda: [
            a
            for a in json.loads(run("team", "status", "solo", "--json").stdout)["agents"]
            if a["state"] == "exited" and a["exit_status"] is not None
        ],
        "the agent shown exited, with its exit status",
    )
    assert status[0]["exit_status"] == 2
    assert "exited (2)" in run("team", "status", "solo").stdout
    native_id = status[0]["native_id"]
    (tmp_path / "exit-with").unlink()
    session = Path(os.environ["HOME"]) / ".copilot/session-state" / native_id / "events.jsonl"
    session.parent.mkdir(parents=True)
    session.write_text("{}\n")
    resumed = json.loads(run("team", "resume", "solo", "--json").stdout)["agents"]
    assert resumed[0]["action"] == "resumed"
    relaunched = eventually(lambda: len(calls(tmp_path)) == 2 and calls(tmp_path), "a relaunch")
    assert relaunched[1]["argv"] == [f"--resume={native_id}"]
    panes = Tmux.find(os.environ).panes("solo")
    assert list(panes) == ["only"] and eventually(
        lambda: Tmux.find(os.environ).panes("solo")["only"].running, "the window running again"
    )


def test_team_errors_are_one_line(project: Path, tmux_env: dict[str, str]) -> None:
    result = run("team", "resume", "review", ok=False)
    assert (
        result.output
        == "tether: error: team 'review' was never started here: `tether team start review`\n"
    )
    assert "no team 'nope' here" in run("team", "start", "nope", ok=False).output
    write_team(project, "lost", '[[agents]]\nname = "a"\ntool = "claude"\ncwd = "missing"\n')
    assert "does not exist" in run("team", "start", "lost", ok=False).output
    assert not Tmux.find(os.environ).has_session("lost")


# ---------------------------------------------------------------------------------------
# Codex: the session found afterwards, looking only at what is newer than the launch


def make_rollout(home: Path, day: str, cwd: str, mtime: float, **meta: Any) -> str:
    record = json.loads(CODEX_ROLLOUT.read_text().splitlines()[0])
    native_id = str(uuid.uuid4())
    record["payload"].update(id=native_id, cwd=cwd, **meta)
    folder = home / ".codex" / "sessions" / day
    folder.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%dT%H-%M-%S", time.localtime(mtime))  # as Codex names it
    path = folder / f"rollout-{started}-{native_id}.jsonl"
    path.write_text(json.dumps(record) + "\n")
    os.utime(path, (mtime, mtime))
    return native_id


def test_codex_session_found_among_rollouts_newer_than_the_launch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / ".codex"
    launch_at = time.mktime((2026, 11, 21, 12, 0, 0, 0, 0, -1))
    here, elsewhere = str(tmp_path / "a"), str(tmp_path / "b")
    day = time.strftime("%Y/%m/%d", time.gmtime(launch_at))
    before = make_rollout(tmp_path, day, here, launch_at - 60)
    other_folder = make_rollout(tmp_path, day, elsewhere, launch_at + 5)
    fork = make_rollout(tmp_path, day, here, launch_at + 6, forked_from_id=before)
    first = make_rollout(tmp_path, day, here, launch_at + 7, timestamp="2026-11-21T12:00:07Z")
    second = make_rollout(tmp_path, day, here, launch_at + 9, timestamp="2026-11-21T12:00:09Z")
    make_rollout(tmp_path, "2026/01/02", here, launch_at + 9)  # an old day: never listed
    listed: list[str] = []
    real_list = codex_facts.list_dir

    def spy(folder: str) -> list[str]:
        listed.append(folder)
        return real_list(folder)

    monkeypatch.setattr(codex_facts, "list_dir", spy)
    found = codex_facts.started_since(str(root), here, launch_at, False)
    assert [native_id for native_id, _ in found] == [first, second]
    assert {before, other_folder, fork}.isdisjoint(n for n, _ in found)
    assert f"{root}/sessions/2026/01" not in listed

    record = TeamRecord(team="t", root=str(tmp_path), tmux_session="t")
    for name, at in (("late", launch_at + 1), ("early", launch_at)):
        record.put(AgentRecord(name, "codex", ["codex"], here, f"t:{name}", started_at=stamp(at)))
    teams = Teams(tmp_path, {"HOME": str(tmp_path)})
    assert teams._identify(record)
    assert [(a.name, a.native_id) for a in record.agents] == [("late", second), ("early", first)]
    assert str(teams.session_file("codex", first)) == next(p for n, p in found if n == first)


# ---------------------------------------------------------------------------------------
# Moving an agent to another tool


CLAUDE_SESSION = FIXTURES / "claude" / "real_entire_dc_49cb8a2a42_0.jsonl"
CLAUDE_ID = "70fc6d83-147d-4fdf-b015-bd67eeb11883"  # the sessionId of every line of it


def test_move_converts_a_stopped_agent_and_resume_continues_it_there(
    project: Path, tmux_env: dict[str, str], tmp_path: Path
) -> None:
    home = Path(os.environ["HOME"])
    folder = str(project.resolve())
    record = TeamRecord(team="review", root=folder, tmux_session="review")
    record.put(AgentRecord("planner", "claude", ["claude"], folder, "review:planner", CLAUDE_ID))
    save_record(project, record)
    native = home / ".claude" / "projects" / claude_folder(folder) / f"{CLAUDE_ID}.jsonl"
    native.parent.mkdir(parents=True)
    shutil.copyfile(CLAUDE_SESSION, native)
    before = native.read_bytes()

    for args, message in [
        (("nobody", "--to", "codex"), "has no agent 'nobody' (it has planner)"),
        (("planner", "--to", "claude-code"), "is on claude already"),
        (("planner", "--to", "vim"), "unknown tool 'vim'"),
    ]:
        assert message in run("team", "move", "review", *args, ok=False).output

    moved = team_json("move", "review", "planner", "--to", "codex")
    new_id = moved["native_id"]
    assert moved["tool"] == "codex" and moved["source"]["native_id"] == CLAUDE_ID
    [rollout] = (home / ".codex" / "sessions").rglob(f"rollout-*-{new_id}.jsonl")
    assert moved["path"] == str(rollout) and moved["cwd"] == folder
    assert "two competing agents" in rollout.read_text()  # the conversation came along
    assert native.read_bytes() == before  # the claude session is left as it was
    agent = load_record(project, "review").agent("planner")  # type: ignore[union-attr]
    assert (agent.tool, agent.native_id, agent.command) == (
        "codex",
        new_id,
        ["codex", "resume", new_id],
    )
    assert [(m["tool"], m["native_id"]) for m in agent.moved_from] == [("claude", CLAUDE_ID)]

    resumed = json.loads(run("team", "resume", "review", "--json").stdout)["agents"]
    planner = next(a for a in resumed if a["name"] == "planner")
    assert (planner["tool"], planner["action"], planner["native_id"]) == (
        "codex",
        "resumed",
        new_id,
    )
    ran = eventually(
        lambda: [
            c for c in calls(tmp_path) if c["tool"] == "codex" and c["argv"][:1] == ["resume"]
        ],
        "codex resumed",
    )
    assert ran[0]["argv"] == ["resume", new_id]  # without the claude flags of the team file
    assert ran[0]["cwd"] == folder
    status = json.loads(run("team", "status", "review", "--json").stdout)["agents"]
    assert status[0]["session_file"] == str(rollout)

    refused = run("team", "move", "review", "planner", "--to", "claude", ok=False)
    assert "is running: `tether team stop review` first" in refused.output
