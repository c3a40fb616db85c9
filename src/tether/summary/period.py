"""What happened across every tool in a period (`tether summary --today`, `--since 3d`): one
summary per session of the period, counting only its messages since the start, and the
totals over all of them."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from typing import Any

from tether.archive.query import Filters, find_session, list_sessions
from tether.archive.store import iter_messages
from tether.model import Message
from tether.summary import usage
from tether.summary.session import HOWS, Summary, summarize


def summarize_period(
    db: sqlite3.Connection, since: str, project: str | None, tool: str | None = None
) -> dict[str, Any]:
    """The JSON shape of `tether summary --since … --json` (README, JSON)."""
    rows = list_sessions(db, Filters(tool=tool, project=project, since=since, limit=-1))
    summaries = []
    for row in reversed(rows):  # oldest first: the day as it went
        pk, _ = find_session(db, row["id"])
        summary = summarize(row, _since(iter_messages(db, pk), since))
        if summary.started_at is not None:
            summaries.append(summary)
    return {
        "since": since,
        "project": project,
        "sessions": [_brief(summary) for summary in summaries],
        "totals": _totals(summaries),
    }


def _since(messages: Iterator[tuple[int, Message]], since: str) -> Iterator[Message]:
    """The messages of the period (a message without a time counts with its neighbours)."""
    for _, message in messages:
        if message.timestamp is None or message.timestamp >= since:
            yield message


def _brief(summary: Summary) -> dict[str, Any]:
    info = summary.session
    return {
        "id": info["id"],
        "tool": info["tool"],
        "native_id": info["native_id"],
        "project": info["project"],
        "title": info["title"],
        "started_at": summary.started_at,
        "ended_at": summary.ended_at,
        "duration_seconds": summary.duration_seconds,
        "counts": dict(summary.counts),
        "files": {how: len(summary.touched(how)) for how in HOWS},
        "commands": len(summary.commands),
        "failed_commands": sum(command.failed for command in summary.commands),
        "tests": _tests([summary]),
        "packages": sorted({p for install in summary.packages for p in install.packages}),
        "errors": len(summary.errors),
        "tokens": dict(summary.tokens),
    }


def _tests(summaries: list[Summary]) -> dict[str, int]:
    outcomes = Counter(run.outcome for summary in summaries for run in summary.tests)
    return {
        "runs": sum(outcomes.values()),
        "passed": outcomes["passed"],
        "failed": outcomes["failed"],
    }


def _totals(summaries: list[Summary]) -> dict[str, Any]:
    tokens = usage.zero()
    files: dict[str, dict[str, None]] = {how: {} for how in HOWS}
    for summary in summaries:
        usage.add(tokens, summary.tokens)
        for how in HOWS:
            files[how].update(dict.fromkeys(summary.touched(how)))
    durations = [s.duration_seconds for s in summaries if s.duration_seconds is not None]
    return {
        "sessions": len(summaries),
        "by_tool": dict(Counter(s.session["tool"] for s in summaries).most_common()),
        "files": {how: list(paths) for how, paths in files.items()},
        "commands": sum(len(s.commands) for s in summaries),
        "failed_commands": sum(c.failed for s in summaries for c in s.commands),
        "tests": _tests(summaries),
        "packages": sorted({p for s in summaries for i in s.packages for p in i.packages}),
        "errors": sum(len(s.errors) for s in summaries),
        "duration_seconds": sum(durations),
        "tokens": tokens,
    }
