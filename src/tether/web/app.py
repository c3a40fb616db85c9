"""The web view as an ASGI app: `create_app(source, auth)`.

Every page is rendered on the server from one dict of data, and `.json` after its path
gives that same dict (redacted as the page is). Every route passes the auth policy first;
every value is escaped by the templates (autoescape) and the Content-Security-Policy lets
no script run but the app's own file. `tether web` serves it over the local archive; the
team server mounts it over its own Source and Auth.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from importlib import resources
from typing import Any

import jinja2
import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tether.errors import ConflictError, NotFoundError, TetherError, UsageError
from tether.web import turns
from tether.web.auth import Auth
from tether.web.source import SessionFilters, Source, Viewer

PAGE = 50
HITS = 30
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none';"
    " report-uri /-/csp-report"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
Data = dict[str, Any]
Handler = Callable[[Request, Viewer], Data]


class JsonSuffix(Convertor[str]):
    """`.json` at the end of a page's path asks for its data instead of its HTML."""

    regex = r"(?:\.json)?"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class Ident(JsonSuffix):
    """An id in a path, which leaves `.json` to the suffix."""

    regex = r"[^/]+?"


register_url_convertor("json", JsonSuffix())
register_url_convertor("ident", Ident())


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tether.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        visible=turns.visible,
        pretty=turns.pretty,
        short=lambda sid: str(sid or "")[:12],
        when=lambda stamp: str(stamp or "")[:16].replace("T", " "),
        number=lambda n: f"{n:,}" if isinstance(n, int) else "",
    )
    env.globals.update(
        folded=turns.folded,
        tool_call=turns.tool_call,
        image_url=turns.image_url,
        web_link=turns.web_link,
    )
    return env


CSP_KEPT = 100
"""Content-Security-Policy reports kept (the newest), for tests and a look in a debugger."""


def _keep_report(reports: list[Any], body: bytes) -> None:
    try:
        reports.append(orjson.loads(body))
    except orjson.JSONDecodeError:  # a browser's report is JSON; anyone's post may not be
        reports.append(body)
    del reports[:-CSP_KEPT]  # a page may post reports without end: the newest are kept


def create_app(source: Source, auth: Auth, *, static_version: str = "1") -> Starlette:
    """The pages over `source`, each request let in (or not) by `auth`."""
    env = environment()
    env.globals.update(features=source.features, static_version=static_version)
    reports: list[Any] = []

    def page(template: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            viewer = await run_in_threadpool(auth.viewer, request)
            if not isinstance(viewer, Viewer):
                return _secured(viewer)
            as_json = request.path_params.get("ext") == ".json"
            try:
                data = await run_in_threadpool(_redacted, handler, request, viewer)
            except TetherError as exc:
                return _error(env, exc, as_json, viewer)
            if as_json:
                response = _json(data)
            else:
                html = env.get_template(template).render(data=data, viewer=viewer, request=request)
                response = _secured(HTMLResponse(html))
            # What the page cost the server, for the browser's devtools and bench/web.py.
            spent = (time.perf_counter() - started) * 1000
            response.headers["server-timing"] = f"page;dur={spent:.1f}"
            return response

        return endpoint

    async def home(request: Request) -> Response:
        viewer = await run_in_threadpool(auth.viewer, request)
        if not isinstance(viewer, Viewer):
            return _secured(viewer)
        return _secured(RedirectResponse("/sessions", status_code=303))

    async def csp_report(request: Request) -> Response:
        viewer = await run_in_threadpool(auth.viewer, request)
        if not isinstance(viewer, Viewer):
            return _secured(viewer)
        _keep_report(reports, (await request.body())[:65536])
        return Response(status_code=204)

    async def static(scope: Any, receive: Any, send: Any) -> None:
        viewer = await run_in_threadpool(auth.viewer, Request(scope, receive))
        if not isinstance(viewer, Viewer):
            await _secured(viewer)(scope, receive, send)
            return
        await files(scope, receive, send)

    async def handoff(request: Request) -> Response:
        viewer = await run_in_threadpool(auth.viewer, request)
        if not isinstance(viewer, Viewer):
            return _secured(viewer)
        form = await read_form(request)
        if not same_origin(request) or form.get("csrf") != viewer.csrf_token:
            return _secured(Response("the form expired: reload the page", status_code=403))
        sid = request.path_params["ident"]
        try:
            await run_in_threadpool(
                source.handoff, viewer, sid, str(form.get("to", "")), str(form.get("note", ""))
            )
        except TetherError as exc:
            return _error(env, exc, False, viewer)
        return _secured(RedirectResponse(f"/s/{sid}?handed=1", status_code=303))

    files = StaticFiles(directory=str(resources.files("tether.web") / "static"))
    views = Views(source)
    routes = [
        Route("/", home),
        Route("/sessions{ext:json}", page("sessions.html", views.sessions)),
        Route("/search{ext:json}", page("search.html", views.search)),
        Route("/projects{ext:json}", page("projects.html", views.projects)),
        Route("/teams{ext:json}", page("teams.html", views.teams)),
        Route("/teams/{key:ident}{ext:json}", page("team.html", views.team)),
        Route("/inbox{ext:json}", page("inbox.html", views.inbox)),
        Route("/s/{ident:ident}/m/{seq:int}/{index:int}{ext:json}", page("part.html", views.part)),
        Route("/s/{ident}/handoff", handoff, methods=["POST"]),
        Route("/s/{ident:ident}{ext:json}", page("session.html", views.session)),
        Route("/-/csp-report", csp_report, methods=["POST"]),
        Mount("/static", app=static),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found})
    app.state.csp_reports = reports
    app.state.warm_up = lambda: _warm_up(env)
    return app


