"""The archive: sessions, messages and parts in SQLite, with FTS5 over every part's text.

`Applier` routes a reader's ops to their session and `SessionWriter` applies them to it (the
database twin of assemble.Assembly); `load_session` reads one back into the canonical model.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

from tether.archive import jsonkeys, parttext
from tether.archive.assemble import merge_fields
from tether.archive.db import Staging
from tether.archive.parttext import PartRow
from tether.archive.rows import SESSION_COLUMNS as SESSION_COLUMNS  # noqa: PLC0414  # re-exported: moved to rows, imported from here too
from tether.archive.rows import session_dict as session_dict  # noqa: PLC0414  # re-exported, as above
from tether.model import (
    ROLES,
    Attachment,
    Message,
    Part,
    Reasoning,
    Role,
    Session,
    Text,
    ToolCall,
    ToolResult,
    session_id,
)
from tether.tools.base import Meta, Op, Put, Reset, Rewind, Source, Tool

FLUSH_ROWS = 2000
FLUSH_BYTES = 1 << 20
"""Or this much text buffered: a session of long parts is not held whole until its end."""
TEXTS_KEPT = 16
"""Text parts a writer keeps as written, for `finish` to find the session's first prompt."""
MAX_BUFFERED_OPS = 1000
"""Ops an Applier holds while it waits for the session's id."""


MAX_DEPTH = 128
"""Nesting kept of a value from a native file: deeper levels become a note. orjson writes
at most 254 levels, and `show --json` wraps a value in a few more."""
TOO_DEEP = f"[nested deeper than {MAX_DEPTH} levels]"


def dumps(value: Any) -> str:
    """JSON of a value a reader took from a native file, whatever its shape: nesting beyond
    MAX_DEPTH is cut (the raw bytes keep it all)."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except (orjson.JSONEncodeError, TypeError):
        text = None
    # Brackets in the text bound its depth: most values are measured by this count alone.
    if text is not None and (
        text.count("[") + text.count("{") <= MAX_DEPTH or _depth(value) <= MAX_DEPTH
    ):
        return text
    return orjson.dumps(_bounded(value, MAX_DEPTH), option=orjson.OPT_NON_STR_KEYS).decode()


def _depth(value: Any) -> int:
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if depth > MAX_DEPTH:
                return depth
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


def _bounded(value: Any, room: int) -> Any:
    """A copy of value with containers below `room` levels replaced by a note, and what
    JSON cannot hold as text."""
    if isinstance(value, dict | list) and room <= 0:
        return TOO_DEEP
    if isinstance(value, dict):
        return {str(k): _bounded(v, room - 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_bounded(v, room - 1) for v in value]
    if value is None or isinstance(value, str | bool | float):
        return value
    if isinstance(value, int) and -(2**63) <= value < 2**64:
        return value
    return str(value)


def searchable_input(value: Any) -> str:
    """A tool call's input as words: its string values one per line (JSON escapes would
    glue `\\n` to the next word for the tokenizer). Walked without recursion: a native
    file may nest a value a thousand levels deep."""
    out: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif item is not None:
            out.append(str(item))
    return "\n".join(out)


def _text(value: Any) -> str:
    """A part's searchable text: a reader may hand over a value of another type."""
    if isinstance(value, str):
        return value
    return "" if value is None else searchable_input(value)


def part_row(part: Part) -> tuple[str, str, str | None]:
    """(kind, searchable text, JSON of the rest) for one part."""
    native = part.native or None
    if isinstance(part, Text):
        return "text", _text(part.text), dumps({"native": native}) if native else None
    if isinstance(part, Reasoning):
        data = {"signature": part.signature, "native": native}
        return "reasoning", _text(part.text), dumps(data) if part.signature or native else None
    if isinstance(part, ToolCall):
        data = {
            "id": _text(part.id),
            "name": _text(part.name),
            "input": part.input,
            "native": native,
        }
        return "tool_call", searchable_input(part.input), dumps(data)
    if isinstance(part, ToolResult):
        result = {"call_id": _text(part.call_id), "is_error": part.is_error, "native": native}
        return "tool_result", _text(part.output), dumps(result)
    data = {
        "media_type": part.media_type,
        "name": part.name,
        "data": part.data,
        "uri": part.uri,
        "native": native,
    }
    return "attachment", _text(part.name), dumps(data)


