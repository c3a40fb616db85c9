"""`tether server`: run a tether server and manage its users and teams (on its own machine).

The server is an optional extra (`pip install 'tether[server]'`): this module is the only
part of the command line that imports it, and only when one of these commands runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from tether.commands.common import emit_json
from tether.errors import TetherError

if TYPE_CHECKING:
    from sqlalchemy import Engine

EXTRA = "pip install 'tether[server]'"


class ServerNotInstalled(TetherError):
    """The server's libraries are not installed."""


def _require_extra() -> None:
    import importlib.util

    missing = [
        name
        for name in ("fastapi", "uvicorn", "sqlalchemy", "alembic", "argon2", "obstore")
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        raise ServerNotInstalled(
            f"the tether server needs libraries that are not installed ({', '.join(missing)}):"
            f" {EXTRA}"
        )


def database_option(f: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--database",
        metavar="URL",
        help="sqlite:///PATH or postgresql://… (default: $TETHER_SERVER_DATABASE, then"
        " server.toml, then $TETHER_HOME/server/server.db).",
    )(f)


def _engine(database: str | None) -> Engine:
    _require_extra()
    from tether.server.runtime import open_runtime
    from tether.server.settings import resolve

    return open_runtime(resolve(database=database)).engine


@click.group()
def server() -> None:
    """Run a tether server; add its users and teams."""


@server.command()
@database_option
@click.option("--storage", metavar="URL", help="A folder (file:///PATH) or s3://BUCKET?endpoint=….")
@click.option("--host", metavar="HOST", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default 8765).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
def start(
    database: str | None, storage: str | None, host: str | None, port: int | None, workers: int
) -> None:
    """Serve the API until stopped (Ctrl-C).

    \b
    Embedded defaults: SQLite and a folder in $TETHER_HOME/server, on 127.0.0.1:8765.
      tether server start
      tether server start --database postgresql://tether@db/tether \\
          --storage 's3://sessions?endpoint=http://s3:9000' --host 0.0.0.0 --workers 4
    S3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
    """
    _require_extra()
    import uvicorn

    from tether.server.runtime import open_runtime, safe_url
    from tether.server.settings import resolve

    settings = resolve(database, storage, host, port)
    runtime = open_runtime(settings)  # migrates once, before any worker starts
    runtime.storage.check()
    os.environ["TETHER_SERVER_DATABASE"] = settings.database
    os.environ["TETHER_SERVER_STORAGE"] = settings.storage
    click.echo(
        f"tether server on http://{settings.host}:{settings.port}"
        f" (database {safe_url(settings.database)}, {runtime.storage.description})",
        err=True,
    )
    uvicorn.run(
        "tether.server.main:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level="warning",
    )


@server.group()
def user() -> None:
    """Users: each enrols their machines with a one-time code."""


@user.command(name="add")
@click.argument("name")
@click.option("--again", is_flag=True, help="A new code for a user who exists (a new machine).")
@database_option
@click.option("--json", "as_json", is_flag=True, help="Print the user and code as JSON.")
def user_add(name: str, again: bool, database: str | None, as_json: bool) -> None:
    """Add user NAME and print their one-time enrolment code (good for 24 hours)."""
    from tether.server.admin import add_user
    from tether.server.settings import resolve

    _require_extra()
    result = add_user(_engine(database), name, again, resolve(database=database).code_hours)
    if as_json:
        emit_json(result)
        return
    click.echo(f"user {name}: one-time code {result['code']} (until {result['expires_at']})")
    click.echo(f"on each of their machines: tether login URL --user {name} --code {result['code']}")


@user.command(name="list")
@database_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def user_list(database: str | None, as_json: bool) -> None:
    """Every user, with their devices, sessions and teams."""
    from tether.server.admin import list_users

    users = list_users(_engine(database))
    if as_json:
        emit_json(users)
        return
    from tether.commands.render import print_table

    print_table(
        ["USER", "DEVICES", "SESSIONS", "TEAMS"],
        [[u["user"], str(u["devices"]), str(u["sessions"]), ", ".join(u["teams"])] for u in users],
        right={1, 2},
    )


@user.command(name="remove")
@click.argument("name")
@database_option
@click.option("--json", "as_json", is_flag=True, help="Print what was removed as JSON.")
def user_remove(name: str, database: str | None, as_json: bool) -> None:
    """Remove user NAME: their tokens stop working; what they pushed goes with them."""
    from tether.server.admin import remove_user

    result = remove_user(_engine(database), name)
    _done(result, as_json, f"removed {name} and their {result['sessions']} session(s)")


@server.group()
def team() -> None:
    """Teams: members see the sessions pushed to the team (`tether push --team NAME`)."""


@team.command(name="add")
@click.argument("name")
@database_option
@click.option("--json", "as_json", is_flag=True, help="Print the team as JSON.")
def team_add(name: str, database: str | None, as_json: bool) -> None:
    """Add team NAME."""
    from tether.server.admin import add_team

    _done(add_team(_engine(database), name), as_json, f"team {name} added")


@team.command(name="list")
@database_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def team_list(database: str | None, as_json: bool) -> None:
    """Every team and its members."""
    from tether.server.admin import list_teams

    teams = list_teams(_engine(database))
    if as_json:
        emit_json(teams)
        return
    for item in teams:
        click.echo(f"{item['team']}: {', '.join(item['members']) or '(no members)'}")


@team.group()
def member() -> None:
    """Who is in a team."""


@member.command(name="add")
@click.argument("name")
@click.argument("username", metavar="USER")
@database_option
@click.option("--json", "as_json", is_flag=True, help="Print the team as JSON.")
def member_add(name: str, username: str, database: str | None, as_json: bool) -> None:
    """Add USER to team NAME."""
    from tether.server.admin import set_member

    result = set_member(_engine(database), name, username, True)
    _done(result, as_json, f"{name}: {', '.join(result['members'])}")


@member.command(name="remove")
@click.argument("name")
@click.argument("username", metavar="USER")
@database_option
@click.option("--json", "as_json", is_flag=True, help="Print the team as JSON.")
def member_remove(name: str, username: str, database: str | None, as_json: bool) -> None:
    """Take USER out of team NAME."""
    from tether.server.admin import set_member

    result = set_member(_engine(database), name, username, False)
    _done(result, as_json, f"{name}: {', '.join(result['members']) or '(no members)'}")


def _done(result: dict[str, Any], as_json: bool, line: str) -> None:
    if as_json:
        emit_json(result)
    else:
        click.echo(line)
