"""What every request needs, made once as the server starts: the database engine (migrated),
the object store and the settings. Requests find it at `request.app.state.tether`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from tether.server.settings import Settings
from tether.server.storage import Storage


@dataclass(frozen=True)
class Runtime:
    engine: Engine
    storage: Storage
    settings: Settings


def open_runtime(settings: Settings, migrate: bool = True) -> Runtime:
    """Connect to the database (migrating it) and to the store the settings name."""
    from tether.server.db import engine_for
    from tether.server.migrations import upgrade
    from tether.server.storage import open_storage

    if settings.database.startswith("sqlite:///"):
        Path(settings.database.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = engine_for(settings.database)
    if migrate:
        upgrade(engine)
    return Runtime(engine=engine, storage=open_storage(settings.storage), settings=settings)
