"""The ASGI app: `/api/v1` (one router per resource, OpenAPI at `/api/v1/openapi.json`),
`/healthz`, the MCP tools over streamable HTTP at `/mcp`, and the web pages at `/`.

Nothing lives in the process but the engine, the store and the settings, so several app
processes can serve one database and one bucket behind a load balancer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.routing import Route

from tether import __version__
from tether.errors import TetherError
from tether.server.runtime import Runtime
from tether.sync.wire import MAX_BATCH, MAX_SESSION_BODY

if TYPE_CHECKING:
    from tether.server.held import Held
    from tether.server.mcp_http import McpEndpoint

API = "/api/v1"
MAX_BODY = 1 << 20
"""Largest body of any other request."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def create_app(runtime: Runtime, held: Path | None = None) -> FastAPI:
    """The server: the API, the MCP tools at /mcp and the web pages at /. `held`: the
    folder of sessions read back for the pages (default `$TETHER_HOME/server/held`)."""
    from tether.server import errors, signin
    from tether.server.held import Held
    from tether.server.mcp_http import PATH, McpEndpoint
    from tether.server.routes import chunks, enrol, handoffs, health, push, search, sessions
    from tether.server.settings import server_home

    readback = Held(runtime.engine, runtime.storage, held or server_home() / "held")
    mcp = McpEndpoint(runtime.engine, readback)
    app = FastAPI(
        lifespan=lambda app: _running(mcp, app.state.pages.state.warm_up),
        title="tether server",
        version=__version__,
        description="Sessions of AI coding tools, synced between machines and teammates.",
        openapi_url=f"{API}/openapi.json",
        docs_url=f"{API}/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.tether = runtime
    app.state.held = readback  # a push has what it took read back ahead of the pages
    errors.install(app)
    app.include_router(health.router)
    for module in (enrol, chunks, push, sessions, search, handoffs, signin):
        app.include_router(module.router, prefix=API)
    app.router.routes.append(Route(PATH, mcp, methods=["GET", "POST", "DELETE"]))
    _add_pages(app, runtime, readback)
    app.add_middleware(BodyLimit)
    return app


@asynccontextmanager
async def _running(mcp: McpEndpoint, pages_warm_up: Callable[[], None]) -> AsyncIterator[None]:
    """While the server runs: the MCP transport's task group; and the redaction rules and
    the pages' templates load in the background at start (seconds; the first page would
    wait for them)."""
    import threading

    from tether.web.serve import warm_up

    def both() -> None:
        warm_up()
        pages_warm_up()

    threading.Thread(target=both, name="warm-up", daemon=True).start()
    async with mcp.running():
        yield


def _add_pages(app: FastAPI, runtime: Runtime, held: Held) -> None:
    """The web pages (tether.web's, over what each signed-in user may see) at /, and the
    routes that sign a browser in."""
    from tether.server.pages import PagesSource
    from tether.server.signin import CookieAuth, routes
    from tether.web.app import create_app as pages

    app.router.routes.extend(routes(runtime.engine))
    source = PagesSource(runtime.engine, held)
    web = pages(source, CookieAuth(runtime.engine), static_version=__version__)
    app.state.pages = web
    api_not_found = app.router.default

    async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
        # The pages answer what no route (nor any app mounted later) did, but under the
        # API's prefix, where a miss stays the API's JSON 404.
        path = scope.get("path", "")
        if path == API or path.startswith(f"{API}/"):
            await api_not_found(scope, receive, send)
        else:
            await web(scope, receive, send)

    app.router.default = fallback


def body_limit(method: str, path: str) -> int:
    if method == "POST" and path == f"{API}/chunks":
        return MAX_BATCH + (1 << 20)
    if (method == "PUT" and path.startswith(f"{API}/sessions/")) or (
        method == "POST" and path == f"{API}/sessions"
    ):
        return MAX_SESSION_BODY
    return MAX_BODY


class BodyLimit:
    """413 for a body over its route's limit, by its Content-Length or as it streams in,
    before any route reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["method"], scope["path"])
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and (not value.isdigit() or int(value) > limit):
                await _too_large(send, limit)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send, limit)


class _TooLarge(TetherError):
    """A body went past its limit as it streamed in."""


async def _too_large(send: Send, limit: int) -> None:
    import json

    body = json.dumps(
        {"error": f"the request body is over the {limit}-byte limit", "kind": "too_large"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def runtime_of(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.tether
    return runtime
