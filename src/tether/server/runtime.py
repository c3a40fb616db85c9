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
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    from tether.errors import UsageError
    from tether.server.db import DatabaseUnavailable

    where = safe_url(settings.database)
    try:
        engine = engine_for(settings.database)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise UsageError(f"cannot use the database {where}: {exc}") from None
    if migrate:
        try:
            upgrade(engine)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            raise DatabaseUnavailable(
                f"cannot open the database {where}: {reason[0] if reason else exc}"
            ) from None
    return Runtime(engine=engine, storage=open_storage(settings.storage), settings=settings)


def safe_url(url: str) -> str:
    """A database URL as it may be shown: without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
