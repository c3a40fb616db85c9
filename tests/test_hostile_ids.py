"""Ids from files tether did not write (an import, a project's state, a team record) never
reach a path outside a tool's store or an argv: they are checked against their tool's own
shape first (tether.tools.facts)."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import pytest

from tether.teams.runner import TeamError, load_record, record_path

from .conftest import run

HOSTILE_IDS = (
    "../../../../../../tmp/tether-escape",
    "--dangerously-skip-permissions",
    "-c",
    "0b6f4c8e-3a1d-4e2b-9c7f-5d8a6e4b2c1a/../../x",
    "a b",
)


def export(tool: str, native_id: str, cwd: Path) -> dict[str, object]:
    return {
        "format": "tether.session",
        "version": 1,
        "session": {"tool": tool, "native_id": native_id, "cwd": str(cwd), "title": "t"},
        "messages": [
            {"role": "user", "parts": [{"type": "text", "text": "hello"}]},
            {"role": "assistant", "parts": [{"type": "text", "text": "hi"}]},
        ],
    }


def imported(tmp_path: Path, tool: str, native_id: str) -> str:
    cwd = tmp_path / "work"
    cwd.mkdir(exist_ok=True)
    source = tmp_path / "export.json"
    source.write_text(json.dumps(export(tool, native_id, cwd)))
    run("import", str(source))
    [row] = [s for s in json.loads(run("list", "--json").output) if s["native_id"] == native_id]
    return str(row["id"])


@pytest.mark.parametrize("native_id", HOSTILE_IDS)
def test_resume_of_an_imported_id_writes_inside_the_store_on_a_new_id(
    native_id: str, tmp_path: Path, isolated_home: Path
) -> None:
    ident = imported(tmp_path, "claude", native_id)
    result = run("resume", ident, "--print")
    command = shlex.split(result.output.strip().split(" && ", 1)[1])
    assert command[:2] == ["claude", "--resume"] and native_id not in command
    written = list((isolated_home / ".claude" / "projects").rglob("*.jsonl"))
    assert len(written) == 1 and written[0].stem == command[2]
    assert not Path("/tmp/tether-escape.jsonl").exists()


@pytest.mark.parametrize("native_id", HOSTILE_IDS)
def test_convert_back_to_its_own_tool_never_takes_a_hostile_id(
    native_id: str, tmp_path: Path, isolated_home: Path
) -> None:
    ident = imported(tmp_path, "codex", native_id)
    result = json.loads(run("convert", ident, "--to", "codex", "--anyway", "--json").output)
    assert result["native_id"] != native_id and native_id not in result["resume_command"]
    assert Path(result["path"]).is_relative_to(isolated_home / ".codex" / "sessions")


def test_an_import_must_name_a_known_tool(tmp_path: Path) -> None:
    source = tmp_path / "export.json"
    source.write_text(json.dumps(export("emacs", "x", tmp_path)))
    result = run("import", str(source), ok=False)
    assert result.exit_code == 1 and "unknown tool 'emacs'" in result.output
    source.write_text(json.dumps(export("Claude-Code", "x", tmp_path)))
    run("import", str(source))
    assert [s["tool"] for s in json.loads(run("list", "--json").output)] == ["claude"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("native_id", "--dangerously-skip-permissions", "is not a claude session id"),
        ("tool", "sh", "is not a tool a team runs"),
        ("name", "a#(touch x)", "is not one tether gives"),
        ("cwd", "relative/path", "not an absolute path"),
    ],
)
def test_a_team_record_a_clone_committed_is_refused(
    field: str, value: str, message: str, tmp_path: Path
) -> None:
    agent = {
        "name": "a",
        "tool": "claude",
        "command": ["claude"],
        "cwd": str(tmp_path),
        "tmux_target": "t:a",
        "native_id": "0b6f4c8e-3a1d-4e2b-9c7f-5d8a6e4b2c1a",
    }
    agent[field] = value
    path = record_path(tmp_path, "t")
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps({"team": "t", "root": str(tmp_path), "tmux_session": "t", "agents": [agent]})
    )
    with pytest.raises(TeamError, match=message):
        load_record(tmp_path, "t")


def test_a_team_record_that_is_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    path = record_path(tmp_path, "t")
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    with pytest.raises(TeamError, match="cannot be read"):
        load_record(tmp_path, "t")
