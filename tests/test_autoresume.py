"""Auto-resume decisions: which argv a launch gets for which user argv and state, fail-open,
the state file (atomic, locked, kept out of git), and ai-session-manager's state taken over."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tether import statefile
from tether.autoresume import plan as autoresume
from tether.autoresume.plan import plan, state_path
from tether.statefile import StateError
from tether.tools import facts as facts_common
from tether.tools import launch
from tether.tools.facts import codex as codex_facts
from tether.tools.facts.claude import folder_name as claude_folder

from .conftest import FIXTURES, checksums

NOW = 1_790_000_000.0  # 2026-09-21, a fixed launch time
CLAUDE_SAMPLE = FIXTURES / "claude" / "agentsessions_small.jsonl"
CODEX_SAMPLE = (
    FIXTURES
    / "codex"
    / "real_rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl"
)
GEMINI_SAMPLE = FIXTURES / "gemini" / "cli061_resumed_tool_call.jsonl"
COPILOT_SAMPLE = FIXTURES / "copilot" / "agentsessions_small_events.jsonl"
ASM = FIXTURES / "ai-session-manager"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git repository with a subfolder (the state goes to the top-level)."""
    root = tmp_path / "work" / "my.project_x"
    (root / "src" / "deep").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root.resolve()


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), **extra}


def go(tool: str, args: list[str], cwd: Path, home: Path, **extra: str) -> autoresume.Launch:
    return plan(tool, args, env_for(home, **extra), str(cwd), NOW)


def state_of(root: Path, tool: str) -> dict[str, object]:
    return json.loads(Path(state_path(str(root), tool)).read_text())


def put_claude_session(home: Path, root: Path, session_id: str) -> Path:
    path = home / ".claude" / "projects" / claude_folder(str(root)) / f"{session_id}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(CLAUDE_SAMPLE, path)
    return path


# ---------------------------------------------------------------------------------------
# Which argv for which user argv (launch.py facts)

KINDS = [
    ("claude", [], "interactive"),
    ("claude", ["fix the flaky test"], "interactive"),
    ("claude", ["--model", "opus", "explain this"], "interactive"),
    ("claude", ["-p", "hi"], "headless"),
    ("claude", ["hi", "--print", "--output-format", "json"], "headless"),
    ("claude", ["-r"], "passthrough"),
    ("claude", ["--resume", "abc"], "passthrough"),
    ("claude", ["-c"], "passthrough"),
    ("claude", ["-p", "again", "--continue"], "passthrough"),
    ("claude", ["--session-id", "0b9c2e1a-0000-4000-8000-000000000000"], "passthrough"),
    ("claude", ["-r", "abc", "--fork-session"], "passthrough"),
    ("claude", ["mcp", "list"], "passthrough"),
    ("claude", ["--model", "opus", "doctor"], "passthrough"),
    ("claude", ["config"], "passthrough"),
    ("claude", ["--help"], "passthrough"),
    ("claude", ["--version"], "passthrough"),
    ("claude", ["--", "-r"], "interactive"),
    ("claude", ["explain", "doctor"], "interactive"),
    ("codex", [], "interactive"),
    ("codex", ["-m", "o3", "refactor this"], "interactive"),
    ("codex", ["exec", "hi"], "headless"),
    ("codex", ["e", "hi"], "headless"),
    ("codex", ["-c", "model=o3", "exec", "--json", "hi"], "headless"),
    ("codex", ["resume"], "passthrough"),
    ("codex", ["resume", "--last"], "passthrough"),
    ("codex", ["fork"], "passthrough"),
    ("codex", ["exec", "resume", "--last", "go on"], "passthrough"),
    ("codex", ["exec", "--json", "review"], "passthrough"),
    ("codex", ["login"], "passthrough"),
    ("codex", ["mcp", "list"], "passthrough"),
    ("codex", ["-C", "/elsewhere"], "passthrough"),
    ("codex", ["--version"], "passthrough"),
    ("gemini", [], "interactive"),
    ("gemini", ["-i", "hello"], "interactive"),
    ("gemini", ["-p", "hello"], "headless"),
    ("gemini", ["--resume", "latest"], "passthrough"),
    ("gemini", ["--list-sessions"], "passthrough"),
    ("gemini", ["mcp", "list"], "passthrough"),
    ("gemini", ["extensions", "list"], "passthrough"),
    ("copilot", [], "interactive"),
    ("copilot", ["-i", "fix it"], "interactive"),
    ("copilot", ["-p", "fix it", "--allow-all-tools"], "headless"),
    ("copilot", ["--resume=0cb916d"], "passthrough"),
    ("copilot", ["--continue"], "passthrough"),
    ("copilot", ["--session-id=0cb916db-26aa-40f2-86b5-1ba81b225fd2"], "passthrough"),
    ("copilot", ["login"], "passthrough"),
    ("copilot", ["help", "environment"], "passthrough"),
]


