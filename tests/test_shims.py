"""The shims as installed: real sh scripts run in a subprocess against a fake tool that
records how it was started; and the commands around them (init, shim, status, reset)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tether.autoresume import shims
from tether.autoresume.plan import state_path
from tether.paths import shim_dir
from tether.tools import launch
from tether.tools.facts.claude import folder_name as claude_folder
from tether.tools.facts.qwen import folder_name as qwen_folder

from .conftest import FIXTURES, run

FAKE_TOOL = """\
#!/bin/sh
# records its pid, folder and arguments (NUL-separated), then exits with $FAKE_EXIT
{ printf '%s\\0' "$$" "$(pwd)"; for a in "$@"; do printf '%s\\0' "$a"; done; } > "$FAKE_OUT"
exit "${FAKE_EXIT:-0}"
"""


class Bed:
    """A project, fake real tools, installed shims and the environment a shell would have."""

    def __init__(self, tmp_path: Path, home: Path) -> None:
        self.home = home
        self.root = tmp_path / "proj"
        (self.root / "sub").mkdir(parents=True)
        subprocess.run(["git", "init", "-q", str(self.root)], check=True)
        self.bin = tmp_path / "real-bin"
        self.bin.mkdir()
        for tool in ("claude", "codex", "gemini", "copilot", "qwen"):
            fake = self.bin / tool
            fake.write_text(FAKE_TOOL)
            fake.chmod(0o755)
        self.tether_home = Path(os.environ["TETHER_HOME"])
        self.shim_dir = shim_dir(self.tether_home)
        self.out = tmp_path / "fake-out"
        self.env = {
            "HOME": str(home),
            "TETHER_HOME": str(self.tether_home),
            "PATH": os.pathsep.join([str(self.shim_dir), str(self.bin), "/usr/bin", "/bin"]),
            "FAKE_OUT": str(self.out),
            "LANG": "C.UTF-8",
        }

    def launch(
        self, tool: str, *args: str, cwd: Path | None = None, **env: str
    ) -> tuple[subprocess.CompletedProcess[str], int, list[str]]:
        """Run `tool` through its shim as a shell would; the pid, folder and argv it got."""
        self.out.unlink(missing_ok=True)
        proc = subprocess.Popen(
            [tool, *args],
            cwd=cwd or self.root / "sub",
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            executable=shutil.which(tool, path=self.env["PATH"]),
        )
        stdout, stderr = proc.communicate(timeout=60)
        done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
        if not self.out.exists():
            return done, proc.pid, []
        pid, folder, *argv = self.out.read_bytes().decode().split("\0")[:-1]
        assert int(pid) == proc.pid, "the real tool is not the shim's own process (no exec)"
        return done, proc.pid, [folder, *argv]


@pytest.fixture
def bed(tmp_path: Path, isolated_home: Path) -> Bed:
    made = Bed(tmp_path, isolated_home)
    shims.install(["claude", "codex", "gemini", "copilot", "qwen"], made.shim_dir)
    return made


def test_launches_exec_the_real_tool_on_the_projects_session(bed: Bed) -> None:
    done, _, (folder, *argv) = bed.launch("claude", "hello world", FAKE_EXIT="7")
    assert done.returncode == 7
    assert folder == str(bed.root)
    assert argv[0] == "--session-id" and argv[2:] == ["hello world"]
    assert done.stderr.count("\n") == 1 and argv[1] in done.stderr
    session = bed.home / ".claude" / "projects" / claude_folder(str(bed.root))
    session.mkdir(parents=True)
    shutil.copy(FIXTURES / "claude" / "agentsessions_small.jsonl", session / f"{argv[1]}.jsonl")
    done, _, (folder, *again) = bed.launch("claude")
    assert again == ["--resume", argv[1]] and done.returncode == 0


def test_qwen_resumes_its_projects_session_in_the_folder_its_cli_reads(bed: Bed) -> None:
    done, _, (folder, *argv) = bed.launch("qwen", "-i", "hello")
    assert folder == str(bed.root) and argv[0] == "--session-id" and argv[2:] == ["-i", "hello"]
    chats = bed.home / ".qwen" / "projects" / qwen_folder(str(bed.root)) / "chats"
    chats.mkdir(parents=True)
    (chats / f"{argv[1]}.jsonl").write_text("{}\n")
    done, _, (folder, *again) = bed.launch("qwen")
    assert again == ["--resume", argv[1]] and done.returncode == 0


def test_own_flags_pass_through_in_the_users_folder(bed: Bed) -> None:
    done, _, (folder, *argv) = bed.launch("codex", "resume", "--last")
    assert (folder, argv, done.stderr) == (str(bed.root / "sub"), ["resume", "--last"], "")
    assert not (bed.root / ".tether").exists()


@pytest.mark.parametrize(
    "content", [b"", b"{", b"\xff\xfe\x00garbage", b"[]"], ids=["empty", "cut", "binary", "array"]
)
def test_unusable_state_runs_the_tool_as_typed(bed: Bed, content: bytes) -> None:
    path = Path(state_path(str(bed.root), "gemini"))
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    done, _, (folder, *argv) = bed.launch("gemini", "-i", "go on", FAKE_EXIT="3")
    assert (folder, argv, done.returncode) == (str(bed.root / "sub"), ["-i", "go on"], 3)
    [line] = done.stderr.splitlines()
    assert "auto-resume skipped" in line and "tether reset gemini" in line


def test_any_tether_error_runs_the_tool_as_typed(bed: Bed) -> None:
    Path(state_path(str(bed.root), "claude")).mkdir(parents=True)  # cannot be written
    done, _, (folder, *argv) = bed.launch("claude", "hi")
    assert (folder, argv, done.returncode) == (str(bed.root / "sub"), ["hi"], 0)
    [line] = done.stderr.splitlines()
    assert line.startswith("tether: claude: auto-resume skipped")


def test_no_real_tool_is_one_clear_error(bed: Bed) -> None:
    (bed.bin / "copilot").unlink()
    done, _, got = bed.launch("copilot")
    assert got == [] and done.returncode == 127
    [line] = done.stderr.splitlines()
    assert "copilot: not found on PATH" in line and "tether shim uninstall copilot" in line


def test_another_tether_shim_folder_is_never_taken_for_the_tool(bed: Bed, tmp_path: Path) -> None:
    other = tmp_path / "other-install"
    shims.install(["claude"], other)
    path = os.pathsep.join([str(bed.shim_dir), str(other), str(bed.bin), "/usr/bin", "/bin"])
    done, _, (_, *argv) = bed.launch("claude", "-c", PATH=path)
    assert argv == ["-c"] and done.returncode == 0


def test_shim_runs_the_tool_when_tethers_python_is_gone(bed: Bed) -> None:
    shims.install(["claude"], bed.shim_dir, python="/nonexistent/python3")
    done, _, (_, *argv) = bed.launch("claude", "--model", "x", "hi there", FAKE_EXIT="5")
    assert (argv, done.returncode) == (["--model", "x", "hi there"], 5)
    [line] = done.stderr.splitlines()
    assert "is gone" in line


def test_two_launches_at_once_leave_one_valid_state(bed: Bed) -> None:
    """Eight first launches at once: every one gets a well-formed argv, and the state
    names one of their sessions, whole."""
    procs = []
    for n in range(8):
        env = {**bed.env, "FAKE_OUT": f"{bed.out}.{n}"}
        procs.append(
            subprocess.Popen(
                ["claude"],
                cwd=bed.root,
                env=env,
                executable=str(bed.shim_dir / "claude"),
                stderr=subprocess.PIPE,
            )
        )
    for proc in procs:
        proc.communicate(timeout=60)
        assert proc.returncode == 0
    started = set()
    for n in range(8):
        _, _, *argv = Path(f"{bed.out}.{n}").read_bytes().decode().split("\0")[:-1]
        assert argv[0] == "--session-id" and len(argv) == 2
        started.add(argv[1])
    state = json.loads(Path(state_path(str(bed.root), "claude")).read_text())
    assert state["session_id"] in started
    leftovers = [p.name for p in (bed.root / ".tether" / "autoresume").iterdir()]
    assert sorted(leftovers) == ["claude.json", "claude.json.lock"]


def test_shim_script_is_small_sh_with_its_mark(bed: Bed) -> None:
    text = (bed.shim_dir / "codex").read_text()
    assert text.startswith("#!/bin/sh\n# tether-shim: codex\n")
    assert os.access(bed.shim_dir / "codex", os.X_OK)
    assert f"{sys.executable}" in text and "-I -S" in text


# ---------------------------------------------------------------------------------------
# Commands


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """claude and codex installed (fakes), tether's shim folder not yet on PATH."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in ("claude", "codex"):
        (folder / tool).write_text(FAKE_TOOL)
        (folder / tool).chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(folder), "/usr/bin", "/bin"]))
    return folder


