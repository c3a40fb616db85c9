"""`tether stats`: tokens and estimated cost across every tool that records usage."""

from __future__ import annotations

from typing import Any

import click

from tether.commands.common import archive, auto_scan, emit_json, to_filters, tool_option


@click.command()
@click.option(
    "--by",
    type=click.Choice(["day", "tool", "model", "project"]),
    default="tool",
    show_default=True,
    help="One row per day, tool, model or project.",
)
@click.option("--since", metavar="DATE", help="Usage since DATE (2026-11-01, 3d, 12h).")
@click.option("--project", "-p", metavar="PATH", help="Only sessions in this folder or below.")
@click.option("--here", is_flag=True, help="Only sessions of this project (git root).")
@tool_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--no-scan", is_flag=True, help="Do not look for new sessions first.")
def stats(
    by: str,
    since: str | None,
    project: str | None,
    here: bool,
    tool: str | None,
    as_json: bool,
    no_scan: bool,
) -> None:
    """Tokens and estimated cost per day, tool, model or project.

    \b
      tether stats                     every tool, all time
      tether stats --by day --since 7d
      tether stats --by model --here   this project's models

    Tokens are what each tool recorded per model response (Claude Code, Codex, Gemini,
    Copilot, Qwen, opencode, Cline, Roo, Kilo, Cursor and Amp record usage; Aider and
    Antigravity do not). Cost is an estimate at the list prices of genai-prices, for the
    day each token was used; a model it does not know counts as unpriced.
    """
    from typing import cast

    from tether.summary.stats import By
    from tether.summary.stats import stats as compute

    filters = to_filters(tool, project, here, since, -1)
    with archive() as db:
        auto_scan(db, no_scan)
        result = compute(db, cast(By, by), filters)
    if as_json:
        emit_json(result)
    else:
        print_stats(result)


def _cost(value: float | None, unpriced: int) -> str:
    text = "" if value is None else f"${value:,.2f}"
    return f"{text}*" if unpriced else text


def print_stats(result: dict[str, Any]) -> None:
    from tether.commands.render import print_table, short_path
    from tether.commands.summary import count

    rows = result["rows"]
    if not rows:
        click.echo("no recorded usage (try `tether scan`, or widen the filters)")
        return
    key = result["by"].upper()

    def line(name: str, group: dict[str, Any]) -> list[str]:
        tokens = group["tokens"]
        return [
            short_path(name) if result["by"] == "project" else name,
            str(group["sessions"]),
            *(count(tokens[k]) for k in ("input", "cache_read", "cache_write", "output", "total")),
            _cost(group["cost_usd"], group["unpriced_tokens"]),
        ]

    print_table(
        [key, "SESSIONS", "INPUT", "CACHE READ", "CACHE WRITE", "OUTPUT", "TOTAL", "COST"],
        [*(line(row["key"], row) for row in rows), line("total", result["total"])],
        right={1, 2, 3, 4, 5, 6, 7},
        styles={0: "36"},
        fit=0,
    )
    if result["unpriced_models"]:
        names = ", ".join(result["unpriced_models"])
        click.echo(f"* not priced: {names} (unknown to {result['prices']})")
    else:
        click.echo(f"prices: {result['prices']}")
