"""Summaries and usage, end to end: `tether summary ID` of one 50 MB session, and `tether
stats` (by tool, day and model) and `tether summary --since` over the whole bench corpus,
each a process as a user starts it, next to the floor of reading and JSON-parsing the same
bytes.

`python bench/summary.py [--scale 1.0] [--huge-mb 50] [--runs 5] [--json FILE]`
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run as harness  # noqa: E402  (bench/run.py: the corpus, the runner, the env)


def parse_floor(home: Path) -> float:
    """Seconds to read every session file under home and parse every line with orjson."""
    started = time.perf_counter()
    for path in sorted(home.rglob("*.jsonl")):
        with path.open("rb") as fh:
            for line in fh:
                if line.strip():
                    orjson.loads(line)
    return time.perf_counter() - started


def timed(argv: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    """Median wall time and the largest peak RSS of `runs` runs after one warm-up; the
    output of the last must be JSON."""
    harness.run(argv, env)
    results = [harness.run(argv, env) for _ in range(runs)]
    failed = next((r for r in results if not r.ok), None)
    if failed is not None:
        return {"argv": argv[1:], "error": failed.failure()}
    orjson.loads(results[-1].stdout)
    return {
        "argv": argv[1:],
        "seconds": statistics.median(r.seconds for r in results),
        "peak_rss_mb": max(r.rss_mb for r in results),
    }


def capture(tether: list[str], home: Path, work: Path) -> dict[str, str]:
    env = harness.tether_env(home, work)
    scan = harness.run([*tether, "scan"], env, timeout=3600)
    if not scan.ok:
        sys.exit(f"scan failed: {scan.failure()}")
    return env


def largest_session(tether: list[str], env: dict[str, str]) -> str:
    listed = harness.run([*tether, "list", "--json", "--no-scan", "--limit", "5"], env)
    sessions = orjson.loads(listed.stdout)
    return str(max(sessions, key=lambda s: s["message_count"])["id"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--huge-mb", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", metavar="FILE", help="Also write the figures as JSON.")
    args = parser.parse_args(argv)
    harness.compile_bytecode()
    tether = harness.tether_argv(None)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tether-bench-summary-") as scratch:
        work = Path(scratch)
        huge = harness.OUT / f"huge-{args.huge_mb}"
        manifest = harness.ensure_corpus(huge, ["--huge-mb", str(args.huge_mb)])
        home = huge / manifest["home"]
        harness.warm(home)
        env = capture(tether, home, work / "huge")
        ident = largest_session(tether, env)
        figures["one session"] = {
            "bytes": manifest["bytes"],
            "floor_seconds": parse_floor(home),
            "summary": timed([*tether, "summary", ident, "--json", "--no-scan"], env, args.runs),
        }
        corpus = harness.OUT / f"corpus-{args.scale}"
        manifest = harness.ensure_corpus(corpus, ["--scale", str(args.scale)])
        home = corpus / manifest["home"]
        harness.warm(home)
        env = capture(tether, home, work / "corpus")
        whole: dict[str, Any] = {"bytes": manifest["bytes"], "floor_seconds": parse_floor(home)}
        for by in ("tool", "day", "model"):
            stats = [*tether, "stats", "--by", by, "--json", "--no-scan"]
            whole[f"stats --by {by}"] = timed(stats, env, args.runs)
        period = [*tether, "summary", "--since", "2000-01-01", "--json", "--no-scan"]
        whole["summary --since (every session)"] = timed(period, env, max(1, args.runs // 2))
        totals = orjson.loads(harness.run([*tether, "stats", "--json", "--no-scan"], env).stdout)
        whole["stats total"] = totals["total"]
        figures["bench corpus"] = whole
    print(report(figures))
    if args.json:
        Path(args.json).write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))
    return 0


def report(figures: dict[str, Any]) -> str:
    lines = []
    for name, group in figures.items():
        lines.append(
            f"{name}: {group['bytes'] / 1e6:.1f} MB; floor (read + parse every line with "
            f"orjson) {group['floor_seconds']:.2f} s"
        )
        for label, figure in group.items():
            if not isinstance(figure, dict) or "argv" not in figure:
                continue
            if "error" in figure:
                lines.append(f"  {label:<34} FAILED {figure['error']}")
                continue
            lines.append(
                f"  {label:<34} {figure['seconds']:7.2f} s   peak RSS "
                f"{figure['peak_rss_mb']:6.0f} MB   ({' '.join(figure['argv'])})"
            )
        if "stats total" in group:
            total = group["stats total"]
            lines.append(
                f"  stats total: {total['sessions']} sessions, {total['messages']} messages "
                f"with usage, {total['tokens']['total']:,} tokens, ${total['cost_usd']:,.2f}"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
