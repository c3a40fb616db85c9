"""The web view driven in-process (httpx over ASGI): the token and the cookie, every page and
its .json twin, filters and paging, a session's turns, calls, outputs and diffs, search,
the resume commands, redaction, and hostile text escaped."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.stores import CLAUDE_ID, CODEX_ID
from tests.web_home import (
    HOSTILE_ID,
    LONG_ID,
    NEEDLE,
    NEEDLE_AT,
    SECRET,
    SECRET_ID,
    TEAM,
    TOKEN,
    Pages,
    WebHome,
    build,
    local_app,
)
from tether.tools.registry import TOOLS


@pytest.fixture(scope="module")
def built() -> Iterator[WebHome]:
    with tempfile.TemporaryDirectory(prefix="tether-web-") as base:
        yield build(Path(base))


@pytest.fixture
def pages(built: WebHome) -> Iterator[Pages]:
    client = Pages(local_app(built)).signed_in()
    yield client
    client.close()


def page_json(pages: Pages, url: str) -> Any:
    path, _, query = url.partition("?")
    answer = pages.get(f"{path}.json" + (f"?{query}" if query else ""))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    return answer.json()


def html(pages: Pages, url: str, status: int = 200) -> str:
    answer = pages.get(url)
    assert answer.status_code == status, answer.text[:500]
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    text: str = answer.text
    return text


# ------------------------------------------------------------------------ the way in


def test_the_token_becomes_a_cookie_and_nothing_is_served_without_either(built: WebHome) -> None:
    client = Pages(local_app(built))
    try:
        for url in ("/", "/sessions", "/sessions.json", "/static/app.js", "/s/abc", "/teams"):
            assert client.get(url).status_code == 403, url
        assert client.get("/sessions?token=wrong").status_code == 403
        answer = client.get(f"/sessions?tool=claude&token={TOKEN}")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/sessions?tool=claude"  # the token is gone
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and TOKEN not in cookie
        assert client.get("/sessions").status_code == 200
        assert client.get("/static/app.js").status_code == 200
    finally:
        client.close()


def test_another_host_name_is_refused(built: WebHome) -> None:
    client = Pages(local_app(built), host="attacker.example:8766")
    try:
        assert client.get(f"/sessions?token={TOKEN}").status_code == 421
    finally:
        client.close()


# ------------------------------------------------------------------------ the pages


def test_every_page_has_a_json_twin(pages: Pages, built: WebHome) -> None:
    claude = built.sid("claude", CLAUDE_ID)
    team_key = page_json(pages, "/teams")["teams"][0]["key"]
    for url, key in (
        ("/sessions", "sessions"),
        ("/sessions?tool=codex", "sessions"),
        ("/search?q=the", "hits"),
        (f"/s/{claude}", "messages"),
        (f"/s/{claude}/m/0/0", "part"),
        ("/projects", "projects"),
        ("/teams", "teams"),
        (f"/teams/{team_key}", "team"),
    ):
        assert page_json(pages, url)[key], url
        assert "<main>" in html(pages, url), url


def test_the_list_shows_every_tool_and_filters(pages: Pages, built: WebHome) -> None:
    listed = page_json(pages, "/sessions")
    assert {row["tool"] for row in listed["sessions"]} == set(TOOLS)
    assert listed["page"]["total"] == len(listed["sessions"])
    assert {tool for tool, _ in listed["facets"]["tools"]} == set(TOOLS)
    codex = page_json(pages, "/sessions?tool=codex-cli")["sessions"]
    assert codex and {row["tool"] for row in codex} == {"codex"}
    model = listed["facets"]["models"][0][0]
    with_model = page_json(pages, f"/sessions?model={model}")["sessions"]
    assert with_model and all(model in row["models"] for row in with_model)
    mine = page_json(pages, f"/sessions?project={built.project}")["sessions"]
    assert {row["native_id"] for row in mine} >= {LONG_ID, SECRET_ID}
    assert page_json(pages, "/sessions?since=2999-01-01")["sessions"] == []
    assert page_json(pages, "/sessions?until=1999-01-01")["sessions"] == []
    page = html(pages, "/sessions")
    assert page.count('class="item"') + page.count('class="item ') >= len(TOOLS)


def test_the_list_pages(pages: Pages, monkeypatch: pytest.MonkeyPatch) -> None:
    from tether.web import app

    monkeypatch.setattr(app, "PAGE", 4)
    everyone = page_json(pages, "/sessions")["page"]["total"]
    seen: list[str] = []
    number = 1
    while True:
        data = page_json(pages, f"/sessions?page={number}")
        seen += [row["id"] for row in data["sessions"]]
        if not data["page"]["more"]:
            break
        number += 1
    assert len(seen) == len(set(seen)) == everyone
    assert 'rel="next"' in html(pages, "/sessions?page=1")


def test_bad_filters_are_one_clear_error(pages: Pages) -> None:
    assert "unknown tool" in html(pages, "/sessions?tool=nosuch", 400)
    assert pages.get("/sessions.json?since=the%20dawn").json()["kind"] == "usage"
    assert "cannot search for" in html(pages, "/search?q=AND", 400)
    assert "no session matches" in html(pages, "/s/feedface0000", 404)


def test_a_session_shows_its_turns_calls_outputs_and_diffs(pages: Pages, built: WebHome) -> None:
    from tether.web.app import PAGE

    claude = built.sid("claude", CLAUDE_ID)
    data = page_json(pages, f"/s/{claude}")
    messages = data["messages"]
    assert [m["seq"] for m in messages] == sorted(m["seq"] for m in messages)
    kinds = {part["type"] for m in messages for part in m["parts"]}
    assert {"text", "tool_call", "tool_result"} <= kinds
    page = html(pages, f"/s/{claude}")
    assert page.count('<article class="turn item') == len(messages) <= PAGE
    call = next(p for m in messages for p in m["parts"] if p["type"] == "tool_call")
    assert f'<code class="name">{call["name"]}</code>' in page
    assert '<details class="result' in page and "Output of" in page
    edits = [p for m in messages for p in m["parts"] if p.get("name") == "Edit"]
    if edits:  # the Claude sample edits a file: shown as a diff
        assert '<pre class="diff">' in page and '<span class="del">' in page


def test_an_edit_from_any_tool_is_a_diff(pages: Pages, built: WebHome) -> None:
    from tests.web_home import NEW_LINE, OLD_LINE

    page = html(pages, f"/s/{built.sid('claude', LONG_ID)}")
    assert f'<span class="del">-{OLD_LINE}</span>' in page
    assert f'<span class="add">+{NEW_LINE}</span>' in page
    diffs = []
    for row in page_json(pages, "/sessions")["sessions"]:
        if '<pre class="diff">' in html(pages, f"/s/{row['id']}"):
            diffs.append(row["tool"])
    # Copilot's real sample edits with str_replace_editor.
    assert {"claude", "copilot"} <= set(diffs), diffs


def test_a_long_session_is_paged_and_its_long_output_cut(pages: Pages, built: WebHome) -> None:
    from tests.web_home import LONG_OUTPUT

    sid = built.sid("claude", LONG_ID)
    first = page_json(pages, f"/s/{sid}")
    paging = first["paging"]
    assert paging["position"] == 0 and paging["next"] is not None and paging["prev"] is None
    assert paging["shown"] < paging["total"]
    output = next(p for m in first["messages"] for p in m["parts"] if p["type"] == "tool_result")
    assert output["cut"] and output["size"] > LONG_OUTPUT * 0.9 and len(output["output"]) < 5000
    seq = next(m["seq"] for m in first["messages"] if m["parts"] == [output])
    whole = page_json(pages, f"/s/{sid}/m/{seq}/{output['index']}")["part"]
    assert whole["output"].endswith("of the output\n") and len(whole["output"]) == output["size"]
    later = page_json(pages, f"/s/{sid}?from={paging['next']}")
    assert later["paging"]["position"] == paging["shown"]
    assert later["messages"][0]["seq"] == paging["next"]
    last = page_json(pages, f"/s/{sid}?from={paging['last']}")["paging"]
    assert last["next"] is None and last["position"] + last["shown"] == last["total"]


def test_search_marks_the_match_and_links_to_the_message(pages: Pages, built: WebHome) -> None:
    hits = page_json(pages, f"/search?q={NEEDLE}")["hits"]
    assert {hit["native_id"] for hit in hits} == {LONG_ID}
    assert all(f"«{NEEDLE}»" in hit["snippet"] for hit in hits)
    page = html(pages, f"/search?q={NEEDLE}")
    sid = built.sid("claude", LONG_ID)
    assert f"<mark>{NEEDLE}</mark>" in page
    assert f'href="/s/{sid}?from={NEEDLE_AT}#m-{NEEDLE_AT}"' in page
    target = html(pages, f"/s/{sid}?from={NEEDLE_AT}")
    assert f'id="m-{NEEDLE_AT}"' in target and f"the {NEEDLE} is here" in target
    only_tool = page_json(pages, f"/search?q={NEEDLE}&role=assistant")["hits"]
    assert {hit["role"] for hit in only_tool} == {"assistant"}
    assert page_json(pages, f"/search?q={NEEDLE}&tool=codex")["hits"] == []


def test_search_inside_one_session(pages: Pages, built: WebHome) -> None:
    sid = built.sid("claude", LONG_ID)
    within = page_json(pages, f"/s/{sid}?q={NEEDLE}")["within"]
    assert [hit["seq"] for hit in within["hits"]] == [NEEDLE_AT - 1, NEEDLE_AT]
    page = html(pages, f"/s/{sid}?q=answer")
    assert "More matches" in page  # more than one page of hits: the rest a click away


def test_continue_it_names_every_tool_that_can_resume(pages: Pages, built: WebHome) -> None:
    from tether.tools import facts

    able = [t for t in facts.able("write") if t in facts.able("resume")]
    claude = built.sid("claude", CLAUDE_ID)
    commands = page_json(pages, f"/s/{claude}")["resume"]
    assert [c["tool"] for c in commands] == ["claude", *(t for t in able if t != "claude")]
    assert commands[1]["command"] == f"tether resume {claude} --in {commands[1]['tool']}"
    page = html(pages, f"/s/{claude}")
    assert f'<code id="resume-codex">tether resume {claude} --in codex</code>' in page
    cursor = next(r for r in page_json(pages, "/sessions?tool=cursor")["sessions"])
    cursor_commands = page_json(pages, f"/s/{cursor['id']}")["resume"]
    assert [c["tool"] for c in cursor_commands] == able  # read-only tool: every target


def test_a_prefix_and_the_tools_own_id_find_the_same_page(pages: Pages, built: WebHome) -> None:
    sid = built.sid("codex", CODEX_ID)
    for ident in (sid, sid[:10], CODEX_ID):
        assert page_json(pages, f"/s/{ident}")["session"]["id"] == sid


def test_projects_and_teams(pages: Pages, built: WebHome) -> None:
    projects = page_json(pages, "/projects")["projects"]
    mine = next(p for p in projects if p["project"] == str(built.project))
    assert mine["sessions"] >= 3 and {"claude", "cursor"} <= set(mine["tools"])
    teams = page_json(pages, "/teams")["teams"]
    crew = next(t for t in teams if t["team"] == TEAM)
    planner = next(a for a in crew["agents"] if a["name"] == "planner")
    assert planner["session"]["id"] == built.sid("claude", CLAUDE_ID)
    page = html(pages, f"/teams/{crew['key']}")
    assert "planner" in page and f'href="/s/{planner["id"]}"' in page and "not started" in page
    lineage = page_json(pages, f"/s/{planner['id']}")["lineage"]
    assert lineage["teams"] == [{"team": TEAM, "key": crew["key"], "agent": "planner"}]


def test_secrets_are_redacted_in_pages_and_json(pages: Pages, built: WebHome) -> None:
    sid = built.sid("claude", SECRET_ID)
    for url in (f"/s/{sid}", f"/s/{sid}.json", f"/s/{sid}/m/0/0", "/sessions.json"):
        answer = pages.get(url)
        assert answer.status_code == 200
        assert SECRET not in answer.text, url
    assert "[REDACTED:" in html(pages, f"/s/{sid}")


# ------------------------------------------------------------------------ hostile text


class Elements(HTMLParser):
    """What a browser would make of a page: its script elements, event handler attributes,
    and links and sources that run script."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.running: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "svg", "base"):
            self.scripts.append({"tag": tag, **dict(attrs)})
        for name, value in attrs:
            if name.startswith("on"):
                self.running.append(f"<{tag} {name}>")
            runs = re.match(r"\s*(javascript|vbscript|data:text|data:image/svg)", value or "", re.I)
            if name in ("href", "src", "action", "formaction") and runs:
                self.running.append(f"<{tag} {name}={(value or '')[:40]}>")


