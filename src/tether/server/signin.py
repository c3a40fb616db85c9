"""Signing in to the server's web pages: the auth policy of the pages (`CookieAuth`), and the
routes that give a browser its cookie.

A browser signs in with something only a logged-in device has:
- `tether remote web` asks the server (with the device token) for a one-time link
  (`POST /api/v1/web/sign-in`, good for five minutes, once) and opens it; the page it opens
  asks the user to confirm, and the confirming form trades the link's code for a cookie.
- or the sign-in page takes a device token pasted into it (`$TETHER_HOME/remote.json`).
The cookie (`tether_session`: HttpOnly, SameSite=Lax, Secure over https, 14 days) names a
row of `web_sign_ins`, where only a hash of its secret is kept; every form that changes
something carries that row's CSRF token, and every POST must come from the server's own
origin. Revoking the device (or removing the user) signs its browsers out.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from sqlalchemy import Engine, delete, insert, select, update
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tether.server.auth import Authenticated, Caller, find_caller
from tether.server.db import now, transaction
from tether.server.errors import ApiError
from tether.server.pages import Member
from tether.server.schema import devices, team_members, teams, users, web_sign_ins
from tether.web.app import HEADERS, read_form, same_origin

COOKIE = "tether_session"
CODE_FOR = timedelta(minutes=5)
SIGNED_IN_FOR = timedelta(days=14)
VALUE = re.compile(r"([0-9a-f]{16})\.([A-Za-z0-9_-]{32,64})")
SIGN_IN = "/-/sign-in"
SIGN_OUT = "/-/sign-out"

router = APIRouter(tags=["web"])
INVALID = "That sign-in link or token is not valid (used, expired or mistyped)."


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@router.post("/web/sign-in", status_code=201)
def new_sign_in(who: Authenticated, request: Request) -> dict[str, Any]:
    """A one-time link that signs a browser in to the web pages as you (five minutes)."""
    secret = secrets.token_urlsafe(32)
    key, expires = _record(request.app.state.tether.engine, who, code_hash=_hash(secret))
    base = str(request.base_url).rstrip("/")
    return {"url": f"{base}{SIGN_IN}?code={key}.{secret}", "expires_at": expires.isoformat()}


def _record(
    engine: Engine, who: Caller, code_hash: str | None = None, secret_hash: str | None = None
) -> tuple[str, datetime]:
    """A new sign-in of `who`'s device: a one-time code's, or at once a cookie's; (its key,
    when it expires)."""
    key, created = secrets.token_hex(8), now()
    expires = created + (CODE_FOR if code_hash else SIGNED_IN_FOR)
    with transaction(engine) as connection:
        connection.execute(
            insert(web_sign_ins).values(
                user_id=who.user_id,
                device_id=who.device_id,
                key=key,
                code_hash=code_hash,
                secret_hash=secret_hash,
                csrf=secrets.token_hex(32),
                created_at=created,
                expires_at=expires,
            )
        )
    return key, expires


class CookieAuth:
    """The pages' auth policy: the member a request's cookie names, else a way to sign in."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def viewer(self, request: Request) -> Member | Response:
        found = VALUE.fullmatch(request.cookies.get(COOKIE, ""))
        member = self._member(*found.groups()) if found else None
        if member is not None:
            return member
        path = request.url.path
        if request.method != "GET" or path.endswith(".json") or path.startswith("/static/"):
            return PlainTextResponse("sign in first: `tether remote web`\n", status_code=401)
        target = path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{SIGN_IN}?next={quote(target, safe='')}", status_code=303)

    def _member(self, key: str, secret: str) -> Member | None:
        with transaction(self.engine, reading=True) as connection:
            row = connection.execute(
                select(
                    web_sign_ins.c.secret_hash,
                    web_sign_ins.c.csrf,
                    web_sign_ins.c.expires_at,
                    users.c.id,
                    users.c.name,
                )
                .join(users, users.c.id == web_sign_ins.c.user_id)
                .where(web_sign_ins.c.key == key)
            ).first()
            if row is None or row[0] is None or not hmac.compare_digest(row[0], _hash(secret)):
                return None
            if _aware(row[2]) < now():
                return None
            names = connection.execute(
                select(teams.c.name)
                .join(team_members, team_members.c.team_id == teams.c.id)
                .where(team_members.c.user_id == row[3])
                .order_by(teams.c.name)
            ).scalars()
            return Member(name=row[4], csrf_token=row[1], teams=tuple(names), user_id=row[3])


