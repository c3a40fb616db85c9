"""tether's command line: the group that wires every command family, loaded on first use,
and the one place where an error becomes a line on stderr and an exit code.

The console script (`run`) answers `--help`, `--version` and the JSON forms of `list`,
`show` and `search` without importing click (tether.commands.usage and quick); every other
command goes through the click group `main`, which is built on first use, and each
command's module (tether.commands.*) imports what it needs.
"""

from __future__ import annotations

import os
import sys

from tether import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs --version a third of its time
    from collections.abc import Sequence
    from typing import Any, NoReturn

    import click

# Commands that live in their own modules under tether/commands, loaded only when run:
# name -> (module, attribute, one-line help shown by `tether --help`). A new command
# family is one module and one line here; nothing of it is imported to start up.
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "scan": (
        "tether.commands.capture",
        "scan",
        "Capture every new or changed session from every tool found.",
    ),
    "list": (
        "tether.commands.archive",
        "list_",
        "List captured sessions, most recently updated first.",
    ),
    "show": (
        "tether.commands.archive",
        "show",
        "Show one session.",
    ),
    "search": (
        "tether.commands.archive",
        "search",
        "Full-text search over every message, tool call and tool output.",
    ),
    "export": (
        "tether.commands.archive",
        "export",
        "Export one session as Markdown, JSON or HTML.",
    ),
    "secrets": (
        "tether.commands.secrets",
        "secrets",
        "Find the secrets in captured sessions (exports and conversions redact them).",
    ),
    "import": (
        "tether.commands.capture",
        "import_",
        "Import session files or folders from anywhere.",
    ),
    "reindex": (
        "tether.commands.capture",
        "reindex",
        "Re-read every archived session from its raw bytes with today's readers.",
    ),
    "doctor": (
        "tether.commands.capture",
        "doctor",
        "Which stores were found where, what was skipped and why; index health with --deep.",
    ),
    "convert": (
        "tether.commands.convert",
        "convert",
        "Write a session as a new native session of another tool.",
    ),
    "resume": (
        "tether.commands.convert",
        "resume",
        "Continue a session in its own tool or in another one.",
    ),
    "fork": (
        "tether.commands.convert",
        "fork",
        "A new native session with the same history.",
    ),
    "alias": (
        "tether.commands.names",
        "alias",
        "Give a session a name, usable wherever an id is.",
    ),
    "checkpoint": (
        "tether.commands.names",
        "checkpoint",
        "Name the point a session is at now, to resume or fork from it later.",
    ),
    "storage": (
        "tether.commands.storage",
        "storage",
        "How much room the archive takes, by tool, project and age.",
    ),
    "prune": (
        "tether.commands.storage",
        "prune",
        "Remove sessions older than an age from the archive (explicit only).",
    ),
    "watch": (
        "tether.commands.watch",
        "watch",
        "Capture new messages as the tools write them.",
    ),
    "daemon": (
        "tether.commands.watch",
        "daemon",
        "Run the watcher in the background, at login.",
    ),
    "completion": (
        "tether.commands.completion",
        "completion",
        "Print shell completion for bash, zsh or fish.",
    ),
    "init": (
        "tether.commands.autoresume",
        "init",
        "Print the lines that put shims on PATH.",
    ),
    "shim": (
        "tether.commands.autoresume",
        "shim",
        "Install, remove or list auto-resume shims.",
    ),
    "status": (
        "tether.commands.autoresume",
        "status",
        "Which session each tool resumes here.",
    ),
    "reset": (
        "tether.commands.autoresume",
        "reset",
        "The next launch here starts a new session.",
    ),
    "team": (
        "tether.commands.team",
        "team",
        "Named teams of agents, started and resumed in tmux.",
    ),
    "web": ("tether.commands.web", "web", "Browse, search and continue sessions in the browser."),
    "summary": (
        "tether.commands.summary",
        "summary",
        "What a session did (files, commands, tests, errors, tokens), or a day across tools.",
    ),
    "stats": (
        "tether.commands.stats",
        "stats",
        "Tokens and estimated cost per day, tool, model or project.",
    ),
    "mcp": (
        "tether.commands.mcp",
        "mcp",
        "Let agents search every session through MCP: serve, install, uninstall.",
    ),
    "rules": (
        "tether.commands.rules",
        "rules",
        "One set of project rules (AGENTS.md) compiled into every tool's own file.",
    ),
    "login": (
        "tether.commands.sync",
        "login",
        "Enrol this machine with a tether server (a one-time code).",
    ),
    "push": (
        "tether.commands.sync",
        "push",
        "Send sessions to the server: only what it lacks, redacted.",
    ),
    "pull": (
        "tether.commands.sync",
        "pull",
        "Bring sessions from the server into the archive.",
    ),
    "sync": (
        "tether.commands.sync",
        "sync",
        "Push what changed here, pull what changed there.",
    ),
    "remote": (
        "tether.commands.sync",
        "remote",
        "What the server holds for you and your teams: list, search.",
    ),
    "handoff": (
        "tether.commands.sync",
        "handoff",
        "Hand a session to a teammate, to continue in their own tool.",
    ),
    "inbox": (
        "tether.commands.sync",
        "inbox",
        "Sessions handed to you, pulled and ready to resume.",
    ),
    "server": (
        "tether.commands.server",
        "server",
        "Run a tether server; add its users and teams (an extra).",
    ),
}