def elements(page: str) -> Elements:
    found = Elements()
    found.feed(page)
    return found


def test_hostile_text_is_escaped_everywhere(pages: Pages, built: WebHome) -> None:
    sid = built.sid("claude", HOSTILE_ID)
    urls = [f"/s/{sid}", f"/s/{sid}/m/0/0", f"/s/{sid}/m/1/2", f"/s/{sid}/m/3/0", "/sessions"]
    urls += ["/search?q=xss", f"/s/{sid}?q=xss", "/projects"]
    for url in urls:
        page = html(pages, url)
        found = elements(page)
        assert found.scripts == [{"tag": "script", "src": "/static/app.js?v=1"}], url
        assert found.running == [], url
        assert "\x1b" not in page and "\u202e" not in page and "\x00" not in page, url
        assert "&lt;script&gt;" in page or url in ("/projects",), url
    page = html(pages, f"/s/{sid}")
    assert '<span class="ctl">\\u001b</span>' in page and '<span class="ctl">\\u202e</span>' in page
    assert "data:image/svg" not in page and "data:text/html" not in page


# ------------------------------------------------------------------------ the server's side


class Handoffs:
    """The pages' contract with a server's source, over the local archive: handoff and inbox
    (the real ones come with the tether server, issue 11)."""

    features = frozenset({"handoff", "inbox", "people"})

    def __init__(self, local: Any) -> None:
        self.local = local
        self.handed: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.local, name)

    def people(self, viewer: Any) -> list[str]:
        return ["bob", "carol"]

    def handoff(self, viewer: Any, session_id: str, to: str, note: str) -> dict[str, Any]:
        row = self.local.session(viewer, session_id)
        item = {"from": viewer.name, "to": to, "note": note, "at": "2026-12-01T10:00:00Z"}
        self.handed.append({**item, "session": row})
        return self.handed[-1]

    def inbox(self, viewer: Any) -> list[dict[str, Any]]:
        return list(self.handed)


