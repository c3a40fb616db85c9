"""Dates typed on the command line: `2026-11-01`, `2026-11-01T10:00`, `3d`, `12h`, `2w`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tether.errors import UsageError

_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_FORMS = "use 2026-11-01, 2026-11-01T10:00, 3d, 12h or 2w"


class BadDate(UsageError, ValueError):
    """A date on the command line that tether cannot read."""


def parse_since(value: str, now: datetime | None = None) -> str:
    """An ISO 8601 UTC instant ending in Z, comparable with stored timestamps."""
    try:
        when = _instant(value, now or datetime.now(UTC)).astimezone(UTC)
    except (OverflowError, ValueError):  # out of datetime's range (year 1 to 9999)
        raise BadDate(f"cannot read the date {value!r}: {_FORMS}") from None
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _instant(value: str, now: datetime) -> datetime:
    text = value.strip().lower()
    match = _RELATIVE.match(text)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if text in ("today", "yesterday"):
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return today - timedelta(days=1) if text == "yesterday" else today
    when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return when.astimezone() if when.tzinfo is None else when
