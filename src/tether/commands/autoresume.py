"""`tether init`, `tether shim …`, `tether status`, `tether reset`: per-project auto-resume.

The launches themselves never come here: they go through the shims
(tether.autoresume.launcher), which import none of the CLI.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import click

from tether.commands.common import emit_json
from tether.errors import TetherError, UsageError
from tether.tools import facts


def _able() -> list[str]:
    """The tools the shims can run on a project's session."""
    return facts.able("autoresume")


def _tools(names: tuple[str, ...]) -> list[str]:
    """Tool names (aliases allowed) of tools that can auto-resume, in the user's order."""
    tools = []
    for name in names:
        tool = facts.resolve(name)
        if tool not in _able():
            raise UsageError(f"{tool} cannot auto-resume: tools that can are {', '.join(_able())}")
        tools.append(tool)
    return list(dict.fromkeys(tools))


def _shim_dir() -> Path:
    from tether.paths import shim_dir, tether_home

    return shim_dir(tether_home())


def _config() -> str:
    from tether.paths import tether_home

    return str(tether_home() / "config.toml")


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def init(shell: str) -> None:
    """Print the shell lines that put tether's shim folder first on PATH, and load its
    completion (`tether completion SHELL`).

    \b
    Add to the end of your shell's rc file:
      eval "$(tether init bash)"          # ~/.bashrc (zsh: ~/.zshrc)
      tether init fish | source           # ~/.config/fish/config.fish
    then install the shims: tether shim install
    """
    from tether.autoresume.shims import heal, init_lines
    from tether.commands.completion import for_init
    from tether.paths import tether_home

    folder = _shim_dir()
    sys.stdout.write(init_lines(shell, folder))
    try:
        sys.stdout.write(for_init(shell, tether_home()))
    except OSError as exc:  # the shims still go on PATH; completion waits for a writable home
        click.echo(f"tether: no completion: {exc}", err=True)
    try:
        for path in heal(folder):  # a new shell after an upgrade: shims of this tether
            click.echo(f"tether: rewrote {path}, an older tether's shim", err=True)
    except OSError as exc:
        click.echo(
            f"tether: could not rewrite the older shims ({exc}): tether shim install", err=True
        )


@click.group()
def shim() -> None:
    """Install, remove or list the auto-resume shims.

    A shim is a small launcher in tether's own folder that runs the real tool found further
    down PATH: no installed binary is renamed, moved or replaced. Launched through it, a tool
    resumes this project's session (see `tether status`).
    """


@shim.command(name="install")
@click.argument("tools", nargs=-1, metavar="[TOOL]...")
@click.option("--json", "as_json", is_flag=True, help="Print what was installed as JSON.")
def shim_install(tools: tuple[str, ...], as_json: bool) -> None:
    """Install shims (default: every supported tool found on PATH)."""
    from tether.autoresume.shims import found_on_path, install, on_path

    folder = _shim_dir()
    path_env = os.environ.get("PATH", "")
    chosen = _tools(tools) if tools else found_on_path(folder, path_env)
    if not chosen:
        tools_list = ", ".join(_able())
        raise TetherError(
            f"none of {tools_list} is on PATH: name the tools to install shims for anyway"
        )
    written = install(chosen, folder)
    reached = on_path(folder, path_env)
    if as_json:
        emit_json(
            {"folder": str(folder), "on_path": reached, "installed": [str(p) for p in written]}
        )
        return
    for path in written:
        click.echo(f"installed {path}")
    if not reached:
        shell = Path(os.environ.get("SHELL", "bash")).name
        shell = shell if shell in ("bash", "zsh", "fish") else "bash"
        hook = (
            f"tether init {shell} | source" if shell == "fish" else f'eval "$(tether init {shell})"'
        )
        click.echo(f"tether: {folder} is not on PATH yet: add `{hook}` to your shell's rc file")


@shim.command(name="uninstall")
@click.argument("tools", nargs=-1, metavar="[TOOL]...")
@click.option("--json", "as_json", is_flag=True, help="Print what was removed as JSON.")
def shim_uninstall(tools: tuple[str, ...], as_json: bool) -> None:
    """Remove shims (default: all). Real binaries and sessions are not touched."""
    from tether.autoresume.shims import uninstall

    folder = _shim_dir()
    removed = uninstall(_tools(tools) if tools else _able(), folder)
    if as_json:
        emit_json({"folder": str(folder), "removed": [str(p) for p in removed]})
        return
    for path in removed:
        click.echo(f"removed {path}")
    if not removed:
        click.echo("no shims to remove")


