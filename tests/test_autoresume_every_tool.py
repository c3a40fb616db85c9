"""Auto-resume for every tool that resumes by id, beyond the first four: which argv a launch
gets, and how each tool's own session is found after a launch that let the tool name it
(opencode and Kilo in their databases, Cline in its session folders, Antigravity in its
history.jsonl, Cursor in its chat folders). Real shims over stand-in binaries for the two
CLIs that cannot be installed here (agy, cursor-agent): tests/standins.py."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tether.autoresume import shims
from tether.autoresume.plan import plan, state_path
from tether.tools import facts, launch
from tether.tools.facts import cursor as cursor_facts

from . import standins
from .conftest import FIXTURES

NOW = 1_790_000_000.0
SID = "5f0c6a8e-1d2b-4c3d-8e4f-a1b2c3d4e5f6"
OPENCODE_ID = "ses_3f1a2b4c5d6e7f8a9b0c1d2e3f"
CLINE_ID = "1796596648204_r88tr"


KINDS = [
    ("cline", [], "interactive"),
    ("cline", ["fix the flaky test"], "headless"),
    ("cline", ["-m", "sonnet", "--json", "fix it"], "headless"),
    ("cline", ["-m", "sonnet"], "interactive"),
    ("cline", ["-i", "fix it"], "passthrough"),  # --id would drop the prompt
    ("cline", ["--tui"], "interactive"),
    ("cline", ["--id", CLINE_ID], "passthrough"),
    ("cline", ["-c", "/elsewhere"], "passthrough"),
    ("cline", ["history"], "passthrough"),
    ("cline", ["auth", "-p", "openai"], "passthrough"),
    ("kilo", [], "interactive"),
    ("kilo", ["run", "--auto", "hi"], "headless"),
    ("kilo", ["-s", OPENCODE_ID], "passthrough"),
    ("kilo", ["run", "-c", "hi"], "passthrough"),
    ("kilo", ["session", "list"], "passthrough"),
    ("opencode", ["run", "hi"], "headless"),
    ("opencode", ["--prompt", "fix it"], "passthrough"),  # --session would drop the prompt
    ("kilo", ["--model", "m", "--prompt=fix it"], "passthrough"),
    ("opencode", ["--model", "m"], "interactive"),
    ("opencode", ["--continue"], "passthrough"),
    ("qwen", ["-p", "hi"], "headless"),
    ("qwen", ["--continue"], "passthrough"),
    ("antigravity", [], "interactive"),
    ("antigravity", ["-p", "hi"], "headless"),
    ("antigravity", ["--conversation", SID], "passthrough"),
    ("antigravity", ["--conversation=" + SID], "passthrough"),
    ("antigravity", ["-c"], "passthrough"),
    ("antigravity", ["auth"], "passthrough"),
    ("cursor", [], "interactive"),
    ("cursor", ["--print", "hi"], "headless"),
    ("cursor", ["--resume=" + SID], "passthrough"),
    ("cursor", ["ls"], "passthrough"),
    ("cursor", ["create-chat"], "passthrough"),
]


@pytest.mark.parametrize(("tool", "args", "kind"), KINDS)
def test_user_argv_is_classified(tool: str, args: list[str], kind: str) -> None:
    assert launch.classify(tool, args) == kind


CONTINUE = [
    (
        "kilo",
        ["run", "--auto", "hi"],
        "headless",
        ["run", "--auto", "--session", OPENCODE_ID, "hi"],
    ),
    ("kilo", [], "interactive", ["--session", OPENCODE_ID]),
    (
        "opencode",
        ["run", "-m", "a/b", "x"],
        "headless",
        ["run", "-m", "a/b", "--session", OPENCODE_ID, "x"],
    ),
    ("antigravity", [], "interactive", ["--conversation", SID]),
    ("antigravity", ["-p", "x"], "headless", ["--conversation", SID, "-p", "x"]),
    ("cursor", ["-p", "x"], "headless", ["--resume", SID, "-p", "x"]),
    ("cursor", ["--model", "m"], "interactive", ["--resume", SID, "--model", "m"]),
    ("cline", [], "interactive", ["--id", CLINE_ID]),
    ("qwen", ["-p", "x"], "headless", ["--resume", SID, "-p", "x"]),
]


@pytest.mark.parametrize(("tool", "args", "kind", "expected"), CONTINUE)
def test_resume_argv_keeps_the_users_own_arguments(
    tool: str, args: list[str], kind: str, expected: list[str]
) -> None:
    native_id = {"kilo": OPENCODE_ID, "opencode": OPENCODE_ID, "cline": CLINE_ID}.get(tool, SID)
    assert launch.continue_args(tool, args, kind, native_id) == expected  # type: ignore[arg-type]


def test_every_tool_that_resumes_by_id_auto_resumes() -> None:
    able = facts.able("autoresume")
    assert able == [
        *("claude", "codex", "gemini", "copilot", "antigravity", "cursor"),
        *("cline", "kilo", "opencode", "qwen"),
    ]
    for tool in ("amp", "aider", "roo"):
        assert tool not in able


def test_a_headless_cline_run_passes_through_even_with_headless_resume_on(
    project: Path, isolated_home: Path
) -> None:
    env = {"HOME": str(isolated_home), "TETHER_AUTORESUME_HEADLESS": "1"}
    launched = plan("cline", ["fix it"], env, str(project), NOW)
    assert launched.args == ["fix it"] and launched.note is None
    assert not Path(state_path(str(project), "cline")).exists()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "work" / "my.project_x"
    (root / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root.resolve()


# ---------------------------------------------------------------------------------------
# A session each tool began after a launch, planted where the tool writes it


def plant_opencode(app: str, fixture: Path) -> Callable[[Path, Path, float], str]:
    def plant(home: Path, root: Path, began: float) -> str:
        """The real database, its one session moved to `root` and `began`."""
        folder = home / ".local" / "share" / app
        folder.mkdir(parents=True, exist_ok=True)
        db_path = folder / f"{app}.db"
        shutil.copyfile(fixture, db_path)
        db = sqlite3.connect(db_path)
        with db:
            db.execute(
                "UPDATE session SET directory = ?, time_created = ?", (str(root), int(began * 1000))
            )
        [(native_id,)] = db.execute("SELECT id FROM session").fetchall()
        db.close()
        return str(native_id)

    return plant


def plant_cline(home: Path, root: Path, began: float) -> str:
    """The real session, renamed as one begun at `began`, recorded in `root`."""
    native_id = f"{int(began * 1000)}_{uuid.uuid4().hex[:5]}"
    folder = home / ".cline" / "data" / "sessions" / native_id
    source = FIXTURES / "cline" / "cli-3.0.65" / "sessions" / CLINE_ID
    folder.mkdir(parents=True)
    record = json.loads((source / f"{CLINE_ID}.json").read_text())
    record.update(session_id=native_id, cwd=str(root), workspace_root=str(root))
    (folder / f"{native_id}.json").write_text(json.dumps(record))
    shutil.copyfile(source / f"{CLINE_ID}.messages.json", folder / f"{native_id}.messages.json")
    return native_id


def plant_agy(home: Path, root: Path, began: float) -> str:
    native_id = str(uuid.uuid4())
    store = home / ".gemini" / "antigravity-cli"
    (store / "conversations").mkdir(parents=True, exist_ok=True)
    (store / "conversations" / f"{native_id}.db").write_bytes(b"")
    with (store / "history.jsonl").open("a") as history:
        for display, stamp in (("first", began), ("second", began + 5)):
            line = {"display": display, "timestamp": int(stamp * 1000), "workspace": str(root)}
            history.write(json.dumps({**line, "conversationId": native_id}) + "\n")
    return native_id


def plant_cursor(home: Path, root: Path, began: float) -> str:
    native_id = str(uuid.uuid4())
    chat = home / ".cursor" / "chats" / cursor_facts.chats_folder(str(root)) / native_id
    chat.mkdir(parents=True)
    (chat / "store.db").write_bytes(b"")
    (chat / "meta.json").write_text(json.dumps({"createdAtMs": int(began * 1000)}))
    return native_id


PLANTERS = {
    "opencode": plant_opencode("opencode", FIXTURES / "opencode" / "opencode-1.18.33.db"),
    "kilo": plant_opencode("kilo", FIXTURES / "kilo" / "kilo-7.7.9.db"),
    "cline": plant_cline,
    "antigravity": plant_agy,
    "cursor": plant_cursor,
}


@pytest.mark.parametrize("tool", PLANTERS)
def test_a_session_the_tool_named_is_picked_up_at_the_next_launch(
    tool: str, project: Path, isolated_home: Path
) -> None:
    env = {"HOME": str(isolated_home)}
    first = plan(tool, [], env, str(project / "src"), NOW)
    assert first.args == [] and "its id is read at the next launch" in (first.note or "")
    state = json.loads(Path(state_path(str(project), tool)).read_text())
    assert state["session_id"] is None and state["launched_at"] == NOW

    store = facts.get(tool).store_roots(env, str(isolated_home))[0]
    finder = facts.get(tool).started_since
    assert finder is not None
    # begun before the launch, or in another folder: not this launch's session
    other = project.parent / "other"
    other.mkdir()
    PLANTERS[tool](isolated_home, other, NOW + 3)
    assert finder(store, str(project), NOW, False) == []
    native_id = PLANTERS[tool](isolated_home, project, NOW + 3)
    found = finder(store, str(project), NOW, False)
    assert [found_id for found_id, _ in found] == [native_id]
    assert finder(store, str(project), NOW + 60, False) == []

    again = plan(
        tool, ["--model", "m"] if tool != "cline" else [], env, str(project / "src"), NOW + 60
    )
    expected = launch.continue_args(tool, [], "interactive", native_id)
    assert again.args[: len(expected)] == expected
    assert again.cwd == str(project) and f"resuming session {native_id}" in (again.note or "")
    state = json.loads(Path(state_path(str(project), tool)).read_text())
    assert state["session_id"] == native_id and state["session_file"] == found[0][1]
    # and the launch after that resumes it from the state alone
    third = plan(tool, [], env, str(project), NOW + 120)
    assert third.args == expected


def test_a_cline_session_of_the_other_kind_of_run_is_not_taken(
    project: Path, isolated_home: Path
) -> None:
    """An interactive launch does not take a session a headless `cline PROMPT` began."""
    store = facts.get("cline").store_roots({}, str(isolated_home))[0]
    native_id = plant_cline(isolated_home, project, NOW + 3)
    record_path = Path(store) / "sessions" / native_id / f"{native_id}.json"
    record = json.loads(record_path.read_text())
    assert facts.get("cline").started_since(store, str(project), NOW, False)
    record["interactive"] = False
    record_path.write_text(json.dumps(record))
    assert facts.get("cline").started_since(store, str(project), NOW, False) == []
    assert facts.get("cline").started_since(store, str(project), NOW, True)


def test_ai_session_managers_agy_state_is_taken_over(project: Path, isolated_home: Path) -> None:
    """ai-session-manager names its state after the binary: `.ai-session-manager/agy.json`."""
    native_id = plant_agy(isolated_home, project, NOW)
    folder = project / ".ai-session-manager"
    folder.mkdir()
    (folder / "agy.json").write_text(json.dumps({"resume_target": native_id}))
    launched = plan("antigravity", [], {"HOME": str(isolated_home)}, str(project), NOW)
    assert launched.args == ["--conversation", native_id]
    assert "carrying on ai-session-manager's" in (launched.note or "")


# ---------------------------------------------------------------------------------------
# Through the real shims, over stand-ins that write what the real CLIs write


@pytest.mark.parametrize(("tool", "binary"), [("antigravity", "agy"), ("cursor", "cursor-agent")])
def test_shims_resume_the_stand_in_on_the_session_it_began(
    tool: str, binary: str, project: Path, isolated_home: Path, tmp_path: Path
) -> None:
    real = standins.install(tmp_path / "bin", (binary,))
    folder = tmp_path / "tether-home" / "shims"
    shims.install([tool], folder)
    log = tmp_path / "calls.jsonl"
    env = {
        "HOME": str(isolated_home),
        "PATH": os.pathsep.join([str(folder), str(real), "/usr/bin", "/bin"]),
        "TETHER_HOME": str(tmp_path / "tether-home"),
        "FAKE_LOG": str(log),
        "FAKE_EXIT": str(tmp_path / "no-such-file"),
    }
    first = subprocess.run(
        [binary], cwd=project / "src", env=env, capture_output=True, text=True, check=False
    )
    assert first.returncode == 0, first.stderr
    assert f"tether: {tool}: new session (its id is read at the next launch)" in first.stderr
    time.sleep(0.01)
    second = subprocess.run(
        [binary, "-p", "again"],
        cwd=project / "src",
        env={**env, "TETHER_AUTORESUME_HEADLESS": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert second.returncode == 0, second.stderr
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    state = json.loads(Path(state_path(str(project), tool)).read_text())
    native_id = state["session_id"]
    assert facts.get(tool).valid_id(native_id)
    flag = launch.spec(tool)["headless_resume"][0]
    assert runs[0]["argv"] == [] and runs[1]["argv"] == [flag, native_id, "-p", "again"]
    assert runs[0]["cwd"] == runs[1]["cwd"] == str(project)
    # a plain launch now takes the shim's sh fast path, on the same session
    third = subprocess.run(
        [binary], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert f"tether: {tool}: resuming session {native_id}" in third.stderr
    assert json.loads(log.read_text().splitlines()[-1])["argv"] == [flag, native_id]


@pytest.mark.parametrize(("tool", "binary"), [("antigravity", "agy"), ("cursor", "cursor-agent")])
def test_tether_resume_runs_the_tools_own_resume_without_a_writer(
    tool: str, binary: str, project: Path, isolated_home: Path, tmp_path: Path
) -> None:
    """A session of a tool tether only reads resumes in that tool: its own resume command."""
    from tests.conftest import run

    real = standins.install(tmp_path / "bin", (binary,))
    env = {"HOME": str(isolated_home), "PATH": f"{real}{os.pathsep}/usr/bin:/bin"}
    subprocess.run([binary, "-p", "remember the walnut"], cwd=project, env=env, check=True)
    run("scan")
    [row] = json.loads(run("list", "--json", "--tool", tool).stdout)
    shown = json.loads(run("show", row["id"], "--json").stdout)
    texts = [p["text"] for m in shown["messages"] for p in m["parts"] if p["type"] == "text"]
    assert "remember the walnut" in texts and "ECHO: remember the walnut" in texts
    plan = json.loads(
        run("resume", row["id"], "--print", "--anyway", "--json", "--cwd", str(project)).stdout
    )
    flag = launch.spec(tool)["resume"][0]
    assert plan["resume_command"] == [binary, flag, row["native_id"]] and plan["written"] is None
