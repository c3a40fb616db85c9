"""A session travels between people and tools, proven by the real CLIs, on SQLite and a
folder and on PostgreSQL and S3: a session the real Claude Code wrote on alice's machine is
pushed, handed to bob, pulled on his machine and resumed there in the real Codex, in bob's
own checkout of the same repository (found by its git remote); Codex's request to the model
carries alice's whole conversation. Bob's continuation comes back to alice as a session of
its own, linked to hers."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.travel import machine, server_for

from . import clis
from .test_convert_real_clis import assert_carries


def git_checkout(folder: Path, remote: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for argv in (["git", "init", "-q"], ["git", "remote", "add", "origin", remote]):
        subprocess.run(argv, cwd=folder, check=True, capture_output=True)


@pytest.mark.e2e
def test_a_claude_session_handed_over_resumes_in_codex_elsewhere(
    backend: tuple[str, str, dict[str, str]],
    real_sessions: clis.RealSessions,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = real_sessions["claude"]
    with server_for(backend) as server:
        alice = machine("alice-box", tmp_path, monkeypatch)
        bob = machine("bob-box", tmp_path, monkeypatch)
        shutil.copytree(source.home, alice.home, dirs_exist_ok=True, symlinks=True)
        alice.run("scan", "-q")
        alice.login(server, "alice")
        bob.login(server, "bob")
        # alice's project is a checkout of the team's repository (for the push alone: the
        # folder is shared with the other end-to-end tests)
        git_checkout(source.cwd, "https://git.example.com/team/e2e-app.git")
        try:
            assert alice.json("push", "--all")["failed"] == []
        finally:
            shutil.rmtree(source.cwd / ".git")
        session = next(s for s in alice.json("list") if s["native_id"] == source.session_id)
        alice.run("handoff", session["id"][:12], "--to", "bob", "--note", "over to you")

        # bob's checkout of the same repository, by another spelling of its remote
        work = bob.home / "work"
        checkout = work / "e2e-app"
        git_checkout(checkout, "git@git.example.com:team/e2e-app.git")
        (bob.data / "config.toml").write_text(f'[sync]\ncheckouts = ["{work}"]\n')
        inbox = bob.json("inbox")
        assert [(i["from"], i["note"]) for i in inbox] == [("alice", "over to you")]
        (bob.home / ".codex").mkdir()
        (bob.home / ".codex" / "config.toml").write_text(clis.CODEX_CONFIG)
        plan = bob.json("resume", session["id"][:12], "--in", "codex", "--print")
        assert plan["cwd"] == str(checkout) and plan["tool"] == "codex"
        assert str(source.cwd) not in Path(plan["written"]).read_text()

        # the real Codex resumes it there: its request carries alice's whole session
        prompt = "Handed over from alice: carry on"
        resumed = clis.run_codex(bob.home, checkout, prompt, resume=plan["native_id"])
        assert_carries(resumed, source, "codex")
        assert f"ECHO: {prompt}" in resumed.proc.stdout, resumed.describe()

        # bob's continuation is his own session, linked to alice's, and goes back to her
        bob.run("scan", "-q")
        mine = next(s for s in bob.json("list") if s["native_id"] == plan["native_id"])
        assert mine["continues"] == session["id"]
        bob.run("handoff", mine["id"][:12], "--to", "alice", "--note", "done")
        back = alice.json("inbox")
        assert [i["session"]["session_id"] for i in back] == [mine["id"]]
        listed = {s["id"]: s for s in alice.json("list")}
        assert listed[mine["id"]]["continues"] == session["id"]
        assert listed[mine["id"]]["pushed_by"] == "bob@bob-box"
        assert listed[session["id"]]["pushed_by"] is None
        shown = alice.run("show", mine["id"][:12]).stdout
        assert "continues" in shown and prompt in shown
        assert json.loads(alice.run("show", session["id"][:12], "--json").stdout)["session"]
        assert source.cwd.is_dir() and not (source.cwd / ".git").exists()