@pytest.mark.parametrize(("tool", "args", "kind"), KINDS)
def test_user_argv_is_classified(tool: str, args: list[str], kind: str) -> None:
    assert launch.classify(tool, args) == kind


SID = "5f0c6a8e-1d2b-4c3d-8e4f-a1b2c3d4e5f6"
CONTINUE = [
    ("claude", [], "interactive", ["--resume", SID]),
    ("claude", ["fix it"], "interactive", ["--resume", SID, "fix it"]),
    (
        "claude",
        ["-p", "hi", "--output-format", "json"],
        "headless",
        ["--resume", SID, "-p", "hi", "--output-format", "json"],
    ),
    ("codex", ["-m", "o3", "go"], "interactive", ["resume", SID, "-m", "o3", "go"]),
    (
        "codex",
        ["exec", "--skip-git-repo-check", "--json", "hi"],
        "headless",
        ["exec", "--skip-git-repo-check", "--json", "resume", SID, "hi"],
    ),
    (
        "codex",
        ["-c", "k=v", "e", "-m", "test", "-s", "workspace-write", "--json", "hi"],
        "headless",
        ["-c", "k=v", "e", "-m", "test", "-s", "workspace-write", "--json", "resume", SID, "hi"],
    ),
    ("codex", ["exec", "--json"], "headless", ["exec", "--json", "resume", SID]),
    (
        "codex",
        ["exec", "--", "-starts with a dash"],
        "headless",
        ["exec", "resume", SID, "--", "-starts with a dash"],
    ),
    ("gemini", ["-p", "x"], "headless", ["--resume", SID, "-p", "x"]),
    ("gemini", [], "interactive", ["--resume", SID]),
    ("copilot", ["-p", "x", "-s"], "headless", [f"--resume={SID}", "-p", "x", "-s"]),
]


@pytest.mark.parametrize(("tool", "args", "kind", "expected"), CONTINUE)
def test_resume_argv_keeps_the_users_own_arguments(
    tool: str, args: list[str], kind: str, expected: list[str]
) -> None:
    assert launch.continue_args(tool, args, kind, SID) == expected  # type: ignore[arg-type]


def test_new_session_argv() -> None:
    assert launch.start_args("claude", ["hi"], SID) == ["--session-id", SID, "hi"]
    assert launch.start_args("gemini", [], SID) == ["--session-id", SID]
    assert launch.start_args("copilot", ["-p", "x"], SID) == ["--session-id", SID, "-p", "x"]
    assert launch.start_args("codex", ["hi"], None) == ["hi"]


# ---------------------------------------------------------------------------------------
# Decisions over the state


def test_first_launch_starts_a_recorded_session_and_the_next_resumes_it(
    project: Path, isolated_home: Path
) -> None:
    first = go("claude", ["hello"], project / "src" / "deep", isolated_home)
    assert first.cwd == str(project)
    assert first.args[0] == "--session-id" and first.args[2:] == ["hello"]
    session_id = first.args[1]
    assert str(uuid.UUID(session_id)) == session_id
    state = state_of(project, "claude")
    assert state["session_id"] == session_id and state["cwd"] == str(project)
    assert first.note and session_id in first.note

    put_claude_session(isolated_home, project, session_id)
    second = go("claude", [], project, isolated_home)
    assert second.args == ["--resume", session_id]
    assert second.cwd == str(project)
    assert state_of(project, "claude")["session_file"] == str(
        put_claude_session(isolated_home, project, session_id)
    )
    third = go("claude", ["-p", "x"], project, isolated_home, TETHER_AUTORESUME_HEADLESS="1")
    assert third.args == ["--resume", session_id, "-p", "x"]


