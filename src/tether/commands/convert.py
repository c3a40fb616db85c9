"""`tether convert`, `tether resume` and `tether fork`: a session in any tool that resumes."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from tether.commands.common import emit_json, named_session
from tether.errors import TetherError
from tether.tools import facts

TARGET_HELP = "|".join(facts.able("write"))


def common_options(f: Any) -> Any:
    for option in reversed(
        [
            click.option(
                "--cwd",
                type=click.Path(file_okay=False, path_type=Path),
                help="Folder the session belongs to (default: the session's own folder).",
            ),
            click.option(
                "--max-tokens",
                type=click.IntRange(min=0),
                help="Context budget of the new session (default: the target's; 0: no limit).",
            ),
            click.option(
                "--keep-secrets",
                is_flag=True,
                help="Do not redact secrets when the session goes to another tool.",
            ),
            click.option(
                "--anyway",
                is_flag=True,
                help="Write even when the target CLI is not installed here.",
            ),
            click.option("--no-scan", is_flag=True, help="Do not look for new sessions first."),
        ]
    ):
        f = option(f)
    return f


@click.command()
@click.argument("ident", metavar="ID")
@click.option("--to", "target", required=True, metavar="TOOL", help=f"Target tool: {TARGET_HELP}.")
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def convert(
    ident: str,
    target: str,
    cwd: Path | None,
    max_tokens: int | None,
    keep_secrets: bool,
    anyway: bool,
    no_scan: bool,
    as_json: bool,
) -> None:
    """Write session ID as a NEW native session of another tool.

    Text turns, tool calls and their results, reasoning (as text where the target cannot
    take it natively), model names and the folder carry over; the report says what was
    mapped, turned into text, shortened or dropped. The source session is never changed.

    \b
      tether convert 3f2a --to codex        then: codex resume <new id>
      tether convert 3f2a --to gemini --json
    """
    tool = _target(target)
    _require_cli(tool, anyway)
    result = _convert(ident, tool, cwd, max_tokens, keep_secrets, no_scan, restore=False)
    _link(result, "convert")
    _print(result, as_json)


@click.command()
@click.argument("ident", metavar="ID")
@click.option("--in", "target", metavar="TOOL", help="Resume in this tool (default: its own).")
@common_options
@click.option(
    "--print", "print_only", is_flag=True, help="Print the command instead of running it."
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (then run it).")
def resume(
    ident: str,
    target: str | None,
    cwd: Path | None,
    max_tokens: int | None,
    keep_secrets: bool,
    anyway: bool,
    no_scan: bool,
    print_only: bool,
    as_json: bool,
) -> None:
    """Continue session ID in its own tool, or in another one (converted first).

    Runs the tool's own resume command in the session's folder. When the tool has
    deleted the session's file, tether writes it back from the archive first. ID may be a
    name (`tether alias`); a checkpoint's name (`tether checkpoint`) continues from its
    point as a new native session.

    \b
      tether resume 3f2a                    in the tool it came from
      tether resume 3f2a --in claude        a Codex session, continued by Claude Code
      tether resume 3f2a --in gemini --print
    """
    from tether.convert.session import own_file, resolve_cwd
    from tether.paths import user_home
    from tether.tools import launch

    session = named_session(ident, no_scan)
    at_point = "checkpoint" in session.native  # a new session from that point, never the old
    own = (
        not at_point
        and (target is None or facts.resolve(target) == session.tool)
        and "resume" in facts.get(session.tool).CAPABILITIES
        and own_file(session, os.environ, user_home())
    )
    # its own tool resumes it as it is (Cursor's, Antigravity's too: no writer needed)
    tool = session.tool if own else _target(target or session.tool)
    if not print_only:
        _require_cli(tool, anyway)
    written: Path | None = None
    native_id = session.native_id
    pulled = None if at_point else _pulled_from(session.id)
    if pulled is not None:
        # Someone's session from another machine: it continues here as a session of its
        # own, in the checkout of its project, with its paths moved there.
        result = _continue_here(session, pulled, tool, cwd, max_tokens, keep_secrets)
        folder, command = result.cwd, result.resume_command
        written, native_id = result.written.path, result.written.native_id
        if not as_json:
            click.echo(f"tether: wrote {written} (continues {session.id[:12]})", err=True)
    elif own:
        folder = resolve_cwd(session, cwd)
        command = launch.resume_command(tool, session.native_id)
    else:
        result = _convert(ident, tool, cwd, max_tokens, keep_secrets, True, restore=not at_point)
        _link(result, "resume")
        folder, command = result.cwd, result.resume_command
        written, native_id = result.written.path, result.written.native_id
        if not as_json:
            click.echo(f"tether: wrote {written}", err=True)
    if as_json:
        emit_json(
            {
                "tool": tool,
                "native_id": native_id,
                "cwd": str(folder),
                "resume_command": command,
                "written": str(written) if written else None,
                "runs": not print_only,
            }
        )
    elif print_only:
        click.echo(f"cd {shlex.quote(str(folder))} && {shlex.join(command)}")
    if not as_json:
        _rules_note(tool, folder)
    if not print_only:
        _exec(folder, command)


def _rules_note(tool: str, folder: Path) -> None:
    """Say when the tool would not see the project's rules (tether rules)."""
    from tether.rules.compile import unseen
    from tether.statefile import project_root

    note = unseen(Path(project_root(str(folder))), tool)
    if note:
        click.echo(f"tether: note: {note}", err=True)


