"""`tether pull`: bring sessions from the server into the archive, through the normal readers.

Everything the server says is checked before use: a session's id must be the hash of its
tool and native id, its tool one tether reads, its files' names plain, every chunk the
bytes its name promises. The files are written under `$TETHER_HOME/pulled/` (tether's own
folder, named by the checked id), read by the tool's own reader as an import would, then
removed: the archive keeps their bytes. Who pushed it from which machine is recorded.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tether.archive import lineage
from tether.errors import NotFoundError, TetherError
from tether.model import session_id as make_session_id
from tether.paths import tether_home
from tether.sync import wire
from tether.sync.client import Client
from tether.sync.outgoing import wire_name

FETCH_BYTES = 16 << 20
"""Raw chunk bytes asked for in one request."""
OWNER = re.compile(r"[a-z][a-z0-9._-]{0,63}")


class BadSession(TetherError):
    """What the server sent for a session cannot be trusted; it is left out."""


@dataclass
class PullReport:
    pulled: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    bytes_received: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "pulled": self.pulled,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "bytes_received": self.bytes_received,
            "seconds": round(self.seconds, 3),
        }


def check_head(head: dict[str, Any]) -> tuple[str, str, str, str]:
    """(session id, tool, native id, owner) of a session head, each checked."""
    from tether.capture.ingest import readers
    from tether.tools import facts

    sid, tool, native_id, owner = (
        head.get("session_id"),
        head.get("tool"),
        head.get("native_id"),
        head.get("owner"),
    )
    if not (isinstance(tool, str) and tool in facts.NAMES and tool in readers()):
        raise BadSession(f"the server names a tool tether does not read: {str(tool)[:40]!r}")
    if not (isinstance(native_id, str) and 0 < len(native_id) <= 256 and "\0" not in native_id):
        raise BadSession("the server sent a session without a usable native id")
    if not (wire.is_hash(sid) and sid == make_session_id(tool, native_id)):
        raise BadSession("the server sent a session whose id is not its tool and native id")
    if not (isinstance(owner, str) and OWNER.fullmatch(owner)):
        raise BadSession("the server sent a session without a usable owner")
    return str(sid), tool, native_id, owner


def pull_heads(
    db: sqlite3.Connection, client: Client, server: str, heads: list[dict[str, Any]]
) -> PullReport:
    """Pull these sessions (heads as the server lists them), each unless the archive has it
    as the server does, or has it from this machine's own files."""
    started = time.perf_counter()
    report = PullReport()
    for head in heads:
        try:
            sid, tool, native_id, owner = check_head(head)
        except BadSession as exc:
            report.skipped.append({"id": str(head.get("session_id"))[:64], "reason": str(exc)})
            continue
        if _own_here(db, sid):
            report.skipped.append({"id": sid, "reason": "this machine has it from its own files"})
            continue
        held = db.execute("SELECT revision FROM pulled WHERE session_id = ?", (sid,)).fetchone()
        if held is not None and held[0] == head.get("revision"):
            report.unchanged += 1
            continue
        try:
            _pull_one(db, client, server, head, sid, tool, native_id, owner, report)
        except BadSession as exc:
            report.skipped.append({"id": sid, "reason": str(exc)})
    report.seconds = time.perf_counter() - started
    return report


def _own_here(db: sqlite3.Connection, sid: str) -> bool:
    return (
        db.execute(
            "SELECT 1 FROM sessions s JOIN sources src ON src.session_pk = s.pk"
            " WHERE s.id = ? AND src.origin != 'pull' LIMIT 1",
            (sid,),
        ).fetchone()
        is not None
    )


def _pull_one(
    db: sqlite3.Connection,
    client: Client,
    server: str,
    head: dict[str, Any],
    sid: str,
    tool: str,
    native_id: str,
    owner: str,
    report: PullReport,
) -> None:
    detail = client.get(f"/api/v1/sessions/{owner}/{sid}")
    sources = _check_sources(detail.get("sources"))
    wanted = list({digest: length for _, _, refs in sources for digest, length in refs}.items())
    chunks = _download(client, wanted, report)
    folder = tether_home() / "pulled" / sid
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    pks: list[int] = []
    for index, (name, mode, refs) in enumerate(sources):
        data = b"".join(chunks[digest] for digest, _ in refs)
        path = folder / f"{index}-{wire_name(name)}"
        _write(path, data)
        try:
            pks += _read(db, tool, native_id, path, mode)
        finally:
            path.unlink(missing_ok=True)
    if not pks:
        raise BadSession("its files hold no session tether can read")
    marks = ",".join("?" * len(pks))
    ids = {r[0] for r in db.execute(f"SELECT id FROM sessions WHERE pk IN ({marks})", pks)}
    if sid not in ids:
        raise BadSession("its files hold another session than the one the server named")
    _record(db, server, head, sid, owner)
    report.pulled.append(
        {
            "id": sid,
            "tool": tool,
            "owner": owner,
            "device": head.get("device"),
            "title": head.get("title"),
            "via": head.get("via"),
        }
    )


