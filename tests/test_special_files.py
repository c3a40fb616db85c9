"""Files tether did not write cannot hang it: a FIFO, a link to /dev/zero, a link to a folder
or a socket where a session file (or a file beside one) is expected is left out and reported,
and the sessions beside it are captured. Every CLI run here has a deadline, so a regression
fails instead of hanging the suite."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from tests.conftest import FIXTURES
from tests.stores import CLAUDE_ID, place_claude
from tests.test_all_tools import lay_out_every_tool
from tether.files import NotRegularFile, open_regular, read_head, read_regular
from tether.tools.database import Unreadable, open_readonly
from tether.tools.registry import TOOLS

DEADLINE = 30


def tether(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own, killed (and the test failed) after DEADLINE s."""
    return subprocess.run(
        [sys.executable, "-m", "tether", *args],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env=os.environ.copy(),
        check=False,
    )


@contextmanager
def unix_socket(path: Path) -> Iterator[None]:
    """A listening socket at path (bound from its folder: socket paths are short)."""
    here = Path.cwd()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.chdir(path.parent)
        sock.bind(path.name)
        os.chdir(here)
        yield
    finally:
        os.chdir(here)
        sock.close()


def plant_specials(folder: Path, suffix: str) -> list[Path]:
    """A FIFO, a link to /dev/zero and a link to a folder named like session files."""
    fifo, zero, linked = (folder / f"{name}{suffix}" for name in ("fifo", "zero", "folder"))
    os.mkfifo(fifo)
    zero.symlink_to("/dev/zero")
    target = folder.parent / "a-folder"
    target.mkdir(exist_ok=True)
    linked.symlink_to(target)
    return [fifo, zero, linked]


def test_the_helper_opens_regular_files_only(tmp_path: Path) -> None:
    regular = tmp_path / "ok.json"
    regular.write_bytes(b"{}")
    link = tmp_path / "link.json"
    link.symlink_to(regular)
    assert read_regular(link, 10) == b"{}"
    for special in plant_specials(tmp_path, ".json"):
        with pytest.raises(NotRegularFile):
            open_regular(special)
        with pytest.raises(OSError, match="not a regular file"):
            read_head(special, 10)
    with pytest.raises(OSError, match="larger than 1 bytes"):
        read_regular(regular, 1)


def test_special_files_in_a_store_are_reported_and_cost_no_session(
    isolated_home: Path,
) -> None:
    good = place_claude(isolated_home)
    specials = plant_specials(good.parent, ".jsonl")
    with unix_socket(good.parent / "socket.jsonl"):
        scanned = tether("scan")
        assert scanned.returncode == 1
        assert "4 file(s) unreadable" in scanned.stderr
        assert "not a regular file" in scanned.stderr
        listed = tether("list", "--json")  # scans again: the special files are not retried
        assert listed.returncode == 0, listed.stderr
        assert [row["native_id"] for row in orjson.loads(listed.stdout)] == [CLAUDE_ID]
        shown = tether("show", CLAUDE_ID, "--json")
        assert shown.returncode == 0 and orjson.loads(shown.stdout)["messages"]
        doctor = orjson.loads(tether("doctor", "--json").stdout)
    errors = {Path(p["path"]).name: p.get("error", "") for p in doctor["problems"]}
    assert errors == {
        "fifo.jsonl": "not a regular file but a FIFO",
        "zero.jsonl": "not a regular file but a device",
        "folder.jsonl": "not a regular file but a folder",
        "socket.jsonl": "not a regular file but a socket",
    }
    assert len(specials) == 3


