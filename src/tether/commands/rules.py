"""`tether rules`: one set of project rules (AGENTS.md) for every coding tool."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tether.commands.common import emit_json, here_root
from tether.errors import TetherError

if TYPE_CHECKING:
    from tether.rules.compile import Report

TARGETS = "claude, codex, opencode, gemini, qwen, copilot, cursor, cline, roo, kilo, aider"
FAILING = {"stale", "edited", "missing", "not_ours", "outside"}
EXPLAIN = {
    "written": "written",
    "unchanged": "up to date",
    "stale": "stale: run `tether rules compile`",
    "missing": "missing: run `tether rules compile`",
    "edited": "edited by hand: edit AGENTS.md instead, delete this file, then compile",
    "not_ours": "not written by tether, left alone: move its rules into AGENTS.md "
    "(`tether rules init` does for a new project), delete it, then compile",
    "outside": "a link out of the project: nothing is written through it",
    "removed": "removed: no rule makes it any more",
}


class RulesOutOfDate(TetherError):
    """Compiled rule files that are not what AGENTS.md says."""


@click.group()
def rules() -> None:
    """One set of project rules for every coding tool, from AGENTS.md.

    \b
      tether rules init        AGENTS.md, from what CLAUDE.md, GEMINI.md, … already say
      tether rules compile     each tool's own file from it
      tether rules check       exit 1 when a compiled file is stale or edited (CI, pre-commit)

    Claude Code gets CLAUDE.md (`@AGENTS.md`), Gemini GEMINI.md (the same import), Copilot
    .github/copilot-instructions.md, Cline .clinerules/, Roo .roo/rules/, Kilo
    .kilocode/rules/, Aider CONVENTIONS.md (and .aider.conf.yml reading it); Codex,
    opencode, Cursor and Qwen read AGENTS.md itself (QWEN.md: rules meant for Qwen only).
    Rules for some tools or some paths go in .agents/rules/NAME.md, with front matter
    `targets: [claude, cursor]` and `globs: ["src/**/*.py"]`: they become .claude/rules/,
    .github/instructions/*.instructions.md (applyTo) and .cursor/rules/*.mdc (globs), and
    a section elsewhere. A file tether did not write is never overwritten.
    """


def _tools_option(command: Any) -> Any:
    return click.option(
        "--for", "tools", metavar="TOOL", multiple=True, help=f"Only these tools ({TARGETS})."
    )(command)


def _chosen(tools: tuple[str, ...]) -> list[str]:
    from tether.rules.targets import PLANS
    from tether.tools.facts import resolve

    if not tools:
        return list(PLANS)
    chosen = [resolve(tool) for tool in tools]
    unknown = [tool for tool in chosen if tool not in PLANS]
    if unknown:
        from tether.errors import UsageError

        raise UsageError(f"tether compiles no rules for {', '.join(unknown)} ({TARGETS})")
    return list(dict.fromkeys(chosen))


@rules.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def init(as_json: bool) -> None:
    """Make AGENTS.md, the canonical rules, from the project's other rule files.

    A project with AGENTS.md already keeps it as it is. The files read are left as they
    are: `tether rules compile` then reports them, for you to delete once AGENTS.md says
    what they said.
    """
    from tether.rules.compile import init as make

    root = Path(here_root())
    path, taken = make(root)
    result = {"path": str(path), "imported": taken}
    if as_json:
        emit_json(result)
    elif taken:
        click.echo(f"wrote {path}, from {', '.join(taken)}: read it, then `tether rules compile`")
    else:
        click.echo(f"{path} is the project's rules: edit it, then `tether rules compile`")


@rules.command(name="compile")
@_tools_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def compile_(tools: tuple[str, ...], as_json: bool) -> None:
    """Write each tool's rule files from AGENTS.md and .agents/rules/."""
    from tether.rules.compile import compile_rules

    report = compile_rules(Path(here_root()), _chosen(tools), write=True)
    _show(report, as_json)


@rules.command()
@_tools_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def check(tools: tuple[str, ...], as_json: bool) -> None:
    """Exit 1 when a tool's rule file is stale, missing, edited by hand or not tether's."""
    from tether.rules.compile import compile_rules

    report = compile_rules(Path(here_root()), _chosen(tools), write=False)
    _show(report, as_json)
    failing = [f.path for f in report.files if f.status in FAILING]
    if failing:
        raise RulesOutOfDate(
            f"{len(failing)} rule file(s) not as AGENTS.md says: {', '.join(failing)}"
            " (`tether rules compile`)"
        )


def _show(report: Report, as_json: bool) -> None:
    if as_json:
        emit_json(report.as_dict())
        return
    for item in report.files:
        who = f"{item.tool}: " if item.tool else ""
        click.echo(f"{who}{item.path}: {EXPLAIN[item.status]}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
