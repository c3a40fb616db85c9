"""Apply a reader's ops to an in-memory Session: for import previews, export and tests.

Capture applies the same ops to the database with the same meaning (see store.apply).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from tether.model import Message, Session
from tether.tools.base import Meta, Op, Put, Reset, Rewind

META_FIELDS = tuple(
    f.name
    for f in fields(Meta)
    if f.name not in ("native", "native_id", "parent_native_id", "tool")
)


class Assembly:
    """A session being built from ops, keyed like the database keys messages."""

    def __init__(self, tool: str, native_id: str | None = None) -> None:
        self.tool = tool
        self.native_id = native_id
        self.keys: list[str] = []
        self.messages: dict[str, Message] = {}
        self.meta: dict[str, Any] = {}
        self.native: dict[str, Any] = {}
        self.parent_native_id: str | None = None

    def apply(self, ops: Iterable[Op]) -> None:
        for op in ops:
            if isinstance(op, Put):
                self._put(op)
            elif isinstance(op, Rewind):
                if op.key in self.messages:
                    cut = self.keys.index(op.key)
                    for key in self.keys[cut:]:
                        del self.messages[key]
                    del self.keys[cut:]
            elif isinstance(op, Reset):
                self.keys.clear()
                self.messages.clear()
            else:
                self._meta(op)

    def _put(self, op: Put) -> None:
        old = self.messages.get(op.key)
        if old is None:
            self.keys.append(op.key)
            self.messages[op.key] = op.message
        elif op.merge:
            merge_message(old, op.message)
        else:
            self.messages[op.key] = op.message

    def _meta(self, op: Meta) -> None:
        if op.native_id:
            self.native_id = op.native_id
        if op.tool:
            self.tool = op.tool
        if op.parent_native_id:
            self.parent_native_id = op.parent_native_id
        for name in META_FIELDS:
            value = getattr(op, name)
            if value is not None:
                self.meta[name] = value
        self.native.update(op.native)

    def session(self) -> Session:
        from tether.model import session_id

        native_id = self.native_id or ""
        messages = [self.messages[k] for k in self.keys]
        stamps = [m.timestamp for m in messages if m.timestamp]
        models: list[str] = []
        for m in messages:
            if m.model and m.model not in models:
                models.append(m.model)
        session = Session(
            id=session_id(self.tool, native_id),
            tool=self.tool,
            native_id=native_id,
            messages=messages,
            models=models,
            native=dict(self.native),
        )
        for name, value in self.meta.items():
            setattr(session, name, value)
        session.created_at = session.created_at or (min(stamps) if stamps else None)
        session.updated_at = max([*stamps, session.updated_at or ""]) or None
        if self.parent_native_id:
            session.parent_id = session_id(self.tool, self.parent_native_id)
            session.native.setdefault("parent_native_id", self.parent_native_id)
        return session


def merge_message(old: Message, new: Message) -> None:
    """Fold a continuation line into the message it continues (parts appended in order)."""
    old.parts.extend(new.parts)
    merge_fields(old, new)


def merge_fields(old: Message, new: Message) -> None:
    """What a continuation changes besides parts: the first timestamp, model and id stay,
    the newest usage wins, native keys are added."""
    old.model = old.model or new.model
    old.timestamp = old.timestamp or new.timestamp
    old.native_id = old.native_id or new.native_id
    if new.usage:
        old.usage = new.usage
    for key, value in new.native.items():
        old.native.setdefault(key, value)
