"""What an auto-resume shim adds to a launch, next to a bare interpreter start.

Times, process start to exit, a stand-in for the real tool (a copy of /bin/true named
claude or codex) run directly and through tether's installed shim, and the floor: `python
-I -S -c pass` with the python the shims run. The target: the shim adds at most one floor,
whatever the size of the tool's history. Codex is timed with a small history and with a
large one (`--history-mb` of rollouts, real bytes), on the usual path (the session's file
is known) and on the pick-up path (its id is read from the rollout the launch started);
opencode, which names its sessions too, on both paths (its id read from its database).

A launch that resumes a known session with arguments the tool takes as they are (none, a
prompt, a model) takes the shim's /bin/sh fast path (no python; tether.autoresume.fastfile);
every other launch (a new session, the user's own session choice, a headless run), python's.
Figures say which path they time; the exit status is 1 when a fast-path figure misses the
target.

    .venv/bin/python bench/shim.py [--runs 40] [--history-mb 200] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from subprocess import DEVNULL

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from tether import statefile  # noqa: E402 - src/ must be on the path
from tether.autoresume import plan as autoresume  # noqa: E402
from tether.autoresume import shims  # noqa: E402
from tether.tools.facts.claude import folder_name as claude_folder  # noqa: E402

ROLLOUT_LINE = 4096  # bytes of each JSONL line in the generated history


class Bench:
    """A HOME, a git project, fake tools, installed shims; one env per kind of launch."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.home = work / "home"
        self.root = work / "project"
        (self.root / ".git").mkdir(parents=True)
        (self.root / "src").mkdir()
        self.bin = work / "bin"
        self.bin.mkdir()
        for tool in ("claude", "codex", "opencode"):
            shutil.copy("/bin/true", self.bin / tool)
        self.shim_dir = work / "tether" / "shims"
        shims.install(["claude", "codex", "opencode"], self.shim_dir)
        path = os.pathsep.join([str(self.shim_dir), str(self.bin), "/usr/bin", "/bin"])
        self.env = {"HOME": str(self.home), "PATH": path, "LANG": "C.UTF-8"}

    def claude_session(self) -> None:
        """A recorded claude session whose file exists: launches resume it."""
        session_id = str(uuid.uuid4())
        folder = self.home / ".claude" / "projects" / claude_folder(str(self.root))
        folder.mkdir(parents=True)
        (folder / f"{session_id}.jsonl").write_text("{}\n")
        self.write_state("claude", session_id, str(folder / f"{session_id}.jsonl"), None)

    def write_state(
        self, tool: str, session_id: str | None, path: str | None, launched: float | None
    ) -> None:
        state = {
            "version": autoresume.STATE_VERSION,
            "tool": tool,
            "session_id": session_id,
            "session_file": path,
            "cwd": str(self.root),
            "launched_at": launched,
            "headless": False,
            "origin": "tether",
        }
        statefile.write_json(autoresume.state_path(str(self.root), tool), state)


OPENCODE_DB = REPO / "tests" / "fixtures" / "opencode" / "opencode-1.18.33.db"
"""A real opencode database (one session): the opencode launches pick a session up from it."""


def opencode_session(bench: Bench, began: float) -> tuple[str, str]:
    """opencode's database with its session begun at `began` in the bench's project."""
    folder = bench.home / ".local" / "share" / "opencode"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "opencode.db"
    shutil.copyfile(OPENCODE_DB, path)
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "UPDATE session SET directory = ?, time_created = ?",
            (str(bench.root), int(began * 1000)),
        )
    [(native_id,)] = db.execute("SELECT id FROM session").fetchall()
    db.close()
    return str(native_id), str(path)