def _warm_up(env: jinja2.Environment) -> None:
    """Compile the pages' templates and load what a session page renders calls with, for
    a server to run as it starts: on the first session page it was a tenth of a second or
    more (session.html alone takes 80 ms to compile)."""
    from tether.convert.writers import vocabulary

    for name in env.list_templates(filter_func=lambda n: n.endswith(".html") and n[0] != "_"):
        env.get_template(name)
    vocabulary("claude")


def _redacted(handler: Handler, request: Request, viewer: Viewer) -> Data:
    from tether.redact import redact_doc

    return redact_doc(handler(request, viewer))


async def _not_found(request: Request, exc: Exception) -> Response:
    return _secured(Response("no such page\n", status_code=404, media_type="text/plain"))


def _secured(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response


def _json(data: Data) -> Response:
    body = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    return _secured(Response(body, media_type="application/json"))


def _error(env: jinja2.Environment, exc: TetherError, as_json: bool, viewer: Viewer) -> Response:
    from tether.errors import describe

    status = (
        404
        if isinstance(exc, NotFoundError)
        else 400
        if isinstance(exc, UsageError)
        else 409
        if isinstance(exc, ConflictError)
        else 500
    )
    kind, message, _ = describe(exc) or ("error", str(exc), 1)
    if as_json:
        response = _json({"error": message, "kind": kind, "status": status})
    else:
        html = env.get_template("error.html").render(
            data={"error": message, "status": status}, viewer=viewer, request=None
        )
        response = _secured(HTMLResponse(html))
    response.status_code = status
    return response


FORM_LIMIT = 65536


async def read_form(request: Request) -> dict[str, str]:
    """A small url-encoded form's fields (the first value of each); {} when it is not one."""
    from urllib.parse import parse_qs

    if request.headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
        return {}
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            return {}
    fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=20)
    return {key: values[0] for key, values in fields.items()}


