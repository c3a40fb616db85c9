"""`tether mcp`: serve the archive to agents over MCP, and add that server to (or remove it
from) each coding tool's own configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from tether.commands.common import emit_json, here_root
from tether.tools import facts

if TYPE_CHECKING:
    from tether.mcp.install import Change, Scope


@click.group()
def mcp() -> None:
    """Let agents search every session, in any tool, through MCP.

    \b
      tether mcp install --for claude --for codex   add tether's server to their config
      tether mcp install --for gemini --scope project
      tether mcp uninstall --for claude
      tether mcp serve                              what those tools start (stdio)

    The server's tools are read-only: search_sessions, recent_sessions, get_session,
    session_summary and sessions_touching_file. Their answers are redacted (no keys or
    tokens) and capped in size, and say how to get more.
    """


@mcp.command()
@click.option("--no-scan", is_flag=True, help="Do not look for new sessions before answering.")
def serve(no_scan: bool) -> None:
    """Serve the archive over MCP on stdin/stdout (the coding tool starts this).

    This project's sessions (the git root of the folder it starts in) come first in
    recent_sessions. Diagnostics go to stderr; stdout is the protocol's.
    """

    from tether.mcp.server import build, serve_stdio
    from tether.mcp.source import LocalArchive
    from tether.paths import db_path, tether_home

    home = tether_home()
    source = LocalArchive(db_path(home), home, scan=not no_scan)
    serve_stdio(build(lambda: source, here=here_root()))


TOOLS_HELP = "The tool to configure (repeat for several): " + ", ".join(
    name for name in facts.NAMES if name not in ("cline", "antigravity", "aider")
)


def _configure_options(command: Any) -> Any:
    options = [
        click.option(
            "--for", "tools", metavar="TOOL", multiple=True, required=True, help=TOOLS_HELP
        ),
        click.option(
            "--scope",
            type=click.Choice(["user", "project"]),
            default="user",
            show_default=True,
            help="Your own configuration, or this project's (committed with it).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@mcp.command()
@_configure_options
def install(tools: tuple[str, ...], scope: Scope, as_json: bool) -> None:
    """Add tether's MCP server to each tool's own configuration.

    \b
      claude    ~/.claude.json (project: .mcp.json)
      codex     ~/.codex/config.toml [mcp_servers.tether] (project: .codex/config.toml)
      gemini    ~/.gemini/settings.json (project: .gemini/settings.json)
      copilot   ~/.copilot/mcp-config.json (project: .mcp.json)
      qwen      ~/.qwen/settings.json (project: .qwen/settings.json)
      opencode  ~/.config/opencode/opencode.json (project: opencode.json)
      cursor    ~/.cursor/mcp.json (project: .cursor/mcp.json)
      amp       ~/.config/amp/settings.json (project: .amp/settings.json)
      roo, kilo the project only: .roo/mcp.json, .kilocode/mcp.json

    The tools' own variables move these files (CLAUDE_CONFIG_DIR, CODEX_HOME,
    GEMINI_CLI_HOME, COPILOT_HOME, XDG_CONFIG_HOME, OPENCODE_CONFIG). Running it again
    changes nothing; other servers are left alone; a copy of each file it changes goes
    to $TETHER_HOME/backups/mcp/ first.
    """
    _configure(tools, scope, as_json, remove=False)


@mcp.command()
@_configure_options
def uninstall(tools: tuple[str, ...], scope: Scope, as_json: bool) -> None:
    """Remove tether's MCP server from each tool's configuration (nothing else)."""
    _configure(tools, scope, as_json, remove=True)


def _configure(tools: tuple[str, ...], scope: Scope, as_json: bool, remove: bool) -> None:
    import os

    from tether.mcp.install import command, entry, install, server_env, target, uninstall
    from tether.paths import tether_home, user_home

    env = dict(os.environ)
    root = here_root()
    targets = [target(tool, scope, env, str(user_home()), root) for tool in tools]
    argv = command()
    backups = tether_home() / "backups" / "mcp"
    changes: list[Change] = []
    for where in dict.fromkeys(targets):
        if remove:
            changes.append(uninstall(where, backups))
        else:
            changes.append(install(where, entry(where.shape, argv, server_env(env)), backups))
    result = {"command": argv, "changes": [change.as_dict() for change in changes]}
    if as_json:
        emit_json(result)
        return
    verb = "removed from" if remove else "added to"
    for change in changes:
        what = f"{verb}" if change.changed else "already as it should be in"
        if remove and not change.changed:
            what = "was not in"
        line = f"{change.tool}: tether's MCP server {what} {change.path}"
        click.echo(line + (f" (backup: {change.backup})" if change.backup else ""))
    if not remove:
        click.echo(f"the server: {' '.join(argv)}; start a new session of the tool to use it")
