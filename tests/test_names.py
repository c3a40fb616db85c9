"""Names and checkpoints: `tether alias` and `tether checkpoint`, names standing wherever a
session id does, and a checkpoint resumed and forked from its point after the session went
on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run
from tests.stores import CLAUDE_ID, claude_prompt, place_claude, place_codex
from tests.test_json_output import SHAPES, assert_shape


def out(*args: str) -> Any:
    return json.loads(run(*args, "--json").stdout)


@pytest.fixture
def claude_session(isolated_home: Path) -> Path:
    path = place_claude(isolated_home)
    place_codex(isolated_home)
    run("scan")
    return path


def test_an_alias_stands_wherever_an_id_does(claude_session: Path, tmp_path: Path) -> None:
    named = out("alias", CLAUDE_ID, "review-branch")
    assert_shape(named, SHAPES["alias"], "alias")
    assert named["name"] == "review-branch" and named["session"]["native_id"] == CLAUDE_ID
    shown = out("show", "review-branch")
    assert shown["session"]["native_id"] == CLAUDE_ID
    exported = run("export", "review-branch", "--format", "md").stdout
    assert "two competing agents" in exported
    plan = out(
        "resume", "review-branch", "--in", "codex", "--print", "--anyway", "--cwd", str(tmp_path)
    )
    assert plan["tool"] == "codex" and plan["written"]
    forked = out("fork", "review-branch", "--anyway", "--cwd", str(tmp_path))
    assert forked["source"]["native_id"] == CLAUDE_ID
    # listed with its session
    [row] = [r for r in out("list") if r["native_id"] == CLAUDE_ID]
    assert row["names"] == ["review-branch"] and row["checkpoints"] == []
    assert "[review-branch]" in run("list").stdout
    # the same alias again is no change; a second name is fine
    assert out("alias", CLAUDE_ID, "review-branch")["name"] == "review-branch"
    out("alias", "review-branch", "second-name")
    [row] = [r for r in out("list") if r["native_id"] == CLAUDE_ID]
    assert row["names"] == ["review-branch", "second-name"]


def test_names_are_unique_and_cannot_pass_for_ids(claude_session: Path) -> None:
    codex = next(r for r in out("list") if r["tool"] == "codex")
    run("alias", CLAUDE_ID, "mine")
    taken = run("alias", codex["id"], "mine", ok=False)
    assert taken.exit_code == 3 and "names another alias already" in taken.output
    for bad, why in (
        ("cafe", "reads as a session id prefix"),
        ("9lives", "start with a letter"),
        ("a b", "start with a letter"),
        ("x" * 65, "at most 64"),
        ("../etc", "start with a letter"),
    ):
        refused = run("alias", CLAUDE_ID, bad, ok=False)
        assert refused.exit_code == 2 and why in refused.output, (bad, refused.output)
    assert run("alias", CLAUDE_ID, ok=False).exit_code == 2  # neither a name nor --clear
    assert run("alias", "nobody-here", "x1", ok=False).exit_code == 4


def test_clearing_forgets_names_and_leaves_the_session(claude_session: Path) -> None:
    run("alias", CLAUDE_ID, "one")
    run("alias", CLAUDE_ID, "two")
    gone = out("alias", "one", "--clear")
    assert gone["name"] is None and gone["removed"] == ["one"]
    assert out("alias", CLAUDE_ID, "--clear")["removed"] == ["two"]
    assert run("show", "one", ok=False).exit_code == 4
    assert out("show", CLAUDE_ID)["session"]["native_id"] == CLAUDE_ID


def test_a_checkpoint_resumes_and_forks_from_its_point_after_the_session_went_on(
    claude_session: Path, tmp_path: Path
) -> None:
    before = out("show", CLAUDE_ID)["messages"]
    point = out("checkpoint", CLAUDE_ID, "before-review")
    assert_shape(point, SHAPES["checkpoint"], "checkpoint")
    assert point["messages"] == len(before) and point["timestamp"] == before[-1]["timestamp"]
    # the session goes on
    with claude_session.open("ab") as fh:
        fh.write(claude_prompt(claude_session, "a later turn, after the checkpoint"))
    assert len(out("show", CLAUDE_ID)["messages"]) == len(before) + 1
    # the checkpoint still names the point
    at_point = out("show", "before-review")
    assert len(at_point["messages"]) == len(before)
    assert "a later turn" not in json.dumps(at_point)
    [row] = [r for r in out("list") if r["native_id"] == CLAUDE_ID]
    assert row["checkpoints"] == ["before-review"] and "@before-review" in run("list").stdout
    # resume, even in its own tool, writes a new session from the point (the old one goes on)
    plan = out("resume", "before-review", "--print", "--anyway", "--cwd", str(tmp_path))
    assert plan["tool"] == "claude" and plan["written"] and plan["native_id"] != CLAUDE_ID
    written = Path(plan["written"]).read_text()
    assert "a later turn" not in written and "two competing agents" in written
    forked = out("fork", "before-review", "--in", "codex", "--anyway", "--cwd", str(tmp_path))
    assert "a later turn" not in Path(forked["path"]).read_text()
    # names are one namespace: an alias cannot take a checkpoint's name
    assert run("alias", CLAUDE_ID, "before-review", ok=False).exit_code == 3
    assert out("checkpoint", "before-review", "--clear")["removed"] == ["before-review"]
    assert run("checkpoint", CLAUDE_ID, "--clear", ok=False).exit_code == 2


def test_a_checkpoint_outlives_the_tool_cutting_its_point(claude_session: Path) -> None:
    """The archive keeps what a tool dropped when it rewrote a file shorter (README): the
    checkpoint still names its point, and show, resume and fork start from there."""
    before = json.loads(run("show", CLAUDE_ID, "--json").stdout)["messages"]
    run("checkpoint", CLAUDE_ID, "kept-point")
    lines = claude_session.read_bytes().splitlines(keepends=True)
    claude_session.write_bytes(b"".join(lines[:3]))  # the tool rewrote it shorter
    run("reindex")
    at_point = json.loads(run("show", "kept-point", "--json").stdout)["messages"]
    assert [m["parts"] for m in at_point] == [m["parts"] for m in before]