def _check_sources(sources: Any) -> list[tuple[str, str, list[tuple[str, int]]]]:
    if not isinstance(sources, list) or not sources:
        raise BadSession("the server sent a session without files")
    out = []
    for source in sources:
        if not isinstance(source, dict):
            raise BadSession("the server sent a file that is not one")
        name, mode, refs = source.get("name"), source.get("mode"), source.get("chunks")
        if not isinstance(name, str) or mode not in ("jsonl", "document"):
            raise BadSession("the server sent a file without a usable name or mode")
        if not isinstance(refs, list) or not all(
            isinstance(r, list)
            and len(r) == 2
            and wire.is_hash(r[0])
            and isinstance(r[1], int)
            and 0 < r[1] <= wire.MAX_CHUNK
            for r in refs
        ):
            raise BadSession("the server sent a file with a bad chunk list")
        out.append((name, str(mode), [(str(h), int(n)) for h, n in refs]))
    # A server's word, as a pusher's is to the server: a few chunks named many times over
    # would be joined in memory here.
    if sum(n for _, _, refs in out for _, n in refs) > wire.MAX_SESSION_RAW:
        raise BadSession(f"the server sent a session over {wire.MAX_SESSION_RAW} bytes")
    return out


def _download(
    client: Client, wanted: list[tuple[str, int]], report: PullReport
) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    group: list[str] = []
    size = 0
    for digest, length in wanted:
        if group and (size + length > FETCH_BYTES or len(group) >= wire.MAX_HASHES):
            out.update(client.download(group))
            group, size = [], 0
        group.append(digest)
        size += length
    if group:
        out.update(client.download(group))
    for digest, length in wanted:
        if len(out[digest]) != length:
            raise BadSession(f"chunk {digest[:12]}… is not the length the session says")
    report.bytes_received += sum(len(data) for data in out.values())
    return out


def _write(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    temp.replace(path)


def _read(db: sqlite3.Connection, tool: str, native_id: str, path: Path, mode: str) -> list[int]:
    from tether.capture.ingest import ReadFailed, read_pushed

    try:
        return read_pushed(db, tool, native_id, path, mode, origin="pull")
    except ReadFailed as exc:
        raise BadSession(str(exc)) from None


def _record(
    db: sqlite3.Connection, server: str, head: dict[str, Any], sid: str, owner: str
) -> None:
    from tether.capture.ingest import now_iso

    device = head.get("device")
    remote = head.get("git_remote")
    db.execute(
        "INSERT OR REPLACE INTO pulled"
        " (session_id, server, owner, device, revision, git_remote, pulled_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            sid,
            server,
            owner,
            device[:64] if isinstance(device, str) else None,
            str(head.get("revision"))[:64],
            remote[:500] if isinstance(remote, str) else None,
            now_iso(),
        ),
    )
    parent, how = head.get("parent_id"), head.get("parent_how")
    if wire.is_hash(parent) and parent != sid:
        lineage.record(db, sid, str(parent), how if how in lineage.HOWS else "resume")


def resolve(client: Client, idents: list[str]) -> list[dict[str, Any]]:
    """The heads the given ids (tether ids or prefixes of them) name on the server."""
    heads = []
    for ident in idents:
        prefix = ident.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{4,64}", prefix):
            raise NotFoundError(f"{ident!r} is not a tether id (or a prefix of one, 4+ hex)")
        found = client.get("/api/v1/sessions", prefix=prefix, limit=10)
        if not found:
            raise NotFoundError(f"the server holds no session {ident!r} that you may see")
        ids = {(h.get("owner"), h.get("session_id")) for h in found}
        if len(ids) > 1:
            from tether.errors import UsageError

            listed = ", ".join(f"{o}:{str(s)[:12]}" for o, s in sorted(ids, key=str)[:5])
            raise UsageError(f"{ident!r} names {len(ids)} sessions on the server ({listed})")
        heads.append(found[0])
    return heads


def changes(client: Client, since: int) -> tuple[list[dict[str, Any]], int]:
    """Every head changed after `since`, and the cursor to ask from next time."""
    heads: list[dict[str, Any]] = []
    while True:
        page = client.get("/api/v1/changes", since=since, limit=1000)
        heads += page["changes"]
        since = int(page["next"])
        if not page["more"]:
            return heads, since
