"""Sync and the tether server, measured: figures next to their floor, a load test, the
append of one message to a 50 MB session.

`python bench/sync.py [--scale 1.0] [--clients 20] [--huge-mb 50] [--skip-load]
[--skip-single] [--out FILE]`. Generates the bench corpus if missing (bench/out/), starts
its own servers (SQLite + a folder; PostgreSQL + SeaweedFS S3 for the load test, as
tests/servers.py does) on 127.0.0.1, and stops them.

Single client (SQLite + folder server):
- floor: read every session file, compress it (zstd 3) and hash it (sha256), one process;
- first push of the corpus, redacted (as a user's `tether push --all`), and with
  --keep-secrets, each into an empty server, process start to exit;
- a sync with nothing new (`tether sync`), and the requests it makes;
- one message appended to a 50 MB session, pushed again: bytes sent against bytes added.

Load (PostgreSQL + S3, `tether server start --workers 2`): the corpus split between
`--clients` users, each pushing its part at the same time (to a team), then each pulling
another's part at the same time. Sessions/s, MB/s, p50/p95 of every request; then every
session is read back from the server and from the pulling archives and compared byte for
byte, and the database and the bucket are checked for chunks missing or held twice.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from tests import servers  # noqa: E402  -- the same real parts the tests start
from tests.travel import archived_bytes  # noqa: E402

OUT = BENCH / "out"


def corpus(scale: float) -> Path:
    out = OUT / f"corpus-{scale:g}"
    if not (out / "manifest.json").exists():
        subprocess.run(
            [sys.executable, str(BENCH / "gen_corpus.py"), str(out), "--scale", str(scale)],
            check=True,
        )
    return out / "home"


def env_for(home: Path, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    return {**env, "HOME": str(home), "TETHER_HOME": str(data)}


def tether(home: Path, data: Path, *args: str) -> tuple[float, Any]:
    """Run the CLI; (seconds, its --json output or None)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tether", *args],
        env=env_for(home, data),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"tether {' '.join(args)}: {done.stderr[-2000:]}")
    return seconds, (json.loads(done.stdout) if "--json" in args else None)


def session_files(home: Path) -> list[Path]:
    found = []
    for root in (home / ".claude" / "projects", home / ".codex" / "sessions"):
        found += sorted(p for p in root.rglob("*.jsonl") if p.is_file())
    return found


def floor(home: Path) -> dict[str, float]:
    import zstandard

    compressor = zstandard.ZstdCompressor(level=3)
    started = time.perf_counter()
    size = packed = 0
    for path in session_files(home):
        data = path.read_bytes()
        hashlib.sha256(data).digest()
        packed += len(compressor.compress(data))
        size += len(data)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "mb": size / 1e6, "compressed_mb": packed / 1e6}


def login(server: servers.TetherServer, home: Path, data: Path, user: str, again: bool) -> None:
    added = json.loads(server.cli("user", "add", user, *(["--again"] if again else []), "--json"))
    tether(
        home,
        data,
        "login",
        server.url,
        "--user",
        user,
        "--code",
        added["code"],
        "--device",
        "bench",
    )


# ----------------------------------------------------------------------------- single


