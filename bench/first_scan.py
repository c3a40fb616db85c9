"""Issue 14's first-scan goal alone: a first full scan beside its floor, and its peak memory,
at several scales of the bench corpus.

`python bench/first_scan.py [--scales 1 3] [--rounds 2] [--tether CMD] [--out FILE]`: for each
scale, a copy of the corpus (generated if missing; the copy is read, never the corpus) is
captured by a first full scan into a fresh archive, right after bench/floor.py reads the same
bytes, `--rounds` times; the scan's time is judged on its ratio to the floor run just before
it (the machine may be shared: a ratio measured back to back holds better than either time),
and its peak RSS (the largest of the scan and its workers) must stay flat across the scales.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import OUT, ensure_corpus, run, tether_argv, tether_env, warm  # noqa: E402

SCAN_FACTOR = 1.5
FLAT = 1.25


def one_scale(scale: float, rounds: int, tether: list[str]) -> dict[str, float]:
    corpus = OUT / f"corpus-{float(scale)}"
    manifest = ensure_corpus(corpus, ["--scale", str(scale), "--seed", "7"])
    with tempfile.TemporaryDirectory(prefix="tether-first-", dir=OUT) as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(corpus / manifest["home"], home, symlinks=True)
        warm(home)
        ratios, seconds, rss = [], [], []
        for n in range(rounds):
            load = os.getloadavg()[0]
            floor = run([sys.executable, str(BENCH / "floor.py"), str(home)], timeout=7200)
            data = Path(tmp) / f"data-{n}"
            scan = run([*tether, "scan", "--quiet"], tether_env(home, data), timeout=7200)
            if not (floor.ok and scan.ok):
                sys.exit(f"first_scan: {floor.failure()} {scan.failure()}")
            shutil.rmtree(data, ignore_errors=True)
            ratios.append(scan.seconds / floor.seconds)
            seconds.append(scan.seconds)
            rss.append(scan.rss_mb)
            print(
                f"{scale:g}x ({manifest['files']} files, {manifest['bytes'] / 1e6:.0f} MB)"
                f" round {n + 1}: floor {floor.seconds:.2f} s, scan {scan.seconds:.2f} s"
                f" ({ratios[-1]:.2f}x), peak RSS {scan.rss_mb:.0f} MB, load {load:.1f}",
                flush=True,
            )
    return {
        "ratio": statistics.median(ratios),
        "seconds": statistics.median(seconds),
        "rss": max(rss),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 3.0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tether", help="command that runs tether (default .venv/bin/tether)")
    parser.add_argument("--out", type=Path, help="append the summary to this file too")
    args = parser.parse_args(argv)
    tether = tether_argv(args.tether)
    figures = {scale: one_scale(scale, args.rounds, tether) for scale in args.scales}
    lines = []
    ok = True
    for scale, got in figures.items():
        fast = got["ratio"] <= SCAN_FACTOR
        ok &= fast
        lines.append(
            f"{scale:g}x: first scan {got['seconds']:.2f} s, {got['ratio']:.2f}x its floor"
            f" (median; ≤ {SCAN_FACTOR:g}x: {'ok' if fast else 'NO'}),"
            f" peak RSS {got['rss']:.0f} MB"
        )
    if len(figures) > 1:
        small, large = figures[min(figures)], figures[max(figures)]
        flat = large["rss"] / small["rss"]
        ok &= flat <= FLAT
        lines.append(
            f"peak RSS {max(figures):g}x / {min(figures):g}x: {flat:.2f}x"
            f" (≤ {FLAT:g}x: {'ok' if flat <= FLAT else 'NO'})"
        )
    print("\n".join(lines))
    if args.out:
        with args.out.open("a") as fh:
            fh.write("\n".join(lines) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
