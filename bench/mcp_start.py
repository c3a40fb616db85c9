"""How soon `tether mcp serve` answers: process start to the reply to `initialize`, to the
reply to `tools/list`, and to the reply to the first `tools/call` (a search), as a coding
tool that starts the server meets them, with the CPU the server used to get there.

`python bench/mcp_start.py [--runs 15] [--tether CMD] [--json OUT]`

Each run starts the server over stdio (the way Copilot, Claude Code, … start it) in a fresh
HOME whose archive holds one imported session, writes `initialize`, then
`notifications/initialized` and `tools/list` once `initialize` is answered, then one
`search_sessions` call; it times each reply from the moment the process was spawned, and
reads the server's CPU time (user + system, /proc/PID/stat) when each reply arrives: wall
time swings with the machine's load, CPU time much less. Medians of --runs, after one
warm-up run (the page cache). Linux only (/proc).

The floor: the same interpreter importing the MCP SDK's server and nothing else, timed to
the moment it says so, as the replies are: what no change to tether can take away. The
difference is tether's own start-up (click, its command, its tools' types, the schemas the
SDK builds from them) and the SDK's stdio loop.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")
STEPS = ("initialize", "tools/list", "first tools/call")
WORD = "quokkabench"


def tether() -> list[str]:
    launcher = ROOT / ".venv" / "bin" / "tether"
    return [str(launcher)] if launcher.exists() else [sys.executable, "-m", "tether"]


def cpu_ms(pid: int) -> float:
    """The process's user + system time so far, in ms."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / TICK


def prepared(base: Path, argv: list[str]) -> dict[str, str]:
    """A HOME and TETHER_HOME whose archive holds one session that says WORD."""
    env = {"HOME": str(base / "home"), "TETHER_HOME": str(base / "tether"),
           "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}  # fmt: skip
    (base / "home").mkdir(parents=True)
    doc = {
        "format": "tether.session",
        "version": 1,
        "session": {"tool": "codex", "native_id": "019a0000-0000-7000-8000-0000000be7c4",
                    "project": "/srv/bench", "title": "bench"},
        "messages": [{"role": "user", "timestamp": "2026-11-01T10:00:00Z",
                      "parts": [{"type": "text", "text": f"say {WORD}"}]}],
    }  # fmt: skip
    session = base / "session.json"
    session.write_text(json.dumps(doc))
    subprocess.run([*argv, "import", str(session)], env=env, check=True, capture_output=True)
    return env


def send(pipe: IO[bytes], message: dict[str, Any]) -> None:
    pipe.write(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")
    pipe.flush()


def reply(pipe: IO[bytes], ident: int) -> dict[str, Any]:
    while True:
        line = pipe.readline()
        if not line:
            raise RuntimeError("the server closed stdout")
        message: dict[str, Any] = json.loads(line)
        if message.get("id") == ident:
            return message


def floor_run(python: str) -> tuple[float, float]:
    """(ms since spawn, CPU ms) when a process that imports the MCP SDK's server says it is
    ready: timed as the server's replies are."""
    ready = "import mcp.server.mcpserver, sys; print(flush=True); sys.stdin.read()"
    start = time.perf_counter()
    proc = subprocess.Popen([python, "-c", ready], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        if not proc.stdout.readline():
            raise RuntimeError(f"{python} cannot import the MCP SDK")
        return (time.perf_counter() - start) * 1000, cpu_ms(proc.pid)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def one_run(argv: list[str], env: dict[str, str], cwd: Path) -> list[tuple[float, float]]:
    """(ms since spawn, server CPU ms) at each reply of STEPS."""
    start = time.perf_counter()
    proc = subprocess.Popen([*argv, "mcp", "serve"], env=env, cwd=cwd, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    marks: list[tuple[float, float]] = []

    def mark() -> None:
        marks.append(((time.perf_counter() - start) * 1000, cpu_ms(proc.pid)))

    try:
        send(proc.stdin, {"id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "bench", "version": "0"}}})  # fmt: skip
        reply(proc.stdout, 1)
        mark()
        send(proc.stdin, {"method": "notifications/initialized"})
        send(proc.stdin, {"id": 2, "method": "tools/list"})
        listed = reply(proc.stdout, 2)
        mark()
        assert len(listed["result"]["tools"]) == 5, listed
        send(proc.stdin, {"id": 3, "method": "tools/call", "params": {
            "name": "search_sessions", "arguments": {"query": WORD}}})  # fmt: skip
        found = reply(proc.stdout, 3)
        mark()
        assert WORD in json.dumps(found), found
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    return marks


def main(args: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--tether", help="the tether command (default: .venv/bin/tether)")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter of the floor (default: this one)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the figures here too")
    options = parser.parse_args(args)
    argv = shlex.split(options.tether) if options.tether else tether()
    with tempfile.TemporaryDirectory(prefix="tether-mcp-bench-") as tmp:
        env = prepared(Path(tmp), argv)
        one_run(argv, env, Path(tmp))
        floor_run(options.python)
        runs, floors = [], []
        for _ in range(options.runs):  # interleaved: both meet the same load
            runs.append(one_run(argv, env, Path(tmp)))
            floors.append(floor_run(options.python))
    figures = {
        step: {
            "wall_ms": statistics.median(run[i][0] for run in runs),
            "cpu_ms": statistics.median(run[i][1] for run in runs),
            "wall_max_ms": max(run[i][0] for run in runs),
        }
        for i, step in enumerate(STEPS)
    }
    figures["floor: import the SDK"] = {
        "wall_ms": statistics.median(wall for wall, _ in floors),
        "cpu_ms": statistics.median(cpu for _, cpu in floors),
        "wall_max_ms": max(wall for wall, _ in floors),
    }
    load = os.getloadavg()[0]
    print(f"tether mcp serve, median of {options.runs} runs (load {load:.2f}): {' '.join(argv)}")
    print(f"{'reply to':<24}{'wall ms':>10}{'max ms':>10}{'cpu ms':>10}")
    for step, figure in figures.items():
        print(f"{step:<24}{figure['wall_ms']:>10.0f}{figure['wall_max_ms']:>10.0f}"
              f"{figure['cpu_ms']:>10.0f}")  # fmt: skip
    if options.json:
        options.json.write_text(json.dumps({"load": load, "figures": figures}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