def part_from_row(kind: str, text: str, data_json: str | None) -> Part:
    data: dict[str, Any] = orjson.loads(data_json) if data_json else {}
    native = data.get("native") or {}
    if kind == "text":
        return Text(text, native=native)
    if kind == "reasoning":
        return Reasoning(text, signature=data.get("signature"), native=native)
    if kind == "tool_call":
        return ToolCall(data["id"], data["name"], data.get("input"), native=native)
    if kind == "tool_result":
        return ToolResult(data["call_id"], text, bool(data.get("is_error")), native=native)
    return Attachment(
        data.get("media_type") or "application/octet-stream",
        name=data.get("name"),
        data=data.get("data"),
        uri=data.get("uri"),
        native=native,
    )


def _nonempty_json(value: Any) -> str | None:
    return dumps(value) if value else None


def _sane(m: Message) -> Message:
    """A message's fields (not its parts) as the archive stores them: a reader may hand
    over a field of another type than the model says, from a native file that had one."""
    return Message(
        m.role if m.role in ROLES else "system",
        [],
        _str_or_none(m.timestamp),
        _str_or_none(m.model),
        m.usage if isinstance(m.usage, dict) else None,
        _str_or_none(m.native_id),
        dict(m.native) if isinstance(m.native, dict) else {},
    )


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class SessionWriter:
    """Applies ops to one session inside the caller's transaction.

    Rows are buffered and written in batches; primary keys are allocated here (the
    caller holds the write lock), so parts can reference messages before they are flushed.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        session_pk: int,
        fresh: bool,
        base: Callable[[], parttext.Base | None] | None = None,
    ) -> None:
        self.db = db
        self.session_pk = session_pk
        self.base = base
        """The raw bytes being read, at a flush: the parts' blocks are compressed against them."""
        self.indexed = not isinstance(db, Staging)
        """False in a staging database: the archive indexes the text it takes over."""
        self.keys: dict[str, list[int]] = {}
        """key -> [message pk, next part seq] for this session's messages."""
        if not fresh:
            for key, pk, nparts in db.execute(
                "SELECT m.key, m.pk, (SELECT COUNT(*) FROM parts p WHERE p.message_pk = m.pk)"
                " FROM messages m WHERE m.session_pk = ?",
                (session_pk,),
            ):
                self.keys[key] = [pk, nparts]
        row = db.execute(
            "SELECT COALESCE(MAX(seq) + 1, 0) FROM messages WHERE session_pk = ?", (session_pk,)
        ).fetchone()
        self.next_seq: int = row[0]
        self.next_message_pk: int = db.execute(
            "SELECT COALESCE(MAX(pk), 0) + 1 FROM messages"
        ).fetchone()[0]
        self.next_part_pk: int = db.execute(
            "SELECT COALESCE(MAX(pk), 0) + 1 FROM part_rows"
        ).fetchone()[0]
        self.pending: dict[int, tuple[int, str, Message]] = {}
        """Messages not yet written: pk -> (seq, key, message); merges fold in here."""
        self.part_rows: list[PartRow] = []
        self.buffered = 0
        """Characters of text and data in part_rows."""
        self.texts: dict[int, str] = {}
        """The first TEXTS_KEPT text parts written, by pk: the session's first prompt is
        nearly always among them, and `finish` need not open its block to read it."""
        self.touched = False

    # ops -----------------------------------------------------------------------------
    def put(self, op: Put) -> None:
        self.touched = True
        key = op.key if isinstance(op.key, str) else dumps(op.key)
        sane = _sane(op.message)
        entry = self.keys.get(key)
        if entry is None:
            pk = self.next_message_pk
            self.next_message_pk += 1
            self.keys[key] = entry = [pk, 0]
            self.pending[pk] = (self.next_seq, key, sane)
            self.next_seq += 1
        elif op.merge:
            self._merge_message(entry[0], sane)
        else:
            self._replace_message(entry, sane)
        self._add_parts(entry, op.message.parts)
        if len(self.part_rows) + len(self.pending) >= FLUSH_ROWS or self.buffered >= FLUSH_BYTES:
            self.flush()

    def rewind(self, key: str) -> None:
        entry = self.keys.get(key)
        if entry is None:
            return
        self.flush()
        self.touched = True
        (seq,) = self.db.execute("SELECT seq FROM messages WHERE pk = ?", (entry[0],)).fetchone()
        where = f"message_pk IN (SELECT pk FROM messages WHERE session_pk = {self.session_pk}"
        self._delete_parts(f"{where} AND seq >= {int(seq)})")
        gone = self.db.execute(
            "DELETE FROM messages WHERE session_pk = ? AND seq >= ? RETURNING key",
            (self.session_pk, seq),
        ).fetchall()
        for (gone_key,) in gone:
            self.keys.pop(gone_key, None)

    def reset(self) -> None:
        self.flush()
        self.touched = True
        where = f"message_pk IN (SELECT pk FROM messages WHERE session_pk = {self.session_pk})"
        self._delete_parts(where)
        self.db.execute("DELETE FROM messages WHERE session_pk = ?", (self.session_pk,))
        self.keys.clear()

    # rows ----------------------------------------------------------------------------
    @staticmethod
    def _message_fields(m: Message) -> tuple[Any, ...]:
        return (
            m.role,
            m.timestamp,
            m.model,
            jsonkeys.pack(_nonempty_json(m.usage)),
            m.native_id,
            jsonkeys.pack(_nonempty_json(m.native), m.native_id),
        )

    def _stored_message(self, pk: int) -> Message:
        role, ts, model, usage, native_id, native = self.db.execute(
            "SELECT role, timestamp, model, usage, native_id, native FROM messages WHERE pk = ?",
            (pk,),
        ).fetchone()
        return Message(
            role,
            [],
            ts,
            model,
            orjson.loads(jsonkeys.unpack(usage)) if usage else None,
            native_id,
            orjson.loads(jsonkeys.unpack(native, native_id)) if native else {},
        )

    def _merge_message(self, pk: int, m: Message) -> None:
        pending = self.pending.get(pk)
        if pending is not None:
            merge_fields(pending[2], m)
            return
        stored = self._stored_message(pk)
        merge_fields(stored, m)
        self.db.execute(
            "UPDATE messages SET role=?, timestamp=?, model=?, usage=?, native_id=?, native=?"
            " WHERE pk=?",
            (*self._message_fields(stored), pk),
        )

    def _replace_message(self, entry: list[int], fresh: Message) -> None:
        pk = entry[0]
        entry[1] = 0
        pending = self.pending.get(pk)
        if pending is not None:
            self.pending[pk] = (pending[0], pending[1], fresh)
            self.part_rows = [r for r in self.part_rows if r[1] != pk]
            return
        self.flush()
        self._delete_parts(f"message_pk = {pk}")
        self.db.execute(
            "UPDATE messages SET role=?, timestamp=?, model=?, usage=?, native_id=?, native=?"
            " WHERE pk=?",
            (*self._message_fields(fresh), pk),
        )

    def _add_parts(self, entry: list[int], parts: Iterable[Part]) -> None:
        for part in parts:
            kind, text, data = part_row(part)
            self.part_rows.append((self.next_part_pk, entry[0], entry[1], kind, text, data))
            self.buffered += len(text) + (len(data) if data else 0)
            self.next_part_pk += 1
            entry[1] += 1

    def _delete_parts(self, where: str) -> None:
        if self.indexed:
            self.db.execute(
                "INSERT INTO parts_fts(parts_fts, rowid, text) "
                f"SELECT 'delete', pk, text FROM parts WHERE {where}"
            )
        else:
            self.db.execute(
                f"DELETE FROM stage_text WHERE pk IN (SELECT pk FROM part_rows WHERE {where})"
            )
        self.db.execute(f"DELETE FROM part_rows WHERE {where}")

    def flush(self) -> None:
        if self.pending:
            self.db.executemany(
                "INSERT INTO messages (pk, session_pk, seq, key, role, timestamp, model, usage,"
                " native_id, native) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (pk, self.session_pk, seq, key, *self._message_fields(m))
                    for pk, (seq, key, m) in self.pending.items()
                ],
            )
            self.pending = {}
        if self.part_rows:
            base = self.base() if self.base is not None else None
            parttext.write(self.db, self.part_rows, self.session_pk, base)
            for pk, _message, _seq, kind, text, _data in self.part_rows:
                if len(self.texts) >= TEXTS_KEPT:
                    break
                if kind == "text" and text:
                    self.texts[pk] = text
            # The text to index: in the archive's index now, or beside a staging database's
            # blocks for the archive to index at its take-over without opening them.
            self.db.executemany(
                "INSERT INTO parts_fts(rowid, text) VALUES (?, ?)"
                if self.indexed
                else "INSERT INTO stage_text (pk, text) VALUES (?, ?)",
                [(r[0], r[4]) for r in self.part_rows],
            )
            self.part_rows = []
            self.buffered = 0

    # session -------------------------------------------------------------------------
    def finish(self) -> None:
        """Flush, and recompute what the session row derives from its messages."""
        self.flush()
        if not self.touched:
            return
        pk = self.session_pk
        count, first, last = self.db.execute(
            "SELECT COUNT(*) FILTER (WHERE role != 'system'), MIN(timestamp), MAX(timestamp)"
            " FROM messages WHERE session_pk = ?",
            (pk,),
        ).fetchone()
        models = [
            r[0]
            for r in self.db.execute(
                "SELECT model FROM messages WHERE session_pk = ? AND model IS NOT NULL"
                " GROUP BY model ORDER BY MIN(seq)",
                (pk,),
            )
        ]
        opening = self.db.execute(
            "SELECT p.pk FROM messages m JOIN part_rows p ON p.message_pk = m.pk"
            " WHERE m.session_pk = ? AND m.role = 'user' AND p.kind = 'text' AND p.text_len > 0"
            " ORDER BY m.seq, p.seq LIMIT 1",
            (pk,),
        ).fetchone()
        prompt = None
        if opening is not None:  # its text as written, else read back from its block
            prompt = (
                self.texts.get(opening[0])
                or self.db.execute("SELECT text FROM parts WHERE pk = ?", opening).fetchone()[0]
            )
        from tether.tools.common import title_from

        self.db.execute(
            "UPDATE sessions SET message_count = :count, models = :models, first_prompt = :prompt,"
            " created_at = CASE WHEN created_at IS NULL OR created_at > :first"
            " THEN :first ELSE created_at END,"
            " updated_at = CASE WHEN updated_at IS NULL OR updated_at < :last"
            " THEN :last ELSE updated_at END"
            " WHERE pk = :pk",
            {
                "count": count,
                "models": dumps(models),
                "prompt": title_from(prompt) if prompt else None,
                "first": first,
                "last": last,
                "pk": pk,
            },
        )


