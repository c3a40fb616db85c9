"""Team files: which agents a named team runs, each on which tool, where and how.

A team is `<project root>/.tether/teams/NAME.toml`, or a `[teams.NAME]` table in the
project's `tether.toml`; either lists `[[agents]]` with name, tool, args, cwd, prompt, env
and session (a session tether has, by id or name, that the agent starts from).
"""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tether.errors import NotFoundError, TetherError
from tether.files import read_regular
from tether.statefile import STATE_DIR
from tether.tools import facts

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
AGENT_KEYS = frozenset({"name", "tool", "args", "cwd", "prompt", "env", "session"})
TEAM_KEYS = frozenset({"agents", "description", "tmux_session"})
PROJECT_FILE = "tether.toml"
TEAM_FILE_LIMIT = 1 << 20


class TeamFileError(TetherError):
    """A team cannot be read; the message says which file and what is wrong, on one line."""


class NoSuchTeam(TeamFileError, NotFoundError):
    """No team of that name is defined in the project."""


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    tool: str
    args: tuple[str, ...] = ()
    cwd: str = "."
    """As written: relative paths are below the project root."""
    prompt: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    session: str | None = None
    """A session tether has (its id or a name: `tether alias`, `tether checkpoint`) that the
    agent starts from, as a new native session of its tool."""

    def folder(self, root: Path) -> Path:
        return (root / Path(self.cwd).expanduser()).resolve()


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    agents: tuple[Agent, ...]
    source: Path
    """The file it was read from."""
    tmux_session: str
    description: str = ""

    def agent(self, name: str) -> Agent | None:
        return next((agent for agent in self.agents if agent.name == name), None)


def teams_dir(root: Path) -> Path:
    return root / STATE_DIR / "teams"


def check_name(kind: str, name: str, where: str = "") -> str:
    if not NAME_RE.fullmatch(name):
        prefix = f"{where}: " if where else ""
        raise TeamFileError(
            f"{prefix}bad {kind} name {name!r}: use letters, digits, '-' and '_' (at most 64)"
        )
    return name


def defined_teams(root: Path) -> dict[str, Path]:
    """Every team name defined for this project, with the file that defines it."""
    found: dict[str, Path] = {}
    project_file = root / PROJECT_FILE
    if project_file.is_file():
        try:
            tables = _load_toml(project_file).get("teams", {})
        except TeamFileError:
            tables = {}
        if isinstance(tables, dict):
            found.update(dict.fromkeys(tables, project_file))
    folder = teams_dir(root)
    if folder.is_dir():
        found.update({path.stem: path for path in sorted(folder.glob("*.toml"))})
    return dict(sorted(found.items()))


def load_team(root: Path, name: str) -> Team:
    """The team `name` of the project at `root`; TeamFileError says what is wrong."""
    check_name("team", name)
    own_file = teams_dir(root) / f"{name}.toml"
    project_file = root / PROJECT_FILE
    in_project: Any = None
    if project_file.is_file():
        teams = _load_toml(project_file).get("teams", {})
        in_project = teams.get(name) if isinstance(teams, dict) else None
    if own_file.is_file() and in_project is not None:
        raise TeamFileError(
            f"team {name!r} is defined twice, in {own_file} and in {project_file}: keep one"
        )
    if own_file.is_file():
        return parse_team(name, _load_toml(own_file), own_file)
    if in_project is not None:
        if not isinstance(in_project, dict):
            raise TeamFileError(f"{project_file}: teams.{name} must be a table")
        return parse_team(name, in_project, project_file)
    raise NoSuchTeam(
        f"no team {name!r} here: write {own_file} or a [teams.{name}] table in {project_file}"
    )


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        data = read_regular(str(path), TEAM_FILE_LIMIT).decode("utf-8")
        return tomllib.loads(data)
    except UnicodeDecodeError as exc:
        raise TeamFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TeamFileError(f"{path}: invalid TOML: {exc}") from exc
    except OSError as exc:
        raise TeamFileError(f"{path}: cannot read it ({exc.strerror})") from exc


def parse_team(name: str, table: dict[str, Any], source: Path) -> Team:
    where = f"{source}" if source.name != PROJECT_FILE else f"{source} [teams.{name}]"
    _no_unknown_keys(table, TEAM_KEYS, where)
    entries = table.get("agents")
    if not isinstance(entries, list) or not entries:
        raise TeamFileError(f"{where}: no agents: add [[agents]] tables (name, tool, …)")
    agents: list[Agent] = []
    for index, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise TeamFileError(f"{where}: agent {index} must be a table")
        agent = _agent(entry, where, index)
        if any(other.name == agent.name for other in agents):
            raise TeamFileError(f"{where}: two agents are named {agent.name!r}")
        agents.append(agent)
    tmux_session = _string(table, "tmux_session", where) or name
    check_name("tmux session", tmux_session, where)
    return Team(
        name=name,
        agents=tuple(agents),
        source=source,
        tmux_session=tmux_session,
        description=_string(table, "description", where) or "",
    )


def _agent(entry: dict[str, Any], team_where: str, index: int) -> Agent:
    name = _string(entry, "name", f"{team_where}: agent {index}")
    if not name:
        raise TeamFileError(f"{team_where}: agent {index} has no name")
    where = f"{team_where}: agent {name!r}"
    _no_unknown_keys(entry, AGENT_KEYS, where)
    check_name("agent", name, team_where)
    return Agent(
        name=name,
        tool=tool_name(_string(entry, "tool", where), where),
        args=_args(entry.get("args"), where),
        cwd=_string(entry, "cwd", where) or ".",
        prompt=_string(entry, "prompt", where),
        env=_env(entry.get("env"), where),
        session=_string(entry, "session", where),
    )


def tool_name(value: str | None, where: str) -> str:
    """The canonical name of a tool that a team can run (aliases accepted)."""
    runnable = runnable_tools()
    if not value:
        raise TeamFileError(f"{where}: missing tool (one of {', '.join(runnable)})")
    try:
        name = facts.resolve(value)
    except facts.UnknownTool:
        name = value
    if name not in runnable:
        raise TeamFileError(
            f"{where}: tool {value!r} cannot run in a team: use {', '.join(runnable)}"
        )
    return name


def runnable_tools() -> list[str]:
    """Tools whose sessions tether can name, given an id up front (`--session-id`) or found
    afterwards among the sessions the tool began: the `autoresume` capability."""
    return facts.able("autoresume")


def _no_unknown_keys(table: dict[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise TeamFileError(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )


def _string(table: dict[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None or isinstance(value, str):
        return value
    raise TeamFileError(f"{where}: {key} must be a string")


def _args(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        try:
            return tuple(shlex.split(value))
        except ValueError as exc:
            raise TeamFileError(f"{where}: args: {exc}") from exc
    if isinstance(value, list) and all(isinstance(word, str) for word in value):
        return tuple(value)
    raise TeamFileError(f"{where}: args must be a list of strings (or one string)")


def _env(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        bad = [key for key in value if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key)]
        if not bad:
            return dict(value)
    raise TeamFileError(f'{where}: env must be a table of NAME = "text"')