def test_shim_install_defaults_to_tools_on_path_and_uninstall_removes(on_path: Path) -> None:
    folder = shim_dir(Path(os.environ["TETHER_HOME"]))
    out = run("shim", "install").output
    assert sorted(p.name for p in folder.iterdir()) == ["claude", "codex"]
    assert "not on PATH yet" in out
    status = json.loads(run("shim", "status", "--json").output)
    assert status["folder"] == str(folder) and status["on_path"] is False
    by_tool = {row["tool"]: row for row in status["shims"]}
    assert by_tool["claude"]["real"] == str(on_path / "claude")
    assert by_tool["gemini"] == {"tool": "gemini", "shim": None, "real": None, "active": False}
    run("shim", "install", "gemini-cli")  # an alias; not on PATH is fine when named
    assert (folder / "gemini").is_file()
    assert "removed" in run("shim", "uninstall", "claude").output
    assert sorted(p.name for p in folder.iterdir()) == ["codex", "gemini"]
    run("shim", "uninstall")
    assert list(folder.iterdir()) == []
    assert (on_path / "claude").read_text() == FAKE_TOOL  # the real tools are untouched


def test_shim_install_leaves_a_foreign_file_alone(on_path: Path) -> None:
    folder = shim_dir(Path(os.environ["TETHER_HOME"]))
    folder.mkdir(parents=True)
    (folder / "claude").write_text("#!/bin/sh\necho mine\n")
    result = run("shim", "install", "claude", ok=False)
    assert result.exit_code == 3 and "not a tether shim" in result.output
    assert (folder / "claude").read_text() == "#!/bin/sh\necho mine\n"