def apply_meta(db: sqlite3.Connection, session_pk: int, tool: str, op: Meta) -> None:
    """Set the session fields a Meta op carries (None leaves a field as it was)."""
    fields = {
        "title": _str_or_none(op.title),
        "cwd": _str_or_none(op.cwd),
        "project": _str_or_none(op.project),
        "git_branch": _str_or_none(op.git_branch),
        "git_commit": _str_or_none(op.git_commit),
    }
    if isinstance(op.parent_native_id, str) and op.parent_native_id:
        fields["parent_native_id"] = op.parent_native_id
        fields["parent_id"] = session_id(tool, op.parent_native_id)
    sets = {k: v for k, v in fields.items() if v is not None}
    # A session was created at the earliest time anyone says, updated at the latest.
    if isinstance(op.created_at, str) and op.created_at:
        db.execute(
            "UPDATE sessions SET created_at = ? WHERE pk = ? AND"
            " (created_at IS NULL OR created_at > ?)",
            (op.created_at, session_pk, op.created_at),
        )
    if isinstance(op.updated_at, str) and op.updated_at:
        db.execute(
            "UPDATE sessions SET updated_at = ? WHERE pk = ? AND"
            " (updated_at IS NULL OR updated_at < ?)",
            (op.updated_at, session_pk, op.updated_at),
        )
    if sets:
        assignments = ", ".join(f"{k} = ?" for k in sets)
        db.execute(f"UPDATE sessions SET {assignments} WHERE pk = ?", (*sets.values(), session_pk))
    if op.native and isinstance(op.native, dict):
        (native_json,) = db.execute(
            "SELECT native FROM sessions WHERE pk = ?", (session_pk,)
        ).fetchone()
        native = orjson.loads(native_json) if native_json else {}
        native.update(op.native)
        db.execute("UPDATE sessions SET native = ? WHERE pk = ?", (dumps(native), session_pk))


