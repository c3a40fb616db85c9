"""Teams of the tools beyond the first four, over stand-ins in real tmux (tests/standins.py
writes what agy, cursor-agent and cline write): each agent's session is found after its
launch, resumed with its own tool's flag, and moved between tools; and an agent started
from a session tether has, by name (`session = "NAME"` in the team file)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import eventually, run
from tests.stores import CLAUDE_ID, place_claude
from tests.test_teams import calls, team_json, tmux_env, write_team  # noqa: F401
from tether.tools import facts

from . import standins

TEAM = """\
[[agents]]
name = "gravity"
tool = "agy"

[[agents]]
name = "pointer"
tool = "cursor-agent"

[[agents]]
name = "liner"
tool = "cline"
"""


@pytest.fixture
def more_tools(tmux_env: dict[str, str], tmp_path: Path) -> Iterator[Path]:  # noqa: F811
    """The stand-ins first on PATH, waiting as TUIs do until told to exit."""
    folder = standins.install(tmp_path / "standins")
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ['PATH']}"
    os.environ["FAKE_WAIT"] = "1"
    yield folder


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    monkeypatch.chdir(root)
    return root


def test_a_team_of_agy_cursor_and_cline_resumes_each_on_its_own_session(
    project: Path, more_tools: Path, tmp_path: Path
) -> None:
    write_team(project, "trio", TEAM)
    started = team_json("start", "trio")["agents"]
    assert [(a["name"], a["tool"], a["native_id"]) for a in started] == [
        ("gravity", "antigravity", None),
        ("pointer", "cursor", None),
        ("liner", "cline", None),
    ]
    assert eventually(lambda: len(calls(tmp_path)) == 3, "three launches")

    def identified() -> list[dict[str, str]] | None:
        rows = team_json("status", "trio")["agents"]
        return rows if all(a["native_id"] and a["session_file"] for a in rows) else None

    status = eventually(identified, "every agent identified")
    assert len(status) == 3, status
    ids = {a["name"]: a["native_id"] for a in status}
    for agent in status:
        assert facts.get(agent["tool"]).valid_id(agent["native_id"])
    assert team_json("stop", "trio")["stopped"] is True
    resumed = team_json("resume", "trio", "--prompt", "go on")["agents"]
    assert [(a["action"], a["native_id"]) for a in resumed] == [
        ("resumed", ids["gravity"]),
        ("resumed", ids["pointer"]),
        ("resumed", ids["liner"]),
    ]
    later = {
        c["tool"]: c["argv"]
        for c in eventually(
            lambda: len(calls(tmp_path)) == 6 and calls(tmp_path)[3:], "six launches"
        )
    }
    assert later["agy"] == ["--conversation", ids["gravity"], "go on"]
    assert later["cursor-agent"] == ["--resume", ids["pointer"], "go on"]
    assert later["cline"] == ["--id", ids["liner"]]  # its TUI would drop a prompt given with --id
    run("team", "stop", "trio")

    # an agent moves between two of them: cline -> ... needs a writer: cline's session to kilo is
    # proven with the real CLIs; here cursor's (read from its transcript) goes to cline
    moved = team_json("move", "trio", "pointer", "--to", "cline")
    assert moved["tool"] == "cline" and moved["source"]["native_id"] == ids["pointer"]
    assert Path(moved["path"]).is_file()
    again = team_json("resume", "trio")["agents"]
    pointer = next(a for a in again if a["name"] == "pointer")
    assert (pointer["tool"], pointer["action"]) == ("cline", "resumed")
    assert eventually(
        lambda: [c for c in calls(tmp_path) if c["argv"] == ["--id", moved["native_id"]]],
        "the moved agent resumed in Cline",
    )
    run("team", "stop", "trio")


def test_an_agent_starts_from_a_named_session(
    project: Path, more_tools: Path, tmp_path: Path, isolated_home: Path
) -> None:
    place_claude(isolated_home)
    run("scan")
    run("alias", CLAUDE_ID, "the-review")
    write_team(
        project, "one", '[[agents]]\nname = "liner"\ntool = "cline"\nsession = "the-review"\n'
    )
    started = team_json("start", "one")["agents"]
    native_id = started[0]["native_id"]
    assert facts.get("cline").valid_id(native_id) and started[0]["argv"] == [
        "cline",
        "--id",
        native_id,
    ]
    written = (
        isolated_home / ".cline" / "data" / "sessions" / native_id / f"{native_id}.messages.json"
    )
    assert "two competing agents" in written.read_text()
    assert eventually(lambda: calls(tmp_path), "a launch")[0]["argv"] == ["--id", native_id]
    run("team", "stop", "one")
    missing = run("team", "start", "one", "--fresh", ok=False)
    assert missing.exit_code in (0, 1)  # its session stays named: started again from it
