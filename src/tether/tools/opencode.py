"""opencode: sessions in `~/.local/share/opencode/opencode.db` (1.2 and later: session,
message and part rows with JSON data) and in the older JSON `storage/` tree.

Both hold many sessions, so both are containers: each session is extracted as JSON lines
of one shape (a `session` line, then one line per message with its parts), which is what
the archive keeps and what `read` turns into messages. The Kilo CLI, an opencode fork,
keeps the same store under `~/.local/share/kilo/kilo.db` and reuses this module.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from tether.files import MAX_DOCUMENT, read_regular
from tether.model import Attachment, Message, Part, Reasoning, Text, ToolCall, ToolResult
from tether.tools.base import Feed, Member, Meta, Op, Put, Source
from tether.tools.common import as_text, dict_or_empty, iso, nonempty_str, shown, token_counts
from tether.tools.database import Unreadable, is_sqlite, open_readonly, tables
from tether.tools.facts import opencode as facts
from tether.tools.listing import entries, is_dir, is_file

name = facts.NAME
display_name = facts.DISPLAY_NAME
aliases = facts.ALIASES
capabilities = facts.CAPABILITIES

APP = "opencode"
SESSION_TABLES = frozenset({"session", "message", "part"})
LEGACY = "storage"
QUIET_PARTS = frozenset({"step-start", "snapshot", "agent", "retry"})
"""Parts that record how a turn ran, not what was said."""
SESSION_NATIVE = ("slug", "version", "projectID", "workspaceID", "share", "agent", "model")
TOKEN_NAMES = (
    ("input", "input_tokens"),
    ("output", "output_tokens"),
    ("reasoning", "reasoning_tokens"),
)
CACHE_NAMES = (("read", "cache_read_input_tokens"), ("write", "cache_write_tokens"))


# ---------------------------------------------------------------------------------------
# Where sessions live


def data_dirs(env: Mapping[str, str], home: Path, app: str, override: str) -> list[Path]:
    """`$<override>`, else `$XDG_DATA_HOME/<app>`, else `~/.local/share/<app>`: opencode
    resolves its data folder with xdg-basedir, the same on Linux and macOS."""
    configured = env.get(override, "").strip()
    if configured:
        return [Path(configured).expanduser()]
    xdg = env.get("XDG_DATA_HOME", "").strip()
    return [(Path(xdg).expanduser() if xdg else home / ".local" / "share") / app]


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return [Path(root) for root in facts.store_roots(env, str(home))]


def discover(root: Path) -> Iterator[Source]:
    yield from stores(root, APP)


def stores(root: Path, app: str) -> Iterator[Source]:
    """`<app>.db` and the other channels' `<app>-<channel>.db`, then the legacy JSON tree."""
    for entry in entries(root):
        if _is_database_name(entry.name, app) and is_file(entry):
            yield database(Path(entry.path))
    sessions = root / LEGACY / "session"
    for project in entries(sessions):
        if not is_dir(project):
            continue
        for entry in entries(Path(project.path)):
            if entry.name.endswith(".json") and is_file(entry):
                yield legacy(Path(entry.path))


def _is_database_name(file: str, app: str) -> bool:
    return file == f"{app}.db" or (file.startswith(f"{app}-") and file.endswith(".db"))


def sniff(path: Path, head: bytes) -> Source | None:
    """An opencode store, unless its name says it is a fork's (the Kilo CLI's kilo.db)."""
    if path.name.startswith("kilo") or app_folder(path) == "kilo":
        return None
    return sniff_store(path, head)


def app_folder(path: Path) -> str:
    """The data folder a store file sits in: `<app>/x.db` or `<app>/storage/session/p/x.json`."""
    return (path.parent if path.suffix == ".db" else path.parent.parent.parent.parent).name


