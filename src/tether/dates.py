"""Dates typed on the command line: `2026-11-01`, `2026-11-01T10:00`, `3d`, `12h`, `2w`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime | None = None) -> str:
    """An ISO 8601 UTC instant ending in Z, comparable with stored timestamps."""
    text = value.strip().lower()
    now = now or datetime.now(UTC)
    match = _RELATIVE.match(text)
    if match:
        when = now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    elif text in ("today", "yesterday"):
        when = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if text == "yesterday":
            when -= timedelta(days=1)
    else:
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"cannot read the date {value!r}: use 2026-11-01, 2026-11-01T10:00, 3d, 12h or 2w"
            ) from None
        if when.tzinfo is None:
            when = when.astimezone()
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
