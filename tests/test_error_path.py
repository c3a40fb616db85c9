"""One error path: every command and subcommand, found in the click tree (a new command is
covered without a line here), run with bad arguments, missing and unreadable paths, an
unreadable and a read-only $TETHER_HOME and a locked archive. Each ends with no traceback,
an exit code the README documents for its kind of error, and one line on stderr (one JSON
object with --json).

Permissions do not stop root: run as root, the runs that need them happen in a forked child
that has given up the capabilities that override them (it stays root, the owner of the
files, so their mode bits apply).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tests.privileges import where_modes_stop_root
from tests.stores import CLAUDE_SAMPLE, place_claude, place_codex
from tether.errors import BUG, KINDS

README = Path(__file__).resolve().parents[1] / "README.md"
MISSING = "/proc/nope/x.md"  # no one, root included, can make a folder in /proc
DEADLINE = 120.0

# Values that make a command's required arguments valid in the test's world, by parameter
# name; any other required parameter gets "x". Flags set whenever a command has them keep
# the run inside the test: --print (resume never execs the tool), --anyway (convert and
# fork do not stop at a CLI missing from PATH, and so reach the archive).
SAMPLES = {
    "query": "hello",
    "paths": str(CLAUDE_SAMPLE),
    "shell": "bash",
    "name": "crew",
    "agent": "planner",
    "tools": "claude",
    "target": "codex",
    "age": "180d",
}
FLAGS = ("print_only", "anyway")
TOOL_PARAMS = {"tool", "target", "tools"}
# Commands whose first step opens the archive: each must end with the archive's own error.
ARCHIVE_COMMANDS = {
    ("scan",),
    ("list",),
    ("show",),
    ("search",),
    ("export",),
    ("import",),
    ("reindex",),
    ("convert",),
    ("resume",),
    ("fork",),
    ("web",),
    ("stats",),
    ("alias",),
    ("checkpoint",),
    ("prune",),
}
# They run until stopped, capturing as the archive lets them: a locked archive makes them
# wait and retry, which is right, and the test does not wait for them.
RUNS_UNTIL_STOPPED = {("watch",), ("daemon", "start"), ("web",), ("server", "start")}


@dataclass
class Outcome:
    args: list[str]
    code: int
    stdout: str
    stderr: str


@dataclass
class World:
    base: Path
    home: Path
    data: Path
    project: Path
    session: str


def command_tree() -> dict[tuple[str, ...], click.Command]:
    """Every command and group below `tether`, by its path of names."""
    from tether.cli import main

    found: dict[tuple[str, ...], click.Command] = {}

    def walk(group: click.Group, path: tuple[str, ...]) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None, name
            found[(*path, name)] = command
            if isinstance(command, click.Group):
                walk(command, (*path, name))

    walk(main, ())
    return found


TREE = command_tree()
LEAVES = sorted(path for path, command in TREE.items() if not isinstance(command, click.Group))


def documented_codes() -> dict[str, int]:
    """The README's table of exit codes: kind -> code."""
    rows = re.findall(r"^\| (\d+) \| `(\w+)` \|", README.read_text(), flags=re.MULTILINE)
    return {kind: int(code) for code, kind in rows}


def invoke(args: list[str]) -> Outcome:
    from tether.cli import main

    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return Outcome(args, result.exit_code, result.stdout, result.stderr)


def as_owner(args: list[str]) -> Outcome:
    """Run where mode bits stop the owner of the files (see tests/privileges.py)."""
    outcome: Outcome = where_modes_stop_root(lambda: invoke(args), DEADLINE)
    return outcome


