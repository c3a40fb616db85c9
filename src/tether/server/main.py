"""The app as uvicorn's worker processes make it: the settings come from the environment
(`tether server start` puts them there), so every process serves the same database and store.
"""

from __future__ import annotations

from fastapi import FastAPI


def app_from_environment() -> FastAPI:
    from tether.server.app import create_app
    from tether.server.runtime import open_runtime
    from tether.server.settings import resolve

    return create_app(open_runtime(resolve(), migrate=False))
