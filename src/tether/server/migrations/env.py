"""Alembic's entry point: migrations run on the connection tether.server.migrations gives.

Alembic loads this file to run them; imported any other way (a scan of tether's modules),
it does nothing.
"""

from __future__ import annotations

from alembic import context


def run() -> None:
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if getattr(context, "config", None) is not None:
    run()