def check(outcome: Outcome, expected: set[int] | None = None) -> None:
    """No traceback; a documented exit code (one of `expected` when given); a failure is one
    line on stderr, one JSON object when --json was given."""
    shown = f"tether {' '.join(outcome.args)} -> {outcome.code}\n{outcome.stderr}"
    assert "Traceback" not in outcome.stdout + outcome.stderr, shown
    assert outcome.code in {0, *KINDS.values()}, shown  # never BUG, never anything else
    if expected is not None:
        assert outcome.code in expected, shown
    if outcome.code == 0:
        return
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1, shown
    if "--json" in outcome.args:
        error = json.loads(lines[0])
        assert set(error) == {"error", "kind", "exit_code"}, shown
        assert error["exit_code"] == outcome.code == KINDS[error["kind"]], shown
        assert error["error"] and "\n" not in error["error"], shown
    else:
        assert lines[0].startswith("tether: error: "), shown


def run_both(
    args: list[str],
    expected: set[int] | None = None,
    runner: Callable[[list[str]], Outcome] = invoke,
) -> None:
    """The run as typed and, when the command takes --json, again with it: the same exit
    code, each reported cleanly."""
    plain = runner(args)
    check(plain, expected)
    if plain.code != 0 and takes_json(args):
        with_json = runner([*args, "--json"])
        check(with_json, {plain.code})


def takes_json(args: list[str]) -> bool:
    """Whether the command that `args` run has a --json option."""
    path = max((p for p in TREE if tuple(args[: len(p)]) == p), key=len, default=None)
    return path is not None and any("--json" in p.opts for p in TREE[path].params)


def valid_args(
    path: tuple[str, ...], world: World, given: dict[str, str] | None = None
) -> list[str]:
    """The command with its required parameters filled in (`given` values first, by
    parameter name), and the flags that keep it inside the test."""
    given = given or {}
    args = list(path)
    for param in TREE[path].params:
        name = param.name or ""
        if isinstance(param, click.Option) and param.is_flag:
            if name in FLAGS:
                args.append(param.opts[0])
            continue
        if name in given:
            value = given[name]
        elif param.required:
            value = world.session if name == "ident" else SAMPLES.get(name, "x")
        else:
            continue
        args += [value] if isinstance(param, click.Argument) else [param.opts[0], value]
    return args


def with_value(
    path: tuple[str, ...], world: World, param: click.Parameter, value: str
) -> list[str]:
    return valid_args(path, world, {param.name or "": value})


def bad_value(param: click.Parameter) -> str | None:
    """A value the parameter's type refuses, if its type refuses any."""
    kinds = (
        click.Choice,
        click.IntRange,
        click.FloatRange,
        click.types.IntParamType,
        click.types.FloatParamType,
    )
    return "not-a-value" if isinstance(param.type, kinds) else None


def path_params(command: click.Command) -> list[click.Parameter]:
    return [p for p in command.params if isinstance(p.type, click.Path)]


# --------------------------------------------------------------------------- the world


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """A home with one captured Claude session."""
    from tether.capture import daemon

    base = Path(tempfile.mkdtemp(prefix="tether-errors-"))
    base.chmod(0o755)
    home, data, project = base / "home", base / "tether", base / "project"
    for folder in (home, data, project):
        folder.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TETHER_HOME", str(data))
    monkeypatch.chdir(project)
    monkeypatch.setattr(daemon, "manager_available", lambda kind, env: False)
    place_claude(home)
    assert invoke(["scan", "--quiet"]).code == 0
    listed = invoke(["list", "--json", "--no-scan"])
    session = json.loads(listed.stdout)[0]["id"]
    try:
        yield World(base, home, data, project, session)
    finally:
        for folder, _, _ in os.walk(base):  # give back what a scenario took away
            Path(folder).chmod(0o755)
        shutil.rmtree(base)


@pytest.fixture(autouse=True)
def quiet_log() -> Iterator[None]:
    """`tether watch` run in-process points the watcher's log at the runner's stderr."""
    from tether.capture.watch import log

    handlers, propagate = list(log.handlers), log.propagate
    yield
    log.handlers[:], log.propagate = handlers, propagate


