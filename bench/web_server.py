"""Figures of the tether server's pages: a large session pushed to a real `tether server
start`, then opened by a signed-in user. The first open reads the session back (its chunks
from storage, joined and read by the tool's own reader into the server's cache); later opens
page the cached archive.

`python bench/web_server.py [--huge-mb 50] [--runs 7] [--out FILE]`

Per page: the server's own time (the Server-Timing header of the pages) and the whole
request over HTTP (httpx, medians of --runs after the first). Target as for `tether web`:
300 ms of server time for every page once the session is read back.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from bench.sync import login, tether  # noqa: E402  -- the same CLI runs
from tests import servers  # noqa: E402  -- the same real parts the tests start


def huge(megabytes: int) -> tuple[Path, dict[str, object]]:
    out = BENCH / "out" / f"huge-{megabytes}"
    manifest = out / "manifest.json"
    if not manifest.exists():
        import subprocess

        subprocess.run(
            [sys.executable, str(BENCH / "gen_corpus.py"), str(out), "--huge-mb", str(megabytes)],
            check=True,
        )
    return out / "home", json.loads(manifest.read_text())


def server_ms(response: httpx.Response) -> float:
    timing = response.headers.get("server-timing", "page;dur=nan")
    return float(timing.split("dur=", 1)[1])


def timed(client: httpx.Client, path: str) -> tuple[float, float]:
    started = time.perf_counter()
    response = client.get(path)
    wall = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return server_ms(response), wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--huge-mb", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    home, manifest = huge(args.huge_mb)
    base = Path(tempfile.mkdtemp(prefix="bench-web-server-"))
    lines = [f"# The server's pages: one {args.huge_mb} MB Claude session", ""]
    try:
        data = base / "tether"
        tether(home, data, "scan", "-q")
        folder = base / "server"
        folder.mkdir()
        database, storage = f"sqlite:///{folder}/server.db", str(folder / "objects")
        # The redaction rules' compiled cache of this user: a server in a new HOME would
        # spend its first minute compiling them, and the first open would wait for that.
        cache = {"XDG_CACHE_HOME": str(Path.home() / ".cache")}
        with servers.tether_server(database, storage, cache) as server:
            login(server, home, data, "alice", again=False)
            seconds, _ = tether(home, data, "push", "--all", "--json")
            lines.append(f"push of the session: {seconds:.1f} s")
            _, made = tether(home, data, "remote", "web", "--no-open", "--json")
            client = httpx.Client(base_url=server.url, timeout=600)
            code = made["url"].split("code=", 1)[1]
            signed = client.post("/-/sign-in", data={"code": code})
            assert signed.status_code == 303 and "tether_session" in client.cookies, signed.text
            lines += measure(client, manifest, args.runs)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


def measure(client: httpx.Client, manifest: dict[str, object], runs: int) -> list[str]:
    from tether.model import session_id

    native = manifest["session"]["id"]  # type: ignore[index]
    sid = session_id("claude", str(native))
    first_server, first_wall = timed(client, f"/s/{sid}")
    paging = client.get(f"/s/{sid}.json").json()["paging"]
    last = paging["last"] or 0
    lines = [
        f"first open (read back: chunks joined and read into the cache): server {first_server:.0f}"
        f" ms, request {first_wall:.0f} ms ({paging['total']:,} messages)",
        "",
        "| page (after the first open) | server ms (median) | request ms (median) |",
        "| --- | --- | --- |",
    ]
    for name, path in (
        ("session, first page", f"/s/{sid}"),
        ("session, a middle page", f"/s/{sid}?from={last // 2}"),
        ("session, last page", f"/s/{sid}?from={last}"),
        ("session, search 'the' inside", f"/s/{sid}?q=the"),
        ("sessions list", "/sessions"),
        ("search 'the' (server-side)", "/search?q=the"),
    ):
        timed(client, path)  # a warm-up
        times = [timed(client, path) for _ in range(runs)]
        server = statistics.median(t[0] for t in times)
        wall = statistics.median(t[1] for t in times)
        lines.append(f"| {name} | {server:.0f} | {wall:.0f} |")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