def test_shim_install_refuses_a_tool_that_cannot_auto_resume(on_path: Path) -> None:
    assert run("shim", "install", "nonsense", ok=False).exit_code == 2


def test_init_puts_the_shim_folder_first_on_path_once(on_path: Path) -> None:
    folder = shim_dir(Path(os.environ["TETHER_HOME"]))
    lines = run("init", "bash").output
    script = 'eval "$1"; eval "$1"; printf %s "$PATH"'
    path = subprocess.run(
        ["bash", "-c", script, "bash", lines], capture_output=True, text=True, check=True
    ).stdout
    assert path.split(os.pathsep)[0] == str(folder)
    assert path.split(os.pathsep).count(str(folder)) == 1
    # zsh: the same lines, and its own completion script
    assert run("init", "zsh").output == lines.replace("completion.bash", "completion.zsh")
    fish = run("init", "fish").output
    assert f"set -gx PATH '{folder}' $PATH" in fish and "contains" in fish


def test_status_and_reset_in_a_project(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tether.autoresume.plan import plan

    root = tmp_path / "p"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    monkeypatch.chdir(root)
    env = {"HOME": str(isolated_home)}
    session_id = plan("claude", [], env, str(root), 1.0).args[1]
    transcript = isolated_home / ".claude" / "projects" / claude_folder(str(root))
    transcript.mkdir(parents=True)
    shutil.copy(
        FIXTURES / "claude" / "agentsessions_small.jsonl", transcript / f"{session_id}.jsonl"
    )
    report = json.loads(run("status", "--json").output)
    assert report["project"] == str(root) and report["headless"] is False
    rows = {row["tool"]: row for row in report["tools"]}
    assert rows["claude"]["action"] == "resume"
    assert rows["claude"]["command"] == ["claude", "--resume", session_id]
    assert rows["codex"]["action"] == "new" and rows["codex"]["command"] == ["codex"]
    assert "resumes: claude --resume" in run("status").output

    Path(state_path(str(root), "gemini")).write_text("{broken")
    report = json.loads(run("status", "--json").output)
    assert {row["tool"]: row for row in report["tools"]}["gemini"]["action"] == "as-typed"

    out = run("reset", "claude", "gemini").output
    assert f"was {session_id}" in out
    assert plan("claude", [], env, str(root), 2.0).args[0] == "--session-id"
    assert json.loads(Path(state_path(str(root), "gemini")).read_text())["session_id"] is None
    assert "no session recorded" in run("reset", "copilot").output


def test_a_shim_an_earlier_tether_installed_still_resumes(bed: Bed) -> None:
    """Shims are not rewritten by an upgrade: the one tether 0.1.0 wrote, which runs
    `from tether.shim import main`, still starts and resumes the project's session."""
    template = (FIXTURES / "shims" / "tether-0.1.0-f9a81fa-claude.sh").read_text()
    parent = str(shims.package_parent())
    old = template.replace("@SHIM_DIR@", str(bed.shim_dir)).replace("@PARENT@", parent)
    old = old.replace("@PYTHON@", sys.executable)
    assert "@" not in old.replace("$@", "")
    (bed.shim_dir / "claude").write_text(old)
    done, _, (folder, *argv) = bed.launch("claude", "hello")
    assert (folder, argv[0], argv[2:]) == (str(bed.root), "--session-id", ["hello"])
    session = bed.home / ".claude" / "projects" / claude_folder(str(bed.root))
    session.mkdir(parents=True)
    shutil.copy(FIXTURES / "claude" / "agentsessions_small.jsonl", session / f"{argv[1]}.jsonl")
    done, _, (folder, *again) = bed.launch("claude", "go on")
    assert again == ["--resume", argv[1], "go on"] and done.returncode == 0


def test_init_rewrites_the_shims_an_earlier_tether_installed(bed: Bed) -> None:
    template = (FIXTURES / "shims" / "tether-0.1.0-f9a81fa-claude.sh").read_text()
    old = template.replace("@SHIM_DIR@", str(bed.shim_dir))
    old = old.replace("@PARENT@", str(shims.package_parent())).replace("@PYTHON@", sys.executable)
    (bed.shim_dir / "claude").write_text(old)
    assert launch.is_stale(str(bed.shim_dir / "claude"))
    result = run("init", "bash")
    assert result.stdout.startswith("case ") and "rewrote" in result.stderr
    assert not launch.is_stale(str(bed.shim_dir / "claude"))
    assert "rewrote" not in run("init", "bash").stderr  # once