HELP = """Keep every AI coding session: capture, search, export.

tether reads the sessions that Claude Code, Codex CLI, Gemini CLI, Copilot CLI,
Cursor, Cline, Roo Code, Kilo Code, opencode, Qwen Code, Antigravity, Amp and Aider
leave on disk into one archive that outlives the tools' own clean-up, and finds
anything said in any of them in milliseconds. Native files are only ever read.

\b
Start with:
  tether scan                 capture everything new
  tether list --here          this project's sessions, newest first
  tether search "flaky test"  find where something was said
  tether show ID              read one session (ID: any unique prefix)

Data lives in $TETHER_HOME (else the platform's user data folder)."""
"""The group's help text (click's `main` and the quick --help print the same)."""
VERSION_HELP = "Show the version and exit."
HELP_HELP = "Show this message and exit."


def run() -> None:
    """The console script: what can be answered without click is answered here (the same
    output, the same errors), the rest by `main`."""
    try:
        _run(sys.argv[1:])
    except BrokenPipeError:
        sys.exit(gone_reader())


def _run(argv: list[str]) -> None:
    if argv in (["--version"], ["-V"]):
        sys.stdout.write(f"tether, version {__version__}\n")
        done(0)
    if argv in (["--help"], ["-h"]):
        from tether.commands.usage import page, terminal_width

        options = [("-V, --version", VERSION_HELP), ("-h, --help", HELP_HELP)]
        commands = [(name, entry[2]) for name, entry in LAZY_COMMANDS.items()]
        prog = os.path.basename(sys.argv[0]) or "tether"
        sys.stdout.write(page(prog, HELP, options, commands, terminal_width()))
        done(0)
    if argv and argv[0] in ("list", "show", "search"):
        from tether.commands.quick import answer

        try:
            answered = answer(argv)
        except KeyboardInterrupt:
            sys.stderr.write("Aborted!\n")
            sys.exit(1)
        except Exception as exc:
            sys.exit(report(exc, as_json="--json" in argv))
        if answered:
            done(0)
    __getattr__("main")()


