"""The ASGI app: `/api/v1` (one router per resource, OpenAPI at `/api/v1/openapi.json`),
`/healthz`, and room for other apps (the web view) mounted beside the API.

Nothing lives in the process but the engine, the store and the settings, so several app
processes can serve one database and one bucket behind a load balancer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI

from tether import __version__
from tether.errors import TetherError
from tether.server.runtime import Runtime
from tether.sync.wire import MAX_BATCH, MAX_SESSION_BODY

API = "/api/v1"
MAX_BODY = 1 << 20
"""Largest body of any other request."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def create_app(runtime: Runtime) -> FastAPI:
    """The server. Mount another ASGI app beside the API with `app.mount(path, other)`;
    it finds the runtime at `request.app.state.tether` of this app through `runtime_of`."""
    from tether.server import errors
    from tether.server.routes import chunks, enrol, handoffs, health, push, search, sessions

    app = FastAPI(
        title="tether server",
        version=__version__,
        description="Sessions of AI coding tools, synced between machines and teammates.",
        openapi_url=f"{API}/openapi.json",
        docs_url=f"{API}/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.tether = runtime
    errors.install(app)
    app.include_router(health.router)
    for module in (enrol, chunks, push, sessions, search, handoffs):
        app.include_router(module.router, prefix=API)
    app.add_middleware(BodyLimit)
    return app


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
