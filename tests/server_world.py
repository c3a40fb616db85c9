"""Three users of a real tether server, for the tests of its pages and its MCP tools: alice
and carol share the team `backend` (carol pushes her Codex session to it), bob keeps his
Claude session to himself, alice pushes her own. Signing a browser (an httpx client) in
goes the way `tether remote web` does it."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.servers import TetherServer
from tests.stores import CLAUDE_ID, CODEX_ID, place_claude, place_codex
from tests.travel import Machine, machine, server_for
from tether.model import session_id

BOB_ID = "bbbbbbbb-1111-4222-8333-444455556666"
WORD = "zebrafinch"
"""In alice's session and in bob's: each must find only their own."""
TOUCHED = "docs/zebra-notes.md"
"""A file alice's session and bob's read."""
ALICE_SID = session_id("claude", CLAUDE_ID)
CAROL_SID = session_id("codex", CODEX_ID)
BOB_SID = session_id("claude", BOB_ID)


@dataclass
class World:
    server: TetherServer
    alice: Machine
    bob: Machine
    carol: Machine

    def token(self, who: Machine) -> str:
        return str(json.loads((who.data / "remote.json").read_text())["token"])

    def browser(self, who: Machine) -> httpx.Client:
        """A client signed in to the pages as `who`, through a one-time link."""
        client = httpx.Client(base_url=self.server.url, timeout=60)
        link = self.sign_in_link(who)
        page = client.get(link)
        assert page.status_code == 200 and 'id="confirm"' in page.text
        code = re.search(r'name="code" value="([^"]+)"', page.text)
        assert code is not None
        done = client.post(
            "/-/sign-in", data={"code": code[1], "next": "/sessions"}, headers=self.origin
        )
        assert done.status_code == 303, done.text
        return client

    def sign_in_link(self, who: Machine) -> str:
        """The link `tether remote web` gives (and would open)."""
        from tests.test_json_output import SHAPES, assert_shape

        made = who.json("remote", "web", "--no-open")
        assert_shape(made, SHAPES["remote web"], "remote web")
        assert made["opened"] is False and made["url"].startswith(self.server.url + "/-/sign-in")
        return str(made["url"])

    @property
    def origin(self) -> dict[str, str]:
        return {"Origin": self.server.url}


@contextmanager
def world(
    backend: tuple[str, str, dict[str, str]], base: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    database, storage, env = backend
    # The redaction rules' compiled cache, shared by the servers the tests start (each has
    # a HOME of its own: cold, the rules take most of a minute to compile on a busy box).
    env = env | {"XDG_CACHE_HOME": str(Path(tempfile.gettempdir()) / "tether-tests-cache")}
    with server_for((database, storage, env)) as server:
        server.cli("team", "add", "backend")
        alice = machine("alice-box", base, monkeypatch)
        bob = machine("bob-box", base, monkeypatch)
        carol = machine("carol-box", base, monkeypatch)
        place_claude(alice.home, sample=_with_word(base / "alice.jsonl", CLAUDE_ID))
        place_claude(bob.home, sample=_with_word(base / "bob.jsonl", BOB_ID), sid=BOB_ID)
        place_codex(carol.home)
        for who, name in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
            who.run("scan", "-q")
            who.login(server, name)
        server.cli("team", "member", "add", "backend", "alice")
        server.cli("team", "member", "add", "backend", "carol")
        alice.json("push", "--all")
        bob.json("push", "--all")
        carol.json("push", "--all", "--team", "backend")
        yield World(server, alice, bob, carol)


def _with_word(path: Path, native_id: str) -> Path:
    """The Claude sample as session `native_id`, its first prompt holding WORD."""
    from tests.stores import CLAUDE_SAMPLE

    data = CLAUDE_SAMPLE.read_text().replace(CLAUDE_ID, native_id).rstrip("\n") + "\n"
    data = data.replace("can you review", f"{WORD}: can you review", 1)
    read = {  # a Read call, for sessions_touching_file
        "parentUuid": None, "isSidechain": False, "type": "assistant", "uuid": "read-1",
        "sessionId": native_id, "cwd": "/Users/soph/Work/entire/devenv/cli",
        "timestamp": "2026-01-22T19:02:00.000Z",
        "message": {"model": "claude-opus-4-5-20251101", "id": "msg_read", "type": "message",
                    "role": "assistant", "content": [
                        {"type": "tool_use", "id": "toolu_read", "name": "Read",
                         "input": {"file_path": f"/Users/soph/Work/entire/devenv/cli/{TOUCHED}"}}]},
    }  # fmt: skip
    path.write_text(data + json.dumps(read) + "\n")
    return path


def shared_world(factory: pytest.TempPathFactory, name: str) -> Iterator[World]:
    """A world on SQLite for a module's tests to share (the body of a module fixture)."""
    base = factory.mktemp(name)
    folder = base / "server"
    folder.mkdir()
    backend = (f"sqlite:///{folder}/server.db", str(folder / "objects"), {})
    with pytest.MonkeyPatch.context() as patch, world(backend, base, patch) as made:
        yield made
