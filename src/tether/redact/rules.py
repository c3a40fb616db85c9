"""The maintained rule set: kingfisher-secret-scanner (MongoDB's Kingfisher), which bundles
the Betterleaks (gitleaks) catalogue and Google's Veles rules and runs them in-process.

Imported only when something is redacted or scanned: loading the compiled rules costs
about 0.7 s (the first time after an install, 5-10 s to compile and cache them).

Some of the package's rules report a secret only beside its companion (an AWS access key
id only next to its secret key, a Supabase key only next to the project URL): that keeps
a validator from trying half a credential, but a lone secret still leaks. Those rules are
loaded a second time, from the package's own patterns, with no companion required.
"""

from __future__ import annotations

import contextlib
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEPARATOR = "\n\x1e\n"
"""Between the texts of one batch: a line of its own that no rule matches across."""

PACKAGE = "kingfisher-secret-scanner"
_NAMESPACES = ("betterleaks.", "veles.secrets/", "kingfisher.", "custom.", "tether.")
_HELPER_SECRETS = ("secret", "passphrase", "token")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    rule: str


def rule_name(rule_id: str) -> str:
    """`betterleaks.stripe-access-token` -> `stripe-access-token`."""
    for prefix in _NAMESPACES:
        if rule_id.startswith(prefix):
            return rule_id[len(prefix) :]
    return rule_id


def _is_secret(rule_id: str, visible: bool) -> bool:
    """Findings the package hides are helpers that pair with a secret: mostly ids, names
    and hosts, which are not secrets; those whose rule names a secret are kept."""
    if visible:
        return True
    name = rule_name(rule_id).removesuffix(".1")
    return any(word in name for word in _HELPER_SECRETS) and not name.endswith("-name")


@functools.cache
def _scanner() -> Any:
    from kingfisher_sdk import Rules, Scanner

    return Scanner(Rules([str(_lone_rules(Rules))], confidence="low"), base64=True)


def _lone_rules(rules_class: Any) -> Path:
    """A rules file (JSON is YAML) of the package's companion-gated rules, without the
    companion: written once per package version, in tether's cache folder."""
    from importlib.metadata import version

    import platformdirs

    from tether.terminal import say

    path = Path(platformdirs.user_cache_dir("tether")) / f"{PACKAGE}-{version(PACKAGE)}.yml"
    if path.exists():
        return path
    say("tether: preparing the secret rules (once after an install: 5-20 s)")
    catalogue = rules_class(confidence="low")
    lone = []
    for meta in catalogue.metadata():
        detail = catalogue.detail(meta["id"])
        required = [d for d in detail.get("depends_on_rule") or [] if not d.get("optional")]
        if meta["visible"] and required:
            lone.append(
                {
                    "name": detail["name"],
                    "id": "tether." + rule_name(meta["id"]).replace("/", "-"),
                    "pattern": detail["pattern"],
                    "min_entropy": detail.get("min_entropy") or 0.0,
                    "confidence": "medium",
                }
            )
    from tether.files import write_new

    with contextlib.suppress(FileExistsError):  # another tether wrote the same meanwhile
        write_new(path, json.dumps({"rules": lone}, indent=1).encode())
    return path


def package_spans(texts: list[str]) -> list[list[Span]]:
    """Every secret the package finds, per text; all texts go through one native scan."""
    joined = SEPARATOR.join(texts)
    data = joined.encode()
    starts: list[int] = []  # byte offset where each text begins
    offset = 0
    for text in texts:
        starts.append(offset)
        offset += len(text.encode()) + len(SEPARATOR)
    out: list[list[Span]] = [[] for _ in texts]
    for finding in _scanner().scan(data):
        if not _is_secret(finding.rule_id, finding.visible):
            continue
        location = finding.location
        begin, end = location["start_offset"], location["end_offset"]
        index = _text_at(starts, begin)
        text_start = starts[index]
        text_bytes = texts[index].encode()
        local_begin = begin - text_start
        local_end = min(end - text_start, len(text_bytes))
        if local_end <= local_begin:
            continue
        out[index].append(
            Span(
                _chars(text_bytes, local_begin),
                _chars(text_bytes, local_end),
                rule_name(finding.rule_id),
            )
        )
    return out


def _text_at(starts: list[int], offset: int) -> int:
    import bisect

    return max(0, bisect.bisect_right(starts, offset) - 1)


def _chars(data: bytes, byte_offset: int) -> int:
    """A byte offset into UTF-8 `data` as a character offset (mid-character: the next)."""
    if data.isascii():
        return byte_offset
    return len(data[:byte_offset].decode(errors="ignore"))