def test_special_files_in_an_import_are_reported_and_cost_no_session(
    isolated_home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "backup"
    folder.mkdir()
    good = folder / f"{CLAUDE_ID}.jsonl"
    good.write_bytes((FIXTURES / "claude" / "real_entire_dc_49cb8a2a42_0.jsonl").read_bytes())
    fifo, zero, _ = plant_specials(folder, ".jsonl")
    with unix_socket(folder / "socket.jsonl"):
        imported = tether("import", str(folder), "--json")
    assert imported.returncode == 1
    result = orjson.loads(imported.stdout)
    assert [s["native_id"] for s in result["sessions"]] == [CLAUDE_ID]
    failed = {Path(p["path"]).name: p["message"] for p in result["failed"]}
    assert failed == {
        "fifo.jsonl": "not a regular file but a FIFO",
        "zero.jsonl": "not a regular file but a device",
        "socket.jsonl": "not a regular file but a socket",
    }  # the link to a folder is a folder of the walk, not followed (no loops)
    for special in (fifo, zero):
        alone = tether("import", str(special))
        assert alone.returncode == 1 and "not a regular file" in alone.stderr
    assert tether("list", "--json").returncode == 0


def test_special_side_files_cost_no_session(isolated_home: Path) -> None:
    """The small files beside a session that readers open (a project's registry, a
    workspace file, a task's metadata, a sub-agent's meta) as FIFOs: every session is
    still captured, without them."""
    lay_out_every_tool(isolated_home)
    agents = isolated_home / ".claude" / "projects" / "-sub"
    agents.mkdir()
    sample = FIXTURES / "claude" / "agentsessions_subagent"
    (agents / sample.name).symlink_to(sample, target_is_directory=True)
    gemini = isolated_home / ".gemini"
    copilot = next((isolated_home / ".copilot" / "session-state").glob("*/workspace.yaml"))
    storage = isolated_home / ".config" / "Code" / "User" / "globalStorage"
    sides = [
        gemini / "projects.json",
        gemini / "tmp" / "myproj" / ".project_root",
        copilot,
        *(storage / "saoudrizwan.claude-dev" / "tasks").glob("*/ui_messages.json"),
        *(storage / "saoudrizwan.claude-dev" / "tasks").glob("*/task_metadata.json"),
    ]
    for side in sides:
        side.unlink(missing_ok=True)
        os.mkfifo(side)
    scanned = tether("scan", "--json")
    assert scanned.returncode in (0, 1), scanned.stderr
    listed = orjson.loads(tether("list", "--json", "--limit", "1000").stdout)
    assert {row["tool"] for row in listed} == set(TOOLS)


def test_a_special_database_is_not_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "opencode.db"
    os.mkfifo(fifo)
    with pytest.raises(Unreadable, match="not a regular file but a FIFO"):
        open_readonly(fifo)
    real = tmp_path / "real.db"
    real.write_bytes((FIXTURES / "opencode" / "opencode-1.18.33.db").read_bytes())
    for suffix in ("-wal", "-shm"):  # a live database's files as FIFOs: read without them
        os.mkfifo(tmp_path / f"real.db{suffix}")
    db = open_readonly(real)
    try:
        assert db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] > 0
    finally:
        db.close()


def test_a_fifo_where_any_tool_keeps_a_session_is_reported(isolated_home: Path) -> None:
    """Every tool: one file its discovery finds (a session file, a database, a task's
    conversation) made a FIFO. Each is reported by the scan and by doctor, and the other
    tools' sessions are captured."""
    lay_out_every_tool(isolated_home)
    assert tether("scan").returncode in (0, 1)  # aider's project becomes known
    env = dict(os.environ)
    fifos = {}
    for name, tool in TOOLS.items():
        paths = sorted(
            {s.path for r in tool.store_roots(env, isolated_home) for s in tool.discover(r)}
        )
        fifos[name] = paths[0]
        paths[0].unlink()
        os.mkfifo(paths[0])
    scanned = tether("scan")
    assert scanned.returncode == 1 and f"{len(TOOLS)} file(s) unreadable" in scanned.stderr
    doctor = orjson.loads(tether("doctor", "--json").stdout)
    errors = {p["path"]: p.get("error") for p in doctor["problems"]}
    for name, path in fifos.items():
        assert errors.get(str(path)) == "not a regular file but a FIFO", name
