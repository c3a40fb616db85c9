"""Machines and a server for the sync tests: each machine is a HOME and a TETHER_HOME, its
commands run as a user types them (in-process), and the server is `tether server start`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.conftest import run
from tests.servers import TetherServer, tether_server


@dataclass
class Machine:
    name: str
    home: Path
    data: Path
    monkeypatch: pytest.MonkeyPatch

    def use(self) -> None:
        self.monkeypatch.setenv("HOME", str(self.home))
        self.monkeypatch.setenv("TETHER_HOME", str(self.data))
        # A world made for a whole module is set up before the autouse fixture that turns
        # this off: an answer would start a watcher that outlives the tests.
        self.monkeypatch.setenv("TETHER_WATCH_ON_DEMAND", "0")

    def run(self, *args: str, ok: bool = True) -> Result:
        self.use()
        return run(*args, ok=ok)

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    def login(self, server: TetherServer, user: str, again: bool = False) -> None:
        added = json.loads(
            server.cli("user", "add", user, *(["--again"] if again else []), "--json")
        )
        self.run(
            "login", server.url, "--user", user, "--code", added["code"], "--device", self.name
        )


def machine(name: str, base: Path, monkeypatch: pytest.MonkeyPatch) -> Machine:
    home, data = base / name / "home", base / name / "tether"
    home.mkdir(parents=True)
    return Machine(name, home, data, monkeypatch)


@contextmanager
def server_for(backend: tuple[str, str, dict[str, str]]) -> Iterator[TetherServer]:
    database, storage, env = backend
    with tether_server(database, storage, env) as server:
        yield server


def archived_bytes(data: Path, pulled: bool | None = None) -> dict[str, bytes]:
    """The raw bytes of every session of an archive (all its files), by tether id: those
    from its own files (pulled=False), from a server (True), or all (None)."""
    from tether.archive.db import connect
    from tether.paths import db_path
    from tether.sync.outgoing import archived

    where = "" if pulled is None else f" AND src.origin {'=' if pulled else '!='} 'pull'"
    db = connect(db_path(data))
    try:
        out: dict[str, bytes] = {}
        rows = db.execute(
            "SELECT s.id, src.id, src.generation FROM sessions s JOIN sources src"
            f" ON src.session_pk = s.pk WHERE s.message_count > 0{where} ORDER BY src.id"
        ).fetchall()
        for sid, source_id, generation in rows:
            out[sid] = out.get(sid, b"") + archived(db, source_id, generation)
        return out
    finally:
        db.close()
