"""Secrets: recall of redaction on tests/secrets_corpus.py's kinds in every part kind,
through every export format and every convert target; false positives on the bench
corpus, by rule; throughput next to export's own.

`python bench/secrets.py [--scale 0.1] [--corpus DIR] [--seeds 3]`
"""

from __future__ import annotations

import argparse
import os
import stat
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# This file is named like the standard library's `secrets`, which the writers import:
# its folder must not come first on the path.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != BENCH]

from tests.secrets_corpus import KINDS, PLACEMENTS, leaks, placed, session_with  # noqa: E402

from tether.convert.session import convert  # noqa: E402
from tether.convert.writers import writable  # noqa: E402
from tether.formats.html import to_html  # noqa: E402
from tether.formats.markdown import to_markdown  # noqa: E402
from tether.formats.tether_json import session_json  # noqa: E402
from tether.redact import redact_doc, scan_doc  # noqa: E402

FAKE_OPENCODE = (
    "#!{python}\nimport json, sys\na = sys.argv[1:]\n"
    "if a[:2] == ['debug', 'config']: print(json.dumps({{'model': 'mock/m'}}))\n"
    "elif a[:1] == ['models']: print('mock/m')\n"
    "elif a[:1] == ['import']: print('Imported session: ' + json.load(open(a[1]))['info']['id'])\n"
)


def exported(doc: dict) -> dict[str, str]:
    return {
        "md": to_markdown(doc),
        "json": orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode(),
        "html": to_html(doc),
    }


def written(root: Path) -> str:
    return "\n".join(
        p.read_bytes().decode(errors="replace") for p in sorted(root.rglob("*")) if p.is_file()
    )


def recall(seeds: int, work: Path) -> dict[str, list[int]]:
    """Per output: [redacted and carried, carried] over kinds x placements x seeds."""
    bin_dir = work / "bin"
    bin_dir.mkdir(parents=True)
    for binary in ("opencode", "kilo"):  # the Kilo CLI imports the same JSON
        fake = bin_dir / binary
        fake.write_text(FAKE_OPENCODE.format(python=sys.executable))
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    tally: dict[str, list[int]] = {}
    missed: Counter[str] = Counter()
    n = 0
    for seed in range(7, 7 + 10 * seeds, 10):
        for where in placed(seed):
            n += 1
            session = session_with(where, str(work), tool="amp")
            doc = session_json(session)
            outputs = {
                f"export {k}": (v, exported(redact_doc(doc))[k]) for k, v in exported(doc).items()
            }
            for target in writable():
                pair = []
                for keep in (True, False):
                    folder = work / f"{n}-{target}-{keep}"
                    (folder / "cwd").mkdir(parents=True)
                    os.environ["TETHER_HOME"] = str(folder / "home")
                    convert(
                        session,
                        target,
                        store=folder / "store",
                        cwd=folder / "cwd",
                        keep_secrets=keep,
                    )
                    pair.append(written(folder))
                outputs[f"convert {target}"] = (pair[0], pair[1])
            for name, (plain, redacted) in outputs.items():
                carried = leaks(plain, where)
                leaked = set(leaks(redacted, where))
                row = tally.setdefault(name, [0, 0])
                row[1] += len(carried)
                row[0] += len([p for p in carried if p not in leaked])
                missed.update(f"{where[p].kind} in {p} via {name}" for p in leaked)
    if missed:
        print("missed:", dict(missed))
    return tally


def corpus_docs(corpus: Path, scale: float, work: Path) -> list[dict]:
    if not (corpus / "manifest.json").exists():
        subprocess.run(
            [sys.executable, str(BENCH / "gen_corpus.py"), str(corpus), "--scale", str(scale)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    env = {**os.environ, "HOME": str(corpus / "home"), "TETHER_HOME": str(work / "archive")}
    tether = [str(ROOT / ".venv" / "bin" / "tether")]
    subprocess.run([*tether, "scan"], env=env, check=True, capture_output=True)
    rows = orjson.loads(
        subprocess.run(
            [*tether, "list", "--json", "-n", "100000", "--all", "--no-scan"],
            env=env,
            check=True,
            capture_output=True,
        ).stdout
    )
    from tether.archive.db import connect
    from tether.archive.query import find_session
    from tether.archive.store import load_session

    db = connect(work / "archive" / "tether.db")
    return [session_json(load_session(db, find_session(db, r["id"])[0])) for r in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    corpus = args.corpus or BENCH / "out" / f"corpus-{args.scale:g}"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"# tether secrets bench, {time.strftime('%Y-%m-%d')}")
        print(f"kinds: {len(KINDS)}; placements: {', '.join(PLACEMENTS)}; seeds: {args.seeds}")
        t0 = time.perf_counter()
        scan_doc({"session": {"title": "warm up"}, "messages": []})
        print(f"rules loaded in {time.perf_counter() - t0:.2f} s (once per process)\n")
        print("| output | redacted / carried | recall |\n| --- | ---: | ---: |")
        for name, (hit, total) in recall(args.seeds, work / "recall").items():
            print(f"| {name} | {hit} / {total} | {100 * hit / max(total, 1):.1f}% |")
        docs = corpus_docs(corpus, args.scale, work)
        size = sum(len(orjson.dumps(d)) for d in docs)
        t0 = time.perf_counter()
        rules: Counter[str] = Counter(f.rule for d in docs for f in scan_doc(d))
        scan_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for d in docs:
            to_markdown(redact_doc(d))
        redacted_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for d in docs:
            to_markdown(d)
        plain_s = time.perf_counter() - t0
        print(f"\nbench corpus ({corpus.name}): {len(docs)} sessions, {size / 1e6:.1f} MB of JSON")
        print(f"false positives: {sum(rules.values())} {dict(rules.most_common())}")
        print("\n| figure | MB/s |\n| --- | ---: |")
        print(f"| find secrets (scan_doc) | {size / 1e6 / scan_s:.1f} |")
        print(f"| export md, no redaction | {size / 1e6 / plain_s:.1f} |")
        print(f"| export md, redacted | {size / 1e6 / redacted_s:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