class Applier:
    """Routes a reader's ops to the session they belong to, creating it once its id is known."""

    def __init__(
        self,
        db: sqlite3.Connection,
        tool: Tool,
        source: Source,
        session_pk: int | None,
        fresh: bool,
        base: Callable[[], parttext.Base | None] | None = None,
    ) -> None:
        self.db = db
        self.base = base
        self.tool_name = tool.name
        self.source = source
        self.session_pk = session_pk
        self.fresh = fresh
        self.created = False
        self.writer: SessionWriter | None = None
        self.pending: list[Op] = []
        self.native_id = source.native_id
        self.session_tool: str | None = None

    def run(self, ops: Iterator[Op]) -> None:
        if self.session_pk is not None:
            self._open_writer()
        for op in ops:
            if self.writer is None:
                if isinstance(op, Meta):
                    op.tool = _str_or_none(op.tool)
                    op.native_id = _str_or_none(op.native_id)
                if isinstance(op, Meta) and op.tool:
                    self.session_tool = op.tool
                if isinstance(op, Meta) and op.native_id and not self.source.native_id:
                    self.native_id = op.native_id
                self.pending.append(op)
                if (
                    self.native_id
                    and (self.source.native_id or (isinstance(op, Meta) and op.native_id))
                ) or len(self.pending) > MAX_BUFFERED_OPS:
                    self._create()
                continue
            self._apply(op)
        if self.writer is None and self.pending:
            self._create()
        if self.writer is not None:
            self.writer.finish()

    def _create(self) -> None:
        tool = self.session_tool or self.tool_name
        native_id = self.native_id or self.source.path.stem
        sid = session_id(tool, native_id)
        existing = self.db.execute("SELECT pk FROM sessions WHERE id = ?", (sid,)).fetchone()
        if existing and self._owned_elsewhere(existing[0]):
            # Another live file already holds this native id: keep both, never merge them.
            import hashlib

            suffix = hashlib.sha256(str(self.source.path).encode()).hexdigest()[:12]
            native_id = f"{native_id}#{suffix}"
            sid = session_id(tool, native_id)
            existing = self.db.execute("SELECT pk FROM sessions WHERE id = ?", (sid,)).fetchone()
        if existing:
            self.session_pk = existing[0]
        else:
            cur = self.db.execute(
                "INSERT INTO sessions (id, tool, native_id) VALUES (?,?,?)", (sid, tool, native_id)
            )
            self.session_pk = cur.lastrowid
            self.created = True
        self._open_writer()
        pending, self.pending = self.pending, []
        for op in pending:
            self._apply(op)

    def _owned_elsewhere(self, session_pk: int) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM sources"
                " WHERE session_pk = ? AND path != ? AND missing_since IS NULL",
                (session_pk, str(self.source.path)),
            ).fetchone()
            is not None
        )

    def _open_writer(self) -> None:
        assert self.session_pk is not None
        self.writer = SessionWriter(self.db, self.session_pk, fresh=self.created, base=self.base)
        if self.fresh and not self.created:
            self.writer.reset()

    def _apply(self, op: Op) -> None:
        writer = self.writer
        assert writer is not None and self.session_pk is not None
        if isinstance(op, Put):
            writer.put(op)
        elif isinstance(op, Meta):
            writer.flush()
            apply_meta(self.db, self.session_pk, self.session_tool or self.tool_name, op)
            writer.touched = True
        elif isinstance(op, Rewind) and isinstance(op.key, str):
            writer.rewind(op.key)
        elif isinstance(op, Reset):
            writer.reset()


