"""Figures of `tether web`: server time, time to first byte and time to a usable page for the
session list, a search and one large session, at 1x and 10x the bench corpus.

`python bench/web.py [--scales 1 10] [--huge-mb 50 500] [--runs 7] [--keep] [--out FILE]`

Each corpus is captured by `tether scan` into a fresh TETHER_HOME, then served by a real
`tether web --no-open --no-scan --port 0` process. Per page: the server's own time (the
Server-Timing header the app sends), time to first byte and to the whole body over HTTP
(httpx, medians of --runs after one warm-up), and in Debian's Chromium (Playwright, the
system browser) the navigation's responseStart and loadEventEnd: a usable page is one whose
HTML, CSS and script are loaded and run. Target: server time under 300 ms for every page.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TARGET_MS = 300.0
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LINK = re.compile(r"http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_-]+")


@dataclass
class Figure:
    corpus: str
    page: str
    url: str
    server_ms: float = 0.0
    ttfb_ms: float = 0.0
    body_ms: float = 0.0
    bytes: int = 0
    browser_ttfb_ms: float | None = None
    usable_ms: float | None = None
    notes: list[str] = field(default_factory=list)

    def row(self) -> str:
        browser = (
            f"{self.browser_ttfb_ms:8.1f} {self.usable_ms:8.1f}"
            if self.usable_ms is not None
            else f"{'-':>8} {'-':>8}"
        )
        mark = "" if self.server_ms <= TARGET_MS else "  OVER"
        return (
            f"| {self.corpus:<14} | {self.page:<34} | {self.server_ms:8.1f} | {self.ttfb_ms:8.1f}"
            f" | {self.body_ms:8.1f} | {self.bytes / 1024:7.0f} | {browser} |{mark}"
        )


def tether() -> list[str]:
    script = ROOT / ".venv" / "bin" / "tether"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tether"]


def environment(home: Path, tether_home: Path) -> dict[str, str]:
    drop = ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "COPILOT_HOME")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(HOME=str(home), TETHER_HOME=str(tether_home), NO_COLOR="1")
    # The redaction rules' cache lives in the user's cache folder: keep the real one, so
    # that a corpus's fresh HOME does not rebuild it (a once-per-machine cost).
    env.setdefault("XDG_CACHE_HOME", str(Path.home() / ".cache"))
    return env


def ensure(corpus: Path, args: list[str]) -> dict[str, Any]:
    manifest = corpus / "manifest.json"
    if not manifest.exists():
        print(f"generating {corpus} ...", file=sys.stderr)
        command = [sys.executable, str(BENCH / "gen_corpus.py"), str(corpus), *args]
        subprocess.run(command, check=True)
    data: dict[str, Any] = orjson.loads(manifest.read_bytes())
    return data


def capture(home: Path, tether_home: Path) -> float:
    started = time.perf_counter()
    env = environment(home, tether_home)
    done = subprocess.run([*tether(), "scan"], env=env, capture_output=True, check=False)
    if done.returncode not in (0, 1):  # 1: a line was skipped somewhere
        sys.exit(f"tether scan failed: {done.stderr.decode()[-2000:]}")
    return time.perf_counter() - started


class Served:
    """`tether web` over a captured corpus, as a user starts it."""

    def __init__(self, home: Path, tether_home: Path) -> None:
        argv = [*tether(), "web", "--no-open", "--no-scan", "--port", "0"]
        self.process = subprocess.Popen(
            argv, env=environment(home, tether_home), stderr=subprocess.PIPE, text=True
        )
        assert self.process.stderr is not None
        line = ""
        while not LINK.search(line):
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                sys.exit("tether web ended before printing its link")
        found = LINK.search(line)
        assert found
        self.link = found.group(0)
        self.base = self.link.split("/?", 1)[0]
        self.client = httpx.Client(base_url=self.base, timeout=600)
        self.client.get(self.link, follow_redirects=True)  # the token for the cookie

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(30)


def over_http(served: Served, figure: Figure, runs: int) -> None:
    servers, firsts, wholes = [], [], []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        with served.client.stream("GET", figure.url) as answer:
            first = time.perf_counter()
            body = answer.read()
            whole = time.perf_counter()
        if answer.status_code != 200:
            figure.notes.append(f"HTTP {answer.status_code}: {body[:200]!r}")
            return
        if attempt == 0:
            continue  # warm-up: the page's first query meets a cold SQLite page cache
        timing = re.search(r"dur=([\d.]+)", answer.headers.get("server-timing", ""))
        servers.append(float(timing.group(1)) if timing else float("nan"))
        firsts.append((first - started) * 1000)
        wholes.append((whole - started) * 1000)
        figure.bytes = len(body)
    figure.server_ms = statistics.median(servers)
    figure.ttfb_ms = statistics.median(firsts)
    figure.body_ms = statistics.median(wholes)


def in_browser(tab: Any, served: Served, figure: Figure, runs: int) -> None:
    firsts, usable = [], []
    for attempt in range(runs + 1):
        tab.goto(served.base + figure.url, wait_until="load")
        timing = tab.evaluate(
            "(() => { const n = performance.getEntriesByType('navigation')[0];"
            " return [n.responseStart, n.loadEventEnd]; })()"
        )
        if attempt:
            firsts.append(timing[0])
            usable.append(timing[1])
    figure.browser_ttfb_ms = statistics.median(firsts)
    figure.usable_ms = statistics.median(usable)


def pages_of_corpus(served: Served, manifest: dict[str, Any]) -> list[tuple[str, str]]:
    listed = served.client.get("/sessions.json").json()
    total = listed["page"]["total"]
    model = listed["facets"]["models"][0][0]
    deep = max(1, (total // 50) // 2)
    rare = manifest["rare_word"]
    return [
        (f"list, first page ({total:,} sessions)", "/sessions"),
        (f"list, page {deep:,}", f"/sessions?page={deep}"),
        ("list, tool=codex", "/sessions?tool=codex"),
        ("list, model filter", f"/sessions?model={model}"),
        ("search, a rare word", f"/search?q={rare}"),
        ("search, 'the' (in every session)", "/search?q=the"),
        ("search, rare word, tool=claude", f"/search?q={rare}&tool=claude"),
    ]


def pages_of_session(served: Served, manifest: dict[str, Any]) -> list[tuple[str, str]]:
    from tether.model import session_id

    sid = session_id("claude", manifest["session"]["id"])
    first = served.client.get(f"/s/{sid}.json").json()["paging"]
    last = first["last"] or 0
    return [
        (f"session, first page ({first['total']:,} msgs)", f"/s/{sid}"),
        ("session, a middle page", f"/s/{sid}?from={last // 2}"),
        ("session, last page", f"/s/{sid}?from={last}"),
        ("session, search 'the' inside", f"/s/{sid}?q=the"),
        ("session, as JSON", f"/s/{sid}.json"),
    ]


def measure(
    name: str, corpus: Path, manifest: dict[str, Any], runs: int, browser: Any, keep: bool
) -> list[Figure]:
    """The figures of one corpus. With `keep`, its archive stays in bench/out (web-*/) and
    a later run serves it again without capturing."""
    home = corpus / "home"
    work = BENCH / "out" / f"web-{corpus.name}" if keep else Path(tempfile.mkdtemp())
    try:
        if not (work / "tether" / "tether.db").exists():
            seconds = capture(home, work / "tether")
            print(f"{name}: captured in {seconds:.1f} s", file=sys.stderr)
        served = Served(home, work / "tether")
        try:
            listing = pages_of_session if manifest.get("huge") else pages_of_corpus
            figures = [Figure(name, page, url) for page, url in listing(served, manifest)]
            tab = None
            if browser is not None:
                context = browser.new_context()
                tab = context.new_page()
                tab.goto(served.link)
            for figure in figures:
                over_http(served, figure, runs)
                if tab is not None and not figure.url.endswith(".json"):
                    in_browser(tab, served, figure, runs)
                print(figure.row(), file=sys.stderr)
            return figures
        finally:
            served.stop()
    finally:
        if not keep:
            shutil.rmtree(work)


def report(figures: list[Figure], args: argparse.Namespace) -> str:
    lines = [
        f"# tether web bench, {time.strftime('%Y-%m-%d')}",
        f"runs: {args.runs} per figure (medians, after one warm-up); target: server ≤"
        f" {TARGET_MS:.0f} ms",
        "server: the app's own time (Server-Timing); ttfb, body: over HTTP on 127.0.0.1;"
        " browser: Chromium's responseStart and loadEventEnd (usable: HTML, CSS, script done)",
        "",
        "| corpus         | page                               |   server |     ttfb |     body |"
        "      KB | br. ttfb |   usable |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(figure.row() for figure in figures),
    ]
    for figure in figures:
        lines += [f"note: {figure.corpus} {figure.page}: {note}" for note in figure.notes]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="*", default=[1.0, 10.0])
    parser.add_argument("--huge-mb", type=int, nargs="*", default=[50, 500])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--keep", action="store_true", help="keep each captured archive in bench/out for reruns"
    )
    parser.add_argument("--out", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    corpora = [
        (f"{scale:g}x corpus", BENCH / "out" / f"corpus-{scale}", ["--scale", str(scale)])
        for scale in args.scales
    ] + [
        (f"{mb} MB session", BENCH / "out" / f"huge-{mb}", ["--huge-mb", str(mb)])
        for mb in args.huge_mb
    ]
    figures: list[Figure] = []
    with _browser(args.no_browser) as browser:
        for name, corpus, gen_args in corpora:
            manifest = ensure(corpus, gen_args)
            figures += measure(name, corpus, manifest, args.runs, browser, args.keep)
    text = report(figures, args)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0 if all(f.server_ms <= TARGET_MS and not f.notes for f in figures) else 1


class _browser:
    def __init__(self, skip: bool) -> None:
        self.skip = skip or not Path(CHROMIUM).exists()

    def __enter__(self) -> Any:
        if self.skip:
            return None
        from playwright.sync_api import sync_playwright

        self.playwright = sync_playwright().start()
        return self.playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)

    def __exit__(self, *exc: object) -> None:
        if not self.skip:
            self.playwright.stop()


if __name__ == "__main__":
    sys.exit(main())
