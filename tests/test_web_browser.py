"""The web view in a real browser: Debian's Chromium driven by Playwright (no browser
download: the system's /usr/bin/chromium), against `tether web`'s app served by uvicorn on
127.0.0.1, over a home with all thirteen tools' sessions and a generated corpus.

Each page is opened and checked for what a person sees; a session whose every field holds
script is opened and nothing may run. A screenshot of each page goes to $TETHER_WEB_SCREENS
(bench/results/web-screens holds the last ones taken), else to the test's temp folder.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stores import CLAUDE_ID
from tests.web_home import (
    HOSTILE_ID,
    LONG_ID,
    NEEDLE,
    NEEDLE_AT,
    NEW_LINE,
    OLD_LINE,
    TEAM,
    TOKEN,
    WebHome,
    build,
)
from tether.tools.registry import TOOLS

CHROMIUM = Path(os.environ.get("TETHER_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)


class Served:
    """The app on 127.0.0.1:<free port>, in a thread of this process."""

    def __init__(self, built: WebHome) -> None:
        import uvicorn

        from tether.web.app import create_app
        from tether.web.auth import TokenAuth
        from tether.web.local import LocalSource

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        hosts = frozenset({f"127.0.0.1:{self.port}"})
        source = LocalSource(built.db, roots=(built.project,))
        self.app = create_app(source, TokenAuth(TOKEN, hosts))
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()


@pytest.fixture(scope="module")
def built() -> Iterator[WebHome]:
    with tempfile.TemporaryDirectory(prefix="tether-web-browser-") as base:
        yield build(Path(base), corpus_scale=0.02)


@pytest.fixture(scope="module")
def served(built: WebHome) -> Iterator[Served]:
    server = Served(built)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def screens() -> Iterator[Path]:
    chosen = os.environ.get("TETHER_WEB_SCREENS")
    if chosen:
        Path(chosen).mkdir(parents=True, exist_ok=True)
        yield Path(chosen)
        return
    folder = Path(tempfile.mkdtemp(prefix="tether-web-screens-"))
    yield folder
    shutil.rmtree(folder)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Any]:
    """A signed-in tab (the token's link once, then the cookie) that records any script the
    pages did not mean to run: calls of __xss, and Content-Security-Policy violations."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    ran: list[str] = []
    context.expose_binding("__xss", lambda source, where: ran.append(str(where)))
    context.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    tab = context.new_page()
    tab.ran = ran
    tab.goto(f"{served.base}/?token={TOKEN}")
    assert tab.url == f"{served.base}/sessions"
    yield tab
    context.close()


def shot(tab: Any, screens: Path, name: str) -> None:
    tab.screenshot(path=str(screens / f"{name}.png"), full_page=False)


def nothing_ran(tab: Any, served: Served) -> None:
    assert tab.ran == []
    assert tab.evaluate("window.__violations") == []
    assert served.app.state.csp_reports == []


# --------------------------------------------------------------------------- pages


def test_the_list_shows_every_tools_sessions(page: Any, served: Served, screens: Path) -> None:
    rows = page.locator("table.sessions tbody tr")
    assert rows.count() == 50  # a full page: the corpus adds 50 sessions to the 13 tools'
    tools = set(page.locator("table.sessions tbody tr td:nth-child(2)").all_inner_texts())
    assert len(tools) >= 2
    assert "page 1 of 2" in page.inner_text("nav.pager")
    shot(page, screens, "sessions")
    page.select_option("select[name=tool]", "gemini")
    page.click("form.filters button[type=submit]")
    assert set(page.locator("td:nth-child(2)").all_inner_texts()) == {"gemini"}
    every = set()
    for tool in TOOLS:
        page.goto(f"{served.base}/sessions?tool={tool}")
        if page.locator("table.sessions tbody tr td.when").count():
            every.add(tool)
    assert every == set(TOOLS)
    page.goto(f"{served.base}/sessions?page=2")
    assert "page 2 of 2" in page.inner_text("nav.pager")
    nothing_ran(page, served)


def test_search_finds_marks_and_leads_to_the_message(
    page: Any, served: Served, built: WebHome, screens: Path
) -> None:
    page.fill("#find", NEEDLE)
    page.press("#find", "Enter")
    assert page.locator("ol.hits li.hit").count() == 2
    assert page.locator("ol.hits mark").first.inner_text() == NEEDLE
    shot(page, screens, "search")
    page.locator(f"ol.hits a.title[href$='#m-{NEEDLE_AT}']").click()
    assert page.url.endswith(f"#m-{NEEDLE_AT}")
    target = page.locator(f"#m-{NEEDLE_AT}")
    assert target.is_visible() and f"the {NEEDLE} is here" in target.inner_text()
    rare = built.corpus["rare_word"]
    holder = built.corpus["rare_word_sessions"][0]["id"]
    page.goto(f"{served.base}/search?q={rare}")
    assert page.locator("ol.hits li.hit").count() >= 1
    page.locator("ol.hits li.hit a.title").first.click()
    assert holder in page.inner_text("dl.meta")
    nothing_ran(page, served)


def test_a_session_shows_turns_calls_outputs_and_resume(
    page: Any, served: Served, built: WebHome, screens: Path
) -> None:
    page.goto(f"{served.base}/s/{built.sid('claude', CLAUDE_ID)[:12]}")
    turns = page.locator("article.turn")
    assert turns.count() > 5
    roles = set(page.locator("article.turn .role").all_inner_texts())
    assert {"user", "assistant"} <= {role.lower() for role in roles}
    call = page.locator(".call").first
    assert call.locator(".call-head .name").inner_text() == "Bash"
    assert page.locator("details.result summary").first.is_visible()
    shot(page, screens, "session")
    commands = page.locator(".commands li code").all_inner_texts()
    sid = built.sid("claude", CLAUDE_ID)
    assert commands[0] == f"tether resume {sid} --in claude"
    assert f"tether resume {sid} --in codex" in commands
    button = page.locator("button[data-copy=resume-codex]")
    button.click()
    # The label changes once the clipboard's promise settles, not on the click itself.
    page.wait_for_function(
        "b => b.textContent === 'Copied'", arg=button.element_handle(), timeout=5000
    )
    assert button.inner_text() == "Copied"
    assert page.evaluate("navigator.clipboard.readText()") == f"tether resume {sid} --in codex"
    page.locator("#continue").screenshot(path=str(screens / "continue.png"))
    nothing_ran(page, served)


def test_a_long_session_pages_folds_and_diffs(
    page: Any, served: Served, built: WebHome, screens: Path
) -> None:
    page.goto(f"{served.base}/s/{built.sid('claude', LONG_ID)}")
    assert "messages 1\u2013" in page.inner_text("nav.pager")
    diff = page.locator("pre.diff")
    assert diff.locator(".del").inner_text() == f"-{OLD_LINE}"
    assert diff.locator(".add").inner_text() == f"+{NEW_LINE}"
    output = page.locator("details.result").first
    assert output.get_attribute("open") is None  # long: folded
    assert not output.locator("pre").is_visible()
    output.locator("summary").click()
    assert output.locator("pre").is_visible()
    page.locator("#m-3").scroll_into_view_if_needed()
    shot(page, screens, "session-long")
    output.locator("p.cut a").click()
    assert page.locator("pre.whole").inner_text().rstrip().endswith("of the output")
    shot(page, screens, "part")
    page.go_back()
    page.locator("a[rel=next]").first.click()
    assert re.search(r"messages [1-9]\d+\u2013", page.inner_text("nav.pager"))
    page.fill(".within input[name=q]", NEEDLE)
    page.press(".within input[name=q]", "Enter")
    assert page.locator(".within-hits li.hit").count() == 2
    nothing_ran(page, served)


def test_keys_and_dark(page: Any, served: Served, built: WebHome, screens: Path) -> None:
    page.goto(f"{served.base}/s/{built.sid('claude', LONG_ID)}")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.locator("article.turn.current").get_attribute("id") == "m-1"
    page.keyboard.press("k")
    assert page.locator("article.turn.current").get_attribute("id") == "m-0"
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "Search in this session"
    )
    page.click("#theme")
    assert page.get_attribute("html", "data-theme") == "dark"
    page.goto(f"{served.base}/sessions")
    assert page.get_attribute("html", "data-theme") == "dark"  # remembered
    shot(page, screens, "sessions-dark")
    page.keyboard.press("j")
    assert page.locator("tr.item.current").count() == 1
    nothing_ran(page, served)


