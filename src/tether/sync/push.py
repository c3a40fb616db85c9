"""`tether push`: send sessions of this machine to the server, only what it lacks.

Sessions go in batches: one question for the whole batch (which chunks are missing), the
missing chunks in as few uploads as fit, then each session's manifest. What the server took
is recorded at once, so a push cut short (a dead server, Ctrl-C) is finished by running it
again, and nothing is sent twice.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from tether.errors import ConflictError, NotFoundError
from tether.sync import wire
from tether.sync.client import Client
from tether.sync.outgoing import Outgoing, marks, prepare

BATCH_BYTES = 16 << 20
"""Raw chunk bytes prepared before the batch is sent."""
BATCH_SESSIONS = 200
UPLOAD_BYTES = 24 << 20
"""Compressed bytes per upload request (the server takes up to wire.MAX_BATCH)."""


@dataclass
class PushReport:
    pushed: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    bytes_read: int = 0
    bytes_sent: int = 0
    chunks_sent: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "pushed": self.pushed,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "bytes_read": self.bytes_read,
            "bytes_sent": self.bytes_sent,
            "chunks_sent": self.chunks_sent,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Options:
    keep_secrets: bool = False
    team: str | None = None


def push(
    db: sqlite3.Connection,
    client: Client,
    server: str,
    pks: list[int] | None,
    options: Options,
) -> PushReport:
    """Push the sessions `pks` (None: every session of this machine) that changed since
    they were last pushed to `server`."""
    started = time.perf_counter()
    report = PushReport()
    flags = _flags(options)
    current = marks(db, pks)
    before = {
        sid: (mark, revision, manifest)
        for sid, mark, revision, manifest in db.execute(
            "SELECT session_id, mark, revision, manifest FROM pushed WHERE server = ?", (server,)
        )
    }
    todo = []
    for pk, (sid, mark) in sorted(current.items()):
        was = before.get(sid)
        if was is not None and was[0] == mark + flags:
            report.unchanged += 1
            continue
        todo.append((pk, sid, mark + flags, was))
    remotes: dict[str, str | None] = {}
    batch: list[tuple[Outgoing, str | None]] = []
    size = 0
    for pk, sid, mark, was in todo:
        previous = orjson.loads(was[2]) if was else None
        extra = _extra(db, pk, sid, options, remotes)
        outgoing = prepare(db, pk, sid, mark, previous, options.keep_secrets, extra)
        report.bytes_read += outgoing.bytes_read
        batch.append((outgoing, was[1] if was else None))
        size += sum(len(data) for data in outgoing.chunks.values())
        if size >= BATCH_BYTES or len(batch) >= BATCH_SESSIONS:
            _send(db, client, server, batch, report)
            batch, size = [], 0
    if batch:
        _send(db, client, server, batch, report)
    report.seconds = time.perf_counter() - started
    return report


def _flags(options: Options) -> str:
    """What else a push depends on: a change of these pushes the session again."""
    return f"|team={options.team or ''}|keep={int(options.keep_secrets)}"


def _extra(
    db: sqlite3.Connection,
    pk: int,
    sid: str,
    options: Options,
    remotes: dict[str, str | None],
) -> dict[str, Any]:
    from tether.sync.checkouts import remote_of

    project = db.execute("SELECT project FROM sessions WHERE pk = ?", (pk,)).fetchone()[0]
    if project and project not in remotes:
        remotes[project] = remote_of(project)
    parent = db.execute(
        "SELECT parent_id, how FROM lineage WHERE session_id = ?", (sid,)
    ).fetchone()
    extra: dict[str, Any] = {"git_remote": remotes.get(project) if project else None}
    if parent is not None:
        extra["parent_id"], extra["parent_how"] = parent
    if options.team:
        extra["team"] = options.team
    return extra


def _send(
    db: sqlite3.Connection,
    client: Client,
    server: str,
    batch: list[tuple[Outgoing, str | None]],
    report: PushReport,
) -> None:
    chunks: dict[str, bytes] = {}
    for outgoing, _base in batch:
        chunks.update(outgoing.chunks)
    missing: list[str] = []
    names = list(chunks)
    for at in range(0, len(names), wire.MAX_HASHES):
        answer = client.post("/api/v1/chunks/missing", {"hashes": names[at : at + wire.MAX_HASHES]})
        missing += answer["missing"]
    _upload(client, [(name, chunks[name]) for name in missing], report)
    for outgoing, base in batch:
        _put(db, client, server, outgoing, base, report)


def _upload(client: Client, items: list[tuple[str, bytes]], report: PushReport) -> None:
    group: list[tuple[str, bytes]] = []
    size = 0
    for name, raw in items:
        data = wire.compress(raw)
        if group and size + len(data) > UPLOAD_BYTES:
            client.upload(group)
            group, size = [], 0
        group.append((name, data))
        size += len(data)
        report.bytes_sent += len(data)
        report.chunks_sent += 1
    if group:
        client.upload(group)


def _put(
    db: sqlite3.Connection,
    client: Client,
    server: str,
    outgoing: Outgoing,
    base: str | None,
    report: PushReport,
) -> None:
    body = {key: value for key, value in outgoing.body.items() if key != "keep_secrets"}
    body["base"] = base
    try:
        answer = client.put(f"/api/v1/sessions/{outgoing.session_id}", body)
    except (ConflictError, NotFoundError) as exc:
        report.failed.append({"id": outgoing.session_id, "error": str(exc)})
        return
    report.bytes_sent += len(orjson.dumps(body))
    from tether.capture.ingest import now_iso

    db.execute(
        "INSERT OR REPLACE INTO pushed (server, session_id, mark, revision, manifest, pushed_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            server,
            outgoing.session_id,
            outgoing.mark,
            answer["revision"],
            orjson.dumps(outgoing.manifest()).decode(),
            now_iso(),
        ),
    )
    report.pushed.append(
        {
            "id": outgoing.session_id,
            "tool": body["tool"],
            "title": body.get("title"),
            "revision": answer["revision"],
            "unchanged": answer["unchanged"],
        }
    )
