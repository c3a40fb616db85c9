"""`GET /healthz`: whether the database and the object store answer (public, says nothing
else: no versions, no counts)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tether.server.db import DatabaseUnavailable, ping
from tether.server.storage import StorageUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    runtime = request.app.state.tether
    checks = {"database": "ok", "storage": "ok"}
    try:
        ping(runtime.engine)
    except DatabaseUnavailable:
        checks["database"] = "unavailable"
    try:
        runtime.storage.check()
    except StorageUnavailable:
        checks["storage"] = "unavailable"
    ok = all(value == "ok" for value in checks.values())
    return JSONResponse({"ok": ok, **checks}, status_code=200 if ok else 503)