def single(home: Path, huge_mb: int, lines: list[str]) -> None:
    base = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    try:
        _single(home, huge_mb, lines, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _single(home: Path, huge_mb: int, lines: list[str], base: Path) -> None:
    data = base / "tether"
    seconds, _ = tether(home, data, "scan", "-q")
    lines.append(f"archive: `tether scan` of the corpus, {seconds:.1f} s")
    low = floor(home)
    lines += [
        "",
        "| figure | seconds | MB | MB/s | sent MB | note |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
        f"| floor: read + zstd + sha256 every file | {low['seconds']:.1f} | {low['mb']:.1f} |"
        f" {low['mb'] / low['seconds']:.1f} | {low['compressed_mb']:.1f} | one process |",
    ]
    for keep in (False, True):
        folder = base / f"server-{int(keep)}"
        folder.mkdir()
        with servers.tether_server(
            f"sqlite:///{folder}/server.db", str(folder / "objects")
        ) as server:
            pushing = base / f"push-{int(keep)}"
            pushing.mkdir()
            data_copy = _copy_archive(data, pushing)
            login(server, home, data_copy, "alice", again=False)
            args = ["push", "--all", "--json", "--no-scan"] + (["--keep-secrets"] if keep else [])
            seconds, report = tether(home, data_copy, *args)
            mb = report["bytes_read"] / 1e6
            what = "first push, --keep-secrets" if keep else "first push, redacted (the default)"
            lines.append(
                f"| {what} | {seconds:.1f} | {mb:.1f} | {mb / seconds:.1f} |"
                f" {report['bytes_sent'] / 1e6:.1f} | {len(report['pushed'])} sessions,"
                f" {seconds / low['seconds']:.1f}x the floor |"
            )
            if not keep:
                _noop_sync(home, data_copy, server, lines)
    _append(huge_mb, base, lines)


def _copy_archive(data: Path, into: Path) -> Path:
    import sqlite3

    target = into / "tether"
    target.mkdir()
    source = sqlite3.connect(data / "tether.db")
    copy = sqlite3.connect(target / "tether.db")
    source.backup(copy)
    copy.close()
    source.close()
    return target


def _noop_sync(home: Path, data: Path, server: servers.TetherServer, lines: list[str]) -> None:
    runs = [tether(home, data, "sync", "--json")[0] for _ in range(5)]
    from tether.archive.db import connect
    from tether.paths import db_path
    from tether.sync.client import Client
    from tether.sync.push import Options
    from tether.sync.remote import load
    from tether.sync.travel import sync

    os.environ["TETHER_HOME"] = str(data)
    requests: list[str] = []

    class Counting(Client):
        def request(self, method: str, path: str, **kwargs: Any) -> Any:
            requests.append(f"{method} {path}")
            return super().request(method, path, **kwargs)

    from tether.sync import travel

    travel.Client = Counting  # type: ignore[misc]  # count what one sync asks
    db = connect(db_path(data))
    started = time.perf_counter()
    pushed, pulled = sync(db, load(), Options())
    inner = time.perf_counter() - started
    db.close()
    assert not pushed.pushed and not pulled.pulled, (pushed, pulled)
    count = len(session_files(home))
    lines.append(
        f"| sync with nothing new: `tether sync`, process start to exit (median of 5) |"
        f" {statistics.median(runs):.2f} | | | |"
        f" {count:,} sessions, with its scan (a stat a file) |"
    )
    lines.append(
        f"| sync with nothing new: the sync itself | {inner:.3f} | | | |"
        f" {len(requests)} request(s): {', '.join(requests)} |"
    )


def _append(huge_mb: int, base: Path, lines: list[str]) -> None:
    out = OUT / f"huge-{huge_mb}"
    if not (out / "manifest.json").exists():
        subprocess.run(
            [sys.executable, str(BENCH / "gen_corpus.py"), str(out), "--huge-mb", str(huge_mb)],
            check=True,
        )
    home = base / "huge-home"
    subprocess.run(["cp", "-r", str(out / "home"), str(home)], check=True)
    data = base / "huge-tether"
    folder = base / "huge-server"
    folder.mkdir()
    with servers.tether_server(f"sqlite:///{folder}/server.db", str(folder / "objects")) as server:
        tether(home, data, "scan", "-q")
        login(server, home, data, "alice", again=False)
        _, first = tether(home, data, "push", "--all", "--json")
        path = session_files(home)[0]
        from tests.stores import append, claude_prompt

        line = claude_prompt(path, "and one more message, at the end of a long session")
        append(path, line)
        seconds, report = tether(home, data, "push", "--all", "--json")
        lines += [
            "",
            f"append: one message ({len(line)} bytes) added to a {path.stat().st_size / 1e6:.0f} MB"
            " Claude Code session, then `tether push --all` (with its scan):",
            "",
            "| | bytes |",
            "| --- | ---: |",
            f"| first push sent | {first['bytes_sent']:,} |",
            f"| the message added | {len(line):,} |",
            f"| the push after it sent | {report['bytes_sent']:,} (in {seconds:.2f} s) |",
        ]


# ------------------------------------------------------------------------------- load


def split_homes(home: Path, clients: int, base: Path) -> list[Path]:
    """The corpus's session files shared out between `clients` HOMEs (hard links)."""
    homes = [base / f"client{i}" / "home" for i in range(clients)]
    for index, path in enumerate(session_files(home)):
        target = homes[index % clients] / path.relative_to(home)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target)
    return homes


