"""One JSON shape for every error the API answers: `{"error": message, "kind": kind}`.

The message is one line a user can act on; nothing of the server's insides (SQL, paths,
tracebacks) is in it. The client turns it into its own one-line error.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tether.errors import TetherError
from tether.server.db import DatabaseUnavailable
from tether.server.storage import StorageUnavailable

log = logging.getLogger("tether.server")


class ApiError(TetherError):
    """An answer other than success: its status, kind and one-line message."""

    def __init__(
        self, status: int, kind: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.headers = headers


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", what)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def error_body(kind: str, message: str) -> dict[str, str]:
    return {"error": message, "kind": kind}


def install(app: FastAPI) -> None:
    """Answer every error in the one shape."""

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.kind, exc.message), exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request"
        return JSONResponse(error_body("bad_request", f"bad request: {message}"[:300]), 400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        return JSONResponse(error_body(kind, str(exc.detail)), exc.status_code)

    @app.exception_handler(DatabaseUnavailable)
    async def database_down(_request: Request, exc: DatabaseUnavailable) -> JSONResponse:
        log.warning("%s", exc)
        return JSONResponse(
            error_body("unavailable", "the server's database is unavailable: try again"),
            503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(StorageUnavailable)
    async def storage_down(_request: Request, exc: StorageUnavailable) -> JSONResponse:
        log.warning("%s", exc)
        return JSONResponse(
            error_body("unavailable", "the server's object storage is unavailable: try again"),
            503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(Exception)
    async def bug(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse(error_body("error", "internal error (see the server's log)"), 500)
