"""A message's usage and native fields kept with their well-known keys as one byte each.

Every message of a Claude or Codex session records the same few keys (`"input_tokens":`,
`"cache_read_input_tokens":`, `"parentUuid":`...) and a Claude message repeats its own id in its
native fields (`"uuid":"<native_id>"`): over a third of the bench corpus's `messages` table
(14.2 -> 8.9 MB at 1x).

The archive writes that JSON (orjson's, compact) with each of these patterns replaced by a
control character. Valid JSON never holds one raw (inside a string it is escaped; between
tokens only tab, newline and carriage return may stand, and they are not codes), so the
replacement is undone exactly by replacing each code with its pattern again, whatever the text
holds: a pattern met inside a string value comes back as it was (unpack). A nest of SQLite's
`replace()` would do it in SQL too, but 27 deep it overflows SQLite's parser stack.

The codes are part of the archive's format (m015): a pattern's code never changes. All 27
are taken (not NUL: SQLite's text functions stop at it; not DEL: a JSON string may hold it
raw), so a new key needs a new form of the column, with a migration of its own.
"""

from __future__ import annotations

OWN_ID = "\x01"
"""`"uuid":"<the message's native_id>"` (a Claude message's own id, kept in native_id)."""

KEYS = (
    # Claude: a message's native fields
    "parentUuid",
    "uuid",
    "requestId",
    "message_id",
    "sourceToolAssistantUUID",
    "isSidechain",
    "stop_reason",
    "kind",
    # Claude: usage
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",
    "ephemeral_5m_input_tokens",
    "ephemeral_1h_input_tokens",
    "service_tier",
    "server_tool_use",
    "web_search_requests",
    "web_fetch_requests",
    # Codex: usage and native fields
    "cached_input_tokens",
    "reasoning_output_tokens",
    "total_tokens",
    "type",
    "role",
    "context",
    # Gemini and Qwen: tokens
    "thoughts",
    "cached",
)
CODES = [chr(c) for c in range(2, 32) if chr(c) not in "\t\n\r"]
"""Control characters a JSON text never holds raw: tab, newline and CR may stand between tokens."""
assert len(KEYS) <= len(CODES)
PAIRS = [(f'"{key}":', code) for key, code in zip(KEYS, CODES, strict=False)]

_PLAIN = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_.:-"
"""What an id kept as OWN_ID is made of: JSON writes it as it is, between quotes."""


def pack(text: str | None, native_id: str | None = None) -> str | None:
    """The JSON `text` (compact, as orjson writes it) as the archive keeps it."""
    if not text:
        return text
    if native_id and len(native_id) <= 200 and not native_id.strip(_PLAIN):
        text = text.replace(f'"uuid":"{native_id}"', OWN_ID)
    for pattern, code in PAIRS:
        if pattern in text:
            text = text.replace(pattern, code)
    return text


def unpack(text: str | bytes, native_id: str | None = None) -> str:
    """The JSON text pack was given (with the same `native_id`), from what it returned."""
    if not isinstance(text, str):
        text = text.decode()
    if OWN_ID in text:
        text = text.replace(OWN_ID, f'"uuid":"{native_id or ""}"')
    for pattern, code in PAIRS:
        if code in text:
            text = text.replace(code, pattern)
    return text