def _aware(when: Any) -> Any:
    from datetime import UTC

    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def routes(engine: Engine) -> list[Route]:
    """The sign-in page (GET), the exchange (POST) and signing out (POST)."""

    async def sign_in_page(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        code = request.query_params.get("code", "").strip()
        following = _safe_next(request.query_params.get("next"))
        if not VALUE.fullmatch(code):
            return _page(_sign_in_html("", following))
        made_by = await run_in_threadpool(_made_by, engine, code)
        if made_by is None:
            return _page(f"<p>{INVALID}</p>", 403)
        return _page(_sign_in_html(code, following, made_by))

    async def sign_in(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        form = await read_form(request)
        if not same_origin(request):
            return _page("<p>That form came from another site: nothing was done.</p>", 403)
        cookie = await run_in_threadpool(_exchange, engine, form)
        if cookie is None:
            return _page(
                f'<p>{INVALID}</p><p><a href="{SIGN_IN}">Try again</a></p>',
                403,
            )
        response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=int(SIGNED_IN_FOR.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
        return _secured(response)

    async def sign_out(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        viewer = await run_in_threadpool(CookieAuth(engine).viewer, request)
        form = await read_form(request)
        if not isinstance(viewer, Member):
            return _secured(viewer)
        if not same_origin(request) or form.get("csrf") != viewer.csrf_token:
            return _page("<p>The form expired: reload the page.</p>", 403)
        key = request.cookies.get(COOKIE, "").split(".", 1)[0]
        with transaction(engine) as connection:
            connection.execute(delete(web_sign_ins).where(web_sign_ins.c.key == key))
        response = RedirectResponse(SIGN_IN, status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return _secured(response)

    return [
        Route(SIGN_IN, sign_in_page, methods=["GET"]),
        Route(SIGN_IN, sign_in, methods=["POST"]),
        Route(SIGN_OUT, sign_out, methods=["POST"]),
    ]


def _exchange(engine: Engine, form: dict[str, str]) -> str | None:
    """The cookie for a valid one-time code (used up here) or device token; else None."""
    secret = secrets.token_urlsafe(32)
    found = VALUE.fullmatch(form.get("code", "").strip())
    if found:
        key, code = found.groups()
        with transaction(engine) as connection:
            done = connection.execute(
                update(web_sign_ins)
                .where(
                    web_sign_ins.c.key == key,
                    web_sign_ins.c.code_hash == _hash(code),
                    web_sign_ins.c.expires_at > now(),
                )
                .values(code_hash=None, secret_hash=_hash(secret), expires_at=now() + SIGNED_IN_FOR)
            ).rowcount
        return f"{key}.{secret}" if done == 1 else None
    token = form.get("token", "").strip()
    if not token:
        return None
    try:
        caller: Caller = find_caller(engine, f"Bearer {token}")
    except ApiError:
        return None
    key, _ = _record(engine, caller, secret_hash=_hash(secret))
    return f"{key}.{secret}"


def _made_by(engine: Engine, code: str) -> tuple[str, str] | None:
    """(user, device) that made this unused one-time code; None when there is none."""
    key, secret = code.split(".", 1)
    with transaction(engine, reading=True) as connection:
        row = connection.execute(
            select(users.c.name, devices.c.name)
            .join(users, users.c.id == web_sign_ins.c.user_id)
            .join(devices, devices.c.id == web_sign_ins.c.device_id)
            .where(
                web_sign_ins.c.key == key,
                web_sign_ins.c.code_hash == _hash(secret),
                web_sign_ins.c.expires_at > now(),
            )
        ).first()
    return None if row is None else (str(row[0]), str(row[1]))


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server only (never `//host`)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/sessions"


def _sign_in_html(code: str, following: str, made_by: tuple[str, str] = ("", "")) -> str:
    hidden = f'<input type="hidden" name="next" value="{html.escape(following)}">'
    if code:
        # Whose account it opens, said before the click: a link someone sends you may be
        # theirs, and what you do signed in to it (a handoff) would be done as them.
        user, device = (html.escape(part) for part in made_by)
        return (
            f"<h1>Sign in to tether as {user}</h1>"
            f"<p>This link was made by <code>tether remote web</code> on {user}'s machine"
            f" <code>{device}</code>. Not you? Close this page.</p>"
            f'<form method="post" action="{SIGN_IN}">{hidden}'
            f'<input type="hidden" name="code" value="{html.escape(code)}">'
            '<button type="submit" id="confirm">Sign in</button></form>'
        )
    return (
        "<h1>Sign in to tether</h1>"
        "<p>On a machine logged in to this server (<code>tether login URL</code>), run"
        " <code>tether remote web</code>: it opens this server's pages, signed in.</p>"
        "<p>Or paste that machine's device token (the <code>token</code> in"
        " <code>$TETHER_HOME/remote.json</code>):</p>"
        f'<form method="post" action="{SIGN_IN}">{hidden}'
        '<input type="password" name="token" autocomplete="off" size="60"'
        ' aria-label="Device token">'
        ' <button type="submit">Sign in</button></form>'
    )


def _page(body: str, status: int = 200) -> Response:
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Sign in · tether</title></head><body><main>{body}</main></body></html>"
    )
    return _secured(HTMLResponse(page, status_code=status))


def _secured(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response