def test_a_session_whose_file_is_gone_is_replaced(project: Path, isolated_home: Path) -> None:
    first = go("gemini", [], project, isolated_home).args[1]
    chats = isolated_home / ".gemini" / "tmp" / "my-project" / "chats"
    chats.mkdir(parents=True)
    kept = chats / f"session-2026-09-21T10-00-{first[:8]}.jsonl"
    shutil.copy(GEMINI_SAMPLE, kept)
    assert go("gemini", [], project, isolated_home).args == ["--resume", first]
    assert state_of(project, "gemini")["session_file"] == str(kept)
    kept.unlink()
    again = go("gemini", [], project, isolated_home)
    assert again.args[0] == "--session-id" and again.args[1] != first
    assert again.note and "is gone" in again.note
    assert state_of(project, "gemini")["session_id"] == again.args[1]


def test_copilot_session_is_found_in_its_session_state(project: Path, isolated_home: Path) -> None:
    custom = isolated_home / "elsewhere"
    first = go("copilot", [], project, isolated_home, COPILOT_HOME=str(custom)).args[1]
    events = custom / "session-state" / first / "events.jsonl"
    events.parent.mkdir(parents=True)
    shutil.copy(COPILOT_SAMPLE, events)
    resumed = go("copilot", ["-i", "go"], project, isolated_home, COPILOT_HOME=str(custom))
    assert resumed.args == [f"--resume={first}", "-i", "go"]
    # the same id is not there for the default store: a new session
    assert go("copilot", [], project, isolated_home).args[0] == "--session-id"


def test_a_folder_outside_git_is_its_own_project(tmp_path: Path, isolated_home: Path) -> None:
    folder = tmp_path / "loose"
    folder.mkdir()
    chosen = go("claude", [], folder, isolated_home)
    assert chosen.cwd == str(folder)
    assert Path(state_path(str(folder), "claude")).is_file()


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("claude", ["-r", "x"]),
        ("claude", ["-p", "hi"]),
        ("claude", ["mcp", "list"]),
        ("codex", ["exec", "hi"]),
        ("codex", ["resume", "--last"]),
        ("gemini", ["--resume", "latest"]),
        ("copilot", ["--continue"]),
    ],
)
def test_pass_through_touches_nothing(
    project: Path, isolated_home: Path, tool: str, args: list[str]
) -> None:
    chosen = go(tool, args, project / "src", isolated_home)
    assert chosen.args == args and chosen.cwd is None and chosen.note is None
    assert not (project / ".tether").exists()


def test_the_off_switch_passes_everything_through(project: Path, isolated_home: Path) -> None:
    chosen = go("claude", ["hi"], project, isolated_home, TETHER_AUTORESUME="0")
    assert chosen.args == ["hi"] and chosen.cwd is None
    assert not (project / ".tether").exists()


