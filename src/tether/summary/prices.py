"""Estimated cost of tokens, from genai-prices (a maintained, offline snapshot of the
providers' published prices, with their history): never from a table typed here.

Imported only by `tether stats` and what reports cost: genai-prices loads pydantic.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import version
from typing import Any

PARENTHESES = re.compile(r"\s*\([^)]*\)")


def source() -> str:
    """Where the prices come from, with the version of the snapshot."""
    return f"genai-prices {version('genai-prices')}"


def cost(tokens: dict[str, int], model: str, day: str | None) -> float | None:
    """US dollars for these tokens (tether.summary.usage keys) of this model, at the prices of
    that day (YYYY-MM-DD; today's when unknown); None when genai-prices does not know it."""
    import genai_prices

    ref = model_ref(model)
    if ref is None:
        return None
    usage = genai_prices.Usage(
        input_tokens=tokens["input"] + tokens["cache_read"] + tokens["cache_write"],
        cache_read_tokens=tokens["cache_read"],
        cache_write_tokens=tokens["cache_write"],
        output_tokens=tokens["output"],
    )
    try:
        price = genai_prices.calc_price(usage, ref, genai_request_timestamp=_instant(day))
    except LookupError:
        return None
    return float(price.total_price)


@cache
def model_ref(model: str) -> str | None:
    """The name genai-prices knows the model by: as the tool recorded it, else lower-case
    without a parenthesised variant and with dashes for spaces (`Gemini 3.5 Flash (High)`)."""
    import genai_prices

    plain = PARENTHESES.sub("", model).strip().lower().replace(" ", "-")
    for ref in dict.fromkeys((model, plain)):
        if not ref or ref == "unknown":
            continue
        try:
            genai_prices.calc_price(genai_prices.Usage(input_tokens=1), ref)
        except LookupError:
            continue
        return ref
    return None


def _instant(day: str | None) -> datetime | None:
    if not day:
        return None
    try:
        return datetime.fromisoformat(day[:10]).replace(hour=12, tzinfo=UTC)
    except ValueError:
        return None


def rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 6)
