"""Antigravity: the agy CLI's `~/.gemini/antigravity-cli/brain/<id>/.system_generated/logs/
transcript.jsonl` (its protobuf stores and the IDE's encrypted files are not readable)."""

from __future__ import annotations

from tether.tools.facts.common import is_uuid

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts.common import Capability, LaunchSpec

NAME = "antigravity"
DISPLAY_NAME = "Antigravity"
ALIASES: tuple[str, ...] = ("agy", "antigravity-cli", "google-antigravity")
CAPABILITIES: frozenset[Capability] = frozenset({"read"})
STORE_VARIABLES: tuple[str, ...] = ()
LAUNCH: LaunchSpec | None = None
started_since = None


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    """The CLI's and the IDE's folders under ~/.gemini (no override of their own)."""
    return [f"{home}/.gemini/antigravity-cli", f"{home}/.gemini/antigravity"]


valid_id = is_uuid


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    return f"brain/{native_id}/.system_generated/logs/transcript.jsonl"