@click.command()
@click.argument("ident", metavar="ID")
@click.option("--in", "target", metavar="TOOL", help="Fork into this tool (default: its own).")
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def fork(
    ident: str,
    target: str | None,
    cwd: Path | None,
    max_tokens: int | None,
    keep_secrets: bool,
    anyway: bool,
    no_scan: bool,
    as_json: bool,
) -> None:
    """A new native session with the same history; the original is left untouched.

    \b
      tether fork 3f2a                      a copy in the same tool, to try another path
      tether fork 3f2a --in copilot
    """
    session = named_session(ident, no_scan)
    tool = _target(target or session.tool)
    _require_cli(tool, anyway)
    result = _convert(ident, tool, cwd, max_tokens, keep_secrets, True, restore=False)
    _link(result, "fork")
    _print(result, as_json)


# ---------------------------------------------------------------------------------------


def _target(name: str) -> str:
    """The tool to write, or a one-line error naming the tools that can be written."""
    from tether.convert.writers import get_writer
    from tether.tools.registry import get_tool

    tool = get_tool(name).name
    get_writer(tool)
    return tool


def _require_cli(tool: str, anyway: bool) -> None:
    from tether.tools import launch

    binary = launch.binary(tool)
    if anyway or shutil.which(binary):
        return
    raise TetherError(
        f"{binary} is not installed here (not on PATH): install it, or pass --anyway to write"
    )


def _convert(
    ident: str,
    tool: str,
    cwd: Path | None,
    max_tokens: int | None,
    keep_secrets: bool,
    no_scan: bool,
    restore: bool,
) -> Any:
    session = named_session(ident, no_scan)
    # Written back under its own id (the tool deleted it), when that id is the tool's.
    same = restore and session.tool == tool and facts.get(tool).valid_id(session.native_id)
    native_id = session.native_id if same else None
    return _write(session, tool, cwd, max_tokens, keep_secrets, native_id)


def _write(
    session: Any,
    tool: str,
    cwd: Path | None,
    max_tokens: int | None,
    keep_secrets: bool,
    native_id: str | None = None,
) -> Any:
    """Write `session` as a native session of `tool` (on `native_id`, else a new one)."""
    from tether.convert.context import ContextPolicy
    from tether.convert.session import convert, store_root
    from tether.paths import user_home

    return convert(
        session,
        tool,
        store=store_root(tool, os.environ, user_home()),
        cwd=cwd,
        policy=ContextPolicy(max_tokens=max_tokens),
        keep_secrets=keep_secrets,
        native_id=native_id,
    )


def _link(result: Any, how: str) -> None:
    """Record that the session written continues its source (lineage), unless it is the
    source itself written back under its own id."""
    from tether.archive import lineage
    from tether.commands.common import archive
    from tether.model import session_id

    new_id = session_id(result.written.tool, result.written.native_id)
    if new_id != result.source.id:
        with archive() as db:
            lineage.record(db, new_id, result.source.id, how)


def _pulled_from(sid: str) -> dict[str, Any] | None:
    """Where a session pulled from a tether server came from (None: captured here)."""
    from tether.archive import lineage
    from tether.commands.common import archive

    with archive() as db:
        pulled: dict[str, Any] | None = lineage.of(db, sid)["pulled"]
        return pulled


def _continue_here(
    session: Any,
    pulled: dict[str, Any],
    tool: str,
    cwd: Path | None,
    max_tokens: int | None,
    keep_secrets: bool,
) -> Any:
    """Write a pulled session as a new session of `tool` in this machine's checkout of its
    project (found by its git remote, else `cwd`), its paths moved there."""
    from tether.sync.checkouts import known_projects, place

    moved, folder = place(session, pulled.get("git_remote"), cwd, known_projects())
    result = _write(moved, tool, folder, max_tokens, keep_secrets)
    _link(result, "resume")
    return result


def _print(result: Any, as_json: bool) -> None:
    if as_json:
        emit_json(result.as_dict())
        return
    from tether.commands.render import print_conversion

    print_conversion(result.as_dict())


def _exec(folder: Path, command: list[str]) -> NoReturn:
    """Replace tether by the tool, in the session's folder: its exit code, signals and TTY."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.chdir(folder)
        os.execvp(command[0], command)
    except OSError as exc:
        raise TetherError(f"could not run {command[0]} in {folder}: {exc.strerror}") from exc
