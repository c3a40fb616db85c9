"""A session in tether's session format (what `show --json` prints), written as JSON text
straight from the archive's rows, a message at a time.

The text is, byte for byte, what orjson printed of `session_json(load_session(…))`: what
the archive keeps as JSON (native fields, usage, a tool call's input) is copied as SQLite
returns it, never parsed and printed again, and strings are escaped as orjson escapes
them. So `show --json` needs neither the model classes nor orjson, and holds one message
of a session in memory, not all of it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from tether.archive.jsonkeys import unpack
from tether.archive.rows import SESSION_COLUMNS, number, stored, text

FORMAT = "tether.session"
FORMAT_VERSION = 1
"""As tether.model.FORMAT_VERSION (tests hold the two together)."""

_MESSAGES = (
    "SELECT m.pk, m.role, m.timestamp, m.model, m.usage, m.native_id, m.native, p.kind, p.text,"
    " p.data -> '$.native', p.data -> '$.signature', p.data ->> '$.id', p.data ->> '$.name',"
    " p.data -> '$.input', p.data ->> '$.call_id', p.data -> '$.is_error',"
    " p.data -> '$.media_type', p.data -> '$.name', p.data -> '$.data', p.data -> '$.uri'"
    " FROM messages m LEFT JOIN parts p ON p.message_pk = m.pk"
    " WHERE m.session_pk = ? ORDER BY m.seq, p.seq"
)
_FALSY = frozenset({"null", "false", "{}", "[]", '""'})


def session_document(db: sqlite3.Connection, session_pk: int) -> Iterator[str]:
    """The session's JSON text, in pieces (a message or so each)."""
    row = db.execute(
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE pk = ?", (session_pk,)
    ).fetchone()
    (count,) = db.execute(
        "SELECT COUNT(*) FROM messages WHERE session_pk = ?", (session_pk,)
    ).fetchone()
    (_pk, sid, tool, native_id, project, cwd, branch, commit, title, first_prompt) = row[:10]
    created, updated, _count, models, usage, parent_id, native = row[10:]
    yield (
        f'{{"format":{text(FORMAT)},"version":{FORMAT_VERSION},"session":{{'
        f'"id":{text(sid)},"tool":{text(tool)},"native_id":{text(native_id)},'
        f'"project":{text(project)},"cwd":{text(cwd)},"git_branch":{text(branch)},'
        f'"git_commit":{text(commit)},"title":{text(title or first_prompt)},'
        f'"created_at":{text(created)},"updated_at":{text(updated)},'
        f'"message_count":{number(count)},"models":{stored(models, "[]")},'
        f'"usage":{stored(usage, "null")},"parent_id":{text(parent_id)},'
        f'"native":{stored(native, "{}")}}},"messages":['
    )
    current = None
    parts: list[str] = []
    head = tail = ""
    first = True
    for r in db.execute(_MESSAGES, (session_pk,)):
        if r[0] != current:
            if current is not None:
                yield ("" if first else ",") + head + ",".join(parts) + tail
                first = False
            current = r[0]
            head = (
                f'{{"role":{text(r[1])},"timestamp":{text(r[2])},"model":{text(r[3])},'
                f'"usage":{stored(r[4] and unpack(r[4]), "null")},'
                f'"native_id":{text(r[5])},"parts":['
            )
            tail = f'],"native":{stored(r[6] and unpack(r[6], r[5]), "{}")}}}'
            parts = []
        if r[7] is not None:
            parts.append(_part(r))
    if current is not None:
        yield ("" if first else ",") + head + ",".join(parts) + tail
    yield "]}"


def _part(r: tuple[object, ...]) -> str:
    """One part as tether_json.part_json(store.part_from_row(kind, text, data)) prints."""
    kind, body, native, signature, call_id_of, name_of, value, result_of = r[7:15]
    is_error, media_type, name, data, uri = r[15:20]
    body_text = text(body if isinstance(body, str) else "")
    if kind == "text":
        out = f'{{"type":"text","text":{body_text}'
    elif kind == "reasoning":
        out = f'{{"type":"reasoning","text":{body_text},"signature":{_json(signature)}'
    elif kind == "tool_call":
        out = (
            f'{{"type":"tool_call","id":{_string(call_id_of)},"name":{_string(name_of)},'
            f'"input":{_json(value)}'
        )
    elif kind == "tool_result":
        error = "true" if truthy(is_error) else "false"
        out = (
            f'{{"type":"tool_result","call_id":{_string(result_of)},"output":{body_text},'
            f'"is_error":{error}'
        )
    else:
        media = _json(media_type) if truthy(media_type) else '"application/octet-stream"'
        out = (
            f'{{"type":"attachment","media_type":{media},"name":{_json(name)},'
            f'"data":{_json(data)},"uri":{_json(uri)}'
        )
    if truthy(native):
        out += f',"native":{_json(native)}'
    return out + "}"


def _json(value: object) -> str:
    """JSON text SQLite extracted (None: the key was missing), as it is."""
    if value is None:
        return "null"
    return value if isinstance(value, str) else str(value)


def _string(value: object) -> str:
    return text(value if isinstance(value, str) else None)


def truthy(value: object) -> bool:
    """Whether the JSON text is a value Python counts as true (bool(json.loads(value)))."""
    if value is None:
        return False
    raw = value.strip() if isinstance(value, str) else str(value)
    if raw in _FALSY:
        return False
    try:
        return float(raw) != 0
    except ValueError:
        return True
