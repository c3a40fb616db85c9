"""Named teams of agents: start them in one tmux session, stop, resume each on its own session.

The record `<root>/.tether/teams/NAME.json` keeps, per agent, the tool, the command, the tmux
target and the tool's own session id, so that `resume` brings every agent back with its own
tool's resume flag. A tool that cannot be given an id up front (Codex) has its session found
afterwards among the sessions it began, after the agent's launch, in the agent's folder.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from tether.errors import NotFoundError, TetherError
from tether.files import read_regular
from tether.paths import user_home
from tether.statefile import Lock, state_dir, write_atomic
from tether.teams.teamfile import (
    NAME_RE,
    Agent,
    TeamFileError,
    check_name,
    defined_teams,
    load_team,
    runnable_tools,
    teams_dir,
)
from tether.teams.tmux import Pane, Tmux, TmuxError
from tether.tools import facts, launch
from tether.tools.facts import find_session

if TYPE_CHECKING:
    import sqlite3

    from tether.convert.session import Converted
    from tether.model import Session

RECORD_VERSION = 1
RECORD_LIMIT = 1 << 22


class TeamError(TetherError):
    """The team cannot do what was asked; the message says why and what to do, on one line."""


class NotRecorded(TeamError, NotFoundError):
    """The team was never started here, or has no agent of that name."""


@dataclass(slots=True)
class AgentRecord:
    name: str
    tool: str
    command: list[str]
    cwd: str
    tmux_target: str
    native_id: str | None = None
    started_at: str | None = None
    resumed_at: str | None = None
    moved_from: list[dict[str, str]] = field(default_factory=list)
    """Earlier (tool, native_id, moved_at) of an agent moved to another tool."""


@dataclass(slots=True)
class TeamRecord:
    team: str
    root: str
    tmux_session: str
    agents: list[AgentRecord] = field(default_factory=list)
    stopped_at: str | None = None
    version: int = RECORD_VERSION

    def agent(self, name: str) -> AgentRecord | None:
        return next((agent for agent in self.agents if agent.name == name), None)

    def put(self, record: AgentRecord) -> None:
        """Add the agent, or replace the one of that name where it stands."""
        at = next((i for i, a in enumerate(self.agents) if a.name == record.name), None)
        if at is None:
            self.agents.append(record)
        else:
            self.agents[at] = record

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def record_path(root: Path, name: str) -> Path:
    return teams_dir(root) / f"{name}.json"


def load_record(root: Path, name: str) -> TeamRecord | None:
    """The team's record, None when it was never started; TeamError when unreadable, or
    when it holds what tether would not have written (a project can be a stranger's clone:
    nothing in its records may reach an argv, a tmux format or a path but what was checked)."""
    path = record_path(root, name)
    try:
        data = orjson.loads(read_regular(str(path), RECORD_LIMIT))
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise TeamError(f"{path} cannot be read ({exc}): move it away to start afresh") from exc
    try:
        agent_keys = {f.name for f in fields(AgentRecord)}
        agents = [
            AgentRecord(**{k: v for k, v in agent.items() if k in agent_keys})
            for agent in data.pop("agents", [])
        ]
        team_keys = {f.name for f in fields(TeamRecord)}
        record = TeamRecord(agents=agents, **{k: v for k, v in data.items() if k in team_keys})
    except (TypeError, AttributeError) as exc:
        raise TeamError(f"{path} is not a team record: move it away to start afresh") from exc
    problem = _record_problem(record, name)
    if problem:
        raise TeamError(f"{path}: {problem}: move it away to start afresh")
    return record


def _record_problem(record: TeamRecord, name: str) -> str | None:
    """What in a record tether would not have written, or None."""
    if record.team != name or not NAME_RE.fullmatch(str(record.tmux_session)):
        return "its team or tmux session name is not one tether gives"
    runnable = runnable_tools()
    for agent in record.agents:
        if not (isinstance(agent.name, str) and NAME_RE.fullmatch(agent.name)):
            return f"agent name {agent.name!r} is not one tether gives"
        if agent.tool not in runnable:
            return f"agent {agent.name!r}: {agent.tool!r} is not a tool a team runs"
        if agent.native_id is not None and not facts.get(agent.tool).valid_id(agent.native_id):
            return f"agent {agent.name!r}: {agent.native_id!r} is not a {agent.tool} session id"
        if not (isinstance(agent.cwd, str) and agent.cwd.startswith("/") and "\0" not in agent.cwd):
            return f"agent {agent.name!r}: its folder is not an absolute path"
    return None


def save_record(root: Path, record: TeamRecord) -> None:
    state_dir(str(root))
    data = orjson.dumps(record.as_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"
    write_atomic(str(record_path(root, record.team)), data)


def stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


@dataclass(frozen=True, slots=True)
class Launched:
    """What happened to one agent in a start or resume: started, resumed, or left running."""

    agent: str
    tool: str
    action: str
    native_id: str | None
    tmux_target: str
    cwd: str | None = None
    """Where the command runs (None: left running as it was)."""
    argv: tuple[str, ...] = ()
    """The command tether ran: the team file's tool and args, and the session's flags."""


class Teams:
    """The teams of one project, run with `env` (PATH, HOME, the tools' own variables)."""

    def __init__(
        self,
        root: Path,
        env: Mapping[str, str],
        tmux: Tmux | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = root
        self.env = env
        self._tmux = tmux
        self.clock = clock

    def tmux(self) -> Tmux:
        if self._tmux is None:
            self._tmux = Tmux.find(self.env)
        return self._tmux

    def _lock(self, name: str) -> Lock:
        return Lock(str(teams_dir(self.root) / f".{name}.lock"))

    # -------------------------------------------------------------- start, stop, resume

    def start(
        self,
        name: str,
        fresh: bool = False,
        sessions: Callable[[str], Session] | None = None,
    ) -> list[Launched]:
        """Every agent on a new session, in a new tmux session named after the team; an
        agent with a `session` starts from that session (`sessions` finds it by id or name:
        tether's archive), converted into a new native session of its tool."""
        team = load_team(self.root, name)
        tmux = self.tmux()
        for agent in team.agents:
            self._check_runnable(agent.tool, agent.name, agent.folder(self.root))
        state_dir(str(self.root))
        with self._lock(name):
            if tmux.has_session(team.tmux_session):
                raise TeamError(
                    f"tmux session {team.tmux_session!r} is running already: "
                    f"`tether team stop {name}` first, or `tmux attach -t {team.tmux_session}`"
                )
            old = load_record(self.root, name)
            if old and not fresh and any(agent.native_id for agent in old.agents):
                raise TeamError(
                    f"team {name!r} has sessions already: `tether team resume {name}` "
                    f"continues them, `tether team start {name} --fresh` starts new ones"
                )
            record = TeamRecord(team=name, root=str(self.root), tmux_session=team.tmux_session)
            launched = []
            for agent in team.agents:
                folder = agent.folder(self.root)
                native_id = self._from_session(agent, folder, sessions)
                launched.append(
                    self._start_agent(
                        record, agent, folder, native_id=native_id, written=native_id is not None
                    )
                )
                save_record(self.root, record)
        return launched

    def _from_session(
        self, agent: Agent, folder: Path, sessions: Callable[[str], Session] | None
    ) -> str | None:
        """The new native session an agent with a `session` starts on, written now."""
        if agent.session is None:
            return None
        if sessions is None:
            raise TeamError(
                f"agent {agent.name!r}: its session {agent.session!r} needs the archive"
            )
        from tether.convert.session import ConvertError, convert, store_root
        from tether.convert.writers.base import WriteError

        try:
            converted = convert(
                sessions(agent.session),
                agent.tool,
                store=store_root(agent.tool, self.env, user_home(self.env)),
                cwd=folder,
            )
        except (ConvertError, WriteError) as exc:
            raise TeamError(f"agent {agent.name!r}: {exc}") from exc
        return converted.written.native_id

    def stop(self, name: str) -> bool:
        """Close the team's tmux session; False when it was not running."""
        check_name("team", name)
        tmux = self.tmux()
        with self._lock(name):
            record = self._record(name)
            self._identify(record)
            stopped = tmux.stop_session(record.tmux_session)
            record.stopped_at = stamp(self.clock())
            save_record(self.root, record)
        return stopped

    def resume(self, name: str, prompt: str | None = None) -> list[Launched]:
        """Every agent that is not running back on its own session (its tool's resume flag).

        An agent with no session yet (never prompted, or its file is gone) starts a new one;
        an agent added to the team file since the start starts too.
        """
        team = load_team(self.root, name)
        tmux = self.tmux()
        with self._lock(name):
            record = self._record(name)
            self._identify(record)
            panes = tmux.panes(record.tmux_session)
            launched = []
            for agent in team.agents:
                pane = panes.get(agent.name)
                earlier = record.agent(agent.name)
                if pane is not None and pane.running:
                    tool = earlier.tool if earlier else agent.tool
                    native_id = earlier.native_id if earlier else None
                    target = f"{record.tmux_session}:{agent.name}"
                    launched.append(Launched(agent.name, tool, "running", native_id, target))
                    continue
                launched.append(self._resume_agent(record, agent, earlier, pane, prompt))
                save_record(self.root, record)
            record.stopped_at = None
            save_record(self.root, record)
        return launched

    def _start_agent(
        self,
        record: TeamRecord,
        agent: Agent,
        folder: Path,
        tool: str | None = None,
        pane: Pane | None = None,
        prompt: str | None = None,
        native_id: str | None = None,
        written: bool = False,
    ) -> Launched:
        """A new session; `native_id` reuses an id given up front that no session took, or
        (`written`) names the session written for the agent's `session`: resumed, not begun."""
        tool = tool or agent.tool
        native_id = native_id or str(uuid.uuid4())
        if written:
            session_args: list[str] | None = launch.resume_args(tool, native_id)
        else:
            session_args = launch.new_session_args(tool, native_id)
        if session_args is None:
            native_id, session_args = "", []
        first = prompt if prompt is not None else agent.prompt
        argv = self._argv(tool, session_args, _own_args(agent, tool), first)
        now = self.clock()
        target = self._run(record.tmux_session, agent, folder, argv, pane)
        earlier = record.agent(agent.name)
        record.put(
            AgentRecord(
                name=agent.name,
                tool=tool,
                command=argv,
                cwd=str(folder),
                tmux_target=target,
                native_id=native_id or None,
                started_at=stamp(now),
                moved_from=earlier.moved_from if earlier else [],
            )
        )
        return Launched(
            agent.name, tool, "started", native_id or None, target, str(folder), tuple(argv)
        )

    def _resume_agent(
        self,
        record: TeamRecord,
        agent: Agent,
        earlier: AgentRecord | None,
        pane: Pane | None,
        prompt: str | None,
    ) -> Launched:
        if earlier is None:
            return self._start_agent(record, agent, agent.folder(self.root), pane=pane)
        folder = Path(earlier.cwd)  # sessions belong to their folder (Claude's do by name)
        self._check_runnable(earlier.tool, agent.name, folder)
        native_id = earlier.native_id
        if not native_id or self.session_file(earlier.tool, native_id, earlier.cwd) is None:
            return self._start_agent(record, agent, folder, earlier.tool, pane, prompt, native_id)
        session_args = launch.resume_args(earlier.tool, native_id)
        if not launch.spec(earlier.tool).get("resume_takes_prompt", True):
            prompt = None  # its resume would drop it (Cline's TUI): not given at all
        argv = self._argv(earlier.tool, session_args, _own_args(agent, earlier.tool), prompt)
        earlier.tmux_target = self._run(record.tmux_session, agent, folder, argv, pane)
        earlier.command = argv
        earlier.resumed_at = stamp(self.clock())
        return Launched(
            agent.name,
            earlier.tool,
            "resumed",
            native_id,
            earlier.tmux_target,
            str(folder),
            tuple(argv),
        )

    def _argv(
        self, tool: str, session_args: list[str], args: tuple[str, ...], prompt: str | None
    ) -> list[str]:
        """Session words first (Codex's are a subcommand), the user's flags, the prompt last."""
        words = launch.prompt_args(tool, prompt) if prompt else []
        return [launch.binary(tool), *session_args, *args, *words]

    def _run(
        self, session: str, agent: Agent, folder: Path, argv: list[str], pane: Pane | None
    ) -> str:
        tmux = self.tmux()
        if pane is not None:
            tmux.respawn(pane.pane_id, str(folder), argv, agent.env)
        else:
            tmux.open(session, agent.name, str(folder), argv, agent.env)
        return f"{session}:{agent.name}"

    def _check_runnable(self, tool: str, agent: str, folder: Path) -> None:
        binary = launch.binary(tool)
        if shutil.which(binary, path=self.env.get("PATH")) is None:
            raise TeamError(f"agent {agent!r}: {binary} is not installed here (not on PATH)")
        if not folder.is_dir():
            raise TeamError(f"agent {agent!r}: its folder {folder} does not exist")

    def _record(self, name: str) -> TeamRecord:
        record = load_record(self.root, name)
        if record is None:
            raise NotRecorded(f"team {name!r} was never started here: `tether team start {name}`")
        return record

    # -------------------------------------------------------------- moving an agent

    def move(self, name: str, agent_name: str, target: str, db: sqlite3.Connection) -> Converted:
        """Carry a stopped agent's session over to `target` (through convert): the record
        then names the new native session, and `resume` continues it in `target`."""
        from tether.convert.session import ConvertError, convert, store_root
        from tether.convert.writers.base import WriteError

        with self._lock(name):
            record = self._record(name)
            self._identify(record)
            agent = self._movable(record, agent_name, target)
            assert agent.native_id is not None  # _movable says so
            session = self._captured(db, agent)
            try:
                converted = convert(
                    session,
                    target,
                    store=store_root(target, self.env, user_home(self.env)),
                    cwd=Path(agent.cwd),
                )
            except (ConvertError, WriteError) as exc:
                raise TeamError(f"agent {agent_name!r}: {exc}") from exc
            moved = {"tool": agent.tool, "native_id": agent.native_id}
            agent.moved_from.append({**moved, "moved_at": stamp(self.clock())})
            agent.tool, agent.native_id = target, converted.written.native_id
            agent.command = converted.resume_command
            save_record(self.root, record)
        return converted

    def _movable(self, record: TeamRecord, agent_name: str, target: str) -> AgentRecord:
        from tether.convert.writers import NoWriter, get_writer

        agent = record.agent(agent_name)
        if agent is None:
            names = ", ".join(a.name for a in record.agents)
            raise NotRecorded(f"team {record.team!r} has no agent {agent_name!r} (it has {names})")
        if agent.tool == target:
            raise TeamError(f"agent {agent_name!r} is on {target} already")
        try:
            get_writer(target)
        except NoWriter as exc:
            raise TeamError(str(exc)) from exc
        pane = self._panes(record.tmux_session).get(agent_name)
        if pane is not None and pane.running:
            raise TeamError(
                f"agent {agent_name!r} is running: `tether team stop {record.team}` first"
            )
        if not agent.native_id:
            raise TeamError(f"agent {agent_name!r} has no session yet: nothing to move")
        self._check_runnable(target, agent_name, Path(agent.cwd))
        return agent

    def _captured(self, db: sqlite3.Connection, agent: AgentRecord) -> Session:
        """The agent's session as it is on disk now, read into the archive."""
        from tether.archive.store import load_session
        from tether.capture.importer import import_paths
        from tether.capture.scan import scan_lock
        from tether.model import session_id
        from tether.paths import tether_home

        assert agent.native_id is not None
        path = self.session_file(agent.tool, agent.native_id, agent.cwd)
        if path is None:
            raise TeamError(f"agent {agent.name!r}: the file of its {agent.tool} session is gone")
        ident = session_id(agent.tool, agent.native_id)
        with scan_lock(tether_home(self.env), wait=True):
            import_paths(db, [path])
            row = db.execute("SELECT pk FROM sessions WHERE id = ?", (ident,)).fetchone()
            if row is None:  # its conversation is in another file of the tool's (a transcript)
                from tether.capture.scan import scan

                scan(db, self.env, user_home(self.env))
                row = db.execute("SELECT pk FROM sessions WHERE id = ?", (ident,)).fetchone()
        if row is None:
            raise TeamError(f"agent {agent.name!r}: tether could not read {path}")
        return load_session(db, row[0])

    # -------------------------------------------------------------- sessions on disk

    def session_file(self, tool: str, native_id: str, cwd: str | None = None) -> Path | None:
        """The file holding the session (the newest, if a tool left several), else None."""
        tool_facts = facts.get(tool)
        for store in tool_facts.store_roots(self.env, str(user_home(self.env))):
            found = find_session(tool_facts, store, native_id, cwd)
            if found:
                return Path(found)
        return None

    def _identify(self, record: TeamRecord) -> bool:
        """Find the sessions of agents whose tool picked its own id; True if any was found.

        Each takes the oldest session its tool began in its folder after its launch that
        no other agent holds, the agents in launch order.
        """
        changed = False
        taken = {agent.native_id for agent in record.agents if agent.native_id}
        waiting = [a for a in record.agents if not a.native_id and a.started_at]
        for agent in sorted(waiting, key=lambda a: a.started_at or ""):
            tool_facts = facts.get(agent.tool)
            finder = tool_facts.started_since
            if finder is None:
                continue
            since = epoch(agent.started_at or "")
            for store in tool_facts.store_roots(self.env, str(user_home(self.env))):
                for native_id, _path in finder(store, agent.cwd, since, False):
                    if native_id not in taken:
                        agent.native_id = native_id
                        taken.add(native_id)
                        changed = True
                        break
                if agent.native_id:
                    break
        return changed

    # -------------------------------------------------------------- status and list

    def status(self, name: str) -> list[dict[str, Any]]:
        """Per agent: running or not, tool, native session id, last activity, where."""
        record = load_record(self.root, name)
        try:
            team_agents = load_team(self.root, name).agents
        except TeamFileError:
            if record is None:
                raise
            team_agents = ()  # a broken team file does not hide what runs
        rows = []
        if record is not None:
            with self._lock(name):
                if self._identify(record):
                    save_record(self.root, record)
            panes = self._panes(record.tmux_session)
            rows = [self._agent_status(agent, panes.get(agent.name)) for agent in record.agents]
        known = {row["name"] for row in rows}
        rows += [_unstarted(agent) for agent in team_agents if agent.name not in known]
        return rows

    def _panes(self, session: str) -> dict[str, Pane]:
        try:
            return self.tmux().panes(session)
        except TmuxError:
            return {}  # no tmux: nothing of the team can be running

    def _agent_status(self, agent: AgentRecord, pane: Pane | None) -> dict[str, Any]:
        path = None
        if agent.native_id:
            path = self.session_file(agent.tool, agent.native_id, agent.cwd)
        activity = None
        if path is not None:
            try:
                activity = stamp(path.stat().st_mtime)
            except OSError:
                path = None
        state = "stopped" if pane is None else "running" if pane.running else "exited"
        return {
            "name": agent.name,
            "tool": agent.tool,
            "state": state,
            "running": state == "running",
            "exit_status": pane.exit_status if pane and not pane.running else None,
            "native_id": agent.native_id,
            "session_file": str(path) if path else None,
            "last_activity": activity,
            "tmux_target": agent.tmux_target,
            "cwd": agent.cwd,
            "command": agent.command,
            "started_at": agent.started_at,
            "resumed_at": agent.resumed_at,
        }

    def list(self) -> list[dict[str, Any]]:
        """Every team of the project: defined in a file, started, or both."""
        defined = defined_teams(self.root)
        names = set(defined)
        folder = teams_dir(self.root)
        if folder.is_dir():
            names |= {path.stem for path in folder.glob("*.json")}
        rows = []
        for name in sorted(names):
            try:
                record = load_record(self.root, name)
            except TeamError:
                record = None
            rows.append(self._summary(name, defined.get(name), record))
        return rows

    def _summary(self, name: str, file: Path | None, record: TeamRecord | None) -> dict[str, Any]:
        if record is not None:
            agents = [
                {"name": a.name, "tool": a.tool, "native_id": a.native_id} for a in record.agents
            ]
            panes = self._panes(record.tmux_session)
            started = [a.started_at for a in record.agents if a.started_at]
        else:
            try:
                defined = load_team(self.root, name).agents
            except TeamFileError:
                defined = ()
            agents = [{"name": a.name, "tool": a.tool, "native_id": None} for a in defined]
            panes, started = {}, []
        return {
            "name": name,
            "file": str(file) if file else None,
            "running": any(pane.running for pane in panes.values()),
            "agents": agents,
            "tmux_session": record.tmux_session if record else None,
            "started_at": min(started) if started else None,
            "stopped_at": record.stopped_at if record else None,
        }


def _own_args(agent: Agent, tool: str) -> tuple[str, ...]:
    """The team file's args are its tool's flags: an agent moved to another tool runs without."""
    return agent.args if tool == agent.tool else ()


def _unstarted(agent: Agent) -> dict[str, Any]:
    return {
        "name": agent.name,
        "tool": agent.tool,
        "state": "not started",
        "running": False,
        "exit_status": None,
        "native_id": None,
        "session_file": None,
        "last_activity": None,
        "tmux_target": None,
        "cwd": agent.cwd,
        "command": None,
        "started_at": None,
        "resumed_at": None,
    }