def sniff_store(path: Path, head: bytes) -> Source | None:
    """A database with session, message and part tables, or a legacy session file."""
    if is_sqlite(head):
        try:
            db = open_readonly(path)
        except Unreadable:
            return None
        try:
            found = tables(db) >= SESSION_TABLES
        except sqlite3.Error:
            found = False
        finally:
            db.close()
        return database(path) if found else None
    if path.suffix == ".json" and path.parent.parent.name == "session" and b'"id"' in head:
        storage = path.parent.parent.parent
        if storage.name == LEGACY and (storage / "message").is_dir():
            return legacy(path)
    return None


# ---------------------------------------------------------------------------------------
# The database (1.2 and later)


def database(path: Path) -> Source:
    def members(skip: Callable[[str], None]) -> Iterator[Member]:
        db = open_readonly(path)
        open_db: list[sqlite3.Connection] = [db]
        try:
            yield from _listed(db, path, open_db, skip)
        finally:
            open_db.clear()
            db.close()

    return Source(path, "container", members=members)


def _listed(
    db: sqlite3.Connection,
    path: Path,
    open_db: list[sqlite3.Connection],
    skip: Callable[[str], None],
) -> Iterator[Member]:
    """Every session with a version that changes whenever it, a message or a part does."""
    if not tables(db) >= SESSION_TABLES:
        skip("no session, message and part tables in this database")
        return
    rows = db.execute(
        "SELECT s.id, s.time_updated,"
        " (SELECT COUNT(*) || ':' || IFNULL(MAX(m.time_updated), 0)"
        "  FROM message m WHERE m.session_id = s.id),"
        " (SELECT COUNT(*) || ':' || IFNULL(MAX(p.time_updated), 0)"
        "  FROM part p WHERE p.session_id = s.id)"
        " FROM session s ORDER BY s.id"
    ).fetchall()
    for sid, updated, messages, parts in rows:
        if not isinstance(sid, str) or not sid or "/" in sid:
            skip(f"a session with an unusable id {shown(sid)}")
            continue
        yield Member(sid, f"{updated}/{messages}/{parts}", _loader(path, sid, open_db))


def _loader(path: Path, sid: str, open_db: list[sqlite3.Connection]) -> Callable[[], bytes]:
    """Loads through the listing's connection while it is open (one open per database, not
    per session), else through a connection of its own."""

    def load() -> bytes:
        if open_db:
            return session_lines(open_db[0], sid)
        db = open_readonly(path)
        try:
            return session_lines(db, sid)
        finally:
            db.close()

    return load


def session_lines(db: sqlite3.Connection, sid: str) -> bytes:
    """One session as JSON lines: its info, then each message with its parts, in order."""
    cursor = db.execute("SELECT * FROM session WHERE id = ?", (sid,))
    columns = [c[0] for c in cursor.description]
    row = cursor.fetchone()
    if row is None:
        raise LookupError(f"session {sid} is no longer in the database")
    lines = [orjson.dumps({"session": _session_info(dict(zip(columns, row, strict=True)))})]
    parts: dict[str, list[Any]] = {}
    for pid, mid, data in db.execute(
        "SELECT id, message_id, data FROM part WHERE session_id = ? ORDER BY message_id, id",
        (sid,),
    ):
        parts.setdefault(mid, []).append(_with_ids(data, id=pid, messageID=mid, sessionID=sid))
    for mid, data in db.execute(
        "SELECT id, data FROM message WHERE session_id = ? ORDER BY time_created, id", (sid,)
    ):
        info = _with_ids(data, id=mid, sessionID=sid)
        lines.append(orjson.dumps({"info": info, "parts": parts.get(mid, [])}))
    return b"\n".join(lines) + b"\n"


def _with_ids(data: Any, **ids: str) -> Any:
    """A row's JSON data with the ids its columns hold (the data leaves them out)."""
    try:
        value = orjson.loads(data) if isinstance(data, str | bytes) else data
    except orjson.JSONDecodeError:
        return {"unreadable": str(data)[:200], **ids}
    return {**value, **ids} if isinstance(value, dict) else {"unreadable": value, **ids}


