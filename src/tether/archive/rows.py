"""A sessions row as the JSON contract's session object: as Python values, and as JSON text
written straight from the row.

The text is what orjson printed for the values before, byte for byte: strings are escaped
as orjson escapes them, and what the archive keeps as JSON (models, usage, native) is
copied, never parsed, so answering `list --json` loads neither orjson nor json.
"""

from __future__ import annotations

import sqlite3

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs an answer a millisecond to import
    from typing import Any

try:  # the C string encoder of the json module, without importing json (and re) itself
    from _json import encode_basestring as _quote
except ImportError:  # pragma: no cover - CPython has it
    from json.encoder import py_encode_basestring as _quote

SESSION_COLUMNS = (
    "pk, id, tool, native_id, project, cwd, git_branch, git_commit, title, first_prompt,"
    " created_at, updated_at, message_count, models, usage, parent_id, native"
)


def session_dict(row: sqlite3.Row | tuple[Any, ...]) -> dict[str, Any]:
    """A sessions row (SESSION_COLUMNS order) as the JSON contract's session object."""
    import orjson

    sid, tool, native_id, project, cwd, branch, commit, title, first_prompt = row[1:10]
    created, updated, count, models, usage, parent_id = row[10:16]
    return {
        "id": sid,
        "tool": tool,
        "native_id": native_id,
        "project": project,
        "cwd": cwd,
        "git_branch": branch,
        "git_commit": commit,
        "title": title or first_prompt,
        "created_at": created,
        "updated_at": updated,
        "message_count": count,
        "models": orjson.loads(models) if models else [],
        "usage": orjson.loads(usage) if usage else None,
        "parent_id": parent_id,
    }


def text(value: str | None) -> str:
    """A string (or None) as JSON, escaped as orjson escapes it."""
    return "null" if value is None else _quote(value)


def number(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def stored(value: str | bytes | None, empty: str) -> str:
    """JSON the archive keeps as text (orjson's own output), as it is; `empty` when there is
    none (what `orjson.loads(x) if x else empty` gave)."""
    if not value:
        return empty
    return value if isinstance(value, str) else value.decode()


def session_text(row: sqlite3.Row | tuple[Any, ...]) -> str:
    """session_dict(row) as JSON text, without parsing the row's JSON columns."""
    sid, tool, native_id, project, cwd, branch, commit, title, first_prompt = row[1:10]
    created, updated, count, models, usage, parent_id = row[10:16]
    return (
        f'{{"id":{text(sid)},"tool":{text(tool)},"native_id":{text(native_id)},'
        f'"project":{text(project)},"cwd":{text(cwd)},"git_branch":{text(branch)},'
        f'"git_commit":{text(commit)},"title":{text(title or first_prompt)},'
        f'"created_at":{text(created)},"updated_at":{text(updated)},'
        f'"message_count":{number(count)},"models":{stored(models, "[]")},'
        f'"usage":{stored(usage, "null")},"parent_id":{text(parent_id)}}}'
    )


def names_of(db: sqlite3.Connection, session_ids: list[str]) -> dict[str, dict[str, list[str]]]:
    """Per session id: its `names` (aliases) and `checkpoints`, each sorted
    (tether.archive.names)."""
    out: dict[str, dict[str, list[str]]] = {}
    for start in range(0, len(session_ids), 500):
        chunk = session_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for name, kind, sid in db.execute(
            f"SELECT name, kind, session_id FROM names WHERE session_id IN ({marks}) ORDER BY name",
            chunk,
        ):
            entry = out.setdefault(sid, {"names": [], "checkpoints": []})
            entry["names" if kind == "alias" else "checkpoints"].append(name)
    return out


def listed_text(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> str:
    """Sessions rows as `list --json` prints them: each session_text with its lineage
    (lineage.annotate) and its names (names.with_names), as a JSON array."""
    from tether.archive.lineage import links

    ids = [row[1] for row in rows]
    parents, pushers = links(db, ids)
    named = names_of(db, ids)
    nobody: dict[str, list[str]] = {"names": [], "checkpoints": []}
    items = []
    for row, sid in zip(rows, ids, strict=True):
        names = named.get(sid, nobody)
        items.append(
            f'{session_text(row)[:-1]},"continues":{text(parents.get(sid))},'
            f'"pushed_by":{text(pushers.get(sid))},'
            f'"names":[{",".join(map(text, names["names"]))}],'
            f'"checkpoints":[{",".join(map(text, names["checkpoints"]))}]}}'
        )
    return f"[{','.join(items)}]"