def same_origin(request: Request) -> bool:
    """Whether a POST comes from one of these pages. Browsers say so in Sec-Fetch-Site;
    under `Referrer-Policy: no-referrer` their Origin on a form's POST is `null`, so Origin
    decides only where Sec-Fetch-Site is missing (an older browser, or not a browser)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin")
    return origin is None or origin.split("://", 1)[-1] == request.headers.get("host")


# ---------------------------------------------------------------------------------------


class Views:
    """Each page's data, from the request and the viewer; the same for HTML and JSON."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def sessions(self, request: Request, viewer: Viewer) -> Data:
        query = request.query_params
        filters = _filters(query)
        number = _number(query.get("page"))
        found = self.source.sessions(viewer, filters, (number - 1) * PAGE, PAGE)
        facets = self.source.facets(viewer)
        return {
            "filters": _shown_filters(query),
            "sessions": found.rows,
            "page": _paging(found.offset, found.limit, found.more, found.total, number),
            "facets": asdict(facets),
        }

    def search(self, request: Request, viewer: Viewer) -> Data:
        query = request.query_params
        text = (query.get("q") or "").strip()
        number = _number(query.get("page"))
        data: Data = {"query": text, "filters": _shown_filters(query), "hits": [], "note": None}
        data["facets"] = asdict(self.source.facets(viewer))
        data["page"] = _paging(0, HITS, False, None, 1)
        if text:
            found = self.source.search(viewer, text, _filters(query), (number - 1) * HITS, HITS)
            data["hits"] = found.rows
            data["note"] = found.note
            data["page"] = _paging(found.offset, found.limit, found.more, found.total, number)
        return data

    def session(self, request: Request, viewer: Viewer) -> Data:
        query = request.query_params
        row = self.source.session(viewer, request.path_params["ident"])
        sid = row["id"]
        start = _int(query.get("from"))
        page = self.source.messages(viewer, sid, start)
        within = (query.get("q") or "").strip()
        data: Data = {
            "session": row,
            "messages": page.messages,
            "paging": {
                "total": page.total,
                "position": page.position,
                "shown": len(page.messages),
                "next": page.next_seq,
                "prev": page.prev_seq,
                "last": page.last_seq,
            },
            "calls": turns.call_names(page.messages),
            "resume": turns.resume_commands(row),
            "lineage": asdict(self.source.lineage(viewer, sid)),
            "within": {"query": within, "hits": [], "more": False},
        }
        if within:
            offset = max(0, _int(query.get("hit")) or 0)
            hits = self.source.search_session(viewer, sid, within, offset, HITS)
            data["within"].update(hits=hits.rows, more=hits.more, offset=offset)
        if "handoff" in self.source.features:
            data["people"] = self.source.people(viewer)
        return data

    def part(self, request: Request, viewer: Viewer) -> Data:
        row = self.source.session(viewer, request.path_params["ident"])
        params = request.path_params
        part = self.source.part(viewer, row["id"], params["seq"], params["index"])
        return {"session": row, "seq": params["seq"], "part": part}

    def projects(self, request: Request, viewer: Viewer) -> Data:
        return {"projects": self.source.projects(viewer)}

    def teams(self, request: Request, viewer: Viewer) -> Data:
        return {"teams": self.source.teams(viewer)}

    def team(self, request: Request, viewer: Viewer) -> Data:
        return {"team": self.source.team(viewer, request.path_params["key"])}

    def inbox(self, request: Request, viewer: Viewer) -> Data:
        if "inbox" not in self.source.features:
            raise NotFoundError("no inbox here: handoffs arrive through the tether server")
        return {"handoffs": self.source.inbox(viewer)}


FILTER_KEYS = ("tool", "project", "model", "since", "until", "person", "team", "role")
ROLES = frozenset({"user", "assistant", "system", "tool"})


def _filters(query: QueryParams) -> SessionFilters:
    from tether.dates import parse_since
    from tether.tools import facts

    given = {key: (query.get(key) or "").strip() or None for key in FILTER_KEYS}
    if given["tool"]:
        given["tool"] = facts.resolve(given["tool"])
    if given["role"] and given["role"] not in ROLES:
        raise UsageError(f"no role {given['role']!r}: use user, assistant, system or tool")
    for key in ("since", "until"):
        if given[key]:
            given[key] = parse_since(str(given[key]))
    if given["project"]:
        given["project"] = str(given["project"]).rstrip("/") or "/"
    return SessionFilters(**given)


def _shown_filters(query: QueryParams) -> dict[str, str]:
    return {key: query.get(key) or "" for key in FILTER_KEYS}


def _int(value: str | None) -> int | None:
    if value is None or not re.fullmatch(r"-?\d{1,12}", value.strip()):
        return None
    return int(value)


def _number(value: str | None) -> int:
    return max(1, min(_int(value) or 1, 1_000_000))


def _paging(offset: int, limit: int, more: bool, total: int | None, number: int) -> Data:
    return {
        "number": number,
        "first": offset + 1,
        "last": offset + limit,
        "more": more,
        "total": total,
        "pages": -(-total // limit) if total is not None else None,
    }
