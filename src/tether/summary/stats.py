"""Tokens and estimated cost across every tool that records usage, grouped by day, tool,
model or project (`tether stats`).

Usage is read per message (each tool records it per model response) in one pass over the
archive, added up per group, model and day, and priced per model and day: a model's price
on the day it was used (tether.summary.prices).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import orjson

from tether.archive.jsonkeys import unpack
from tether.archive.query import Filters, session_conditions
from tether.summary import usage
from tether.summary.prices import cost, rounded, source

By = Literal["day", "tool", "model", "project"]
BY: tuple[By, ...] = ("day", "tool", "model", "project")
UNKNOWN = "unknown"


@dataclass(slots=True)
class Group:
    """The usage of one group (a day, a tool, a model or a project)."""

    sessions: set[str] = field(default_factory=set)
    messages: int = 0
    tokens: dict[str, int] = field(default_factory=usage.zero)
    cost: float = 0.0
    unpriced_tokens: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "sessions": len(self.sessions),
            "messages": self.messages,
            "tokens": dict(self.tokens),
            "cost_usd": rounded(self.cost),
            "unpriced_tokens": self.unpriced_tokens,
        }


@dataclass(frozen=True, slots=True)
class Row:
    session: str
    tool: str
    project: str | None
    model: str
    day: str | None
    usage: dict[str, Any]


def stats(db: sqlite3.Connection, by: By, filters: Filters) -> dict[str, Any]:
    """The JSON shape of `tether stats --json` (README, JSON)."""
    buckets: dict[tuple[str, str, str | None], Group] = {}
    for row in usage_rows(db, filters):
        key = _key(row, by)
        bucket = buckets.setdefault((key, row.model, row.day), Group())
        bucket.sessions.add(row.session)
        bucket.messages += 1
        usage.add(bucket.tokens, usage.tokens(row.usage))
    groups: dict[str, Group] = {}
    total = Group()
    unpriced: set[str] = set()
    for (key, model, day), bucket in buckets.items():
        price = _price(bucket, model, day)
        if price is None:
            bucket.unpriced_tokens = bucket.tokens["total"]
            unpriced.add(model)
        else:
            bucket.cost = price
        for group in (groups.setdefault(key, Group()), total):
            _merge(group, bucket)
    order = sorted(groups, reverse=by == "day") if by in ("day", "project") else None
    keys = order or sorted(groups, key=lambda k: (-groups[k].tokens["total"], k))
    return {
        "by": by,
        "since": filters.since,
        "rows": [{"key": key, **groups[key].as_dict()} for key in keys],
        "total": total.as_dict(),
        "unpriced_models": sorted(unpriced),
        "prices": source(),
    }


def _price(bucket: Group, model: str, day: str | None) -> float | None:
    """The bucket's cost: its messages' average usage priced once, times their number.
    Exact for a model with one price per token; for one whose price steps up with the size
    of a request (long-context tiers), the average request decides the step."""
    if not bucket.tokens["total"]:
        return 0.0
    average = {key: round(value / bucket.messages) for key, value in bucket.tokens.items()}
    one = cost(average, model, day)
    return None if one is None else one * bucket.messages


def _key(row: Row, by: By) -> str:
    if by == "day":
        return row.day or UNKNOWN
    if by == "tool":
        return row.tool
    if by == "model":
        return row.model
    return row.project or UNKNOWN


def _merge(into: Group, bucket: Group) -> None:
    into.sessions |= bucket.sessions
    into.messages += bucket.messages
    usage.add(into.tokens, bucket.tokens)
    into.cost += bucket.cost
    into.unpriced_tokens += bucket.unpriced_tokens


def usage_rows(db: sqlite3.Connection, filters: Filters) -> Iterator[Row]:
    """Every message that records usage in the sessions of `filters` (and since its start);
    a session that records usage only as a whole (an import) counts once, as itself."""
    where, args = session_conditions(filters)
    extra = "".join(f" AND {condition}" for condition in where)
    stamp = "COALESCE(m.timestamp, s.updated_at)"
    since = f" AND {stamp} >= ?" if filters.since else ""
    messages = db.execute(
        f"SELECT s.id, s.tool, s.project, s.models, m.model, substr({stamp}, 1, 10), m.usage"
        f" FROM messages m JOIN sessions s ON s.pk = m.session_pk"
        f" WHERE m.usage IS NOT NULL{extra}{since}",
        (*args, *([filters.since] if filters.since else [])),
    )
    whole = db.execute(
        "SELECT s.id, s.tool, s.project, s.models, NULL, substr(s.updated_at, 1, 10), s.usage"
        f" FROM sessions s WHERE s.usage IS NOT NULL{extra} AND NOT EXISTS"
        " (SELECT 1 FROM messages m WHERE m.session_pk = s.pk AND m.usage IS NOT NULL)",
        args,
    )
    for rows in (messages, whole):
        for sid, tool, project, models, model, day, raw in rows:
            recorded = orjson.loads(unpack(raw))
            if not isinstance(recorded, dict):
                continue
            named = model or _first_model(models)
            yield Row(sid, tool, project, named, day, recorded)


@cache
def _first_model(models: str | None) -> str:
    names = orjson.loads(models) if models else []
    return str(names[0]) if isinstance(names, list) and names else UNKNOWN
