"""`tether push`: send sessions of this machine to the server, only what it lacks.

Sessions go in batches: one question for the whole batch (which chunks are missing), the
missing chunks in as few uploads as fit, then each session's manifest. What the server took
is recorded at once, so a push cut short (a dead server, Ctrl-C) is finished by running it
again, and nothing is sent twice.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from tether.sync import wire
from tether.sync.client import Client
from tether.sync.outgoing import Outgoing, marks, prepare

BATCH_BYTES = 16 << 20
"""Raw chunk bytes prepared before the batch is sent."""
BATCH_SESSIONS = 200
UPLOAD_BYTES = 24 << 20
"""Compressed bytes per upload request (the server takes up to wire.MAX_BATCH)."""
SESSIONS_BYTES = 16 << 20
"""JSON bytes of sessions per request, before compression (the server takes 16 MiB
compressed, 64 MiB once decompressed)."""


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
    # Marks only: a sync with nothing new reads no manifest (they hold each file's last
    # chunk list and small tail).
    before = {
        sid: (mark, revision)
        for sid, mark, revision in db.execute(
            "SELECT session_id, mark, revision FROM pushed WHERE server = ?", (server,)
        )
    }
    todo = []
    for pk, (sid, mark) in sorted(current.items()):
        was = before.get(sid)
        if was is not None and was[0] == mark + flags:
            report.unchanged += 1
            continue
        manifest = None
        if was is not None:
            manifest = db.execute(
                "SELECT manifest FROM pushed WHERE server = ? AND session_id = ?", (server, sid)
            ).fetchone()[0]
        todo.append((pk, sid, mark + flags, (was[0], was[1], manifest) if was else None))
    remotes: dict[str, str | None] = {}
    jobs: list[Job] = [
        (
            pk,
            sid,
            mark,
            orjson.loads(was[2]) if was and was[2] else None,
            options.keep_secrets,
            _extra(db, pk, sid, options, remotes),
        )
        for pk, sid, mark, was in todo
    ]
    bases = {sid: (was[1] if was else None) for _pk, sid, _mark, was in todo}
    batch: list[tuple[Outgoing, str | None]] = []
    size = 0
    for outgoing in _prepared(db, jobs, options):
        report.bytes_read += outgoing.bytes_read
        batch.append((outgoing, bases[outgoing.session_id]))
        size += sum(len(data) for data in outgoing.chunks.values())
        if size >= BATCH_BYTES or len(batch) >= BATCH_SESSIONS:
            _send(db, client, server, batch, report)
            batch, size = [], 0
    if batch:
        _send(db, client, server, batch, report)
    report.seconds = time.perf_counter() - started
    return report


Job = tuple[int, str, str, dict[str, Any] | None, bool, dict[str, Any]]
"""What prepare needs for one session: pk, id, mark, what was pushed before, keep secrets,
extra fields."""
PARALLEL_FROM = 16
"""Sessions to redact before worker processes pay for themselves (each loads the rules)."""


def workers() -> int:
    """Worker processes that redact and cut sessions: TETHER_PUSH_WORKERS, else as many as a
    scan uses (one per core, at most 4); 0 or 1: in this process."""
    value = os.environ.get("TETHER_PUSH_WORKERS", "").strip()
    if value.isdigit():
        return int(value)
    from tether.capture.staging import workers as scan_workers

    return scan_workers()


def _prepared(db: sqlite3.Connection, jobs: list[Job], options: Options) -> Iterator[Outgoing]:
    """Each session's push, in order: redacted and cut on every core when there are many
    (redaction is most of a first push's work), else here."""
    count = workers()
    if options.keep_secrets or count < 2 or len(jobs) < PARALLEL_FROM:
        for job in jobs:
            yield prepare(db, *job)
        return
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    from tether.archive.db import StoreError

    path = db.execute("PRAGMA database_list").fetchone()[2]
    if not path:
        raise StoreError("the archive is not a file")
    method = "fork" if sys.platform == "linux" and threading.active_count() == 1 else "spawn"
    pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context(method))
    try:
        yield from pool.map(_prepare_in_worker, [(path, job) for job in jobs], chunksize=4)
    finally:  # a push cut short (the server gone) waits for no more than the running tasks
        pool.shutdown(wait=True, cancel_futures=True)


def _prepare_in_worker(task: tuple[str, Job]) -> Outgoing:
    from pathlib import Path

    from tether.archive.db import connect

    path, job = task
    db = _worker_archive.get(path)
    if db is None:
        db = _worker_archive[path] = connect(Path(path), readonly=True)
    return prepare(db, *job)


_worker_archive: dict[str, sqlite3.Connection] = {}
"""A worker's read-only connection to the archive, kept for its next sessions."""


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
    """The batch's missing chunks, then its sessions, as few requests as fit."""
    chunks: dict[str, bytes] = {}
    for outgoing, _base in batch:
        chunks.update(outgoing.chunks)
    missing: list[str] = []
    names = list(chunks)
    for at in range(0, len(names), wire.MAX_HASHES):
        group = names[at : at + wire.MAX_HASHES]
        missing += client.post("/api/v1/chunks/missing", {"hashes": group})["missing"]
    _upload(client, [(name, chunks[name]) for name in missing], report)
    group_bodies: list[tuple[Outgoing, dict[str, Any]]] = []
    size = 0
    for outgoing, base in batch:
        body = {key: value for key, value in outgoing.body.items() if key != "keep_secrets"}
        body["base"] = base
        body["session_id"] = outgoing.session_id
        length = len(orjson.dumps(body))
        if group_bodies and size + length > SESSIONS_BYTES:
            _put(db, client, server, group_bodies, report)
            group_bodies, size = [], 0
        group_bodies.append((outgoing, body))
        size += length
    if group_bodies:
        _put(db, client, server, group_bodies, report)


def _upload(client: Client, items: list[tuple[str, bytes]], report: PushReport) -> None:
    group: list[tuple[str, bytes]] = []
    size = inflated = 0
    for name, raw in items:
        data = wire.compress(raw)
        if group and (
            size + len(data) > UPLOAD_BYTES
            or inflated + len(raw) > wire.MAX_BATCH_RAW
            or len(group) >= wire.MAX_HASHES
        ):
            client.upload(group)
            group, size, inflated = [], 0, 0
        group.append((name, data))
        size += len(data)
        inflated += len(raw)
        report.bytes_sent += len(data)
        report.chunks_sent += 1
    if group:
        client.upload(group)


def _put(
    db: sqlite3.Connection,
    client: Client,
    server: str,
    items: list[tuple[Outgoing, dict[str, Any]]],
    report: PushReport,
) -> None:
    """Push these sessions in one request; record at once what the server took."""
    from tether.capture.ingest import now_iso

    sent, answer = client.post_compressed(
        "/api/v1/sessions", {"sessions": [body for _, body in items]}
    )
    report.bytes_sent += sent
    for (outgoing, body), result in zip(items, answer["results"], strict=True):
        if "error" in result:
            report.failed.append({"id": outgoing.session_id, "error": str(result["error"])})
            continue
        db.execute(
            "INSERT OR REPLACE INTO pushed"
            " (server, session_id, mark, revision, manifest, pushed_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                server,
                outgoing.session_id,
                outgoing.mark,
                result["revision"],
                orjson.dumps(outgoing.manifest()).decode(),
                now_iso(),
            ),
        )
        report.pushed.append(
            {
                "id": outgoing.session_id,
                "tool": body["tool"],
                "title": body.get("title"),
                "revision": result["revision"],
                "unchanged": result["unchanged"],
            }
        )
