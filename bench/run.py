"""tether's benchmark: the floor first, then tether's own figures next to their targets.

`python bench/run.py [--scale 1.0] [--corpus DIR] [--skip-huge] [--json OUT]`; every tether
command runs as a subprocess (HOME = the corpus, TETHER_HOME = a fresh temp dir).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
NATIVE_ENV = (
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "CODEX_SQLITE_HOME",
    "COPILOT_HOME",
    "GEMINI_CLI_HOME",
    "XDG_DATA_HOME",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
)


@dataclass
class Run:
    """One finished (or failed) subprocess: wall time, peak RSS, output."""

    argv: list[str]
    seconds: float = 0.0
    rss_mb: float = 0.0
    code: int | None = None
    stdout: bytes = b""
    stderr: bytes = b""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.code == 0

    def failure(self) -> str:
        if self.error:
            return self.error
        tail = self.stderr.decode(errors="replace").strip().splitlines()[-3:]
        return f"exit {self.code}: " + " | ".join(tail)


@dataclass
class Row:
    metric: str
    value: float | None = None
    unit: str = "ms"
    target: float | None = None
    target_text: str = ""
    ok: bool | None = None
    note: str = ""
    samples: list[float] = field(default_factory=list)


def run(argv: list[str], env: dict[str, str] | None = None, timeout: float = 900.0) -> Run:
    """Run argv to its end; os.wait4 gives this child's own peak RSS, not any earlier one's."""
    result = Run(argv)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        except OSError as exc:
            result.error = f"cannot start: {exc}"
            return result
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        result.seconds = time.perf_counter() - started
        timer.cancel()
        proc.returncode = result.code = os.waitstatus_to_exitcode(status)
        if expired.is_set():
            result.error = f"timed out after {timeout:.0f} s"
        # ru_maxrss is KiB on Linux, bytes on macOS
        result.rss_mb = usage.ru_maxrss / (1 << 20 if sys.platform == "darwin" else 1 << 10)
        out.seek(0)
        err.seek(0)
        result.stdout, result.stderr = out.read(), err.read()
    return result


def tether_argv(option: str | None) -> list[str]:
    if option:
        return shlex.split(option)
    script = ROOT / ".venv" / "bin" / "tether"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tether"]


def tether_env(home: Path, tether_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NATIVE_ENV}
    env.update(HOME=str(home), TETHER_HOME=str(tether_home), NO_COLOR="1")
    # A bench that wants a watcher starts one itself (or turns this on, bench/fast.py):
    # none may outlive the copy it watches.
    env["TETHER_WATCH_ON_DEMAND"] = "0"
    # Start-up is measured as users see it: pip compiles bytecode at install time, so a
    # machine-wide PYTHONDONTWRITEBYTECODE (set on some CI images) must not make every
    # run recompile tether and its dependencies.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def compile_bytecode() -> None:
    """Write the .pyc files an ordinary install has (see tether_env)."""
    import compileall
    import sysconfig

    for folder in (ROOT / "src", Path(sysconfig.get_paths()["purelib"])):
        compileall.compile_dir(folder, quiet=2, workers=0)


def ensure_corpus(corpus: Path, args: list[str]) -> dict[str, Any]:
    manifest = corpus / "manifest.json"
    if not manifest.exists():
        print(f"generating {corpus} ...", file=sys.stderr)
        gen = run([sys.executable, str(BENCH / "gen_corpus.py"), str(corpus), *args], timeout=3600)
        if not gen.ok:
            sys.exit(f"corpus generation failed: {gen.failure()}")
        print(gen.stderr.decode().strip(), file=sys.stderr)
    data: dict[str, Any] = orjson.loads(manifest.read_bytes())
    return data


def warm(home: Path) -> None:
    """Read every session file once so that the floor and tether both meet a warm page cache."""
    for path in home.rglob("*.jsonl"):
        with path.open("rb") as fh:
            while fh.read(1 << 20):
                pass


def floor(home: Path, runs: int) -> tuple[Row, dict[str, Any]]:
    times: list[float] = []
    stats: dict[str, Any] = {}
    for _ in range(runs):
        result = run([sys.executable, str(BENCH / "floor.py"), str(home), "--json"])
        if not result.ok:
            return Row("floor", unit="s", ok=False, note=result.failure()), {}
        stats = orjson.loads(result.stdout)
        times.append(result.seconds)
    median = statistics.median(times)
    row = Row(
        f"floor: {stats['mb']} MB, {stats['texts']} texts",
        unit="s",
        target=median,
        target_text=f"{median:.2f} s (median of {runs})",
        samples=times,
    )
    return row, stats


def timed(
    metric: str, argv: list[str], env: dict[str, str], runs: int, target: float, warmup: bool = True
) -> tuple[Row, Run | None]:
    """Median wall time (ms) of `runs` runs, after one untimed run that warms the caches."""
    if warmup:
        run(argv, env)
    results = [run(argv, env) for _ in range(runs)]
    failed = next((r for r in results if not r.ok), None)
    if failed:
        return Row(
            metric, target=target, target_text=f"≤ {target:g} ms", ok=False, note=failed.failure()
        ), None
    samples = [r.seconds * 1000 for r in results]
    value = statistics.median(samples)
    row = Row(metric, value, "ms", target, f"≤ {target:g} ms", value <= target, samples=samples)
    return row, results[-1]


def json_check(row: Row, result: Run | None) -> None:
    """A --json command whose stdout is not JSON fails, however fast it was."""
    if result is None:
        return
    try:
        orjson.loads(result.stdout)
    except orjson.JSONDecodeError as exc:
        row.ok = False
        row.note = f"stdout is not JSON: {exc}"


def finds(manifest: dict[str, Any], result: Run | None) -> Row:
    expected = manifest["rare_word_sessions"]
    row = Row(
        f"search {manifest['rare_word']}: finds its session",
        unit="",
        target_text=f"{len(expected)} of {len(expected)}",
    )
    if result is None:
        row.ok = False
        row.note = "search failed"
        return row
    out = result.stdout.decode(errors="replace")
    ids = [
        (s["id"], hashlib.sha256(f"{s['tool']}\0{s['id']}".encode()).hexdigest()) for s in expected
    ]
    row.value = sum(1 for native, tether in ids if native in out or tether in out)
    row.ok = row.value == len(expected)
    return row


def full_scan(
    tether: list[str],
    home: Path,
    tether_home: Path,
    floor_s: float | None,
    label: str,
    workers: str | None = None,
) -> list[Row]:
    env = tether_env(home, tether_home)
    if workers is not None:
        env["TETHER_SCAN_WORKERS"] = workers
    result = run([*tether, "scan"], env, timeout=3600)
    limit = 1.5 * floor_s if floor_s else None
    if not result.ok:
        return [
            Row(
                f"scan, first full{label}",
                unit="s",
                target=limit,
                ok=False,
                target_text=f"≤ {limit:.2f} s (1.5x floor)" if limit else "",
                note=result.failure(),
            )
        ]
    scan = Row(
        f"scan, first full{label}",
        result.seconds,
        "s",
        limit,
        f"≤ {limit:.2f} s (1.5x floor)" if limit else "",
        result.seconds <= limit if limit else None,
    )
    rss = Row(f"scan, first full{label}: peak RSS", result.rss_mb, "MB")
    return [scan, rss]


def huge(tether: list[str], megabytes: int, work: Path) -> list[Row]:
    corpus = OUT / f"huge-{megabytes}"
    manifest = ensure_corpus(corpus, ["--huge-mb", str(megabytes)])
    home = corpus / manifest["home"]
    warm(home)
    result = run([*tether, "scan"], tether_env(home, work / "huge"), timeout=3600)
    metric = f"scan of one {manifest['bytes'] / 1e6:.0f} MB session: peak RSS"
    if not result.ok:
        return [
            Row(
                metric,
                unit="MB",
                target=200,
                target_text="≤ 200 MB",
                ok=False,
                note=result.failure(),
            )
        ]
    return [
        Row(metric, result.rss_mb, "MB", 200, "≤ 200 MB", result.rss_mb <= 200),
        Row(f"scan of one {manifest['bytes'] / 1e6:.0f} MB session: wall", result.seconds, "s"),
    ]


def measure(args: argparse.Namespace, manifest: dict[str, Any], home: Path) -> list[Row]:
    tether = tether_argv(args.tether)
    rows: list[Row] = []
    warm(home)
    floor_row, _ = floor(home, args.floor_runs)
    rows.append(floor_row)
    print(format_row(floor_row), file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="tether-bench-") as tmp:
        work = Path(tmp)
        env = tether_env(home, work / "main")
        rows += full_scan(tether, home, work / "main", floor_row.target, "")
        # For the record, not the target: one process, as on a single core.
        one = full_scan(tether, home, work / "one", None, ", one process", workers="0")
        rows.append(one[0])
        shutil.rmtree(work / "one", ignore_errors=True)
        n = args.runs
        rare, common = manifest["rare_word"], manifest["common_word"]
        steps = [
            ("scan, nothing new", [*tether, "scan"], 300, False),
            (
                f"search {rare} --no-scan",
                [*tether, "search", rare, "--no-scan", "--json"],
                100,
                True,
            ),
            (f"search {common} (with its scan)", [*tether, "search", common, "--json"], 250, True),
            ("list --json --limit 50", [*tether, "list", "--json", "--limit", "50"], 150, True),
            ("--help", [*tether, "--help"], 150, False),
        ]
        for metric, argv, target, is_json in steps:
            print(f"... {metric}", file=sys.stderr)
            row, last = timed(metric, argv, env, n, target)
            if is_json:
                json_check(row, last)
            rows.append(row)
            if metric.startswith(f"search {rare}"):
                rows.append(finds(manifest, last))
        if not args.skip_huge:
            print(f"... huge session ({args.huge_mb} MB)", file=sys.stderr)
            rows += huge(tether, args.huge_mb, work)
    return rows


def show(row: Row) -> str:
    value, unit = row.value, row.unit
    if value is None:
        return "FAILED" if row.ok is False else ""
    if unit == "s":
        return f"{value:.2f} s"
    if unit in ("ms", "MB"):
        return f"{value:.0f} {unit}"
    return f"{value:g}"


def format_row(row: Row) -> str:
    ok = {True: "ok", False: "NO", None: ""}[row.ok]
    return f"{row.metric:<44} | {show(row):>10} | {row.target_text:<24} | {ok}"


def report(rows: list[Row], manifest: dict[str, Any]) -> str:
    head = (
        f"corpus: {manifest['files']} files ({manifest['claude_sessions']} Claude Code, "
        f"{manifest['codex_sessions']} Codex), {manifest['bytes'] / 1e6:.1f} MB; "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    lines = [
        head,
        "",
        f"{'metric':<44} | {'tether':>10} | {'floor/target':<24} | ok?",
        f"{'-' * 44}-+-{'-' * 10}-+-{'-' * 24}-+-----",
    ]
    lines += [format_row(row) for row in rows]
    notes = [f"  {row.metric}: {row.note}" for row in rows if row.note]
    return "\n".join(lines + (["", "notes:", *notes] if notes else []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--corpus", type=Path, help="corpus root (default bench/out/corpus-<scale>)"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="corpus scale, e.g. 0.1 to try")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-huge", action="store_true", help="skip the huge-session RSS test")
    parser.add_argument("--huge-mb", type=int, default=500)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per latency figure")
    parser.add_argument("--floor-runs", type=int, default=3)
    parser.add_argument("--tether", help="command that runs tether (default .venv/bin/tether)")
    parser.add_argument("--json", type=Path, dest="json_out", help="also write the figures here")
    args = parser.parse_args(argv)
    compile_bytecode()
    corpus = args.corpus or OUT / f"corpus-{args.scale:g}"
    manifest = ensure_corpus(corpus, ["--scale", str(args.scale), "--seed", str(args.seed)])
    home = corpus / manifest["home"]
    rows = measure(args, manifest, home)
    print(report(rows, manifest))
    if args.json_out:
        data = {
            "corpus": {
                k: manifest[k]
                for k in ("files", "bytes", "claude_sessions", "codex_sessions", "seed", "scale")
            },
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version,
                "platform": platform.platform(),
            },
            "rows": [asdict(row) for row in rows],
        }
        args.json_out.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    return 1 if any(row.ok is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
