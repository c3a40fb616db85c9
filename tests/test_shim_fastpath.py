"""The shims' /bin/sh fast path: the generated scripts, run for real against a fake tool
(a python script that records its argv, folder and whole environment), with tether's python
behind a wrapper that logs each start, so each test knows which path decided."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tether.autoresume import fastfile, shims
from tether.autoresume.plan import plan, state_path
from tether.paths import shim_dir
from tether.tools import launch
from tether.tools.facts.claude import folder_name as claude_folder

from .conftest import run

FAKE_TOOL = f"""\
#!{sys.executable} -I
import json, os, sys
with open(os.environ["FAKE_OUT"], "w") as fh:
    json.dump({{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}}, fh)
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""
TOOLS = ("claude", "codex", "gemini", "copilot")


class Bed:
    """A git project, fake real tools, shims whose python logs every start."""

    def __init__(self, tmp_path: Path, home: Path) -> None:
        self.tmp = tmp_path
        self.home = home
        self.root = tmp_path / "proj"
        (self.root / "sub").mkdir(parents=True)
        subprocess.run(["git", "init", "-q", str(self.root)], check=True)
        self.bin = tmp_path / "real-bin"
        self.bin.mkdir()
        for tool in TOOLS:
            (self.bin / tool).write_text(FAKE_TOOL)
            (self.bin / tool).chmod(0o755)
        self.log = tmp_path / "python-starts"
        wrapper = tmp_path / "python"
        wrapper.write_text(f'#!/bin/sh\necho start >> "{self.log}"\nexec {sys.executable} "$@"\n')
        wrapper.chmod(0o755)
        self.shim_dir = shim_dir(Path(os.environ["TETHER_HOME"]))
        shims.install(list(TOOLS), self.shim_dir, python=str(wrapper))
        self.out = tmp_path / "fake-out"
        self.env = {
            "HOME": str(home),
            "TETHER_HOME": os.environ["TETHER_HOME"],
            "PATH": os.pathsep.join([str(self.shim_dir), str(self.bin), "/usr/bin", "/bin"]),
            "FAKE_OUT": str(self.out),
            "LANG": "C.UTF-8",
            "PWD": str(self.root / "sub"),
        }

    def launch(
        self, tool: str, *args: str, cwd: Path | None = None, **env: str
    ) -> tuple[dict[str, object], str, bool]:
        """Run `tool` through its shim: what the real tool got, stderr, whether python ran."""
        self.out.unlink(missing_ok=True)
        self.log.unlink(missing_ok=True)
        where = cwd or self.root / "sub"
        done = subprocess.run(
            [tool, *args],
            cwd=where,
            env={**self.env, "PWD": str(where), **env},
            capture_output=True,
            text=True,
            executable=str(self.shim_dir / tool),
            check=False,
            timeout=60,
        )
        got = json.loads(self.out.read_text()) if self.out.exists() else {}
        got["exit"] = done.returncode
        return got, done.stderr, self.log.exists()

    def session(self, tool: str) -> tuple[str, Path]:
        """A session of `tool` in this project whose file exists, resumed once through python
        (which records its file, so leaves the fast file): its id and file."""
        got, _, python = self.launch(tool)
        assert python
        argv = got["argv"]
        assert isinstance(argv, list)
        if tool == "codex":  # codex names its session: put the rollout its launch wrote
            session_id = "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
            day = self.home / ".codex" / "sessions" / "2030" / "01" / "01"
            day.mkdir(parents=True)
            path = day / f"rollout-2030-01-01T00-00-00-{session_id}.jsonl"
            meta = {"id": session_id, "cwd": str(self.root), "source": "cli"}
            path.write_text(json.dumps({"type": "session_meta", "payload": meta}) + "\n")
            state = json.loads(Path(state_path(str(self.root), tool)).read_text())
            state.update(session_id=session_id, session_file=str(path))
            from tether.statefile import write_json

            write_json(state_path(str(self.root), tool), state)
            self.fast(tool).unlink(missing_ok=True)
        else:
            session_id = argv[argv.index("--session-id") + 1]
            path = self.put_file(tool, session_id)
        got, _, python = self.launch(tool)  # python records the file, writes the fast file
        assert python and session_id in "".join(got["argv"])  # type: ignore[arg-type]
        assert self.fast(tool).is_file()
        return session_id, path

    def put_file(self, tool: str, session_id: str) -> Path:
        files = {
            "claude": f".claude/projects/{claude_folder(str(self.root))}/{session_id}.jsonl",
            "gemini": f".gemini/tmp/abc/chats/session-2030-01-01T00-00-{session_id[:8]}.json",
            "copilot": f".copilot/session-state/{session_id}/events.jsonl",
        }
        path = self.home / files[tool]
        path.parent.mkdir(parents=True)
        path.write_text("{}\n")
        return path

    def fast(self, tool: str) -> Path:
        return Path(fastfile.fast_path(str(self.shim_dir), tool, str(self.root)))