# --------------------------------------------------------------------------- the tests


def test_the_readme_documents_every_exit_code() -> None:
    assert documented_codes() == {**KINDS, "bug": BUG}


def test_every_tether_exception_is_a_tether_error() -> None:
    import importlib
    import inspect
    import pkgutil

    import tether
    from tether.errors import TetherError

    found = {
        f"{module.name}.{name}": value
        for module in pkgutil.walk_packages(tether.__path__, "tether.")
        if module.name != "tether.__main__"
        for name, value in vars(importlib.import_module(module.name)).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == module.name
    }
    assert len(found) > 16
    # an OSError of tether's own (a FIFO where a file should be) is reported as OSErrors are
    wrong = [n for n, cls in found.items() if not issubclass(cls, TetherError | OSError)]
    assert wrong == []


def test_the_tree_has_every_command() -> None:
    from tether.cli import LAZY_COMMANDS

    assert {path[0] for path in TREE} == set(LAZY_COMMANDS)
    assert ("daemon", "start") in LEAVES and ("team", "move") in LEAVES


@pytest.mark.parametrize("path", sorted(TREE), ids=" ".join)
def test_bad_arguments_are_usage_errors(path: tuple[str, ...], world: World) -> None:
    command = TREE[path]
    run_both([*path, "--no-such-option"], {2})
    if isinstance(command, click.Group):
        return
    if any(p.required for p in command.params):
        run_both(list(path), {2})
    for param in command.params:
        value = bad_value(param)
        if value is not None:
            run_both(with_value(path, world, param, value), {2})
        if param.name in TOOL_PARAMS:
            run_both(with_value(path, world, param, "nosuchtool"), {2})


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_what_is_not_there_is_not_found(path: tuple[str, ...], world: World) -> None:
    command = TREE[path]
    for param in command.params:
        if param.name == "ident":
            run_both(with_value(path, world, param, "feedface0000"), {4})
        if param.name == "name" and path[0] == "team":
            run_both(with_value(path, world, param, "nosuchteam"), {4})


@pytest.mark.parametrize("path", [p for p in LEAVES if path_params(TREE[p])], ids=" ".join)
def test_missing_and_unreadable_paths(path: tuple[str, ...], world: World) -> None:
    unreadable = world.base / "unreadable"
    unreadable.mkdir()
    (unreadable / "x.md").write_text("{}\n")
    locked_file = unreadable / "x.md"
    for param in path_params(TREE[path]):
        assert isinstance(param.type, click.Path)
        run_both(with_value(path, world, param, MISSING), {1})
        target = unreadable if not param.type.file_okay else locked_file
        locked_file.chmod(0)
        unreadable.chmod(0)
        try:
            run_both(with_value(path, world, param, str(target)), None, as_owner)
        finally:
            unreadable.chmod(0o755)
            locked_file.chmod(0o644)


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_an_unreadable_tether_home(path: tuple[str, ...], world: World) -> None:
    world.data.chmod(0)
    expected = {1} if path in ARCHIVE_COMMANDS else None
    run_both(valid_args(path, world), expected, as_owner)


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_a_read_only_tether_home(path: tuple[str, ...], world: World) -> None:
    for folder, _, files in os.walk(world.data):
        Path(folder).chmod(0o500)
        for name in files:
            (Path(folder) / name).chmod(0o400)
    expected = {1} if path in ARCHIVE_COMMANDS else None
    run_both(valid_args(path, world), expected, as_owner)


