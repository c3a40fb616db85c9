"""Issue 14's figures, at 1x and 10x the bench corpus in one run, each beside its floor.

`python bench/fast.py [--scales 1 10] [--runs 15] [--out FILE]`: for each scale, a copy of
the corpus (generated if missing; the copy is written to, never the corpus) is captured by a
first full scan (beside bench/floor.py: reading and JSON-parsing the same bytes), the
archive's size is taken per table, and then, against a bare interpreter start (`python -c
pass` in the same venv):
- `list`, `search`, `show` end to end and fresh: before each run a line with a new word is
  appended to a session file, as a tool appends a message, and the answer must hold it;
  without a watcher (tether.capture.fresh's quick check), then beside a live `tether watch`;
- `--help` and `--version`;
- a search for the corpus's common word (in every session), not fresh: no goal, a figure
  that grows with history, given in the README beside the rest;
- the watcher: append to searchable (p95), its idle CPU and its peak memory.
The table goes to stdout and to --out (default bench/results/<date>-fast.txt).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import (  # noqa: E402
    OUT,
    Run,
    compile_bytecode,
    ensure_corpus,
    run,
    tether_argv,
    tether_env,
    warm,
)
from watch import Archive, claude_line, cpu_seconds, measure_latency, percentile  # noqa: E402

ANSWER_FACTOR = 3.0
HELP_FACTOR = 4.0
SCAN_FACTOR = 1.5
SIZE_FACTOR = 0.6
WATCH_P95_MS = 1000.0
IDLE_CPU_PERCENT = 0.5


class Table:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.failed: list[str] = []

    def head(self, text: str) -> None:
        self.lines += ["", text, f"{'figure':<64} {'value':>12}  {'target':<26} ok"]
        print("\n".join(self.lines[-3:]), flush=True)

    def row(self, figure: str, value: str, target: str = "", ok: bool | None = None) -> None:
        mark = "" if ok is None else ("ok" if ok else "NO")
        if ok is False:
            self.failed.append(figure)
        self.lines.append(f"{figure:<64} {value:>12}  {target:<26} {mark}".rstrip())
        print(self.lines[-1], flush=True)

    def note(self, text: str) -> None:
        self.lines.append(text)
        print(text, flush=True)


class Clock:
    """Wall times of tether commands, each paired with a bare interpreter start run just
    before it: on a machine other jobs share, the ratio of the two is what holds still."""

    def __init__(self, python: str, env: dict[str, str], runs: int) -> None:
        self.python = python
        self.env = env
        self.runs = runs

    def time(
        self,
        argv: Callable[[], list[str]],
        before: Callable[[], None] | None = None,
        check: Callable[[Run], str | None] | None = None,
    ) -> tuple[float, float, float]:
        """(median ms, median ms of the floor beside it, median ratio), after one run that
        is not counted; `before` runs before each, `check` says what is wrong with a result."""
        samples: list[tuple[float, float]] = []
        for _ in range(self.runs + 1):
            if before is not None:
                before()
            bare = run([self.python, "-c", "pass"], self.env)
            result = run(argv(), self.env)
            problem = result.failure() if not result.ok else check(result) if check else None
            if problem:
                sys.exit(f"bench: {' '.join(argv())}: {problem}")
            samples.append((result.seconds * 1000, bare.seconds * 1000))
        counted = samples[1:]
        return (
            statistics.median(ms for ms, _ in counted),
            statistics.median(floor for _, floor in counted),
            statistics.median(ms / floor for ms, floor in counted),
        )

    def row(self, table: Table, figure: str, argv: list[str], factor: float | None) -> float:
        ms, floor, ratio = self.time(lambda: argv)
        return _ratio_row(table, figure, ms, floor, ratio, factor)


def _ratio_row(
    table: Table, figure: str, ms: float, floor: float, ratio: float, factor: float | None
) -> float:
    table.row(
        figure,
        f"{ms:.0f} ms {ratio:.1f}x",
        f"≤ {factor:g}x floor ({floor:.0f} ms)" if factor else f"floor {floor:.0f} ms",
        ratio <= factor if factor else None,
    )
    return ratio


def table_sizes(db_file: Path) -> dict[str, int]:
    """Bytes per table, its indexes (and an FTS table's shadow tables) counted with it."""
    db = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        owners = dict(db.execute("SELECT name, tbl_name FROM sqlite_master"))
        sizes: dict[str, int] = {}
        for name, size in db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            owner = owners.get(name, name)
            for fts in ("parts_fts",):
                if owner.startswith(fts + "_"):
                    owner = fts
            sizes[owner] = sizes.get(owner, 0) + size
        return sizes
    finally:
        db.close()


class Fresh:
    """A session file a tool keeps writing to: before each timed answer, one more line."""

    def __init__(self, home: Path) -> None:
        sibling = sorted(home.glob(".claude/projects/*/*.jsonl"))[0]
        self.sid = str(uuid.uuid4())
        self.path = sibling.parent / f"{self.sid}.jsonl"
        first = orjson.loads(claude_line(sibling, "freshstart"))
        self.path.write_bytes(orjson.dumps({**first, "sessionId": self.sid}) + b"\n")
        self.word = ""

    def write(self) -> None:
        self.word = f"fresh{uuid.uuid4().hex[:12]}"
        with self.path.open("ab") as fh:
            fh.write(claude_line(self.path, self.word))


def answers(
    table: Table, clock: Clock, tether: list[str], fresh: Fresh, label: str, gap: float | None
) -> dict[str, float]:
    """list, search and show (their ratios to the floor), each run `gap` seconds after a
    write it must show (None: nothing written since the last answer)."""

    def write() -> None:
        if gap is not None:
            fresh.write()
            time.sleep(gap)

    def first_listed(result: Run) -> str | None:
        first = orjson.loads(result.stdout)[0]["native_id"]
        return None if first == fresh.sid else "the session written to is not listed first"

    def holds_word(result: Run) -> str | None:
        return None if fresh.word.encode() in result.stdout else "the line written is not in it"

    commands: dict[str, tuple[Callable[[], list[str]], Callable[[Run], str | None]]] = {
        "list --json --limit 50": (
            lambda: [*tether, "list", "--json", "--limit", "50"],
            first_listed,
        ),
        "search WORD --json": (lambda: [*tether, "search", fresh.word, "--json"], holds_word),
        "show ID --json": (lambda: [*tether, "show", fresh.sid, "--json"], holds_word),
    }
    out = {}
    for name, (argv, check) in commands.items():
        ms, floor, ratio = clock.time(argv, write, check)
        out[name] = _ratio_row(table, f"{name}, {label}", ms, floor, ratio, ANSWER_FACTOR)
    return out


def watcher(tether: list[str], env: dict[str, str], data: Path) -> subprocess.Popen[bytes]:
    """`tether watch`, started and ready (its first scan done, every store watched)."""
    log = data / "watch.log"
    proc = subprocess.Popen(
        [*tether, "watch", "--log-file", str(log)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    state = data / "watch.state"
    end = time.monotonic() + 600
    while not (state.exists() and " ready\n" in state.read_text(errors="replace")):
        if time.monotonic() > end or proc.poll() is not None:
            sys.exit("bench: the watcher did not become ready")
        time.sleep(0.05)
    return proc


def watch_figures(
    table: Table, proc: subprocess.Popen[bytes], home: Path, data: Path, appends: int
) -> float:
    files = sorted(home.glob(".claude/projects/*/*.jsonl")) + sorted(
        home.glob(".codex/sessions/*/*/*/*.jsonl")
    )
    archive = Archive(data / "tether.db")
    latencies = measure_latency(files, archive, appends, random.Random(11))
    p95 = percentile(latencies, 0.95)
    table.row(
        f"watch: append -> searchable p95 ({appends})",
        f"{p95:.0f} ms",
        f"< {WATCH_P95_MS:.0f} ms",
        p95 < WATCH_P95_MS,
    )
    time.sleep(1.0)
    cpu0, t0 = cpu_seconds(proc.pid), time.perf_counter()
    time.sleep(5.0)
    idle = (cpu_seconds(proc.pid) - cpu0) / (time.perf_counter() - t0) * 100
    table.row(
        "watch: idle CPU (5 s)",
        f"{idle:.2f} %",
        f"≤ {IDLE_CPU_PERCENT} %",
        idle <= IDLE_CPU_PERCENT,
    )
    status = Path(f"/proc/{proc.pid}/status").read_text().splitlines()
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    table.row("watch: peak RSS", f"{peak / 1024:.0f} MB")
    return peak / 1024


class Args(argparse.Namespace):
    scales: list[float]
    runs: int
    appends: int
    out: Path | None
    tether: str | None
    keep: bool
    gap: float


def one_scale(table: Table, scale: float, args: Args) -> dict[str, float]:
    corpus = OUT / f"corpus-{float(scale)}"
    manifest = ensure_corpus(corpus, ["--scale", str(scale), "--seed", "7"])
    work = OUT / f"fast-{float(scale)}"
    shutil.rmtree(work, ignore_errors=True)
    home, data = work / "home", work / "data"
    shutil.copytree(corpus / manifest["home"], home, symlinks=True)
    table.head(f"## {scale:g}x: {manifest['files']} files, {manifest['bytes'] / 1e6:.0f} MB")
    tether = tether_argv(args.tether)
    env = tether_env(home, data)
    try:
        figures = capture(table, tether, env, home, data, manifest["bytes"])
        beside = Path(tether[0]).parent / "python"
        python = str(beside) if beside.exists() else sys.executable
        clock = Clock(python, env, args.runs)
        common = manifest["common_word"]
        figures |= latencies(table, clock, tether, home, data, args, common)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return figures


def capture(
    table: Table, tether: list[str], env: dict[str, str], home: Path, data: Path, native: int
) -> dict[str, float]:
    """The first full scan beside the floor, and the archive it made beside the native bytes."""
    warm(home)
    floor = run([sys.executable, str(BENCH / "floor.py"), str(home), "--json"], timeout=3600)
    first = run([*tether, "scan", "--quiet"], env, timeout=7200)
    if not (floor.ok and first.ok):
        sys.exit(f"bench: floor or scan failed: {floor.failure()} {first.failure()}")
    limit = SCAN_FACTOR * floor.seconds
    table.row("floor: read + parse every file", f"{floor.seconds:.2f} s")
    table.row(
        "scan, first full",
        f"{first.seconds:.2f} s",
        f"≤ {limit:.2f} s ({SCAN_FACTOR:g}x floor)",
        first.seconds <= limit,
    )
    table.row("scan, first full: peak RSS", f"{first.rss_mb:.0f} MB")
    again = run([*tether, "scan", "--quiet"], env)
    table.row("scan, nothing new (every file stat'ed)", f"{again.seconds * 1000:.0f} ms")
    total = sum(p.stat().st_size for p in data.rglob("*") if p.is_file())
    table.row(
        "archive / native bytes",
        f"{total / native:.2f}x",
        f"≤ {SIZE_FACTOR:g}x",
        total / native <= SIZE_FACTOR,
    )
    sizes = table_sizes(data / "tether.db")
    for name, size in sorted(sizes.items(), key=lambda item: -item[1])[:8]:
        table.row(f"  table {name}", f"{size / 1e6:.0f} MB")
    return {"rss": first.rss_mb}


def latencies(
    table: Table,
    clock: Clock,
    tether: list[str],
    home: Path,
    data: Path,
    args: Args,
    common: str,
) -> dict[str, float]:
    """--help, --version and the fresh answers (ratios to the floor), a search for `common`
    (a word of every session), then the watcher."""
    figures = {}
    for flag in ("--help", "--version"):
        figures[flag] = clock.row(table, f"tether {flag}", [*tether, flag], HELP_FACTOR)
    fresh = Fresh(home)
    fresh.write()
    run([*tether, "list"], clock.env)
    time.sleep(2.5)  # the folder just written to is listed by every check until then
    figures |= answers(table, clock, tether, fresh, "nothing new", None)
    written = f"written {args.gap:g} s before"
    label = f"{written}, no watcher (on-demand off)"
    got = answers(table, clock, tether, fresh, label, args.gap)
    figures |= {f"{name}, {label}": value for name, value in got.items()}
    argv = [*tether, "search", fresh.word, "--json", "--no-scan"]
    clock.row(table, "search WORD --json --no-scan (not fresh)", argv, None)
    # A word of every session: ranked in all the places it is in, which grows with history
    # (no goal; the README gives it beside the rest).
    argv = [*tether, "search", common, "--json", "--no-scan"]
    clock.row(table, "search COMMON --json --no-scan (a word of every session)", argv, None)
    figures |= on_demand(table, clock, tether, fresh, data, written, args)
    proc = watcher(tether, clock.env, data)
    try:
        label = f"{written}, beside a watcher"
        got = answers(table, clock, tether, fresh, label, args.gap)
        figures |= {f"{name}, {label}": value for name, value in got.items()}
        figures["watch_rss"] = watch_figures(table, proc, home, data, args.appends)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    return figures


def on_demand(
    table: Table,
    clock: Clock,
    tether: list[str],
    fresh: Fresh,
    data: Path,
    written: str,
    args: Args,
) -> dict[str, float]:
    """With on-demand watchers on (tether.capture.ondemand): the first answer after a
    quiet spell, none running (it checks the stores itself, then starts one), and the
    answers after it, beside the watcher it started."""
    env = {**clock.env, "TETHER_WATCH_ON_DEMAND": "1"}
    timed = Clock(clock.python, env, clock.runs)

    def none_running() -> None:
        if (data / "watch.started").exists():  # the last answer started one: still importing?
            wait_ready(data)
        stop_watcher(data)
        (data / "watch.started").unlink(missing_ok=True)
        fresh.write()
        time.sleep(args.gap)

    def holds_word(result: Run) -> str | None:
        return None if fresh.word.encode() in result.stdout else "the line written is not in it"

    argv = lambda: [*tether, "search", fresh.word, "--json"]  # noqa: E731
    ms, floor, ratio = timed.time(argv, none_running, holds_word)
    label = f"search WORD --json, {written}, none running (starts one)"
    _ratio_row(table, label, ms, floor, ratio, None)
    none_running()
    run([*tether, "list", "--json"], env)
    pid = wait_ready(data)
    label = f"{written}, beside one started on demand"
    got = answers(table, timed, tether, fresh, label, args.gap)
    time.sleep(1.0)
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    time.sleep(5.0)
    idle = (cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0) * 100
    table.row(
        "watch, started on demand: idle CPU (5 s)",
        f"{idle:.2f} %",
        f"≤ {IDLE_CPU_PERCENT} %",
        idle <= IDLE_CPU_PERCENT,
    )
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    table.row("watch, started on demand: peak RSS", f"{_rss(status)} MB")
    stop_watcher(data)
    return {f"{name}, {label}": value for name, value in got.items()}


def _rss(status: list[str]) -> int:
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) // 1024


def wait_ready(data: Path) -> int:
    """The pid of the watcher once its state file says it is ready."""
    state = data / "watch.state"
    end = time.monotonic() + 600
    while time.monotonic() < end:
        text = state.read_text(errors="replace") if state.exists() else ""
        if " ready\n" in text:
            return int(text.split()[1])
        time.sleep(0.05)
    sys.exit("bench: the watcher started on demand did not become ready")


def stop_watcher(data: Path) -> None:
    """SIGTERM the watcher that holds watch.pid, and wait for it to let go."""
    sys.path.insert(0, str(BENCH.parent / "src"))
    from tether.capture.fresh import running_pid

    end = time.monotonic() + 60
    while (pid := running_pid(data)) is not None and time.monotonic() < end:
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--appends", type=int, default=60)
    parser.add_argument(
        "--gap", type=float, default=1.0, help="seconds between a write and the answer"
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument("--tether", help="command that runs tether (default .venv/bin/tether)")
    parser.add_argument("--keep", action="store_true", help="keep the copies and archives")
    args = parser.parse_args(argv, namespace=Args())
    compile_bytecode()
    table = Table()
    load = os.getloadavg()
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M")
    table.note(
        f"# bench/fast.py {' '.join(sys.argv[1:])}: {stamp} UTC, {os.cpu_count()} CPUs,"
        f" Python {sys.version.split()[0]}, load {load[0]:.1f} at start"
    )
    by_scale = {scale: one_scale(table, scale, args) for scale in args.scales}
    if len(by_scale) > 1:
        small, large = by_scale[min(by_scale)], by_scale[max(by_scale)]
        table.head(
            f"## {max(by_scale):g}x against {min(by_scale):g}x: ratios to the floor, divided"
        )
        for name in small:
            if name in ("rss", "watch_rss"):
                continue
            ratio = large[name] / small[name]
            table.row(f"{name}", f"{ratio:.2f}x", "≤ 1.25x (flat)", ratio <= 1.25)
        ratio = large["rss"] / small["rss"]
        table.row("scan, first full: peak RSS", f"{ratio:.2f}x", "≤ 1.25x (flat)", ratio <= 1.25)
        ratio = large["watch_rss"] / small["watch_rss"]
        table.row("watch: peak RSS", f"{ratio:.2f}x", "≤ 1.25x (flat)", ratio <= 1.25)
    table.note(
        f"\nload {os.getloadavg()[0]:.1f} at the end; {len(table.failed)} figures missed (NO)"
    )
    out = args.out or BENCH / "results" / f"{stamp[:10]}-fast.txt"
    out.write_text("\n".join(table.lines) + "\n")
    return 1 if table.failed else 0


if __name__ == "__main__":
    sys.exit(main())