@pytest.fixture
def bed(tmp_path: Path, isolated_home: Path) -> Bed:
    return Bed(tmp_path, isolated_home)


@pytest.mark.parametrize("tool", TOOLS)
def test_plain_launch_takes_the_sh_path_exactly_as_python_would(bed: Bed, tool: str) -> None:
    session_id, _ = bed.session(tool)
    fast, fast_err, python = bed.launch(tool, FAKE_EXIT="4")
    assert not python, "a plain launch with a current fast file started python"
    assert fast["argv"] == launch.resume_args(tool, session_id) and fast["exit"] == 4
    bed.fast(tool).unlink()  # the same launch through python, for comparison
    slow, slow_err, python = bed.launch(tool, FAKE_EXIT="4")
    assert python and (fast, fast_err) == (slow, slow_err)
    assert fast["cwd"] == str(bed.root) and fast_err.count("\n") == 1
    assert bed.fast(tool).is_file()  # python's plain launch put the fast file back


def test_sh_path_keeps_oldpwd_and_works_from_a_symlinked_folder(bed: Bed) -> None:
    bed.session("claude")
    link = bed.tmp / "link"
    link.symlink_to(bed.root / "sub")
    for extra in ({}, {"OLDPWD": "/somewhere"}):
        fast, err, python = bed.launch("claude", cwd=link, **extra)
        assert not python
        bed.fast("claude").unlink()
        slow, slow_err, python = bed.launch("claude", cwd=link, **extra)
        assert python and (fast, err) == (slow, slow_err)


PLAIN_ARGS = {
    "claude": [["--model", "x"], ["fix the bug"], ["--", "-c"], ["-v2"]],
    "codex": [["-m", "o3", "write it"], ["--", "exec"]],
    "gemini": [["-m", "flash"], ["-i", "go on"]],
    "copilot": [["--model", "x", "hi"]],
}
PYTHONS_ARGS = {
    "claude": [["-c"], ["--resume=x"], ["-p", "hi"], ["mcp", "list"], ["fix", "mcp"]],
    "codex": [["exec", "hi"], ["resume", "--last"], ["--cd", "/x"]],
    "gemini": [["-p", "hi"], ["--list-sessions"]],
    "copilot": [["--continue"], ["-p", "x"]],
}


@pytest.mark.parametrize("tool", TOOLS)
def test_arguments_the_tool_takes_as_they_are_take_the_sh_path_as_python_would(
    bed: Bed, tool: str
) -> None:
    """A launch whose arguments python would put after the resume flags as they are (a
    prompt, a model) resumes in sh; anything python must decide (the user's own session
    choice, a headless run, a command word, anywhere) starts python."""
    bed.session(tool)
    for args in PLAIN_ARGS[tool]:
        fast, fast_err, python = bed.launch(tool, *args)
        assert not python, args
        bed.fast(tool).unlink()
        slow, slow_err, python = bed.launch(tool, *args)
        assert python and (fast, fast_err) == (slow, slow_err), args
        bed.launch(tool)  # python puts the fast file back
        assert bed.fast(tool).is_file()
    for args in PYTHONS_ARGS[tool]:
        _, _, python = bed.launch(tool, *args)
        assert python, args


