"""The server's database: one engine for SQLite or PostgreSQL, migrated at start.

A URL names it (`sqlite:///path/server.db`, `postgresql://user@host/db`); SQLAlchemy and
psycopg 3 speak to it. App processes keep no state of their own: several can share one
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError

from tether.errors import TetherError

BUSY_MS = 30_000


class DatabaseUnavailable(TetherError):
    """The database cannot be reached or did not answer: the request may be retried."""


def engine_for(url: str) -> Engine:
    """An engine for `url`, with the settings each database needs."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_MS / 1000})
        event.listen(engine, "connect", _sqlite_settings)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # pre_ping: a connection that died with a database restart is replaced, not handed out.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_settings(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is off; "begin" below starts each one itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # IMMEDIATE: a writer takes the lock up front instead of failing at its first write;
    # a reader (WAL) needs none.
    reading = connection.get_execution_options().get("reading")
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def transaction(engine: Engine, reading: bool = False) -> Iterator[Connection]:
    """One transaction (`reading`: one that writes nothing); a database that is down or
    restarting becomes DatabaseUnavailable."""
    try:
        with engine.connect() as opened:
            connection = opened.execution_options(reading=True) if reading else opened
            with connection.begin():
                yield connection
    except OperationalError as exc:
        raise DatabaseUnavailable(f"the database is unavailable: {_reason(exc)}") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise DatabaseUnavailable(f"the database connection was lost: {_reason(exc)}") from exc
        raise


def _reason(exc: DBAPIError) -> str:
    first = str(exc.orig).strip().splitlines()
    return first[0] if first else type(exc.orig).__name__


def ping(engine: Engine) -> None:
    with transaction(engine) as connection:
        connection.execute(text("SELECT 1"))


def next_changes(connection: Connection, count: int = 1) -> int:
    """The first of `count` new change numbers, under the counter row's lock until the caller
    commits (so change numbers commit in the order they are given)."""
    value = connection.execute(
        text("UPDATE counter SET value = value + :n WHERE id = 1 RETURNING value"), {"n": count}
    ).scalar_one()
    return int(value) - count + 1


def insert_or_ignore(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows, leaving any whose key is there already (another request may insert the
    same chunk at the same moment: the row is there, as wanted)."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        connection.execute(pg_insert(table).on_conflict_do_nothing(), rows)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        connection.execute(sqlite_insert(table).on_conflict_do_nothing(), rows)