class SignedIn:
    """A stand-in policy: everyone is alice."""

    def viewer(self, request: Any) -> Any:
        from tether.web.source import Viewer

        return Viewer(name="alice", csrf_token="csrf-alice")


def test_handoff_takes_its_csrf_token_and_lands_in_the_inbox(built: WebHome) -> None:
    from tether.web.app import create_app
    from tether.web.local import LocalSource

    source = Handoffs(LocalSource(built.db))
    client = Pages(create_app(source, SignedIn()))
    sid = built.sid("codex", CODEX_ID)
    try:
        page = client.get(f"/s/{sid}").text
        assert 'name="csrf" value="csrf-alice"' in page and "<option>bob</option>" in page
        form = {"to": "bob", "note": "<b>take over</b>"}
        assert client.post(f"/s/{sid}/handoff", data=form).status_code == 403
        cross = {"origin": "http://evil.example"}
        signed = {**form, "csrf": "csrf-alice"}
        denied = client.post(f"/s/{sid}/handoff", data=signed, headers=cross)
        assert denied.status_code == 403 and source.handed == []
        done = client.post(f"/s/{sid}/handoff", data=signed)
        assert done.status_code == 303 and source.handed[0]["to"] == "bob"
        assert "Handed off" in client.get(done.headers["location"]).text
        inbox = client.get("/inbox").text
        assert "&lt;b&gt;take over&lt;/b&gt;" in inbox and f'href="/s/{sid}"' in inbox
    finally:
        client.close()


