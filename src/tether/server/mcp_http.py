"""The MCP tools over streamable HTTP at `/mcp`: the same tools as `tether mcp serve`
(tether.mcp.server), over the sessions the token's user may see.

Every request must carry a device token (`Authorization: Bearer tt_…`, as `tether login`
keeps it); without a valid one the answer is 401 before the MCP SDK sees the request. The
transport is stateless (JSON answers, no session kept between requests), so any app
process behind a load balancer can answer any request.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.types import Receive, Scope, Send

from tether.archive.query import Filters
from tether.errors import NotFoundError
from tether.model import Message
from tether.server.held import Held
from tether.server.views import Sessions, as_row, narrowing

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from sqlalchemy import Engine

PATH = "/mcp"
_user: contextvars.ContextVar[Sessions] = contextvars.ContextVar("tether_mcp_user")


class UserSessions:
    """tether.mcp's Source over what one user may see on the server."""

    def __init__(self, sessions: Sessions) -> None:
        self.of = sessions

    def search(self, query: str, filters: Filters) -> list[dict[str, Any]]:
        found, _ = self.of.search(query, narrowing(filters), filters.limit)
        # The server ranks whole sessions: a hit names the session, not the message.
        return [
            as_row(head)
            | {"session_id": head["session_id"], "role": "", "timestamp": None}
            | {"kind": None, "snippet": head["snippet"]}
            for head in found
        ]

    def sessions(self, filters: Filters) -> list[dict[str, Any]]:
        rows, _ = self.of.listed(narrowing(filters), filters.offset, filters.limit)
        return rows

    def session(self, ident: str) -> tuple[dict[str, Any], Iterator[Message]]:
        head, _ = self.of.find(ident)

        def messages() -> Iterator[Message]:
            from tether.archive.store import iter_messages

            with self.of.archive(head["session_id"]) as (_, db, pk):
                for _, message in iter_messages(db, pk):
                    yield message

        return as_row(head), messages()


def _current() -> UserSessions:
    try:
        return UserSessions(_user.get())
    except LookupError:
        raise NotFoundError("no user: the request was not signed") from None


class McpEndpoint:
    """The ASGI endpoint at /mcp: the caller by their token, then the SDK's transport."""

    def __init__(self, engine: Engine, held: Held) -> None:
        from mcp.server.transport_security import TransportSecuritySettings

        from tether.mcp.server import build

        self.engine = engine
        self.held = held
        self.server: MCPServer = build(_current)
        # Builds the session manager; the server's own Host check is off because the
        # token is the check (and the server may be reached by any host name).
        self.server.streamable_http_app(
            streamable_http_path=PATH,
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self.server.session_manager.run():
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import JSONResponse

        from tether.server.auth import find_caller
        from tether.server.errors import ApiError

        headers = dict(scope.get("headers") or ())
        given = headers.get(b"authorization", b"").decode("latin-1") or None
        try:
            caller = await run_in_threadpool(find_caller, self.engine, given)
        except ApiError as exc:
            refusal = JSONResponse(
                {"error": exc.message, "kind": exc.kind},
                status_code=exc.status,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await refusal(scope, receive, send)
            return
        _user.set(Sessions(self.engine, self.held, caller.user_id))
        await self.server.session_manager.handle_request(scope, receive, send)