def iter_messages(db: sqlite3.Connection, session_pk: int) -> Iterator[tuple[int, Message]]:
    """(seq, message) in order, parts included, without holding the whole session."""
    rows = db.execute(
        "SELECT m.pk, m.seq, m.role, m.timestamp, m.model, m.usage, m.native_id, m.native,"
        " p.kind, p.text, p.data FROM messages m LEFT JOIN parts p ON p.message_pk = m.pk"
        " WHERE m.session_pk = ? ORDER BY m.seq, p.seq",
        (session_pk,),
    )
    current: Message | None = None
    current_pk = None
    seq = 0
    for pk, mseq, role, ts, model, usage, native_id, native, kind, text, data in rows:
        if pk != current_pk:
            if current is not None:
                yield seq, current
            role_value: Role = role
            current = Message(
                role_value,
                [],
                timestamp=ts,
                model=model,
                usage=orjson.loads(jsonkeys.unpack(usage)) if usage else None,
                native_id=native_id,
                native=orjson.loads(jsonkeys.unpack(native, native_id)) if native else {},
            )
            current_pk, seq = pk, mseq
        if kind is not None and current is not None:
            current.parts.append(part_from_row(kind, text, data))
    if current is not None:
        yield seq, current


def load_session(db: sqlite3.Connection, session_pk: int) -> Session:
    row = db.execute(
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE pk = ?", (session_pk,)
    ).fetchone()
    info = session_dict(row)
    session = Session(
        id=info["id"],
        tool=info["tool"],
        native_id=info["native_id"],
        project=info["project"],
        cwd=info["cwd"],
        git_branch=info["git_branch"],
        git_commit=info["git_commit"],
        title=info["title"],
        created_at=info["created_at"],
        updated_at=info["updated_at"],
        models=info["models"],
        usage=info["usage"],
        parent_id=info["parent_id"],
        native=orjson.loads(row[-1]) if row[-1] else {},
    )
    session.messages = [m for _, m in iter_messages(db, session_pk)]
    return session
