"""How long a <Tab> takes: tether's shell completion on the 10x corpus.

Times, process start to exit, what the shell runs for one completion: the bash function
`_tether` of `tether completion bash`, sourced in a fresh bash (static completions:
commands, options, tool names; dynamic ones: session ids, names and checkpoints read from
the archive), next to a bare `bash -c true` and `python -I -S -c pass`. The archive is the
bench corpus (`gen_corpus.py --scale 10`) scanned once into `bench/out/tether-home-<scale>`,
with 200 names and 200 checkpoints. Target: every completion under 100 ms.

    .venv/bin/python bench/completion.py [--scale 10] [--runs 30] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
TETHER = [str(REPO / ".venv" / "bin" / "tether")]
TARGET_MS = 100.0
COMPLETE = """
source "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_tether
printf '%s\\n' "${COMPREPLY[@]}"
"""


def archive(scale: float) -> Path:
    """The corpus at `scale` scanned into its own TETHER_HOME (made if missing)."""
    corpus = OUT / f"corpus-{scale}"
    home = OUT / f"tether-home-{scale}"
    env = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_CONFIG_DIR", "CODEX_HOME")}
    env.update(HOME=str(corpus / "home"), TETHER_HOME=str(home))
    if not (corpus / "home").is_dir():
        gen = [sys.executable, str(REPO / "bench" / "gen_corpus.py"), str(corpus)]
        subprocess.run([*gen, "--scale", str(scale)], check=True)
    if not (home / "tether.db").exists():
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run([*TETHER, "scan", "-q"], env=env, check=True)
    db = sqlite3.connect(home / "tether.db")
    named = db.execute("SELECT COUNT(*) FROM names").fetchone()[0]
    if named < 400:
        rows = db.execute("SELECT id FROM sessions ORDER BY updated_at DESC LIMIT 400").fetchall()
        with db:
            for n, (sid,) in enumerate(rows):
                kind = "alias" if n % 2 == 0 else "checkpoint"
                db.execute(
                    "INSERT OR IGNORE INTO names (name, session_id, kind, messages, last_message,"
                    " created_at) VALUES (?, ?, ?, 1, '', '2026-12-06T00:00:00.000Z')",
                    (f"{kind}-{n:04d}", sid, kind),
                )
    db.close()
    return home


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    return (time.perf_counter() - start) * 1000, done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    home = archive(args.scale)
    db = sqlite3.connect(home / "tether.db")
    sessions = db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    native = db.execute("SELECT native_id FROM sessions LIMIT 1").fetchone()[0]
    tether_id = db.execute("SELECT id FROM sessions LIMIT 1").fetchone()[0]
    db.close()
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "TETHER_HOME": str(home)}
    script = home / "completion.bash"
    script.write_text(
        subprocess.run(
            [*TETHER, "completion", "bash"], env=env, capture_output=True, text=True, check=True
        ).stdout
    )

    def complete(*words: str) -> list[str]:
        return ["bash", "-c", COMPLETE, "bash", str(script), "tether", *words]

    cases = {
        "floor: bash -c true": ["bash", "-c", "true"],
        "floor: python -I -S -c pass": [sys.executable, "-I", "-S", "-c", "pass"],
        "commands: tether <Tab>": complete(""),
        "options: tether list --<Tab>": complete("list", "--"),
        "tools: tether list --tool <Tab>": complete("list", "--tool", ""),
        "sessions: tether show <Tab> (names + recent)": complete("show", ""),
        "sessions: tether show alias-0<Tab>": complete("show", "alias-0"),
        "sessions: tether resume <native prefix><Tab>": complete("resume", native[:6]),
        "sessions: tether fork <tether id prefix><Tab>": complete("fork", tether_id[:3]),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    found: dict[str, int] = {}
    for name, command in cases.items():  # one untimed warm-up run each
        found[name] = len(timed(command, env)[1].split())
    for _ in range(args.runs):
        for name, command in cases.items():
            samples[name].append(timed(command, env)[0])
    figures = {name: statistics.median(values) for name, values in samples.items()}
    lines = [
        f"completion on the {args.scale:g}x corpus ({sessions} sessions, 400 names),"
        f" median of {args.runs} runs, process start to exit",
        f"{'completion':48} {'ms':>7} {'found':>6}",
    ]
    over = []
    for name, value in figures.items():
        verdict = "" if name.startswith("floor") else ("ok" if value < TARGET_MS else "OVER")
        if verdict == "OVER":
            over.append(name)
        lines.append(f"{name:48} {value:7.1f} {found[name]:6d}  {verdict}")
    lines.append(f"target: each completion under {TARGET_MS:.0f} ms")
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps({"runs": args.runs, "sessions": sessions, "ms": figures}))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