def load(home: Path, clients: int, lines: list[str]) -> None:
    base = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        _load(home, clients, lines, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _load(home: Path, clients: int, lines: list[str], base: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    homes = split_homes(home, clients, base)
    datas = [h.parent / "tether" for h in homes]
    with ThreadPoolExecutor(2) as pool:
        list(
            pool.map(lambda hd: tether(hd[0], hd[1], "scan", "-q"), zip(homes, datas, strict=True))
        )
    with servers.postgres() as pg, servers.seaweed() as s3:
        storage = f"s3://{servers.BUCKET}/load?endpoint=http://127.0.0.1:{s3.port}"
        server = servers.TetherServer(pg.url, storage, base / "server", s3.env())
        server.home.mkdir()
        server.start(workers=2)
        try:
            server.cli("team", "add", "load")
            for i, (h, d) in enumerate(zip(homes, datas, strict=True)):
                login(server, h, d, f"u{i}", again=False)
                server.cli("team", "member", "add", "load", f"u{i}")
            jobs = [(i, str(d)) for i, d in enumerate(datas)]
            with ProcessPoolExecutor(clients) as pool:
                started = time.perf_counter()
                pushed = list(pool.map(_push_client, jobs))
                push_seconds = time.perf_counter() - started
                started = time.perf_counter()
                pulled = list(pool.map(_pull_client, [(i, str(d), clients) for i, d in jobs]))
                pull_seconds = time.perf_counter() - started
            _report_load(lines, clients, pushed, push_seconds, pulled, pull_seconds)
            _verify(lines, server, pg, datas, clients)
        finally:
            server.stop()


def _recording_client(latencies: list[float]) -> Any:
    from tether.sync.client import Client

    class Recording(Client):
        def request(self, method: str, path: str, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return super().request(method, path, **kwargs)
            finally:
                latencies.append(time.perf_counter() - started)

    return Recording


def _push_client(job: tuple[int, str]) -> dict[str, Any]:
    index, data = job
    os.environ["TETHER_HOME"] = data
    from tether.archive.db import connect
    from tether.paths import db_path
    from tether.sync.push import Options, push
    from tether.sync.remote import load as load_remote

    latencies: list[float] = []
    remote = load_remote()
    db = connect(db_path(Path(data)))
    started = time.perf_counter()
    with _recording_client(latencies).of(remote) as client:
        report = push(db, client, remote.url, None, Options(keep_secrets=True, team="load"))
    db.close()
    return {
        "client": index,
        "sessions": len(report.pushed),
        "failed": report.failed,
        "bytes_read": report.bytes_read,
        "bytes_sent": report.bytes_sent,
        "seconds": time.perf_counter() - started,
        "latencies": latencies,
    }


def _pull_client(job: tuple[int, str, int]) -> dict[str, Any]:
    index, data, clients = job
    os.environ["TETHER_HOME"] = data
    from tether.archive.db import connect
    from tether.paths import db_path
    from tether.sync.pull import pull_heads
    from tether.sync.remote import load as load_remote

    latencies: list[float] = []
    remote = load_remote()
    db = connect(db_path(Path(data)))
    started = time.perf_counter()
    with _recording_client(latencies).of(remote) as client:
        other = f"u{(index + 1) % clients}"
        heads = client.get("/api/v1/sessions", owner=other, limit=1000)
        report = pull_heads(db, client, remote.url, heads)
    db.close()
    return {
        "client": index,
        "sessions": len(report.pulled),
        "skipped": report.skipped,
        "bytes": report.bytes_received,
        "seconds": time.perf_counter() - started,
        "latencies": latencies,
    }


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _report_load(
    lines: list[str],
    clients: int,
    pushed: list[dict[str, Any]],
    push_seconds: float,
    pulled: list[dict[str, Any]],
    pull_seconds: float,
) -> None:
    assert all(not p["failed"] for p in pushed), [p["failed"] for p in pushed if p["failed"]]
    assert all(not p["skipped"] for p in pulled), [p["skipped"] for p in pulled if p["skipped"]]
    lines += [
        "",
        f"load: {clients} clients at once against PostgreSQL 15 + SeaweedFS S3"
        " (`tether server start --workers 2`), every request timed at the client:",
        "",
        "| phase | sessions | wall s | sessions/s | MB (raw) | MB/s | requests | p50 ms | p95 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, results, seconds, size in (
        ("push", pushed, push_seconds, "bytes_read"),
        ("pull", pulled, pull_seconds, "bytes"),
    ):
        count = sum(r["sessions"] for r in results)
        mb = sum(r[size] for r in results) / 1e6
        latencies = [x for r in results for x in r["latencies"]]
        lines.append(
            f"| {name} | {count} | {seconds:.1f} | {count / seconds:.1f} | {mb:.1f} |"
            f" {mb / seconds:.1f} | {len(latencies)} | {_percentile(latencies, 0.5) * 1000:.0f} |"
            f" {_percentile(latencies, 0.95) * 1000:.0f} |"
        )


def _verify(
    lines: list[str],
    server: servers.TetherServer,
    pg: servers.Postgres,
    datas: list[Path],
    clients: int,
) -> None:
    """Every session on the server and in the pulling archive byte-identical to the
    pusher's; no chunk row without its object, none twice."""
    import psycopg

    mismatched = missing = 0
    total = 0
    for index, data in enumerate(datas):
        mine = archived_bytes(data, pulled=False)
        puller = archived_bytes(datas[(index - 1) % clients], pulled=True)
        total += len(mine)
        for sid, data_bytes in mine.items():
            if sid not in puller:
                missing += 1
            elif puller[sid] != data_bytes:
                mismatched += 1
    with psycopg.connect(pg.url) as connection:
        counts = connection.execute(
            "SELECT (SELECT count(*) FROM sessions), (SELECT count(DISTINCT (owner_id, session_id))"
            " FROM sessions), (SELECT count(*) FROM chunks), (SELECT count(DISTINCT hash) FROM"
            " session_chunks), (SELECT count(*) FROM session_chunks c WHERE NOT EXISTS"
            " (SELECT 1 FROM chunks k WHERE k.hash = c.hash))"
        ).fetchone()
    assert counts is not None
    sessions, distinct, chunk_rows, referenced, dangling = counts
    objects = _objects(server)
    lines += [
        "",
        f"check: {total} sessions pushed; pulled by another client: {total - missing} (missing"
        f" {missing}), byte-identical: {total - missing - mismatched} (different {mismatched});"
        f" on the server: {sessions} sessions ({distinct} distinct), {chunk_rows} chunk rows,"
        f" {referenced} referenced, {dangling} referenced without a row, {len(objects)} objects"
        f" in the bucket ({len(objects) - chunk_rows} more than rows)",
    ]


def _objects(server: servers.TetherServer) -> list[str]:
    from urllib.parse import parse_qs, urlsplit

    import obstore
    from obstore.store import S3Store

    parts = urlsplit(server.storage)
    endpoint = parse_qs(parts.query)["endpoint"][0]
    store = S3Store(
        parts.netloc,
        prefix=parts.path.strip("/"),
        endpoint=endpoint,
        access_key_id=servers.S3_KEY,
        secret_access_key=servers.S3_SECRET,
        region="us-east-1",
        virtual_hosted_style_request=False,
        client_options={"allow_http": True},
    )
    return [item["path"] for batch in obstore.list(store, prefix="chunks") for item in batch]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--huge-mb", type=int, default=50)
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-single", action="store_true")
    parser.add_argument("--out", type=Path, help="also write the figures here")
    args = parser.parse_args()
    home = corpus(args.scale)
    lines = [
        f"# tether sync bench, {time.strftime('%Y-%m-%d')}",
        f"corpus: {home.parent.name} ({len(session_files(home))} session files);"
        f" {os.cpu_count()} cores",
        "",
    ]
    if not args.skip_single:
        single(home, args.huge_mb, lines)
    if not args.skip_load:
        load(home, args.clients, lines)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
