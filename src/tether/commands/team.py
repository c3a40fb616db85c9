"""`tether team`: named teams of agents, started, stopped and resumed together in tmux."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tether.commands.common import emit_json
from tether.commands.render import print_table
from tether.tools import facts

if TYPE_CHECKING:
    from tether.teams.runner import Launched, Teams


def project_teams() -> Teams:
    """The teams of the current project."""
    from tether.statefile import project_root
    from tether.teams.runner import Teams

    return Teams(Path(project_root(str(Path.cwd()))), os.environ)


json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


@click.group()
def team() -> None:
    """Named teams of agents: one tmux session, one window per agent, resumed together.

    A team is `.tether/teams/NAME.toml` in the project root (or a `[teams.NAME]` table in
    `tether.toml`) listing agents with a name, a tool ({tools}) and
    optionally args, cwd, prompt and env. tether records each agent's own session id in
    `.tether/teams/NAME.json`, so `resume` brings each back with its tool's resume flag.

    \b
      tether team start review      then: tmux attach -t review
      tether team stop review
      tether team resume review     every agent on its own session again
    """


team.help = (team.help or "").replace("{tools}", ", ".join(facts.able("autoresume")))


@team.command()
@click.argument("name")
@click.option("--fresh", is_flag=True, help="Start new sessions even if the team has some.")
@json_option
def start(name: str, fresh: bool, as_json: bool) -> None:
    """Start every agent of team NAME on a new session, in a tmux session named NAME."""
    from tether.commands.common import named_session

    launched = project_teams().start(
        name, fresh=fresh, sessions=lambda ident: named_session(ident, no_scan=False)
    )
    _print_launched(name, launched, as_json)


@team.command()
@click.argument("name")
@json_option
def stop(name: str, as_json: bool) -> None:
    """Stop team NAME: close its tmux session. Its sessions stay recorded for `resume`."""
    stopped = project_teams().stop(name)
    if as_json:
        emit_json({"team": name, "stopped": stopped})
    elif stopped:
        click.echo(f"stopped team {name}; `tether team resume {name}` brings it back")
    else:
        click.echo(f"team {name} was not running")


@team.command()
@click.argument("name")
@click.option(
    "--prompt",
    metavar="TEXT",
    help="Send TEXT to every agent once it is back (not to Cline, opencode and Kilo agents:"
    " their resume opens the session and drops a prompt; type it in their window).",
)
@json_option
def resume(name: str, prompt: str | None, as_json: bool) -> None:
    """Bring every agent of team NAME back on its own session (agents running are left)."""
    launched = project_teams().resume(name, prompt=prompt)
    _print_launched(name, launched, as_json)


@team.command()
@click.argument("name")
@json_option
def status(name: str, as_json: bool) -> None:
    """Per agent of team NAME: running or not, tool, session id, last activity."""
    rows = project_teams().status(name)
    if as_json:
        emit_json({"team": name, "agents": rows})
        return
    print_table(
        ["AGENT", "STATE", "TOOL", "SESSION", "LAST ACTIVITY", "TMUX"],
        [
            [
                row["name"],
                _state(row),
                row["tool"],
                row["native_id"] or "-",
                _when(row["last_activity"]),
                row["tmux_target"] or "-",
            ]
            for row in rows
        ],
    )


@team.command()
@click.argument("name")
@click.argument("agent")
@click.option(
    "--to",
    "target",
    required=True,
    metavar="TOOL",
    help="|".join(t for t in facts.able("autoresume") if t in facts.able("write")) + ".",
)
@json_option
def move(name: str, agent: str, target: str, as_json: bool) -> None:
    """Move AGENT of stopped team NAME to another tool: its session is converted, and
    `tether team resume NAME` continues it there (the team file's args are then left out).

    \b
      tether team move review coder --to claude
    """
    from tether.commands.common import archive, resolve_tool

    tool = resolve_tool(target)
    assert tool is not None
    with archive() as db:
        converted = project_teams().move(name, agent, tool, db)
    if as_json:
        emit_json({"team": name, "agent": agent, **converted.as_dict()})
        return
    source = converted.source
    click.echo(
        f"moved {agent} from {source.tool} ({source.native_id}) to {tool} "
        f"({converted.written.native_id}); `tether team resume {name}` continues it there"
    )


@team.command(name="list")
@json_option
def list_(as_json: bool) -> None:
    """The teams of this project, and whether each is running."""
    rows = project_teams().list()
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no teams here: write .tether/teams/NAME.toml (see `tether team --help`)")
        return
    print_table(
        ["TEAM", "RUNNING", "AGENTS", "STARTED"],
        [
            [
                row["name"],
                "yes" if row["running"] else "no",
                ", ".join(f"{a['name']} ({a['tool']})" for a in row["agents"]),
                _when(row["started_at"]),
            ]
            for row in rows
        ],
    )


def _print_launched(name: str, launched: list[Launched], as_json: bool) -> None:
    if as_json:
        emit_json({"team": name, "agents": [vars_of(item) for item in launched]})
        return
    print_table(
        ["AGENT", "TOOL", "ACTION", "SESSION", "TMUX"],
        [
            [
                item.agent,
                item.tool,
                item.action,
                item.native_id or "(found later)",
                item.tmux_target,
            ]
            for item in launched
        ],
    )
    for item in launched:  # a team file runs what it names, as a Makefile does: say what
        if item.argv:
            click.echo(
                f"{item.agent}: cd {shlex.quote(item.cwd or '.')} && {shlex.join(item.argv)}"
            )
    session = launched[0].tmux_target.split(":", 1)[0] if launched else name
    click.echo(f"attach: tmux attach -t {session}")


def vars_of(item: Launched) -> dict[str, Any]:
    return {
        "name": item.agent,
        "tool": item.tool,
        "action": item.action,
        "native_id": item.native_id,
        "tmux_target": item.tmux_target,
        "cwd": item.cwd,
        "argv": list(item.argv),
    }


def _state(row: dict[str, Any]) -> str:
    if row["state"] == "exited" and row["exit_status"] is not None:
        return f"exited ({row['exit_status']})"
    return str(row["state"])


def _when(stamp: str | None) -> str:
    if not stamp:
        return "-"
    from datetime import datetime

    return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M:%S")
