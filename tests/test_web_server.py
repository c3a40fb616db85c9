"""The server's web pages and its MCP tools, against a real `tether server start` process:
three users (tests/server_world.py), each seeing what the server's scope lets them see."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server_world import ALICE_SID, BOB_SID, CAROL_SID, WORD, world


@pytest.fixture
def sqlite_backend(tmp_path: Path) -> tuple[str, str, dict[str, str]]:
    folder = tmp_path / "server"
    folder.mkdir()
    return f"sqlite:///{folder}/server.db", str(folder / "objects"), {}


def test_each_sees_own_and_teams_not_others(
    sqlite_backend: tuple[str, str, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with world(sqlite_backend, tmp_path, monkeypatch) as w:
        alice = w.browser(w.alice)
        listed = alice.get("/sessions.json").json()
        ids = {row["id"] for row in listed["sessions"]}
        assert ids == {ALICE_SID, CAROL_SID}
        page = alice.get(f"/s/{ALICE_SID}")
        assert page.status_code == 200 and WORD in page.text, page.text[:2000]
        assert alice.get(f"/s/{CAROL_SID}").status_code == 200
        assert alice.get(f"/s/{BOB_SID}").status_code == 404
        assert alice.get(f"/s/{BOB_SID}.json").status_code == 404
        hits = alice.get("/search.json", params={"q": WORD}).json()["hits"]
        assert [h["session_id"] for h in hits] == [ALICE_SID]
