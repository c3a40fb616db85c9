"""What the sync commands do, over the pieces: log in, sync both ways, hand a session to a
teammate, read the inbox."""

from __future__ import annotations

import socket
import sqlite3
from typing import Any

from tether.sync.client import Client
from tether.sync.pull import PullReport, changes, pull_heads
from tether.sync.push import Options, PushReport, push
from tether.sync.remote import Remote, device_name, save, server_url


def login(url: str, user: str, code: str, device: str | None) -> tuple[Remote, str]:
    """Enrol this machine with a one-time code; keep the device token (0600). Returns the
    remote and the file it is kept in."""
    from tether.errors import UsageError

    base = server_url(url)
    name = device or device_name(socket.gethostname())
    if name is None:
        raise UsageError("give this machine a name with --device NAME (lower case, a-z0-9._-)")
    with Client(base) as client:
        answer = client.post("/api/v1/enrol", {"user": user, "code": code, "device": name})
    remote = Remote(url=base, user=answer["user"], device=answer["device"], token=answer["token"])
    return remote, str(save(remote))


def sync(db: sqlite3.Connection, remote: Remote, options: Options) -> tuple[PushReport, PullReport]:
    """Push what changed here, then pull what changed there: sessions of yours pushed from
    your other machines and sessions handed to you (one request when nothing is new)."""
    with Client.of(remote) as client:
        pushed = push(db, client, remote.url, None, options)
        pulled = pull_new(db, client, remote)
    return pushed, pulled


def pull_new(db: sqlite3.Connection, client: Client, remote: Remote) -> PullReport:
    """Pull the changes since the last sync that are yours from elsewhere or handed to you."""
    row = db.execute("SELECT change FROM sync_cursors WHERE server = ?", (remote.url,)).fetchone()
    heads, cursor = changes(client, int(row[0]) if row else 0)
    wanted = [
        head
        for head in heads
        if head.get("via") == "handoff"
        or (head.get("via") == "own" and head.get("device") != remote.device)
    ]
    report = pull_heads(db, client, remote.url, wanted)
    db.execute(
        "INSERT OR REPLACE INTO sync_cursors (server, change) VALUES (?, ?)", (remote.url, cursor)
    )
    return report


def hand_off(
    db: sqlite3.Connection, remote: Remote, pk: int, to: str, note: str | None
) -> dict[str, Any]:
    """Push session `pk` (if it changed) and hand it to user `to`."""
    sid = db.execute("SELECT id FROM sessions WHERE pk = ?", (pk,)).fetchone()[0]
    with Client.of(remote) as client:
        pushed = push(db, client, remote.url, [pk], Options())
        if pushed.failed:
            from tether.errors import ConflictError

            raise ConflictError(pushed.failed[0]["error"])
        answer: dict[str, Any] = client.post(
            "/api/v1/handoffs", {"session_id": sid, "to": to, "note": note}
        )
    answer["pushed"] = bool(pushed.pushed)
    return answer


def inbox(db: sqlite3.Connection, remote: Remote) -> list[dict[str, Any]]:
    """The sessions handed to you, each pulled into the archive (when it is not there as the
    server holds it) and marked received."""
    with Client.of(remote) as client:
        items: list[dict[str, Any]] = client.get("/api/v1/inbox")
        report = pull_heads(db, client, remote.url, [item["session"] for item in items])
        skipped = {entry["id"]: entry["reason"] for entry in report.skipped}
        for item in items:
            sid = item["session"].get("session_id")
            item["pulled"] = sid not in skipped
            if sid in skipped:
                item["problem"] = skipped[sid]
            elif item.get("received_at") is None:
                client.request("POST", f"/api/v1/handoffs/{int(item['id'])}/received")
    return items
