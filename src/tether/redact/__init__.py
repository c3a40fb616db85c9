"""Secrets are redacted on the way out (export, convert, resume in another tool, and later
push and MCP answers) unless the user asks to keep them.

The rules come from a maintained package (tether.redact.rules: kingfisher-secret-scanner),
with tether's own layer on top for keyed secrets and high-entropy tokens (tether.redact.own).
A redacted secret becomes a string marker, `[REDACTED:<rule>]`, so every JSON document and
JSONL line stays valid; a value under a secret-looking key is replaced whole, wherever it
sits (a tool call's input, a native record). Entry points: `redact_session` (the model),
`redact_doc` (session JSON), `scan_doc` (where secrets are, never what).
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tether.model import Attachment, Reasoning, Session, Text, ToolCall, ToolResult
from tether.redact.own import (
    KEYED,
    entropy_spans,
    keyed_spans,
    prefixed_spans,
    secret_key,
    secret_value,
)
from tether.redact.rules import Span

MARK = "[REDACTED:{rule}]"

_OPAQUE_KEY = re.compile(
    r"(?i)(?:^|[_-])(?:id|ids|uuid|signature|encrypted_?content|hash|sha\d*|digest|checksum"
    r"|etag|fingerprint|timestamp)$|[a-z](?:Id|Uuid|Hash|Signature)$"
)
"""Fields whose values are opaque on purpose (ids, hashes, signatures): the rules still
run on them, the entropy test does not (random is what they are)."""
_TEXT_MEDIA = re.compile(r"(?i)^(?:text/|application/(?:json|xml|x-yaml|yaml|toml|x-sh))")


def mark(rule: str) -> str:
    return MARK.format(rule=rule)


@dataclass
class Field:
    """One string that leaves tether: where it is, and how to put its redacted form back."""

    path: str
    text: str
    put: Callable[[str], None]
    opaque: bool = False
    keyed: bool = False
    """Under a secret-looking key: the whole value is the secret."""


@dataclass(frozen=True)
class Found:
    """A secret found: its rule and where (a path into the session), never its value."""

    rule: str
    path: str


class Fields:
    """The strings of a session, collected with their paths."""

    def __init__(self) -> None:
        self.items: list[Field] = []

    def text(self, path: str, text: str | None, put: Callable[[str], None], opaque: bool) -> None:
        if text:
            self.items.append(Field(path, text, put, opaque))

    def value(self, path: str, value: Any, put: Callable[[Any], None], key: str = "") -> None:
        """A JSON-like value: its strings, and whole values under secret-looking keys
        (`key`: the name it is under)."""
        if isinstance(value, str):
            if value:
                self.items.append(Field(path, value, put, opaque=_opaque(key)))
        elif isinstance(value, dict):
            for raw_name, item in value.items():
                name = str(raw_name)
                where = f"{path}.{name}" if path else name
                setter = _setter(value, name)
                if isinstance(item, str) and secret_key(name) and secret_value(item):
                    self.items.append(Field(where, item, setter, keyed=True))
                else:
                    self.value(where, item, setter, name)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.value(f"{path}[{index}]", item, _setter(value, index), key)

    def attachment_data(
        self, path: str, media_type: str, data: str | None, put: Callable[[str], None]
    ) -> None:
        """Text attachments are read (base64 decoded) and written back encoded; binary
        ones (images, PDFs) are left as they are."""
        if not data or not _TEXT_MEDIA.match(media_type or ""):
            return
        try:
            text = base64.b64decode(data, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return
        self.text(path, text, lambda new: put(base64.b64encode(new.encode()).decode()), False)


@functools.lru_cache(maxsize=4096)
def _opaque(key: str) -> bool:
    return bool(_OPAQUE_KEY.search(key))


def _setter(container: Any, key: Any) -> Callable[[Any], None]:
    def put(new: Any) -> None:
        container[key] = new

    return put


# ---------------------------------------------------------------------------------------
# Finding and applying


def spans(texts: list[str], opaque: list[bool] | None = None) -> list[list[Span]]:
    """The secrets in each text: the package's rules, then tether's own layer."""
    from tether.redact.rules import package_spans

    found = package_spans(texts)
    for index, text in enumerate(texts):
        found[index] += keyed_spans(text)
        found[index] += prefixed_spans(text)
        if not (opaque and opaque[index]):
            found[index] += entropy_spans(text)
        found[index] = _merged(found[index])
    return found


def _merged(found: list[Span]) -> list[Span]:
    """Overlapping spans become one, named by the rule of the longest."""
    out: list[Span] = []
    for span in sorted(found, key=lambda s: (s.start, -s.end)):
        if out and span.start < out[-1].end:
            last = out[-1]
            longest = last if last.end - last.start >= span.end - span.start else span
            out[-1] = Span(last.start, max(last.end, span.end), longest.rule)
        else:
            out.append(span)
    return out


def _applied(text: str, found: list[Span]) -> str:
    parts: list[str] = []
    at = 0
    for span in found:
        parts += [text[at : span.start], mark(span.rule)]
        at = span.end
    parts.append(text[at:])
    return "".join(parts)


def _run(fields: Fields, apply: bool = True) -> list[Found]:
    """What was found, where; with `apply`, every field is redacted in place."""
    scanned = [f for f in fields.items if not f.keyed]
    found_spans = spans([f.text for f in scanned], [f.opaque for f in scanned])
    out: list[Found] = []
    for field, found in zip(scanned, found_spans, strict=True):
        if found:
            if apply:
                field.put(_applied(field.text, found))
            out += [Found(span.rule, field.path) for span in found]
    for field in fields.items:
        if field.keyed:
            if apply:
                field.put(mark(KEYED))
            out.append(Found(KEYED, field.path))
    return out


# ---------------------------------------------------------------------------------------
# Entry points


def redact_text(text: str) -> str:
    if not text:
        return text
    return _applied(text, spans([text])[0])


def redact_value(value: Any) -> Any:
    """A redacted copy of a JSON-like value (a tool call's input, a native record)."""
    box = {"value": copy.deepcopy(value)}
    fields = Fields()
    fields.value("", box["value"], _setter(box, "value"))
    _run(fields)
    return box["value"]


def redact_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """A redacted copy of a session JSON (tether.formats.tether_json.session_json)."""
    import orjson

    doc = orjson.loads(orjson.dumps(doc))  # a deep copy, several times faster than copy's
    _run(doc_fields(doc))
    return doc


def scan_doc(doc: dict[str, Any]) -> list[Found]:
    """Where the secrets of a session JSON are (the document is not changed)."""
    return _run(doc_fields(doc), apply=False)


def doc_fields(doc: dict[str, Any]) -> Fields:
    fields = Fields()
    for key, value in doc.items():
        if key != "messages":
            fields.value(key, value, _setter(doc, key), key)
    for m_index, message in enumerate(doc.get("messages") or []):
        where = f"messages[{m_index}]"
        for key, value in message.items():
            if key != "parts":
                fields.value(f"{where}.{key}", value, _setter(message, key), key)
        for p_index, part in enumerate(message.get("parts") or []):
            at = f"{where}.parts[{p_index}]"
            for key, value in part.items():
                if part.get("type") == "attachment" and key == "data":
                    media = str(part.get("media_type") or "")
                    fields.attachment_data(f"{at}.data", media, value, _setter(part, key))
                else:
                    fields.value(f"{at}.{key}", value, _setter(part, key), key)
    return fields


def redact_session(session: Session) -> tuple[Session, list[Found]]:
    """A redacted copy of a session (title, every part, tool inputs value by value, the
    native records it carries), and what was redacted where."""
    session = copy.deepcopy(session)
    return session, redact_in_place(session)


def redact_in_place(session: Session) -> list[Found]:
    """Redact a session that is already the caller's own copy; what was redacted, where."""
    return _run(session_fields(session))


def scan_session(session: Session) -> list[Found]:
    return _run(session_fields(session), apply=False)


def session_fields(session: Session) -> Fields:
    fields = Fields()
    fields.text("session.title", session.title, _attribute(session, "title"), False)
    fields.value("session.native", session.native, _attribute(session, "native"))
    for m_index, message in enumerate(session.messages):
        where = f"messages[{m_index}]"
        fields.value(f"{where}.native", message.native, _attribute(message, "native"))
        for p_index, part in enumerate(message.parts):
            _part_fields(fields, f"{where}.parts[{p_index}]", part)
    return fields


def _attribute(owner: Any, name: str) -> Callable[[Any], None]:
    def put(new: Any) -> None:
        setattr(owner, name, new)

    return put


def _part_fields(fields: Fields, at: str, part: Any) -> None:
    def put(name: str) -> Callable[[Any], None]:
        return _attribute(part, name)

    if isinstance(part, Text | Reasoning):
        fields.text(f"{at}.text", part.text, put("text"), False)
    if isinstance(part, Reasoning):
        fields.text(f"{at}.signature", part.signature, put("signature"), True)
    elif isinstance(part, ToolCall):
        fields.value(f"{at}.input", part.input, put("input"))
    elif isinstance(part, ToolResult):
        fields.text(f"{at}.output", part.output, put("output"), False)
    elif isinstance(part, Attachment):
        fields.text(f"{at}.name", part.name, put("name"), False)
        fields.text(f"{at}.uri", part.uri, put("uri"), False)
        fields.attachment_data(f"{at}.data", part.media_type, part.data, put("data"))
    fields.value(f"{at}.native", part.native, put("native"), "native")


__all__ = [
    "MARK",
    "Found",
    "mark",
    "redact_doc",
    "redact_in_place",
    "redact_session",
    "redact_text",
    "redact_value",
    "scan_doc",
    "scan_session",
    "secret_key",
]