def test_a_gone_session_file_goes_to_python_which_starts_new(bed: Bed) -> None:
    session_id, path = bed.session("claude")
    path.unlink()
    got, err, python = bed.launch("claude")
    argv = got["argv"]
    assert python and isinstance(argv, list) and argv[0] == "--session-id"
    assert argv[1] != session_id and "is gone" in err
    assert not bed.fast("claude").exists()  # a new session: no fast file until it is resumed


@pytest.mark.parametrize(
    "damage",
    ["empty", "cut", "binary", "other root", "other real", "other home", "old format", "no id"],
)
def test_a_damaged_fast_file_goes_to_python(bed: Bed, damage: str) -> None:
    session_id, _ = bed.session("claude")
    fast = bed.fast("claude")
    text = fast.read_text()
    damaged = {
        "empty": b"",
        "cut": text[: len(text) // 2].encode(),
        "binary": b"\xff\xfe\x00" + text.encode(),
        "other root": text.replace(f"root={bed.root}", "root=/elsewhere").encode(),
        "other real": text.replace(f"real={bed.bin}", "real=/usr").encode(),
        "other home": text.replace(f"home={bed.home}", "home=/root").encode(),
        "old format": text.replace("tether-fast 2", "tether-fast 1").encode(),
        "no id": text.split("id=")[0].encode(),
    }[damage]
    fast.write_bytes(damaged)
    got, _, python = bed.launch("claude", FAKE_EXIT="2")
    assert python and got["argv"] == ["--resume", session_id] and got["exit"] == 2
    assert fast.read_text() == text  # python put the right one back
    assert not bed.launch("claude")[2]


def test_a_state_changed_behind_the_fast_file_goes_to_python(bed: Bed) -> None:
    bed.session("claude")
    path = Path(state_path(str(bed.root), "claude"))
    state = json.loads(path.read_text())
    path.write_text(json.dumps({**state, "version": 99}))  # by hand, a checkout, a pull
    got, err, python = bed.launch("claude")
    assert python and got["argv"] == [] and "auto-resume skipped" in err
    path.unlink()  # no state at all: a new session
    got, _, python = bed.launch("claude")
    assert python and got["argv"][0] == "--session-id"  # type: ignore[index]


def test_a_state_that_is_a_link_goes_to_python(bed: Bed) -> None:
    session_id, _ = bed.session("claude")
    path = Path(state_path(str(bed.root), "claude"))
    kept = path.with_name("kept.json")
    path.rename(kept)
    path.symlink_to(kept)
    got, _, python = bed.launch("claude")
    assert python and got["argv"] == ["--resume", session_id]


def test_reset_removes_the_fast_file(bed: Bed, monkeypatch: pytest.MonkeyPatch) -> None:
    bed.session("gemini")
    monkeypatch.chdir(bed.root)
    run("reset", "gemini")
    assert not bed.fast("gemini").exists()
    got, _, python = bed.launch("gemini")
    assert python and got["argv"][0] == "--session-id"  # type: ignore[index]


@pytest.mark.parametrize("switch", ["0", "1", " 0"])
def test_the_off_switch_is_pythons_to_read(bed: Bed, switch: str) -> None:
    session_id, _ = bed.session("copilot")
    got, _, python = bed.launch("copilot", TETHER_AUTORESUME=switch)
    resumed = got["argv"] == [f"--resume={session_id}"]
    assert python and resumed == (switch.strip() != "0")


def test_another_real_binary_or_store_goes_to_python(bed: Bed) -> None:
    bed.session("claude")
    got, _, python = bed.launch("claude", CLAUDE_CONFIG_DIR=str(bed.tmp / "other"))
    assert python and got["argv"][0] == "--session-id"  # type: ignore[index]
    bed.session("copilot")
    newer = bed.tmp / "newer-bin"
    newer.mkdir()
    shutil.copy(bed.bin / "copilot", newer / "copilot")
    path = os.pathsep.join([str(bed.shim_dir), str(newer), str(bed.bin), "/usr/bin", "/bin"])
    got, _, python = bed.launch("copilot", PATH=path)
    assert python and got["argv"][0].startswith("--resume=")  # type: ignore[index]
    got, _, python = bed.launch("copilot", PATH=path)  # python recorded the new real binary
    assert not python and got["argv"][0].startswith("--resume=")  # type: ignore[index]


def test_a_folder_outside_git_has_its_own_fast_file(bed: Bed, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    got, _, _ = bed.launch("claude", cwd=plain)
    session_id = got["argv"][1]  # type: ignore[index]
    folder = bed.home / ".claude" / "projects" / claude_folder(str(plain))
    folder.mkdir(parents=True)
    (folder / f"{session_id}.jsonl").write_text("{}\n")
    assert bed.launch("claude", cwd=plain)[2]
    got, _, python = bed.launch("claude", cwd=plain)
    assert not python and got["argv"] == ["--resume", session_id] and got["cwd"] == str(plain)


# ---------------------------------------------------------------------------------------
# The fast file, written by the python path


class Resumed:
    def __init__(self, session_id: str | None, session_file: str | None) -> None:
        self.session_id = session_id
        self.session_file = session_file


ID = "0b6f4c8e-3a1d-4e2b-9c7f-5d8a6e4b2c1a"


def test_render_is_only_for_what_sh_can_read_exactly(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    good = Resumed(ID, f"{tmp_path}/.claude/projects/-p/{ID}.jsonl")
    made = fastfile.render("claude", "/p", env, "/bin/claude", good)
    assert made is not None and made.splitlines() == [
        "tether-fast 2",
        "root=/p",
        f"home={tmp_path}",
        "store=",
        "real=/bin/claude",
        f"id={ID}",
        f"file={good.session_file}",
    ]
    with_var = {**env, "CLAUDE_CONFIG_DIR": "/c"}
    assert "store=/c\n" in (fastfile.render("claude", "/p", with_var, "/b/claude", good) or "")
    assert fastfile.render("claude", "/p", env, "bin/claude", good) is None  # relative
    assert fastfile.render("claude", "/p", env, None, good) is None
    assert fastfile.render("claude", "/p\nq", env, "/bin/claude", good) is None
    assert fastfile.render("claude", "/p", {}, "/bin/claude", good) is None  # no $HOME
    for odd in ("--dangerously-skip-permissions", "id-1", "", None):
        bad = Resumed(odd, good.session_file)
        assert fastfile.render("claude", "/p", env, "/bin/claude", bad) is None
    newline = Resumed(ID, good.session_file + "\nx")
    assert fastfile.render("claude", "/p", env, "/bin/claude", newline) is None


def test_plan_writes_and_removes_the_fast_file_with_the_state(
    tmp_path: Path, isolated_home: Path
) -> None:
    root = tmp_path / "p"
    (root / ".git").mkdir(parents=True)
    env = {"HOME": str(isolated_home)}
    shims = str(tmp_path / "shims")
    fast = Path(fastfile.fast_path(shims, "claude", str(root)))

    def launch(args: list[str], now: float) -> list[str]:
        return plan("claude", args, env, str(root), now, real="/bin/claude", shim_dir=shims).args

    session_id = launch([], 1.0)[1]
    assert not fast.exists()  # a new session
    folder = isolated_home / ".claude" / "projects" / claude_folder(str(root))
    folder.mkdir(parents=True)
    (folder / f"{session_id}.jsonl").write_text("{}\n")
    launch(["hi"], 2.0)  # records the file
    assert f"id={session_id}\n" in fast.read_text()
    fast.unlink()
    launch(["hi"], 3.0)
    assert not fast.exists()  # with arguments and nothing to write: left alone
    launch([], 4.0)
    assert fast.is_file()  # a plain launch reached python: the fast file is put back
    stamp = fast.stat().st_mtime_ns
    launch([], 5.0)
    assert fast.stat().st_mtime_ns == stamp  # current: not written again
    (folder / f"{session_id}.jsonl").unlink()
    launch([], 6.0)
    assert not fast.exists()  # replaced by a new session


# ---------------------------------------------------------------------------------------
# A project tether did not write: a clone can commit anything under .tether/


HOSTILE_IDS = ("--dangerously-skip-permissions", "../../../../tmp/x", "-c", "a b")


@pytest.mark.parametrize("session_id", HOSTILE_IDS)
def test_a_committed_state_cannot_add_an_argument(bed: Bed, session_id: str) -> None:
    path = Path(state_path(str(bed.root), "claude"))
    path.parent.mkdir(parents=True)
    escape = f"{bed.home}/.claude/../../../../etc/passwd"
    state = {"version": 1, "tool": "claude", "session_id": session_id, "session_file": escape}
    path.write_text(json.dumps(state))
    got, err, python = bed.launch("claude")
    assert python and got["argv"] == [] and "not a claude session id" in err
    got, err, _ = bed.launch("claude", "hello")
    assert got["argv"] == ["hello"]


def test_a_committed_state_cannot_point_outside_the_store(bed: Bed, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_text("{}\n")
    path = Path(state_path(str(bed.root), "claude"))
    path.parent.mkdir(parents=True)
    for recorded in (str(elsewhere), f"{bed.home}/.claude/projects/../../../{elsewhere.name}"):
        state = {"version": 1, "tool": "claude", "session_id": ID, "session_file": recorded}
        path.write_text(json.dumps(state))
        got, err, python = bed.launch("claude")
        argv = got["argv"]
        assert python and isinstance(argv, list) and argv[0] == "--session-id" and ID not in argv
        assert "is gone" in err


def test_a_committed_fast_file_of_an_older_tether_is_never_read(bed: Bed) -> None:
    """tether 0.1 kept the fast file in the project: a clone could commit one."""
    path = Path(state_path(str(bed.root), "claude"))
    path.parent.mkdir(parents=True)
    fake = bed.home / "fake.jsonl"
    fake.write_text("{}\n")
    state = '{\n  "session_id": "--dangerously-skip-permissions",\n  "session_file": "'
    state += f'{fake}"\n}}\n'
    path.write_text(state)
    header = f"tether-fast 1\nroot={bed.root}\nhome={bed.home}\nstore=\nreal={bed.bin}/claude\n"
    fastfile.legacy_path(str(path))
    Path(fastfile.legacy_path(str(path))).write_text(header + "state\n" + state)
    got, _, python = bed.launch("claude")
    assert python and "--dangerously-skip-permissions" not in got["argv"]  # type: ignore[operator]


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_a_state_that_is_no_file_cannot_hang_a_launch(bed: Bed, kind: str) -> None:
    path = Path(state_path(str(bed.root), "claude"))
    path.parent.mkdir(parents=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()
    got, err, python = bed.launch("claude", "hi")  # the Bed's subprocess has a timeout
    assert python and got["argv"] == ["hi"] and "not a regular file" in err


def test_a_shim_of_an_older_tether_is_rewritten_at_its_next_python_launch(bed: Bed) -> None:
    old = bed.shim_dir / "claude"
    text = old.read_text().replace(launch.SHIM_VERSION + "\n", "")
    old.write_text(text)
    assert launch.is_stale(str(old))
    got, _, python = bed.launch("claude", "hi")
    assert python and got["argv"][-1] == "hi"  # type: ignore[index]
    assert not launch.is_stale(str(old)) and launch.SHIM_VERSION in old.read_text()