def test_the_local_view_has_no_inbox_and_no_handoff(pages: Pages, built: WebHome) -> None:
    sid = built.sid("codex", CODEX_ID)
    assert "Hand off" not in html(pages, f"/s/{sid}")
    assert pages.get("/inbox").status_code == 404
    assert pages.post(f"/s/{sid}/handoff", data={"to": "bob"}).status_code == 403


def test_a_word_found_everywhere_is_ranked_among_its_newest_places(
    pages: Pages, built: WebHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tether.archive.db import connect
    from tether.archive.query import Filters, search
    from tether.web import local

    db = connect(built.db, readonly=True)
    try:
        everything = search(db, "the", Filters(limit=1000))
        newest = search(db, "the", Filters(limit=1000, newest=1_000_000))
        # Under the cap: the very same hits (equal ranks may come in another order).
        assert sorted(map(str, newest)) == sorted(map(str, everything))
        few = search(db, "the", Filters(limit=5, newest=40))
        assert len(few) == 5 and all(hit in everything for hit in few)
    finally:
        db.close()
    monkeypatch.setattr(local, "NEWEST", 40)
    data = page_json(pages, "/search?q=the")
    assert "best of the 40 newest" in data["note"] and len(data["hits"]) == 30
    assert page_json(pages, "/search?q=the&tool=claude")["note"] is None  # filtered: all ranked


def test_a_sub_agent_and_its_parent_link_to_each_other(pages: Pages) -> None:
    rows = page_json(pages, "/sessions")["sessions"]
    child = next(row for row in rows if row["parent_id"])  # the Cursor agent's sub-agent
    lineage = page_json(pages, f"/s/{child['id']}")["lineage"]
    assert lineage["parent"]["id"] == child["parent_id"]
    parent = page_json(pages, f"/s/{child['parent_id']}")["lineage"]
    assert [c["id"] for c in parent["children"]] == [child["id"]]
    assert f'href="/s/{child["id"]}"' in html(pages, f"/s/{child['parent_id']}")


def test_csp_reports_are_kept_few_and_any_body_is_taken(
    built: WebHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A signed-in page (or a script on one) may post reports without end: memory kept bounded.
    from tether.web import app

    monkeypatch.setattr(app, "CSP_KEPT", 3, raising=False)
    served = local_app(built)
    client = Pages(served).signed_in()
    try:
        for body in (b"{not json", b'{"csp-report": {"n": 1}}', b"x", b"{}", b"[]"):
            assert client.post("/-/csp-report", content=body).status_code == 204
    finally:
        client.close()
    assert served.state.csp_reports == [b"x", {}, []]
