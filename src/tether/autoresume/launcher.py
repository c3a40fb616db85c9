"""The auto-resume shim's entry point: find the real tool, choose its arguments, exec it.

A shim (see tether.autoresume.shims) runs `python -I -S -c "…; main(SHIM_DIR)" TOOL ARGS…`. Whatever
goes wrong in tether, the real tool still runs with the user's own arguments, and one line
on stderr says why; exit code, signals and the terminal are the tool's own (exec).
"""

from __future__ import annotations

import os
import sys
import time

from tether.autoresume import OFF_SWITCH
from tether.tools import launch
from tether.tools.launch import find_real, is_stale

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import NoReturn


def say(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # no stderr: nothing to tell
        pass


def config_path(env: Mapping[str, str], shim_dir: str) -> str:
    """tether's config file: in $TETHER_HOME, else next to the shim folder (its parent)."""
    home = env.get("TETHER_HOME") or os.path.dirname(shim_dir)
    return f"{home}/config.toml"


def heal(shim_dir: str, tool: str, binary: str) -> None:
    """Rewrite this tool's shim (named as its binary) if an earlier tether wrote it. Never
    raises."""
    try:
        if is_stale(f"{shim_dir}/{binary}"):
            from pathlib import Path

            from tether.autoresume.shims import install

            install([tool], Path(shim_dir))
    except Exception as exc:  # the launch goes on with the old shim; `tether shim install`
        say(f"tether: {tool}: could not rewrite the old shim ({exc}): run tether shim install")


def main(shim_dir: str, argv: list[str] | None = None) -> None:
    tool, *args = sys.argv[1:] if argv is None else argv
    shim_dir = shim_dir.rstrip("/")
    binary = tool
    try:
        binary = launch.binary(tool)
    except Exception as exc:  # fail open: the tool runs whatever broke in tether
        say(f"tether: {tool}: auto-resume unavailable ({type(exc).__name__}: {exc})")
    heal(shim_dir, tool, binary)
    real = find_real(binary, shim_dir, os.environ.get("PATH", ""))
    if real is None:
        say(
            f"tether: {binary}: not found on PATH (tether's shim folder {shim_dir} is skipped);"
            f" install {binary}, or remove the shim: tether shim uninstall {tool}"
        )
        sys.exit(127)
    chosen = args
    try:
        if os.environ.get(OFF_SWITCH, "").strip() == "0" or passes_through(tool, args):
            run(real, binary, args)  # the user's own choice: nothing of the state is read
        from tether.autoresume.plan import plan

        cwd = os.getcwd()
        config = config_path(os.environ, shim_dir)
        planned = plan(tool, args, os.environ, cwd, time.time(), config, real, shim_dir)
        if planned.cwd is not None and planned.cwd != cwd:
            os.chdir(planned.cwd)
        chosen = planned.args
        if planned.note:
            say(planned.note)
    except Exception as exc:  # fail open: the tool runs as typed whatever broke in tether
        say(f"tether: {tool}: auto-resume skipped ({exc}); running {binary} as typed")
    run(real, binary, chosen)


def passes_through(tool: str, args: list[str]) -> bool:
    """The user's own session choice, or a command that is no conversation (`-c`, `mcp`,
    `--help`): decided before the planning is even imported."""
    return launch.classify(tool, args) == "passthrough"


def run(real: str, binary: str, args: list[str]) -> NoReturn:
    """Become the real tool: its exit code, signals and terminal."""
    try:
        os.execv(real, [binary, *args])
    except OSError as exc:
        say(f"tether: {binary}: cannot run {real}: {exc}")
        sys.exit(126)