def codex_history(home: Path, megabytes: int, root: Path) -> int:
    """Rollouts over the 400 days before today, `megabytes` in all; how many."""
    sessions = home / ".codex" / "sessions"
    per_file = 64 * ROLLOUT_LINE
    count = max(1, megabytes * 1024 * 1024 // per_file)
    now = time.time()
    body = json.dumps({"type": "event_msg", "payload": {"message": "x" * ROLLOUT_LINE}}) + "\n"
    for n in range(count):
        started = now - 86400 * (1 + n * 400 // count) - n
        rollout(sessions, started, root, str(uuid.uuid4()), body * 63)
    return count


def rollout(sessions: Path, started: float, cwd: Path, session_id: str, body: str = "") -> Path:
    local = time.localtime(started)
    folder = sessions / time.strftime("%Y/%m/%d", local)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (time.strftime("rollout-%Y-%m-%dT%H-%M-%S", local) + f"-{session_id}.jsonl")
    meta = {"id": session_id, "cwd": str(cwd), "source": "cli", "originator": "codex_cli_rs"}
    path.write_text(json.dumps({"type": "session_meta", "payload": meta}) + "\n" + body)
    return path


def timed(argv: list[str], env: dict[str, str], cwd: Path, before: Callable[[], None]) -> float:
    before()
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=DEVNULL, stderr=DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="timed runs per figure (40)")
    parser.add_argument("--history-mb", type=int, default=200, help="large codex history (200)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tether-bench-shim-") as scratch:
        bench, fresh = Bench(Path(scratch) / "claude"), Bench(Path(scratch) / "fresh")
        small, large = Bench(Path(scratch) / "small"), Bench(Path(scratch) / "large")
        started = time.perf_counter()
        files = codex_history(large.home, args.history_mb, large.root)
        print(
            f"large codex history: {files} rollouts, {args.history_mb} MB, made in "
            f"{time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        codex_history(small.home, 1, small.root)
        bench.claude_session()

        def codex_known(each: Bench) -> Callable[[], None]:
            session_id = str(uuid.uuid4())
            path = rollout(each.home / ".codex" / "sessions", time.time(), each.root, session_id)
            each.write_state("codex", session_id, str(path), None)
            return lambda: None

        def codex_pending(each: Bench) -> Callable[[], None]:
            """Each run: the state says 'launched a minute ago', the launch's rollout is there."""
            launched = time.time() - 60
            rollout(each.home / ".codex" / "sessions", launched + 5, each.root, str(uuid.uuid4()))
            return lambda: each.write_state("codex", None, None, launched)

        def opencode_known(each: Bench) -> Callable[[], None]:
            native_id, path = opencode_session(each, time.time())
            each.write_state("opencode", native_id, path, None)
            return lambda: None

        def opencode_pending(each: Bench) -> Callable[[], None]:
            """Each run: 'launched a minute ago', the session it began is in the database."""
            launched = time.time() - 60
            opencode_session(each, launched + 5)
            return lambda: each.write_state("opencode", None, None, launched)

        python = sys.executable

        def nothing() -> None:
            return None

        cases: list[tuple[str, list[str], Bench, Callable[[], None]]] = [
            ("floor: python -I -S -c pass", [python, "-I", "-S", "-c", "pass"], bench, nothing),
            ("claude, run directly", [str(bench.bin / "claude")], bench, nothing),
            ("claude via shim: resume [sh]", ["claude"], bench, nothing),
            ("claude via shim: resume + args [sh]", ["claude", "--model", "x"], bench, nothing),
            ("claude via shim: headless -p [py]", ["claude", "-p", "hi"], bench, nothing),
            ("claude via shim: own flag (-c) [py]", ["claude", "-c"], bench, nothing),
            ("claude via shim: new session [py]", ["claude"], fresh, lambda: _forget(fresh)),
            ("codex, run directly", [str(small.bin / "codex")], small, nothing),
            ("codex via shim: resume, small history [sh]", ["codex"], small, codex_known(small)),
            ("codex via shim: resume, large history [sh]", ["codex"], large, codex_known(large)),
            ("codex via shim: resume + args, large [sh]", ["codex", "hi"], large, nothing),
        ]
        picks = [
            ("codex via shim: pick-up, small history [py]", small),
            ("codex via shim: pick-up, large history [py]", large),
        ]
        for name, each in picks:
            cases.append((name, ["codex"], each, codex_pending(each)))
        opencode_fresh = Bench(Path(scratch) / "opencode")
        cases += [
            ("opencode, run directly", [str(bench.bin / "opencode")], bench, nothing),
            ("opencode via shim: resume [sh]", ["opencode"], bench, opencode_known(bench)),
            (
                "opencode via shim: pick-up from its database [py]",
                ["opencode"],
                opencode_fresh,
                opencode_pending(opencode_fresh),
            ),
        ]

        samples: dict[str, list[float]] = {name: [] for name, *_ in cases}
        for _name, command, each, before in cases:  # one untimed warm-up run each
            timed(command, each.env, each.root / "src", before)
        for _ in range(args.runs):  # interleaved, so that load on the machine hits all alike
            for name, command, each, before in cases:
                samples[name].append(timed(command, each.env, each.root / "src", before))
        if "codex via shim: pick-up, large history [py]" in samples:
            _check_picked_up(large)
        _check_fast(bench, "claude")

    figures = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    floor = figures["floor: python -I -S -c pass"]
    print(report(figures, floor, args.runs, args.history_mb))
    if args.json:
        args.json.write_text(json.dumps({"runs": args.runs, "ms": figures}, indent=2))
    over = [name for name in figures if name.endswith("[sh]") and _added(name, figures) > floor]
    return 1 if over else 0


def _forget(bench: Bench) -> None:
    Path(autoresume.state_path(str(bench.root), "claude")).unlink(missing_ok=True)


def _check_fast(bench: Bench, tool: str) -> None:
    """The [sh] figures timed the sh path: the same launch through a copy of the shim whose
    python is gone still resumes, without a word about python."""
    folder = bench.work / "no-python-shims"
    shims.install([tool], folder, python="/nonexistent/python")
    # what python decided lives beside the shims (tether.autoresume.fastfile): take it along
    shutil.copytree(bench.shim_dir / ".fast", folder / ".fast", dirs_exist_ok=True)
    env = {**bench.env, "PATH": bench.env["PATH"].replace(str(bench.shim_dir), str(folder))}
    done = subprocess.run(
        [tool], env=env, cwd=bench.root / "src", capture_output=True, text=True, check=True
    )
    if "is gone" in done.stderr or "resuming session" not in done.stderr:
        raise SystemExit(f"the plain {tool} launch did not take the sh path: {done.stderr}")


def _check_picked_up(large: Bench) -> None:
    state = json.loads(Path(autoresume.state_path(str(large.root), "codex")).read_text())
    if not state["session_id"]:
        raise SystemExit("the pick-up path did not find the launch's rollout")


def _added(name: str, figures: dict[str, float]) -> float:
    tool = name.split(" ", 1)[0].rstrip(",")
    return figures[name] - figures[f"{tool}, run directly"]


def report(figures: dict[str, float], floor: float, runs: int, history_mb: int) -> str:
    lines = [
        f"median of {runs} runs each, process start to exit (large history: {history_mb} MB)",
        f"{'launch':44} {'ms':>7} {'added':>7} {'÷ floor':>8}",
    ]
    for name, value in figures.items():
        if "via shim" in name:
            added = _added(name, figures)
            verdict = "ok" if added <= floor else "OVER"
            lines.append(f"{name:44} {value:7.1f} {added:7.1f} {added / floor:8.2f}  {verdict}")
        else:
            lines.append(f"{name:44} {value:7.1f}")
    lines.append("target: added ≤ 1.00 floor (one bare interpreter start), flat in history size")
    lines.append(
        "[sh]: the shim's /bin/sh fast path; [py]: through python (tether.autoresume.launcher)"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
