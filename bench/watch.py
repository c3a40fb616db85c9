"""The watcher's figures: how soon an appended message is searchable, and what it costs idle.

`python bench/watch.py [--scale 1] [--appends 100] [--idle 5]`: copies the benchmark corpus
(generated if missing) to a temp HOME, captures it once with `tether scan`, starts
`tether watch` as a subprocess, then appends lines to random Claude Code and Codex files the
way the tools do (one at a time, and in bursts), and makes new session files, and polls the
archive (an FTS5 query, as `tether search` runs it) until each line's unique word is found.
Idle CPU is the watcher's own CPU time (/proc) over a few quiet seconds. Exit status 1 when
a figure misses its target.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import OUT, ensure_corpus, run, tether_argv, tether_env  # noqa: E402

LATENCY_TARGET_MS = 1000.0
IDLE_CPU_TARGET = 0.5
"""Percent of one core, averaged over the idle window."""
POLL = 0.002


def claude_line(path: Path, word: str) -> bytes:
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - (1 << 20)))
        last = orjson.loads(fh.read().splitlines()[-1])
    record = {
        **last,
        "type": "user",
        "uuid": str(uuid.uuid4()),
        "parentUuid": last.get("uuid"),
        "message": {"role": "user", "content": f"watch bench {word}"},
        "timestamp": "2027-01-01T00:00:00.000Z",
    }
    return orjson.dumps(record) + b"\n"


def codex_line(word: str) -> bytes:
    record = {
        "timestamp": "2027-01-01T00:00:00.000Z",
        "type": "response_item",
        "payload": {
            "type": "message",
            "id": f"msg_{word}",
            "role": "user",
            "content": [{"type": "input_text", "text": f"watch bench {word}"}],
        },
    }
    return orjson.dumps(record) + b"\n"


def line_for(path: Path, word: str) -> bytes:
    return claude_line(path, word) if ".claude" in path.parts else codex_line(word)


class Archive:
    """The bench's own read-only view of the archive: is a word searchable yet?"""

    def __init__(self, db_file: Path) -> None:
        import sqlite3

        self.db = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, isolation_level=None)

    def finds(self, word: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM parts_fts WHERE parts_fts MATCH ? LIMIT 1", (f'"{word}"',)
        ).fetchone()
        return row is not None


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wakeups(pid: int) -> int:
    """Context switches of every thread of the process: how often it woke up."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            sys.exit(f"bench: {what} did not happen within {timeout:.0f} s")
        time.sleep(0.02)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure_latency(
    files: list[Path], archive: Archive, appends: int, rng: random.Random
) -> list[float]:
    latencies: list[float] = []
    while len(latencies) < appends:
        burst = 5 if rng.random() < 0.2 else 1  # a tool streaming several records at once
        path = rng.choice(files)
        written: list[tuple[str, float]] = []
        for _ in range(burst):
            word = f"wb{uuid.uuid4().hex[:12]}"
            data = line_for(path, word)
            with path.open("ab") as fh:
                fh.write(data)
            written.append((word, time.perf_counter()))
            time.sleep(rng.uniform(0, 0.005))
        for word, at in written:
            end = time.monotonic() + 10
            while not archive.finds(word):
                if time.monotonic() > end:
                    sys.exit(f"bench: {word} never became searchable")
                time.sleep(POLL)
            latencies.append((time.perf_counter() - at) * 1000)
        time.sleep(rng.uniform(0.05, 0.3))
    return latencies[:appends]


def measure_new_sessions(
    files: list[Path], archive: Archive, count: int, rng: random.Random
) -> list[float]:
    """A new Claude Code session file each time: its store is listed again, not just read."""
    claude = [f for f in files if ".claude" in f.parts]
    latencies: list[float] = []
    for _ in range(count):
        word = f"wn{uuid.uuid4().hex[:12]}"
        sibling = rng.choice(claude)
        sid = str(uuid.uuid4())
        last = orjson.loads(claude_line(sibling, word))
        data = orjson.dumps({**last, "sessionId": sid, "parentUuid": None}) + b"\n"
        (sibling.parent / f"{sid}.jsonl").write_bytes(data)
        at = time.perf_counter()
        end = time.monotonic() + 10
        while not archive.finds(word):
            if time.monotonic() > end:
                sys.exit(f"bench: the new session {sid} never became searchable")
            time.sleep(POLL)
        latencies.append((time.perf_counter() - at) * 1000)
        time.sleep(rng.uniform(0.05, 0.3))
    return latencies


def capture_times(log: Path) -> list[float]:
    out = []
    for line in log.read_text().splitlines():
        if " captured: " in line and line.endswith(" ms"):
            out.append(float(line.rsplit(" ", 2)[-2]))
    return out


def row(metric: str, value: str, target: str = "", ok: bool | None = None) -> str:
    mark = "" if ok is None else ("ok" if ok else "NO")
    return f"{metric:<44} | {value:>12} | {target:<20} | {mark}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--corpus", type=Path, help="default bench/out/corpus-<scale>")
    parser.add_argument("--appends", type=int, default=100)
    parser.add_argument("--new-sessions", type=int, default=20)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle to measure")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--tether", help="command that runs tether (default .venv/bin/tether)")
    args = parser.parse_args(argv)
    if not Path("/proc/self/stat").exists():
        sys.exit("bench/watch.py reads CPU time from /proc: Linux only")
    corpus = args.corpus or OUT / f"corpus-{args.scale:g}"
    manifest = ensure_corpus(corpus, ["--scale", str(args.scale)])
    tether = tether_argv(args.tether)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="tether-watch-bench-") as tmp:
        work = Path(tmp)
        home = work / "home"
        shutil.copytree(corpus / manifest["home"], home)  # appended to: never the corpus itself
        data = work / "data"
        env = tether_env(home, data)
        first = run([*tether, "scan", "--quiet"], env=env)
        if not first.ok:
            sys.exit(f"bench: the first scan failed: {first.failure()}")
        files = sorted(home.glob(".claude/projects/*/*.jsonl")) + sorted(
            home.glob(".codex/sessions/*/*/*/*.jsonl")
        )
        log = data / "watch.log"
        started = time.perf_counter()
        watcher = subprocess.Popen(
            [*tether, "watch", "--log-file", str(log)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for(lambda: log.exists() and "full scan:" in log.read_text(), 120, "start-up")
            ready = time.perf_counter() - started
            archive = Archive(data / "tether.db")
            cpu_before = cpu_seconds(watcher.pid)
            busy_started = time.perf_counter()
            latencies = measure_latency(files, archive, args.appends, rng)
            created = measure_new_sessions(files, archive, args.new_sessions, rng)
            busy_wall = time.perf_counter() - busy_started
            busy_cpu = cpu_seconds(watcher.pid) - cpu_before
            time.sleep(1.0)  # let the last tick finish
            idle_cpu0, idle_wake0 = cpu_seconds(watcher.pid), wakeups(watcher.pid)
            idle_t0 = time.perf_counter()
            time.sleep(args.idle)
            idle_wall = time.perf_counter() - idle_t0
            idle_cpu = (cpu_seconds(watcher.pid) - idle_cpu0) / idle_wall * 100
            idle_wakes = (wakeups(watcher.pid) - idle_wake0) / idle_wall
        finally:
            watcher.send_signal(signal.SIGTERM)
            code = watcher.wait(30)
        ticks = capture_times(log)
    p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    lines = [
        f"corpus: {manifest['files']} files, {manifest['bytes'] / 1e6:.1f} MB; "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
        "",
        row("metric", "tether", "target"),
        "-" * 44 + "-+-" + "-" * 12 + "-+-" + "-" * 20 + "-+-----",
        row("first full scan (before the watcher)", f"{first.seconds:.2f} s"),
        row("watcher ready (its start-up scan)", f"{ready * 1000:.0f} ms"),
        row(f"append -> searchable, p50 ({len(latencies)} lines)", f"{p50:.0f} ms"),
        row(
            "append -> searchable, p95",
            f"{p95:.0f} ms",
            f"≤ {LATENCY_TARGET_MS:.0f} ms",
            p95 <= LATENCY_TARGET_MS,
        ),
        row("append -> searchable, max", f"{max(latencies):.0f} ms"),
        row(
            f"new session file -> searchable, p95 ({len(created)})",
            f"{percentile(created, 0.95):.0f} ms",
            f"≤ {LATENCY_TARGET_MS:.0f} ms",
            percentile(created, 0.95) <= LATENCY_TARGET_MS,
        ),
        row("capture per tick, median (from its log)", f"{statistics.median(ticks):.0f} ms"),
        row("capture per tick, max", f"{max(ticks):.0f} ms"),
        row("watcher CPU while appending", f"{busy_cpu / busy_wall * 100:.1f} %"),
        row(
            f"watcher CPU idle ({args.idle:.0f} s)",
            f"{idle_cpu:.2f} %",
            f"≤ {IDLE_CPU_TARGET} % of a core",
            idle_cpu <= IDLE_CPU_TARGET,
        ),
        row("watcher wake-ups idle (all threads)", f"{idle_wakes:.1f} /s"),
        row("watcher exit on SIGTERM", f"code {code}", "0", code == 0),
    ]
    print("\n".join(lines))
    slow = max(p95, percentile(created, 0.95)) > LATENCY_TARGET_MS
    failed = slow or idle_cpu > IDLE_CPU_TARGET or code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