@pytest.fixture
def locked(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Another process holds the archive's write lock; tether waits 0.2 s, not 30; and a
    new session waits in Codex's store, so that every scan has something to write."""
    from tether.archive import db

    monkeypatch.setattr(db, "BUSY_TIMEOUT", 0.2)
    place_codex(world.home)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; db = sqlite3.connect(sys.argv[1], isolation_level=None);"
            " db.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.read()",
            str(world.data / "tether.db"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "locked"
    try:
        yield
    finally:
        holder.stdin.close()
        holder.wait(DEADLINE)


@pytest.mark.parametrize("path", [p for p in LEAVES if p not in RUNS_UNTIL_STOPPED], ids=" ".join)
def test_a_locked_archive(path: tuple[str, ...], world: World, locked: None) -> None:
    expected = {5} if path in ARCHIVE_COMMANDS else None
    run_both(valid_args(path, world), expected)


def test_doctor_reads_a_locked_archive_and_its_deep_check_says_it_is_busy(
    world: World, locked: None
) -> None:
    """Plain doctor only reads (what it lists answers while a scan writes); --deep's index
    check is a write to SQLite, and ends with the archive's own error."""
    check(invoke(["doctor"]), {0})
    check(invoke(["doctor", "--deep"]), {5})
    check(invoke(["doctor", "--deep", "--json"]), {5})


def test_a_bug_is_one_line_and_debug_shows_the_traceback(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tether.archive import query

    def broken(*args: object) -> None:
        raise RuntimeError("surprise,\non two lines")

    monkeypatch.setattr(query, "list_sessions", broken)
    outcome = invoke(["list", "--no-scan"])
    assert outcome.code == BUG and outcome.stderr.count("\n") == 1
    assert "this is a bug in tether: RuntimeError: surprise, / on two lines" in outcome.stderr
    error = json.loads(invoke(["list", "--no-scan", "--json"]).stderr)
    assert (error["kind"], error["exit_code"]) == ("bug", BUG)
    monkeypatch.setenv("TETHER_DEBUG", "1")
    debug = invoke(["list", "--no-scan"])
    assert debug.code == BUG and "Traceback" in debug.stderr and "surprise" in debug.stderr


def test_ctrl_c_stops_a_command_as_before(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from tether.archive import query

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(query, "list_sessions", interrupted)
    outcome = invoke(["list", "--no-scan"])
    assert outcome.code == 1 and outcome.stderr.strip() == "Aborted!"


def python_m_tether(*args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "tether", *args],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )


def test_the_real_entry_point_reports_errors_in_one_line(world: World) -> None:
    cases = [
        (["export", world.session, "-o", MISSING], 1),
        (["show", "feedface0000", "--json"], 4),
        (["list", "--limit", "many"], 2),
        (["list", "--since", "the dawn of time", "--json"], 2),
    ]
    for args, code in cases:
        done = python_m_tether(*args)
        check(Outcome(args, done.returncode, done.stdout, done.stderr), {code})
    assert "/proc/nope: No such file or directory" in python_m_tether(*cases[0][0]).stderr


def test_the_real_entry_point_reads_while_another_process_writes(
    world: World, locked: None
) -> None:
    # A write waits for the lock (30 s here: the real default); a read does not wait at all.
    done = python_m_tether("list", "--no-scan", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)[0]["id"] == world.session


def test_a_reader_that_goes_away_ends_tether_quietly(world: World) -> None:
    # `tether list | head -1`: once the reader has closed the pipe, tether stops without a
    # word on stderr (no "Broken pipe" error, no traceback) and exit status 1, as click's
    # own commands do.
    cases = [
        ["--version"],
        ["--help"],
        ["list", "--json", "--no-scan"],  # the quick path
        ["list", "--no-scan"],
        ["show", world.session, "--json", "--no-scan"],
        ["export", world.session, "--no-scan"],  # click's path
        ["search", "the", "--json", "--no-scan"],
    ]
    for args in cases:
        read, write = os.pipe()
        os.close(read)
        try:
            done = subprocess.run(
                [sys.executable, "-m", "tether", *args],
                stdout=write,
                stderr=subprocess.PIPE,
                text=True,
                timeout=DEADLINE,
                check=False,
            )
        finally:
            os.close(write)
        assert (done.returncode, done.stderr) == (1, ""), args