def _session_info(row: dict[str, Any]) -> dict[str, Any]:
    """A session row in the shape of the legacy session file (Session.Info)."""
    info: dict[str, Any] = {
        "id": row.get("id"),
        "slug": row.get("slug"),
        "projectID": row.get("project_id"),
        "workspaceID": row.get("workspace_id"),
        "directory": row.get("directory"),
        "parentID": row.get("parent_id"),
        "title": row.get("title"),
        "version": row.get("version"),
        "share": row.get("share_url"),
        "agent": row.get("agent"),
        "time": {
            "created": row.get("time_created"),
            "updated": row.get("time_updated"),
            "archived": row.get("time_archived"),
        },
    }
    model = row.get("model")
    if isinstance(model, str):
        with contextlib.suppress(orjson.JSONDecodeError):
            info["model"] = orjson.loads(model)
    return {k: v for k, v in info.items() if v is not None}


# ---------------------------------------------------------------------------------------
# The legacy JSON tree: storage/session/<project>/<id>.json, message/<id>/, part/<message>/


def legacy(path: Path) -> Source:
    """A legacy session file, as a container of its one session read with its messages.

    Listed again when the session file changes: opencode rewrites it on every prompt
    (`Session.touch`), not when a reply's parts land. opencode 1.2 moved these trees into
    its database once and stopped writing them, so they are history, read once.
    """
    storage = path.parent.parent.parent

    def members(skip: Callable[[str], None]) -> Iterator[Member]:
        info = _json_file(path)
        sid = nonempty_str(info.get("id")) if isinstance(info, dict) else None
        if sid is None or "/" in sid:
            skip(f"{path.name} is not a session with a usable id")
            return
        version = _legacy_version(storage, path, sid)
        yield Member(sid, version, lambda: load_legacy(storage, path, sid))

    return Source(path, "container", members=members)


