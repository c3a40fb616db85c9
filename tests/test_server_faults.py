"""Faults, on PostgreSQL and S3 (SeaweedFS): the server killed with kill -9 mid-push,
PostgreSQL restarted mid-push, the S3 server stopped. Each time the client says so in one
line, and running the same push again completes: every session on the server, its bytes
identical to the machine's (a second machine pulls them all and compares), none twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.servers import TetherServer
from tests.travel import archived_bytes, machine, server_for

REPO = Path(__file__).resolve().parents[1]
SCALE = "0.04"  # 80 Claude Code sessions and 20 Codex rollouts, ~8 MB


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "gen_corpus.py"), str(out), "--scale", SCALE],
        check=True,
        capture_output=True,
    )
    return out / "home"


@pytest.fixture
def pg_backend(
    postgres_server: Any, s3_server: Any
) -> Iterator[tuple[tuple[str, str, dict[str, str]], Any, Any]]:
    import uuid

    from tests.conftest import _create_database
    from tests.servers import BUCKET

    name = "f" + uuid.uuid4().hex[:12]
    _create_database(postgres_server, name)
    url = postgres_server.url.rsplit("/", 1)[0] + f"/{name}"
    storage = f"s3://{BUCKET}/{name}?endpoint=http://127.0.0.1:{s3_server.port}"
    yield (url, storage, s3_server.env()), postgres_server, s3_server


def tether(home: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TETHER_")},
        "HOME": str(home),
        "TETHER_HOME": str(data),
        "TETHER_WATCH_ON_DEMAND": "0",  # a watcher started by `list` would outlive the test
    }
    return subprocess.run(
        [sys.executable, "-m", "tether", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def sessions_on_server(database: str) -> int:
    with psycopg.connect(database) as connection:
        row = connection.execute("SELECT count(*) FROM sessions").fetchone()
        return int(row[0]) if row else 0


def when_some_arrived(database: str, total: int, act: Any) -> threading.Thread:
    """Run `act` once the push is under way: chunks on the server, not every session yet
    (a batch of sessions commits at once, after its chunks)."""

    def watch() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(database) as connection:
                    row = connection.execute(
                        "SELECT (SELECT count(*) FROM chunk_owners),"
                        " (SELECT count(*) FROM sessions)"
                    ).fetchone()
                if row is not None and row[0] > 0 and row[1] < total:
                    act()
                    return
            except psycopg.Error:
                pass
            time.sleep(0.005)

    thread = threading.Thread(target=watch)
    thread.start()
    return thread


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode in (1, 5), (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tether: error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def check_nothing_lost_or_doubled(
    server: TetherServer, database: str, base: Path, work: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = archived_bytes(work.data)
    other = machine(f"check{len(list(base.iterdir()))}", base, monkeypatch)
    other.login(server, "alice", again=True)
    pulled = other.json("pull", "--all")
    assert len(pulled["pulled"]) == len(mine) and pulled["skipped"] == []
    theirs = archived_bytes(other.data)
    assert set(theirs) == set(mine)
    assert all(theirs[sid] == mine[sid] for sid in mine)  # byte-identical
    with psycopg.connect(database) as connection:
        doubled = connection.execute(
            "SELECT count(*) FROM (SELECT owner_id, session_id FROM sessions"
            " GROUP BY owner_id, session_id HAVING count(*) > 1) AS d"
        ).fetchone()
        sizes = connection.execute(
            "SELECT count(*) FROM session_sources src WHERE src.size !="
            " (SELECT coalesce(sum(length), 0) FROM session_chunks c"
            " WHERE c.session_pk = src.session_pk AND c.idx = src.idx)"
        ).fetchone()
        assert sessions_on_server(database) == len(mine)
    assert doubled == (0,) and sizes == (0,)


@pytest.mark.parametrize("fault", ["server killed", "postgresql restarted", "s3 stopped"])
def test_a_push_cut_short_is_finished_by_running_it_again(
    fault: str,
    corpus: Path,
    pg_backend: tuple[tuple[str, str, dict[str, str]], Any, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend, postgres, s3 = pg_backend
    database = backend[0]
    with server_for(backend) as server:
        work = machine("workstation", tmp_path, monkeypatch)
        work.home.rmdir()
        work.home.symlink_to(corpus, target_is_directory=True)
        work.login(server, "alice")
        assert tether(work.home, work.data, "scan", "-q").returncode == 0
        total = len(json.loads(tether(work.home, work.data, "list", "--json", "-n", "9999").stdout))

        if fault == "server killed":
            watcher = when_some_arrived(database, total, lambda: server.stop(signal.SIGKILL))
            done = tether(work.home, work.data, "push", "--all", "--keep-secrets")
            watcher.join()
            line = one_line_error(done)
            assert "cannot reach the tether server" in line or "did not answer" in line
            server.start()
        elif fault == "postgresql restarted":
            watcher = when_some_arrived(database, total, postgres.restart)
            done = tether(work.home, work.data, "push", "--all", "--keep-secrets")
            watcher.join()
            if done.returncode != 0:  # the restart may fall between two requests
                assert "database is unavailable" in one_line_error(done)
        else:
            s3.stop()
            try:
                done = tether(work.home, work.data, "push", "--all", "--keep-secrets")
                assert "object storage is unavailable" in one_line_error(done)
                assert sessions_on_server(database) == 0
            finally:
                s3.start()

        again = tether(work.home, work.data, "push", "--all", "--keep-secrets", "--json")
        assert again.returncode == 0, again.stderr
        finished = json.loads(again.stdout)
        assert finished["failed"] == []
        assert len(finished["pushed"]) + finished["unchanged"] == total
        check_nothing_lost_or_doubled(server, database, tmp_path, work, monkeypatch)