def test_headless_resume_from_the_environment_or_the_config_file(
    project: Path, isolated_home: Path, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    assert autoresume.headless_on({}, str(config)) == (False, "default")
    config.write_text("[autoresume]\nheadless = true\n")
    assert autoresume.headless_on({}, str(config)) == (True, str(config))
    off = {"TETHER_AUTORESUME_HEADLESS": "0"}
    assert autoresume.headless_on(off, str(config)) == (False, "$TETHER_AUTORESUME_HEADLESS")
    on = {"TETHER_AUTORESUME_HEADLESS": "1"}
    assert autoresume.headless_on(on, None) == (True, "$TETHER_AUTORESUME_HEADLESS")
    chosen = plan("claude", ["-p", "x"], env_for(isolated_home), str(project), NOW, str(config))
    assert chosen.args[0] == "--session-id" and chosen.args[2:] == ["-p", "x"]


# ---------------------------------------------------------------------------------------
# Codex: the id is read from the rollout the launch started, next time


def put_rollout(
    codex_home: Path, started: float, cwd: Path, source: object = "cli", session_id: str = ""
) -> tuple[str, Path]:
    """A real rollout (the 0.58 sample) re-dated to `started`, in `cwd`, by `source`."""
    session_id = session_id or str(uuid.uuid4())
    lines = CODEX_SAMPLE.read_text().splitlines()
    first = json.loads(lines[0])
    first["payload"].update(id=session_id, cwd=str(cwd), source=source)
    local = time.localtime(started)
    folder = codex_home / "sessions" / time.strftime("%Y/%m/%d", local)
    folder.mkdir(parents=True, exist_ok=True)
    name = time.strftime("rollout-%Y-%m-%dT%H-%M-%S", local) + f"-{session_id}.jsonl"
    path = folder / name
    path.write_text("\n".join([json.dumps(first), *lines[1:5]]) + "\n")
    return session_id, path


def test_codex_session_is_picked_up_at_the_next_launch(project: Path, isolated_home: Path) -> None:
    codex_home = isolated_home / ".codex"
    first = go("codex", ["hi"], project / "src", isolated_home)
    assert first.args == ["hi"] and first.cwd == str(project)
    assert state_of(project, "codex")["session_id"] is None
    put_rollout(codex_home, NOW - 3600, project)  # before the launch
    put_rollout(codex_home, NOW + 2, project / "src")  # another folder
    put_rollout(codex_home, NOW + 3, project, source="exec")  # a headless run
    put_rollout(codex_home, NOW + 4, project, source={"subagent": "review"})  # a sub-agent
    ours, path = put_rollout(codex_home, NOW + 5, project)
    put_rollout(codex_home, NOW + 9, project)  # a later one
    second = plan("codex", [], env_for(isolated_home), str(project), NOW + 60)
    assert second.args == ["resume", ours]
    state = state_of(project, "codex")
    assert state["session_id"] == ours and state["session_file"] == str(path)
    third = plan(
        "codex",
        ["exec", "--json", "go"],
        env_for(isolated_home, TETHER_AUTORESUME_HEADLESS="1"),
        str(project),
        NOW + 99,
    )
    assert third.args == ["exec", "--json", "resume", ours, "go"]


def test_codex_headless_launch_picks_up_its_exec_rollout(
    project: Path, isolated_home: Path
) -> None:
    env = env_for(isolated_home, TETHER_AUTORESUME_HEADLESS="1")
    assert plan("codex", ["exec", "one"], env, str(project), NOW).args == ["exec", "one"]
    put_rollout(isolated_home / ".codex", NOW + 1, project, source="cli")
    ours, _ = put_rollout(isolated_home / ".codex", NOW + 2, project, source="exec")
    second = plan("codex", ["exec", "two"], env, str(project), NOW + 30)
    assert second.args == ["exec", "resume", ours, "two"]


def test_codex_pick_up_reads_only_rollouts_started_since_the_launch(
    project: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codex_home = isolated_home / ".codex"
    for day in range(1, 40):  # a long history, before the launch
        put_rollout(codex_home, NOW - day * 86400, project)
    go("codex", [], project, isolated_home)
    ours, _ = put_rollout(codex_home, NOW + 5, project)
    opened: list[str] = []
    real = codex_facts.session_meta

    def counting(path: str) -> dict[str, object] | None:
        opened.append(path)
        return real(path)

    monkeypatch.setattr(codex_facts, "session_meta", counting)
    assert plan("codex", [], env_for(isolated_home), str(project), NOW + 60).args == [
        "resume",
        ours,
    ]
    assert len(opened) == 1 and opened[0].endswith(f"{ours}.jsonl")


def test_codex_without_its_rollout_starts_new_again(project: Path, isolated_home: Path) -> None:
    go("codex", [], project, isolated_home)
    later = plan("codex", ["go"], env_for(isolated_home), str(project), NOW + 600)
    assert later.args == ["go"]
    assert state_of(project, "codex")["launched_at"] == NOW + 600


# ---------------------------------------------------------------------------------------
# The state file: kept out of git, atomic, locked


def test_state_folder_is_excluded_in_git_info_never_gitignore(
    project: Path, isolated_home: Path
) -> None:
    exclude = project / ".git" / "info" / "exclude"
    before = exclude.read_text()
    go("claude", [], project / "src", isolated_home)
    go("gemini", [], project, isolated_home)
    after = exclude.read_text()
    assert after == before + ("" if before.endswith("\n") else "\n") + "/.tether/\n"
    assert not (project / ".gitignore").exists()
    status = subprocess.run(
        ["git", "-C", str(project), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert ".tether" not in status.stdout


def test_a_worktree_is_excluded_through_the_shared_git_folder(
    project: Path, isolated_home: Path, tmp_path: Path
) -> None:
    git = ["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    tree = tmp_path / "tree"
    subprocess.run([*git, "worktree", "add", "-q", str(tree)], check=True)
    chosen = go("claude", [], tree, isolated_home)
    assert chosen.cwd == str(tree.resolve())
    assert "/.tether/" in (project / ".git" / "info" / "exclude").read_text().splitlines()
    assert (tree / ".tether" / "autoresume" / "claude.json").is_file()
    status = subprocess.run(
        ["git", "-C", str(tree), "status", "--porcelain"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert ".tether" not in status.stdout


def test_state_json_round_trips_through_the_light_codec() -> None:
    value = {"a": 'ü "q" \n', "b": None, "c": True, "d": 1.5, "e": 7, "f": False}
    text = statefile.dumps(value)
    assert json.loads(text) == value == statefile.loads(text)
    for bad in ("", "  ", "{", '{"a": 1} x', "[1,", "NaN", '{"a": NaN}'):
        with pytest.raises(ValueError):
            statefile.loads(bad)
    with pytest.raises(TypeError):
        statefile.dumps({"x": [1]})


def test_bad_json_is_a_value_error_in_a_bare_interpreter_too() -> None:
    """Without the json package loaded (as in the shim), the C scanner still fails cleanly."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from tether.statefile import loads\n"
        "for bad in sys.argv[2:]:\n"
        "    try: loads(bad)\n"
        "    except ValueError: print('ok')\n"
    )
    bad = ["", "{", '{"a": tru', '{"a": 1} x', "[1,", "NaN", '{"a": "\\x"}']
    src = str(Path(launch.__file__).resolve().parents[2])
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, src, *bad],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["ok"] * len(bad), out.stderr


def test_glob_matches_one_segment_at_a_time(tmp_path: Path) -> None:
    for name in ("a/b/session-1-abc.jsonl", "a/c/session-2-abc.json", "a/c/x-abc.jsonl"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    found = list(facts_common.glob(str(tmp_path), "a/*/session-*-abc.json*"))
    assert found == [f"{tmp_path}/a/b/session-1-abc.jsonl", f"{tmp_path}/a/c/session-2-abc.json"]
    assert list(facts_common.glob(str(tmp_path), "a/*/nothing-*")) == []
    assert list(facts_common.glob(str(tmp_path / "missing"), "*/x")) == []


BROKEN_STATES = {
    "empty": b"",
    "blank": b"  \n",
    "truncated": b'{"version": 1, "tool": "claude", "session_id": "ab',
    "not UTF-8": b'{"version": 1, "session_id": "\xff\xfe"}',
    "an array": b"[1, 2]",
    "a future version": b'{"version": 9, "session_id": null}',
    "a wrong field": b'{"version": 1, "session_id": 42}',
    "binary": bytes(range(256)),
}


@pytest.mark.parametrize("content", list(BROKEN_STATES.values()), ids=list(BROKEN_STATES))
def test_an_unusable_state_file_is_an_error_the_shim_fails_open_on(
    project: Path, isolated_home: Path, content: bytes
) -> None:
    path = Path(state_path(str(project), "claude"))
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(StateError, match="tether reset claude"):
        go("claude", ["hi"], project, isolated_home)
    assert path.read_bytes() == content  # left for the user (tether reset) to clear


def test_a_launch_that_lost_the_race_decides_on_the_winners_state(
    project: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read before the lock: nothing. Read under it: another launch's session. That one
    is used, not overwritten."""
    winner = go("claude", [], project, isolated_home).args[1]
    put_claude_session(isolated_home, project, winner)
    written = state_of(project, "claude")
    written["session_file"] = None
    ours = state_path(str(project), "claude")
    reads = iter([None, written])
    real = statefile.read_json
    monkeypatch.setattr(
        autoresume, "read_json", lambda path: next(reads) if path == ours else real(path)
    )
    chosen = go("claude", ["go"], project, isolated_home)
    assert chosen.args == ["--resume", winner, "go"]


def test_writes_replace_the_file_whole(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "s" / "x.json"
    statefile.write_json(str(target), {"a": 1})
    statefile.write_json(str(target), {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


# ---------------------------------------------------------------------------------------
# ai-session-manager's state


def copy_asm(root: Path, folder: str = ".ai-session-manager") -> Path:
    target = root / folder
    target.mkdir(parents=True)
    for name in ("claude.json", "codex.json"):
        shutil.copy(ASM / name, target / name)
    return target


def test_ai_session_manager_session_is_taken_over_and_left_as_it_was(
    project: Path, isolated_home: Path
) -> None:
    theirs = copy_asm(project)
    before = checksums(theirs)
    target = json.loads((ASM / "claude.json").read_text())["resume_target"]
    put_claude_session(isolated_home, project, target)
    chosen = go("claude", [], project / "src", isolated_home)
    assert chosen.args == ["--resume", target]
    assert chosen.note and "ai-session-manager" in chosen.note
    state = state_of(project, "claude")
    assert state["session_id"] == target and state["origin"] == "ai-session-manager"
    assert checksums(theirs) == before
    # codex had no session found yet there: a new one, picked up next time
    assert go("codex", ["x"], project, isolated_home).args == ["x"]


def test_old_ai_session_manager_location_inside_git(project: Path, isolated_home: Path) -> None:
    copy_asm(project, ".git/ai-session-manager")
    target = json.loads((ASM / "claude.json").read_text())["resume_target"]
    put_claude_session(isolated_home, project, target)
    assert go("claude", [], project, isolated_home).args == ["--resume", target]


def test_taken_over_session_without_a_file_starts_new_once(
    project: Path, isolated_home: Path
) -> None:
    copy_asm(project)
    first = go("claude", [], project, isolated_home)
    assert first.args[0] == "--session-id"
    put_claude_session(isolated_home, project, first.args[1])
    assert go("claude", [], project, isolated_home).args == ["--resume", first.args[1]]


def test_a_corrupt_ai_session_manager_file_is_ignored(project: Path, isolated_home: Path) -> None:
    theirs = project / ".ai-session-manager"
    theirs.mkdir()
    (theirs / "claude.json").write_bytes(b"\xff{not json")
    assert go("claude", [], project, isolated_home).args[0] == "--session-id"


def test_reset_state_starts_new_and_does_not_take_over_again(
    project: Path, isolated_home: Path
) -> None:
    copy_asm(project)
    target = json.loads((ASM / "claude.json").read_text())["resume_target"]
    put_claude_session(isolated_home, project, target)
    path = state_path(str(project), "claude")
    statefile.write_json(path, autoresume.reset_state("claude", NOW))
    chosen = go("claude", [], project, isolated_home)
    assert chosen.args[0] == "--session-id" and chosen.args[1] != target


def test_new_session_ids_are_random_uuid4() -> None:
    ids = {autoresume.new_session_id() for _ in range(50)}
    assert len(ids) == 50
    for each in ids:
        assert uuid.UUID(each).version == 4 and str(uuid.UUID(each)) == each


def test_project_root_finds_git_file_or_folder(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert statefile.project_root(str(tmp_path / "a" / "b")) == str(tmp_path / "a" / "b")
    (tmp_path / "a" / ".git").write_text("gitdir: /nowhere\n")
    assert statefile.project_root(str(tmp_path / "a" / "b")) == str(tmp_path / "a")
    assert statefile.git_common_dir(str(tmp_path / "a")) is None  # no git folder there
    assert not statefile.exclude_from_git(str(tmp_path / "a"))
    private = tmp_path / "private"  # a folder that is no git folder: never written to
    private.mkdir()
    (tmp_path / "a" / ".git").write_text(f"gitdir: {private}\n")
    assert not statefile.exclude_from_git(str(tmp_path / "a"))
    assert list(private.iterdir()) == []
    (private / "HEAD").write_text("ref: refs/heads/main\n")
    assert statefile.git_common_dir(str(tmp_path / "a")) == str(private)


def test_hot_path_imports_only_builtin_modules() -> None:
    """The shim's modules load no third-party package and none of the heavy stdlib ones."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        " import tether.autoresume.launcher, tether.autoresume.plan;"
        "print(' '.join(sorted(sys.modules)))"
    )
    src = str(Path(launch.__file__).resolve().parents[2])
    loaded = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, src],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    heavy = {"typing", "pathlib", "json", "re", "tempfile", "uuid", "enum", "click", "orjson"}
    assert not heavy & set(loaded), heavy & set(loaded)
