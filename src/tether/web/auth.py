"""Who may see the pages: the auth policy every request passes first.

`tether web` uses `TokenAuth`: a random token in the first URL (as Jupyter does), swapped at
once for a cookie (HttpOnly, SameSite=Strict) so the token leaves the address bar; any
request without either is refused, and so is one addressed to another host name (a DNS
rebinding page cannot borrow the browser's way in). The team server brings its own policy
(sign-in by cookie) with the same two methods.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Protocol
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from tether.web.source import Viewer


class Auth(Protocol):
    """An auth policy: the viewer of a request, or the response that answers it instead
    (a redirect, a sign-in page, a refusal). The app calls it in a worker thread, so it may
    block (the server's looks its cookie up in the database)."""

    def viewer(self, request: Request) -> Viewer | Response: ...


class TokenAuth:
    """One person, on this machine: whoever holds `token`, asking for one of `hosts`."""

    def __init__(self, token: str, hosts: frozenset[str], cookie: str = "tether_web") -> None:
        self.token = token
        self.hosts = hosts
        self.cookie = cookie
        self._viewer = Viewer(name="you", csrf_token=_derive(token, "csrf"))
        self._cookie_value = _derive(token, "cookie")

    def viewer(self, request: Request) -> Viewer | Response:
        if request.headers.get("host", "") not in self.hosts:
            return PlainTextResponse("tether web answers on 127.0.0.1 only", status_code=421)
        given = request.query_params.get("token")
        if given is not None:
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return refuse()
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(
                self.cookie, self._cookie_value, httponly=True, samesite="strict", path="/"
            )
            return response
        held = request.cookies.get(self.cookie, "")
        if not hmac.compare_digest(held.encode(), self._cookie_value.encode()):
            return refuse()
        return self._viewer


def _derive(token: str, purpose: str) -> str:
    return hmac.new(token.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def refuse() -> Response:
    return PlainTextResponse(
        "This page needs the link that `tether web` printed (it holds a token).\n",
        status_code=403,
    )
