"""The server's schema migrations (Alembic): `upgrade` brings a database to the newest.

Each file in versions/ is one named change, never edited once released; a new change is a
new file whose down_revision is the last one's. The same migrations run on SQLite and on
PostgreSQL; what differs (the full-text index) is chosen by the dialect inside them.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

HERE = Path(__file__).parent


def upgrade(engine: Engine) -> None:
    """Run every migration the database has not had yet (several app processes may start at
    once: on PostgreSQL an advisory lock lets one run them while the others wait)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            from sqlalchemy import text

            connection.execute(text("SELECT pg_advisory_xact_lock(7318201)"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(HERE))
    revision = ScriptDirectory.from_config(config).get_current_head()
    assert revision is not None
    return revision