def test_projects_and_teams(page: Any, served: Served, built: WebHome, screens: Path) -> None:
    page.click("nav >> text=Projects")
    projects = page.locator("table.projects tbody tr")
    assert projects.count() >= 5
    assert str(built.project) in page.inner_text("table.projects")
    shot(page, screens, "projects")
    page.click("nav >> text=Teams")
    assert page.locator("section.team h2 a").first.inner_text() == TEAM
    shot(page, screens, "teams")
    page.locator("section.team h2 a").first.click()
    agents = page.locator("table.agents tbody tr")
    assert agents.count() == 2
    assert "not started" in agents.nth(1).inner_text()
    shot(page, screens, "team")
    agents.nth(0).locator("a.title").click()
    assert built.sid("claude", CLAUDE_ID) in page.inner_text("dl.meta")
    nothing_ran(page, served)


# --------------------------------------------------------------------------- hostile


def test_script_planted_in_every_field_never_runs(
    page: Any, served: Served, built: WebHome, screens: Path
) -> None:
    sid = built.sid("claude", HOSTILE_ID)
    for url in (
        f"/s/{sid}",
        f"/s/{sid}/m/0/0",
        f"/s/{sid}/m/1/0",
        f"/s/{sid}/m/1/2",
        f"/s/{sid}/m/2/0",
        f"/s/{sid}/m/3/0",
        f"/s/{sid}/m/3/1",
        f"/s/{sid}?q=xss",
        "/search?q=xss",
        "/sessions",
        "/projects",
    ):
        page.goto(served.base + url)
        page.wait_for_load_state("load")
        for link in page.locator("a").all():
            href = link.get_attribute("href") or ""
            assert not href.lower().startswith(("javascript:", "data:")), (url, href)
        for frame_count in [page.locator("iframe, object, embed").count()]:
            assert frame_count == 0, url
        if url == f"/s/{sid}":
            shot(page, screens, "hostile")
            assert "<script>__xss('title')</script>" in page.inner_text("h1")
            for details in page.locator("details").all():
                details.locator("summary").first.click()
    nothing_ran(page, served)


def test_the_hook_catches_script_that_runs(page: Any, served: Served) -> None:
    """The check above can fail: script that does run on a page is recorded (on a blank
    page: on tether's, the CSP would stop even this)."""
    page.goto("about:blank")
    page.set_content("<img src=x onerror=\"__xss('control')\">")
    page.wait_for_function("window.__violations !== undefined")
    deadline = time.monotonic() + 10
    while not page.ran and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert page.ran == ["control"]
    page.goto(f"{served.base}/sessions")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = \"__xss('inline')\"; document.body.appendChild(s); }"
    )
    page.wait_for_function("window.__violations.length > 0")
    assert page.ran == ["control"]  # the CSP stopped the inline script
    assert "script-src" in page.evaluate("window.__violations[0]")
