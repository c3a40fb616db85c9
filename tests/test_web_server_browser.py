"""The server's pages in a real browser (Debian's Chromium through Playwright, as
tests/test_web_browser.py drives it), against a real `tether server start`: sign in by the
link `tether remote web` gives, read, search, hand a session off from its page and find it
in the teammate's inbox; a pushed session with script in every field runs none of it.
A screenshot of each page goes to $TETHER_WEB_SCREENS (bench/results/web-screens: server-*).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server_world import ALICE_SID, WORD, World, shared_world
from tests.test_web_browser import CHROMIUM, FLAGS, shot
from tests.web_home import payload
from tether.model import session_id

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)
HOSTILE_ID = "cccccccc-1111-4222-8333-444455556666"
HOSTILE_SID = session_id("claude", HOSTILE_ID)


def hostile_claude(home: Path) -> None:
    """A Claude Code session with script in every field its lines have."""
    folder = home / ".claude" / "projects" / "-tmp-hostile"
    folder.mkdir(parents=True)
    common = {
        "isSidechain": False,
        "userType": "external",
        "cwd": "/tmp/" + payload("cwd").replace("/", "_")[:200],
        "sessionId": HOSTILE_ID,
        "version": "2.1.7",
        "gitBranch": payload("branch")[:300],
    }
    call = {
        "type": "tool_use",
        "id": "toolu_01",
        "name": payload("tool name")[:200],
        "input": {
            payload("argument name")[:120]: payload("argument"),
            "old_string": payload("old"),
            "new_string": payload("new"),
            "file_path": payload("path")[:200],
        },
    }
    lines = [
        {"type": "summary", "summary": payload("title"), "leafUuid": "u3"},
        common | {"parentUuid": None, "type": "user", "uuid": "u1",
                  "timestamp": "2026-11-20T09:00:00.000Z",
                  "message": {"role": "user", "content": payload("user text")}},
        common | {"parentUuid": "u1", "type": "assistant", "uuid": "u2",
                  "timestamp": "2026-11-20T09:00:01.000Z",
                  "message": {"model": payload("model")[:200], "id": "msg_1", "type": "message",
                              "role": "assistant", "content": [
                                  {"type": "thinking", "thinking": payload("reasoning"),
                                   "signature": "sig"},
                                  {"type": "text", "text": payload("assistant text")}, call]}},
        common | {"parentUuid": "u2", "type": "user", "uuid": "u3",
                  "timestamp": "2026-11-20T09:00:02.000Z",
                  "message": {"role": "user", "content": [
                      {"type": "tool_result", "tool_use_id": "toolu_01",
                       "content": payload("output"), "is_error": True}]}},
    ]  # fmt: skip
    text = "".join(json.dumps(line) + "\n" for line in lines)
    (folder / f"{HOSTILE_ID}.jsonl").write_text(text)


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for made in shared_world(tmp_path_factory, "web-server-browser"):
        hostile_claude(made.alice.home)
        made.alice.run("scan", "-q")
        pushed = made.alice.json("push", "--all")
        assert [p["id"] for p in pushed["pushed"]] == [HOSTILE_SID], pushed
        yield made


@pytest.fixture(scope="module")
def screens() -> Iterator[Path]:
    """As tests/test_web_browser.py's (a module's fixtures are its own)."""
    chosen = os.environ.get("TETHER_WEB_SCREENS")
    folder = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="tether-server-screens-"))
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    if not chosen:
        shutil.rmtree(folder)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


def signed_in(browser: Any, w: World, who: Any, screens: Path | None = None) -> Any:
    """A tab signed in as `who` by the link `tether remote web` gives: open it, confirm."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    ran: list[str] = []
    context.expose_binding("__xss", lambda source, where: ran.append(str(where)))
    context.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    tab = context.new_page()
    tab.ran = ran
    tab.goto(w.sign_in_link(who))
    if screens is not None:
        shot(tab, screens, "server-sign-in")
    tab.click("#confirm")
    assert tab.url == f"{w.server.url}/sessions", tab.content()[:2000]
    return tab


def test_read_search_and_hand_off_in_the_browser(browser: Any, w: World, screens: Path) -> None:
    alice = signed_in(browser, w, w.alice, screens)
    assert "alice" in alice.inner_text("header.top")
    rows = alice.locator("table.sessions tbody tr")
    assert rows.count() == 3  # her two and carol's, shared with the team
    assert alice.locator("select[name=person]").count() == 1
    shot(alice, screens, "server-sessions")

    alice.fill("#find", WORD)
    alice.press("#find", "Enter")
    alice.wait_for_url(f"**/search?q={WORD}")
    hits = alice.locator("ol.hits li.hit")
    assert hits.count() == 1 and WORD in hits.first.inner_text()
    shot(alice, screens, "server-search")
    hits.first.locator("a.title").click()
    assert alice.url.startswith(f"{w.server.url}/s/{ALICE_SID}")
    assert alice.locator("ol.within-hits li.hit").count() >= 1  # led to the match inside
    shot(alice, screens, "server-session")

    alice.goto(f"{w.server.url}/projects")
    assert alice.locator("table.projects tbody tr").count() >= 1
    shot(alice, screens, "server-projects")

    alice.goto(f"{w.server.url}/s/{ALICE_SID}")
    alice.select_option("form.handoff select[name=to]", "bob")
    alice.fill("form.handoff input[name=note]", "over to you")
    alice.click("form.handoff button[type=submit]")
    assert alice.url == f"{w.server.url}/s/{ALICE_SID}?handed=1"
    assert "Handed off" in alice.inner_text("p.notice")
    shot(alice, screens, "server-handoff")

    bob = signed_in(browser, w, w.bob)
    bob.click("header.top nav >> text=Inbox")
    items = bob.locator("ul.inbox li.item")
    assert items.count() == 1
    assert "from alice" in items.first.inner_text() and "over to you" in items.first.inner_text()
    shot(bob, screens, "server-inbox")
    items.first.locator("text=Continue it").click()
    assert f"tether resume {ALICE_SID}" in bob.inner_text("#continue")
    for tab in (alice, bob):
        assert tab.ran == [] and tab.evaluate("window.__violations") == []


def test_script_planted_in_every_field_never_runs(browser: Any, w: World, screens: Path) -> None:
    tab = signed_in(browser, w, w.alice)
    for url in (
        f"/s/{HOSTILE_SID}",
        f"/s/{HOSTILE_SID}/m/0/0",
        f"/s/{HOSTILE_SID}/m/1/0",
        f"/s/{HOSTILE_SID}/m/1/2",
        f"/s/{HOSTILE_SID}/m/2/0",
        f"/s/{HOSTILE_SID}?q=xss",
        "/search?q=xss",
        "/sessions",
        "/projects",
    ):
        answer = tab.goto(w.server.url + url)
        assert answer.status == 200, url
        tab.wait_for_load_state("load")
        for link in tab.locator("a").all():
            href = link.get_attribute("href") or ""
            assert not href.lower().startswith(("javascript:", "data:")), (url, href)
        assert tab.locator("iframe, object, embed").count() == 0, url
        if url == f"/s/{HOSTILE_SID}":
            assert "__xss('user text')" in tab.inner_text("main")
            shot(tab, screens, "server-hostile")
            for details in tab.locator("details").all():
                details.locator("summary").first.click()
    assert tab.ran == []
    assert tab.evaluate("window.__violations") == []
