"""Figures of the tether server's pages: a large session pushed to a real `tether server
start`, then opened by a signed-in user, among --sessions in all. The push has the server
read the session back in the background (its chunks from storage, joined and read by the
tool's own reader into the server's cache); pages then page the cached archive.

`python bench/web_server.py [--huge-mb 50] [--sessions 25000] [--runs 7] [--out FILE]`

The other sessions are rows written straight into the server's SQLite database (a head and
a piece of search text of about 200 common words each): the list, the facets and the search
read only those tables, and pushing 25,000 real sessions (1.5 GB) takes far longer than
measuring them.

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
    parser.add_argument("--sessions", type=int, default=25_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    home, manifest = huge(args.huge_mb)
    base = Path(tempfile.mkdtemp(prefix="bench-web-server-"))
    lines = [
        f"# The server's pages: one {args.huge_mb} MB Claude session among {args.sessions:,}",
        "",
    ]
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
            seconds, _ = tether(home, data, "push", "--all", "--keep-secrets", "--json")
            lines.append(f"push of the session: {seconds:.1f} s")
            ready = read_back(server.home / "server" / "held", 600)
            lines.append(f"read back in the background: ready {ready:.1f} s after the push")
            made_rows = fill(folder / "server.db", args.sessions - 1)
            lines.append(f"other sessions written into the database: {made_rows:,}")
            _, made = tether(home, data, "remote", "web", "--no-open", "--json")
            client = httpx.Client(base_url=server.url, timeout=600)
            code = made["url"].split("code=", 1)[1]
            signed = client.post("/-/sign-in", data={"code": code})
            assert signed.status_code == 303 and "tether_session" in client.cookies, signed.text
            lines += measure(client, manifest, args.runs, server.home / "server" / "held")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


def read_back(held: Path, limit: float) -> float:
    """Seconds until the pushed session's archive is in the server's cache."""
    started = time.perf_counter()
    while not any(held.glob("*.db")):
        if time.perf_counter() - started > limit:
            raise RuntimeError("the pushed session was not read back in the background")
        time.sleep(0.1)
    return time.perf_counter() - started


TOOLS = ("claude", "codex", "gemini", "copilot", "cursor", "cline", "opencode", "aider")
MODELS = ('["claude-opus-4-5"]', '["gpt-5-codex"]', '["gemini-2.5-pro"]', '["claude-sonnet-4-5"]')


def fill(database: Path, count: int) -> int:
    """`count` more sessions of the bench's user, as rows (a head, a piece of text each)."""
    import hashlib
    import random
    import sqlite3
    from datetime import UTC, datetime, timedelta

    from bench.gen_corpus import ENGLISH

    rng = random.Random(7)
    db = sqlite3.connect(database, timeout=60)
    owner = db.execute("SELECT owner_id, max(change) FROM sessions").fetchone()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with db:
        for n in range(count):
            native = f"bench-{n:06d}"
            tool = TOOLS[n % len(TOOLS)]
            sid = hashlib.sha256(f"{tool}\0{native}".encode()).hexdigest()
            when = (start + timedelta(minutes=rng.randrange(150 * 1440))).isoformat()
            pk = db.execute(
                "INSERT INTO sessions (owner_id, session_id, tool, native_id, title, project,"
                " cwd, created_at, updated_at, message_count, models, revision, bytes,"
                " text_pieces, pushed_at, change) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?)"
                " RETURNING pk",
                (
                    owner[0], sid, tool, native, " ".join(rng.choices(ENGLISH, k=6)),
                    f"/work/project-{n % 20}", f"/work/project-{n % 20}", when, when,
                    rng.randrange(2, 400), MODELS[n % len(MODELS)], sid, 10_000,
                    when.replace("T", " "), owner[1] + 1 + n,
                ),
            ).fetchone()[0]  # fmt: skip
            text = " ".join(rng.choices(ENGLISH, k=200))
            db.execute(
                "INSERT INTO search_docs (session_pk, seq, text) VALUES (?, 0, ?)", (pk, text)
            )
        db.execute("UPDATE counter SET value = ?", (owner[1] + count,))
    db.close()
    return count


def measure(client: httpx.Client, manifest: dict[str, object], runs: int, held: Path) -> list[str]:
    from tether.model import session_id

    native = manifest["session"]["id"]  # type: ignore[index]
    sid = session_id("claude", str(native))
    first_server, first_wall = timed(client, f"/s/{sid}")
    for built in held.glob("*.db"):  # evicted: the next open reads it back itself
        built.unlink()
    miss_server, miss_wall = timed(client, f"/s/{sid}")
    paging = client.get(f"/s/{sid}.json").json()["paging"]
    last = paging["last"] or 0
    lines = [
        f"first open after the push (read back in the background): server {first_server:.0f}"
        f" ms, request {first_wall:.0f} ms ({paging['total']:,} messages)",
        f"open when not in the cache (read back on demand: chunks joined and read):"
        f" server {miss_server:.0f} ms, request {miss_wall:.0f} ms",
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
        ("sessions list, page 40", "/sessions?page=40"),
        ("sessions list, one project", "/sessions?project=/work/project-3"),
        ("search 'the' (server-side)", "/search?q=the"),
        ("search a rare word (server-side)", "/search?q=zebrafinch"),
    ):
        timed(client, path)  # a warm-up
        times = [timed(client, path) for _ in range(runs)]
        server = statistics.median(t[0] for t in times)
        wall = statistics.median(t[1] for t in times)
        lines.append(f"| {name} | {server:.0f} | {wall:.0f} |")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