def done(code: int) -> NoReturn:
    """Exit with `code` once stdout is flushed; a reader that went away meanwhile (`tether
    list | head`) ends it quietly, with 1, as click does."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = gone_reader()
    sys.exit(code)


def gone_reader() -> int:
    """stdout's reader closed the pipe: nothing more can be said there, and nothing is wrong
    to say on stderr. stdout goes to /dev/null (so the flush at exit cannot fail again)."""
    try:  # noqa: SIM105 (contextlib is not loaded on the quick path)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError:
        pass
    return 1  # as click ends a command whose reader went away


def __getattr__(name: str) -> Any:
    """`main` (the click group) and `Group`, built when first asked for: importing this
    module does not import click."""
    if name in ("main", "Group"):
        built = _build()
        globals().update(built)
        return built[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _build() -> dict[str, Any]:
    import click

    class Group(click.Group):
        """Commands in the order they are declared; LAZY_COMMANDS imported on first use."""

        def list_commands(self, ctx: click.Context) -> list[str]:
            return [*self.commands, *(name for name in LAZY_COMMANDS if name not in self.commands)]

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            command = self.commands.get(cmd_name)
            if command is not None or cmd_name not in LAZY_COMMANDS:
                return command
            import importlib

            module, attribute, _ = LAZY_COMMANDS[cmd_name]
            loaded = getattr(importlib.import_module(module), attribute)
            if not isinstance(loaded, click.Command):
                raise TypeError(f"{module}.{attribute} is not a click command")
            return loaded

        def main(
            self,
            args: Sequence[str] | None = None,
            prog_name: str | None = None,
            complete_var: str | None = None,
            standalone_mode: bool = True,
            **extra: Any,
        ) -> Any:
            """Run the command; any error ends as one line on stderr (a JSON object when --json is
            among the arguments) and its documented exit code. A traceback is a bug."""
            if not standalone_mode:
                return super().main(args, prog_name, complete_var, standalone_mode, **extra)
            argv = list(sys.argv[1:] if args is None else args)
            try:
                result = super().main(argv, prog_name, complete_var, False, **extra)
            except click.exceptions.NoArgsIsHelpError as exc:
                exc.show()  # a group named alone: its help
                sys.exit(exc.exit_code)
            except click.Abort:  # Ctrl-C: as click says it
                click.echo("Aborted!", err=True)
                sys.exit(1)
            except Exception as exc:  # the one handler: every error ends here
                sys.exit(report(exc, as_json="--json" in argv))
            done(result if isinstance(result, int) else 0)

        def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
            """Like click's, but lazy commands show their help from the table, unimported."""
            rows = []
            for name in self.list_commands(ctx):
                if name in self.commands:
                    command = self.commands[name]
                    if command.hidden:
                        continue
                    rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
                else:
                    rows.append((name, LAZY_COMMANDS[name][2]))
            if rows:
                with formatter.section("Commands"):
                    formatter.write_dl(rows)

    @click.group(
        name="tether",
        cls=Group,
        help=HELP,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    @click.version_option(__version__, "-V", "--version", prog_name="tether", help=VERSION_HELP)
    def main() -> None:
        pass

    return {"Group": Group, "main": main}


def report(exc: Exception, as_json: bool) -> int:
    """Say what went wrong on one line of stderr (or as one JSON object: error, kind,
    exit_code); the exit code it documents. TETHER_DEBUG=1 adds the traceback."""
    from tether.errors import BUG, describe, one_line

    if isinstance(exc, BrokenPipeError):
        return gone_reader()
    click = sys.modules.get("click")  # not loaded: no error of click's can be here

    if os.environ.get("TETHER_DEBUG"):
        import traceback

        traceback.print_exception(exc)
    if click is not None and isinstance(exc, click.ClickException):
        kind = "usage" if isinstance(exc, click.UsageError) else "error"
        message = exc.format_message()
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            message = f"{message.rstrip('.')} (see `{exc.ctx.command_path} --help`)"
        described = (kind, " ".join(message.split()), int(exc.exit_code))
    else:
        described = describe(exc) or (
            "bug",
            one_line(f"this is a bug in tether: {type(exc).__name__}: {exc}")
            + " (TETHER_DEBUG=1 shows where; please report it)",
            BUG,
        )
    kind, message, code = described
    if as_json:
        import json

        error = {"error": message, "kind": kind, "exit_code": code}
        line = json.dumps(error, ensure_ascii=False, separators=(",", ":"))
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    else:
        sys.stderr.write(f"tether: error: {message}\n")
        sys.stderr.flush()
    return code