@shim.command(name="status")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def shim_status(as_json: bool) -> None:
    """Which shims are installed, the real binary each runs, and whether PATH reaches them."""
    from tether.autoresume.shims import on_path, rows

    folder = _shim_dir()
    path_env = os.environ.get("PATH", "")
    shims = rows(folder, path_env)
    reached = on_path(folder, path_env)
    if as_json:
        emit_json(
            {"folder": str(folder), "on_path": reached, "shims": [r.as_dict() for r in shims]}
        )
        return
    from tether.commands.render import print_table

    print_table(
        ["TOOL", "SHIM", "REAL BINARY", "ACTIVE"],
        [
            [
                row.tool,
                row.shim or "not installed",
                row.real or "not found on PATH",
                "yes" if row.active else "no",
            ]
            for row in shims
        ],
    )
    if not reached:
        click.echo(f'{folder} is not on PATH: eval "$(tether init bash)" (or zsh, fish)')


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def status(as_json: bool) -> None:
    """This project's session per tool, and how the next launch will start.

    The project is the git top-level of the current folder, else the folder itself. Its
    state is in <project>/.tether/autoresume/ (listed in .git/info/exclude).
    """
    result = project_status(str(Path.cwd()), dict(os.environ), time.time(), _config())
    if as_json:
        emit_json(result)
        return
    headless = "yes" if result["headless"] else "no"
    click.echo(f"project: {result['project']}")
    click.echo(f"headless runs resume too: {headless} (from {result['headless_from']})")
    for row in result["tools"]:
        click.echo(f"{row['tool']:<8} {row['next']}")


def project_status(cwd: str, env: dict[str, str], now: float, config: str) -> dict[str, Any]:
    from tether.autoresume.plan import decide, headless_on, state_path
    from tether.statefile import StateError, project_root, read_json
    from tether.tools import launch
    from tether.tools.launch import continue_args, fill

    root = project_root(cwd)
    headless, source = headless_on(env, config)
    tools = []
    for tool in _able():
        spec = launch.spec(tool)
        path = state_path(root, tool)
        row: dict[str, Any] = {"tool": tool, "state_file": path if Path(path).exists() else None}
        try:
            state = read_json(path)
            decision = decide(tool, state, root, env, "interactive", now)
        except StateError as exc:
            row.update(session_id=None, session_file=None, action="as-typed", problem=str(exc))
            row["command"] = None  # the user's own, as typed
            row["next"] = f"runs as typed: {exc} (`tether reset {tool}` starts afresh)"
            tools.append(row)
            continue
        row.update(
            session_id=decision.session_id if not decision.new else None,
            session_file=decision.session_file,
            action="new" if decision.new else "resume",
            problem=None,
        )
        if decision.new:
            chosen = fill(spec["preassign"], "<new id>")
            row["command"] = [spec["binary"], *chosen]
            row["next"] = "starts a new session"
        else:
            assert decision.session_id is not None
            resume = continue_args(tool, [], "interactive", decision.session_id)
            row["command"] = [spec["binary"], *resume]
            row["next"] = f"resumes: {shlex.join(row['command'])}"
        tools.append(row)
    return {"project": root, "headless": headless, "headless_from": source, "tools": tools}


@click.command()
@click.argument("tools", nargs=-1, metavar="[TOOL]...")
@click.option("--json", "as_json", is_flag=True, help="Print what was reset as JSON.")
def reset(tools: tuple[str, ...], as_json: bool) -> None:
    """Make the next launch in this project start a new session (default: every tool).

    The old sessions stay where they are: resume them by hand, or find them with
    `tether list --here`.
    """
    from tether.statefile import project_root

    root = project_root(str(Path.cwd()))
    rows = [_reset(root, tool) for tool in (_tools(tools) if tools else _able())]
    if as_json:
        emit_json({"project": root, "tools": rows})
        return
    for row in rows:
        if row["reset"]:
            was = f" (was {row['was']})" if row["was"] else ""
            click.echo(f"{row['tool']}: the next launch starts a new session{was}")
        elif tools:
            click.echo(f"{row['tool']}: no session recorded in {root}")


def _reset(root: str, tool: str) -> dict[str, Any]:
    """Reset one tool's state in the project at root: {tool, reset, was}."""
    from tether.autoresume import fastfile
    from tether.autoresume.plan import from_ai_session_manager, reset_state, state_path
    from tether.statefile import Lock, StateError, read_json, state_dir, write_json

    path = state_path(root, tool)
    with Lock(path + ".lock"):
        try:
            state = read_json(path)
        except StateError:
            state = {}  # unreadable: reset all the same, its session id unknown
        if state is None:
            state = from_ai_session_manager(root, tool)
        if state is None:
            return {"tool": tool, "reset": False, "was": None}
        state_dir(root)
        write_json(path, reset_state(tool, time.time()))
        fastfile.remove(path, str(_shim_dir()), tool, root)
    return {"tool": tool, "reset": True, "was": state.get("session_id")}