def _legacy_version(storage: Path, path: Path, sid: str) -> str:
    """The session file's and every message and part file's size and mtime, hashed."""
    digest = hashlib.sha256()
    messages = _legacy_files(storage / "message" / sid)
    files = [path, *messages]
    for message in messages:
        files.extend(_legacy_files(storage / "part" / message.stem))
    for file in files:
        with contextlib.suppress(OSError):
            st = file.stat()
            digest.update(f"{file.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return digest.hexdigest()[:32]


def _legacy_files(folder: Path) -> list[Path]:
    found = [Path(e.path) for e in entries(folder) if e.name.endswith(".json") and is_file(e)]
    return sorted(found, key=lambda p: p.name)


def load_legacy(storage: Path, path: Path, sid: str) -> bytes:
    """`message/<session>/<message>.json` and `part/<message>/<part>.json`, in file name order
    (ids sort by time), as the same lines the database gives."""
    session = _json_file(path)
    if not isinstance(session, dict):
        raise ValueError(f"{path.name} is not a session object")
    lines = [orjson.dumps({"session": session})]
    messages = []
    for file in _legacy_files(storage / "message" / sid):
        info = _json_file(file)
        if not isinstance(info, dict):
            info = {"unreadable": file.name}
        info.setdefault("id", file.stem)
        parts = [_json_file(p) for p in _legacy_files(storage / "part" / str(info["id"]))]
        messages.append((_created(info), str(info["id"]), info, parts))
    for _, _, info, parts in sorted(messages, key=lambda m: (m[0], m[1])):
        lines.append(orjson.dumps({"info": info, "parts": parts}))
    return b"\n".join(lines) + b"\n"


def _json_file(path: Path) -> Any:
    try:
        return orjson.loads(read_regular(path, MAX_DOCUMENT))
    except (OSError, orjson.JSONDecodeError):
        return None


def _created(info: dict[str, Any]) -> int:
    time = info.get("time")
    created = time.get("created") if isinstance(time, dict) else None
    return created if isinstance(created, int) else 0


# ---------------------------------------------------------------------------------------
# Reading one session's lines


def read(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    for record in feed.records():
        if isinstance(record.get("session"), dict):
            yield _session(record["session"])
        elif isinstance(record.get("info"), dict):
            yield from _message(feed, record["info"], record.get("parts"))
        else:
            feed.skip("a line with neither a session nor a message")


def _session(info: dict[str, Any]) -> Meta:
    time = dict_or_empty(info.get("time"))
    directory = nonempty_str(info.get("directory"))
    native = {k: info[k] for k in SESSION_NATIVE if info.get(k) not in (None, "", {})}
    return Meta(
        native_id=nonempty_str(info.get("id")),
        title=nonempty_str(info.get("title")),
        cwd=directory,
        project=directory,
        parent_native_id=nonempty_str(info.get("parentID")),
        created_at=iso(time.get("created")),
        updated_at=iso(time.get("updated")),
        native=native,
    )


def _message(feed: Feed, info: dict[str, Any], raw_parts: Any) -> Iterator[Op]:
    mid = nonempty_str(info.get("id")) or ""
    role = info.get("role")
    listed = raw_parts if isinstance(raw_parts, list) else []
    parts = [p for p in listed if isinstance(p, dict)]
    if len(parts) != len(listed):
        feed.skip(f"message {mid}: a part that is not an object")
    time = dict_or_empty(info.get("time"))
    stamp = iso(time.get("created"))
    if role == "user":
        yield from _user(feed, mid, info, parts, stamp)
    elif role == "assistant":
        yield from _assistant(feed, mid, info, parts, stamp)
    else:
        feed.skip(f"message {mid}: unknown role {shown(role)}")


def _user(
    feed: Feed, mid: str, info: dict[str, Any], parts: list[dict[str, Any]], stamp: str | None
) -> Iterator[Op]:
    content: list[Part] = []
    compaction: dict[str, Any] | None = None
    for part in parts:
        kind = part.get("type")
        if kind == "text":
            content.extend(_text(part))
        elif kind == "file":
            content.append(_file(part))
        elif kind == "compaction":
            compaction = part
        elif kind == "subtask":
            prompt = nonempty_str(part.get("prompt")) or nonempty_str(part.get("description")) or ""
            content.append(Text(prompt, native={"type": "subtask", "agent": part.get("agent")}))
        elif not isinstance(kind, str) or kind not in QUIET_PARTS:
            feed.skip(f"message {mid}: unknown part {shown(kind)}")
    native = {k: info[k] for k in ("agent", "model") if info.get(k)}
    if content:
        yield Put(mid, Message("user", content, stamp, native_id=mid, native=native))
    if compaction is not None:
        note = "Conversation compacted" + (" (automatically)" if compaction.get("auto") else "")
        extra = {"kind": "compaction", "auto": bool(compaction.get("auto"))}
        yield Put(f"{mid}#compaction", Message("system", [Text(note)], stamp, native=extra))


def _assistant(
    feed: Feed, mid: str, info: dict[str, Any], parts: list[dict[str, Any]], stamp: str | None
) -> Iterator[Op]:
    """One opencode message holds every step of a turn (text, calls, their results): each
    step becomes an assistant message and, when it called tools, a tool message."""
    model = nonempty_str(info.get("modelID"))
    if model is None and isinstance(info.get("model"), dict):
        model = nonempty_str(info["model"].get("modelID"))
    native = {k: info[k] for k in ("providerID", "mode", "agent", "finish", "cost") if info.get(k)}
    if info.get("summary") is True:
        native["kind"] = "summary"
    steps: list[tuple[list[Part], list[Part]]] = [([], [])]
    for part in parts:
        kind = part.get("type")
        said, results = steps[-1]
        if kind == "step-start":
            if said or results:
                steps.append(([], []))
        elif kind == "text":
            said.extend(_text(part))
        elif kind == "reasoning":
            said.append(_reasoning(part))
        elif kind == "tool":
            call, result = _tool(part)
            said.append(call)
            if result is not None:
                results.append(result)
        elif kind == "file":
            said.append(_file(part))
        elif kind == "patch":
            files = part.get("files")
            native.setdefault("patches", []).append(files if isinstance(files, list) else [])
        elif not isinstance(kind, str) or kind not in {*QUIET_PARTS, "step-finish", "compaction"}:
            feed.skip(f"message {mid}: unknown part {shown(kind)}")
    usage = _usage(info.get("tokens"))
    for index, (said, results) in enumerate(steps):
        key = mid if index == 0 else f"{mid}#{index}"
        if said or index == 0:
            tokens = usage if index == 0 else None
            message = Message("assistant", said, stamp, model, tokens, mid, dict(native))
            yield Put(key, message)
        if results:
            yield Put(f"{key}#results", Message("tool", results, _ended(results) or stamp))
    error = info.get("error")
    if isinstance(error, dict):
        yield Put(f"{mid}#error", _error(error, stamp))


def _text(part: dict[str, Any]) -> list[Part]:
    text = part.get("text")
    if not isinstance(text, str) or not text:
        return []
    native = {k: True for k in ("synthetic", "ignored") if part.get(k)}
    return [Text(text, native=native)]


def _reasoning(part: dict[str, Any]) -> Part:
    metadata = part.get("metadata")
    signature = None
    if isinstance(metadata, dict):
        for provider in metadata.values():
            if isinstance(provider, dict) and nonempty_str(provider.get("signature")):
                signature = str(provider["signature"])
    return Reasoning(nonempty_str(part.get("text")) or "", signature)


def _tool(part: dict[str, Any]) -> tuple[ToolCall, ToolResult | None]:
    state = dict_or_empty(part.get("state"))
    call_id = nonempty_str(part.get("callID")) or nonempty_str(part.get("id")) or ""
    status = nonempty_str(state.get("status"))
    native: dict[str, Any] = {"status": status} if status else {}
    if nonempty_str(state.get("title")):
        native["title"] = state["title"]
    call = ToolCall(call_id, nonempty_str(part.get("tool")) or "", state.get("input", {}), native)
    if status == "completed":
        output = state.get("output")
        result = ToolResult(call_id, as_text(output), False, _result_native(state))
    elif status == "error":
        result = ToolResult(call_id, as_text(state.get("error")), True, _result_native(state))
    else:
        return call, None  # pending or running: the turn stopped before the tool answered
    return call, result


def _result_native(state: dict[str, Any]) -> dict[str, Any]:
    native: dict[str, Any] = {}
    time = state.get("time")
    if isinstance(time, dict) and time.get("end") is not None:
        native["ended"] = iso(time.get("end"))
    metadata = state.get("metadata")
    if isinstance(metadata, dict) and "exit" in metadata:
        native["exit"] = metadata["exit"]
    return native


def _ended(results: list[Part]) -> str | None:
    stamps = [p.native.get("ended") for p in results if isinstance(p, ToolResult)]
    return max((s for s in stamps if isinstance(s, str)), default=None)


def _file(part: dict[str, Any]) -> Part:
    url = nonempty_str(part.get("url"))
    media = nonempty_str(part.get("mime")) or "application/octet-stream"
    filename = nonempty_str(part.get("filename"))
    if url and url.startswith("data:") and "," in url:
        return Attachment(media, filename, data=url.split(",", 1)[1])
    return Attachment(media, filename, uri=url)


def _error(error: dict[str, Any], stamp: str | None) -> Message:
    data = error.get("data")
    detail = data.get("message") if isinstance(data, dict) else None
    kind = nonempty_str(error.get("name")) or "error"
    text = f"{kind}: {detail}" if isinstance(detail, str) and detail else kind
    return Message("system", [Text(text)], stamp, native={"kind": "error", "name": kind})


def _usage(tokens: Any) -> dict[str, Any] | None:
    if not isinstance(tokens, dict):
        return None
    usage = token_counts(tokens, TOKEN_NAMES) | token_counts(tokens.get("cache"), CACHE_NAMES)
    return usage or None
