"""The server's web pages and its MCP tools, against a real `tether server start` process:
three users (tests/server_world.py), each seeing what the server's scope lets them see.

The tests share one world (a server start and three machines' pushes take half a minute);
the handoff, which changes what bob sees, comes last."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from tests.server_world import (
    ALICE_SID,
    BOB_SID,
    CAROL_SID,
    TOUCHED,
    WORD,
    World,
    shared_world,
    world,
)


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from shared_world(tmp_path_factory, "web-server")


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found is not None, page.text[:500]
    return found[1]


def test_a_pushed_session_is_read_back_before_anyone_opens_it(w: World) -> None:
    """The push queued its sessions to be read back: they appear in the server's cache with
    no page opened (this test runs first), and the first page is served from that file."""
    import time

    held = Path(w.server.home) / "server" / "held"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        built = {path.name.split("-")[1]: path for path in held.glob("*.db")}
        if {ALICE_SID, BOB_SID, CAROL_SID} <= set(built):
            break
        time.sleep(0.2)
    assert {ALICE_SID, BOB_SID, CAROL_SID} <= set(built), sorted(held.iterdir())
    before = built[ALICE_SID].stat().st_ino
    page = w.browser(w.alice).get(f"/s/{ALICE_SID}")
    assert page.status_code == 200 and WORD in page.text
    assert built[ALICE_SID].stat().st_ino == before  # a hit: the file the push built
    assert not list(held.glob(".build-*"))


def test_each_sees_own_and_teams_not_anothers(w: World) -> None:
    alice = w.browser(w.alice)
    listed = alice.get("/sessions.json").json()
    assert {row["id"] for row in listed["sessions"]} == {ALICE_SID, CAROL_SID}
    assert {p for p, _ in listed["facets"]["people"]} == {"alice", "carol"}
    assert listed["facets"]["teams"] == [["backend", 1]]
    by_team = alice.get("/sessions.json", params={"team": "backend"}).json()["sessions"]
    assert [row["id"] for row in by_team] == [CAROL_SID]
    by_person = alice.get("/sessions.json", params={"person": "alice"}).json()["sessions"]
    assert [row["id"] for row in by_person] == [ALICE_SID]

    page = alice.get(f"/s/{ALICE_SID}")
    assert page.status_code == 200 and WORD in page.text
    assert "tool call" in page.text.lower() and f"tether resume {ALICE_SID}" in page.text
    teammates = alice.get(f"/s/{CAROL_SID}.json").json()
    assert teammates["session"]["via"] == "team" and teammates["messages"]
    for path in (
        f"/s/{BOB_SID}",
        f"/s/{BOB_SID}.json",
        f"/s/{BOB_SID[:12]}",
        f"/s/{BOB_SID}/m/0/0",
    ):
        assert alice.get(path).status_code == 404, path  # not 403: it does not exist for her
    hits = alice.get("/search.json", params={"q": WORD}).json()["hits"]
    assert [h["session_id"] for h in hits] == [ALICE_SID]
    within = alice.get(f"/s/{ALICE_SID}.json", params={"q": WORD}).json()["within"]
    assert within["hits"] and "«" in within["hits"][0]["snippet"]

    bob = w.browser(w.bob)
    assert [row["id"] for row in bob.get("/sessions.json").json()["sessions"]] == [BOB_SID]
    assert [h["session_id"] for h in bob.get("/search.json?q=" + WORD).json()["hits"]] == [BOB_SID]
    assert bob.get(f"/s/{ALICE_SID}").status_code == 404


def test_without_signing_in_nothing_is_shown(w: World) -> None:
    anyone = httpx.Client(base_url=w.server.url, timeout=30)
    first = anyone.get(f"/s/{ALICE_SID}")
    assert first.status_code == 303
    assert first.headers["location"].startswith("/-/sign-in?next=")
    for path in ("/sessions.json", f"/s/{ALICE_SID}.json", "/static/app.js", "/inbox.json"):
        assert anyone.get(path).status_code == 401, path
    forged = anyone.post(f"/s/{ALICE_SID}/handoff", data={"to": "bob"}, headers=w.origin)
    assert forged.status_code == 401
    anyone.cookies.set("tether_session", "0123456789abcdef." + "x" * 43)
    assert anyone.get("/sessions.json").status_code == 401
    # a one-time link works once, and a wrong code not at all
    link = w.sign_in_link(w.alice)
    code = link.split("code=", 1)[1]
    bad = code[:-4] + ("aaaa" if not code.endswith("aaaa") else "bbbb")
    # the confirm page says whose account the link opens (it may be someone else's, sent to
    # you), and a wrong code gets no form at all
    confirm = anyone.get(link)
    assert confirm.status_code == 200 and "Sign in to tether as alice</h1>" in confirm.text
    assert "<code>alice-box</code>" in confirm.text, confirm.text
    refused = anyone.get(f"/-/sign-in?code={bad}")
    assert refused.status_code == 403 and 'id="confirm"' not in refused.text
    assert anyone.post("/-/sign-in", data={"code": bad}, headers=w.origin).status_code == 403
    assert anyone.post("/-/sign-in", data={"code": code}, headers=w.origin).status_code == 303
    again = httpx.Client(base_url=w.server.url, timeout=30)
    assert again.post("/-/sign-in", data={"code": code}, headers=w.origin).status_code == 403
    # from another site, the exchange is refused even with a good code
    other = w.sign_in_link(w.alice).split("code=", 1)[1]
    elsewhere = {"Origin": "http://evil.example"}
    assert again.post("/-/sign-in", data={"code": other}, headers=elsewhere).status_code == 403


def test_the_cookie_is_httponly_samesite_and_a_token_signs_in_too(w: World) -> None:
    client = httpx.Client(base_url=w.server.url, timeout=30)
    wrong = client.post("/-/sign-in", data={"token": "tt_0000000000000000_" + "a" * 43})
    assert wrong.status_code == 403 and "set-cookie" not in wrong.headers
    done = client.post("/-/sign-in", data={"token": w.token(w.carol), "next": "//evil.example/"})
    assert done.status_code == 303 and done.headers["location"] == "/sessions"
    cookie = done.headers["set-cookie"].lower()
    assert cookie.startswith("tether_session=")
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain http on 127.0.0.1; over https it is Secure
    page = client.get("/sessions")
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert "carol" in page.text


def test_changes_need_the_csrf_token_and_the_sites_origin(w: World) -> None:
    alice = w.browser(w.alice)
    page = alice.get(f"/s/{ALICE_SID}")
    token = csrf_of(page)
    handoff = f"/s/{ALICE_SID}/handoff"
    assert alice.post(handoff, data={"to": "bob"}, headers=w.origin).status_code == 403
    wrong = {"to": "bob", "csrf": "0" * 64}
    assert alice.post(handoff, data=wrong, headers=w.origin).status_code == 403
    forged = {"to": "bob", "csrf": token}
    elsewhere = {"Origin": "http://evil.example"}
    assert alice.post(handoff, data=forged, headers=elsewhere).status_code == 403
    assert alice.post("/-/sign-out", headers=w.origin).status_code == 403
    bob = w.browser(w.bob)
    assert bob.get("/inbox.json").json()["handoffs"] == []


def test_mcp_over_http_answers_each_user_with_their_own(w: World) -> None:
    async def call(token: str | None) -> Any:
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = streamable_http_client(
            f"{w.server.url}/mcp", http_client=create_mcp_http_client(headers=headers)
        )
        async with Client(transport) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            found = await client.call_tool("search_sessions", {"query": WORD})
            recent = await client.call_tool("recent_sessions", {})
            read = await client.call_tool("get_session", {"session_id": ALICE_SID[:12]})
            touching = await client.call_tool("sessions_touching_file", {"path": TOUCHED})
            return tools, found.structured_content, recent.structured_content, read, touching

    tools, found, recent, read, touching = anyio.run(call, w.token(w.alice))
    assert "search_sessions" in tools and "get_session" in tools and len(tools) == 5
    assert [hit["session_id"] for hit in found["hits"]] == [ALICE_SID]
    assert {s["session_id"] for s in recent["sessions"]} == {ALICE_SID, CAROL_SID}
    assert WORD in str(read.structured_content["messages"][0]["text"])
    touched = touching.structured_content["sessions"]
    assert [t["session"]["session_id"] for t in touched] == [ALICE_SID]
    _, theirs, _, denied, touched_by_bob = anyio.run(call, w.token(w.bob))
    bobs = touched_by_bob.structured_content["sessions"]
    assert [t["session"]["session_id"] for t in bobs] == [BOB_SID]
    assert [hit["session_id"] for hit in theirs["hits"]] == [BOB_SID]
    assert denied.is_error  # alice's session does not exist for bob

    for given in (None, "Bearer tt_0000000000000000_" + "a" * 43, "Basic YWxpY2U6eA=="):
        headers = {"Authorization": given} if given else {}
        headers |= {"Accept": "application/json, text/event-stream"}
        answer = httpx.post(f"{w.server.url}/mcp", json={}, headers=headers, timeout=30)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"


def test_a_handoff_from_the_page_lands_in_the_inbox(w: World) -> None:
    bob = w.browser(w.bob)
    assert bob.get("/sessions.json").json()["facets"]["people"] == [["bob", 1]]  # kept now
    alice = w.browser(w.alice)
    page = alice.get(f"/s/{ALICE_SID}")
    assert "<option>bob</option>" in page.text and "<option>carol</option>" in page.text
    form = {"to": "bob", "note": "take over <b>this</b>", "csrf": csrf_of(page)}
    done = alice.post(f"/s/{ALICE_SID}/handoff", data=form, headers=w.origin)
    assert done.status_code == 303 and done.headers["location"] == f"/s/{ALICE_SID}?handed=1"
    # carol's session is not alice's to hand on
    theirs = alice.post(f"/s/{CAROL_SID}/handoff", data=form, headers=w.origin)
    assert theirs.status_code == 404

    # the counts kept for bob's filters went with the handoff's change number
    people = bob.get("/sessions.json").json()["facets"]["people"]
    assert sorted(people) == [["alice", 1], ["bob", 1]]
    inbox = bob.get("/inbox.json").json()["handoffs"]
    assert [(i["from"], i["note"], i["session"]["id"]) for i in inbox] == [
        ("alice", "take over <b>this</b>", ALICE_SID)
    ]
    shown = bob.get("/inbox")
    assert "take over &lt;b&gt;this&lt;/b&gt;" in shown.text
    assert bob.get(f"/s/{ALICE_SID}").status_code == 200
    lineage = bob.get(f"/s/{ALICE_SID}.json").json()["lineage"]["handoffs"]
    assert [(h["from"], h["to"]) for h in lineage] == [("alice", "bob")]
    assert WORD in (w.bob.run("inbox").stdout + str(w.bob.json("remote", "list")))

    # signing out ends the cookie's sign-in on the server, not just in the browser
    cookie = bob.cookies.get("tether_session")
    out = bob.post("/-/sign-out", data={"csrf": csrf_of(bob.get("/inbox"))}, headers=w.origin)
    assert out.status_code == 303
    replay = httpx.Client(base_url=w.server.url, timeout=30)
    replay.cookies.set("tether_session", str(cookie))
    assert replay.get("/sessions.json").status_code == 401


def test_sessions_read_back_are_kept_in_the_servers_cache(w: World) -> None:
    held = Path(w.server.home) / "server" / "held"
    assert any(held.glob("*.db"))  # the sessions read back are a cache of the server's own


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_on_postgresql_and_s3_too(
    backend: tuple[str, str, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same scope, read-back and search with the server on PostgreSQL and SeaweedFS."""
    with world(backend, tmp_path, monkeypatch) as there:
        alice = there.browser(there.alice)
        listed = alice.get("/sessions.json", params={"person": "carol"}).json()["sessions"]
        assert [row["id"] for row in listed] == [CAROL_SID]
        assert WORD in alice.get(f"/s/{ALICE_SID}").text
        assert alice.get(f"/s/{BOB_SID}").status_code == 404
        hits = alice.get("/search.json", params={"q": WORD}).json()["hits"]
        assert [h["session_id"] for h in hits] == [ALICE_SID]
        assert "«" in hits[0]["snippet"]
