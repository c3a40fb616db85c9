"""Write a session that `opencode --session ID` (and `opencode run -s ID`) continues.

opencode (1.2 and later) keeps every session in one SQLite database. tether writes no byte
of it: the writer produces opencode's own export JSON (`{info: Session, messages: [{info:
Message, parts: [Part]}]}`, the shape `opencode export` prints) and runs the real
`opencode import FILE` in the target folder, which checks it against opencode's schema,
re-homes it to that folder's project and inserts the rows itself (research/native-formats.md
§10). The export file stays under tether's own data folder (`$TETHER_HOME/opencode-imports/`),
not in opencode's: it is the record of what was imported, and `opencode import` can replay it.

The Kilo CLI, an opencode fork, imports the same JSON with `kilo import`: its writer
(writers/kilo.py) is this one, run with Kilo's binary, agent and folder names (an `App`).

Ids are opencode's (id.ts): `ses_` descending (the newest session sorts first), `msg_` and
`prt_` ascending in conversation order, so opencode reads the turns back in order. Each
assistant turn is one opencode assistant message whose `tool` parts hold both the call and
its result. Every user message names the model opencode will resume with (opencode reuses
the last user message's model, and fails on one it cannot reach): the `model` of opencode's
resolved configuration (`opencode debug config`), else the first model `opencode models`
lists.
"""

from __future__ import annotations

import os
import secrets
import string
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from tether.convert.writers.base import (
    Report,
    WriteError,
    WriteJob,
    Written,
    attachment_text,
    write_session_file,
)
from tether.model import Attachment, Message, Part, Reasoning, Text, ToolCall, ToolResult
from tether.tools.vocabulary.opencode import vocabulary  # noqa: F401 (a Writer names its table)

name = "opencode"
context_tokens = 150_000
accepts_generic_calls = False
"""Unproven that opencode replays a call to a tool it does not declare: such calls are text."""
CLI_VERSION = "1.18.33"
"""The opencode version these sessions are proven against (tests/e2e)."""
BINARY = "opencode"
AGENT = "build"
IMPORT_TIMEOUT = 120.0
IMPORTED = "Imported session: "
QUIET_ENV = {"OPENCODE_DISABLE_AUTOUPDATE": "1", "OPENCODE_DISABLE_MODELS_FETCH": "1"}
"""An import neither upgrades opencode nor refreshes its model catalogue from the network."""
BASE62 = string.digits + string.ascii_letters
ZERO_TOKENS = {"input": 0, "output": 0, "reasoning": 0, "cache": {"read": 0, "write": 0}}


@dataclass(frozen=True)
class App:
    """opencode, or a fork of it that imports the same export JSON (the Kilo CLI)."""

    name: str
    """The tool's name in tether, and its data folder's (`~/.local/share/<name>`)."""
    binary: str
    version: str
    """The version its sessions are proven against (tests/e2e)."""
    agent: str
    """The primary agent a converted session is given (opencode's build, Kilo's code)."""
    quiet_env: dict[str, str] = field(default_factory=dict)
    install: str = ""
    """How to install it, for the error when it is missing."""

    @property
    def imports(self) -> str:
        """tether's folder of the export files it imported (`$TETHER_HOME/<name>-imports`)."""
        return f"{self.name}-imports"


OPENCODE = App(name, BINARY, CLI_VERSION, AGENT, QUIET_ENV, "npm install -g opencode-ai")


# ---------------------------------------------------------------------------------------
# Ids (packages/opencode/src/id/id.ts)


class Ids:
    """opencode's ids from one clock: 6 bytes of `ms * 4096 + counter` in hex (inverted for
    descending ids), then 14 random base62 characters; each call counts on, so the ids of
    one write ascend in the order they are made."""

    def __init__(self, ms: int) -> None:
        self.ms = ms
        self.counter = 0

    def next(self, prefix: str, descending: bool = False) -> str:
        self.counter += 1
        value = self.ms * 0x1000 + self.counter
        if descending:
            value = ~value
        head = bytes((value >> (40 - 8 * i)) & 0xFF for i in range(6)).hex()
        tail = "".join(secrets.choice(BASE62) for _ in range(14))
        return f"{prefix}_{head}{tail}"


# ---------------------------------------------------------------------------------------
# Writing


def write(job: WriteJob) -> Written:
    return write_app(job, OPENCODE)


def write_app(job: WriteJob, app: App) -> Written:
    """Write through `app`'s own import (opencode's, or a fork's)."""
    binary = find_binary(app)
    cwd = job.cwd_text
    env = import_env(job.store, app)
    model = default_model(binary, cwd, env, job.report, app)
    export, native_id = build_export(job, model, app)
    path = export_dir(app) / f"{native_id}.json"
    write_session_file(path, orjson.dumps(export, option=orjson.OPT_INDENT_2))
    try:
        run_import(binary, path, cwd, env, native_id, app)
    except WriteError:
        path.unlink(missing_ok=True)
        raise
    return Written(app.name, native_id, path, [path])


def build_export(
    job: WriteJob, model: tuple[str, str], app: App = OPENCODE
) -> tuple[dict[str, Any], str]:
    """opencode's export JSON of the prepared session, and its new session id."""
    session = job.session
    now = _ms(job.now)
    ids = Ids(now)
    native_id = job.native_id or ids.next("ses", descending=True)
    messages = _messages(job, ids, native_id, model, app.agent)
    if not messages:
        raise WriteError("nothing to write: the session has no messages opencode can replay")
    created = messages[0]["info"]["time"]["created"]
    title = session.title or f"{session.tool} session {session.native_id[:8]}"
    info: dict[str, Any] = {
        "id": native_id,
        "slug": f"tether-{native_id[-6:].lower()}",
        "projectID": "global",
        "directory": job.cwd_text,
        "title": title,
        "version": app.version,
        "time": {"created": created, "updated": max(now, created)},
    }
    return {"info": info, "messages": messages}, native_id


def _user_message(
    mid: str,
    session_id: str,
    stamp: int,
    model: tuple[str, str],
    parts: list[dict[str, Any]],
    ids: Ids,
    agent: str,
) -> dict[str, Any]:
    provider, model_id = model
    info = {
        "id": mid,
        "sessionID": session_id,
        "role": "user",
        "time": {"created": stamp},
        "agent": agent,
        "model": {"providerID": provider, "modelID": model_id},
    }
    return _with_ids(info, parts, ids)


def _messages(
    job: WriteJob, ids: Ids, session_id: str, model: tuple[str, str], agent: str
) -> list[dict[str, Any]]:
    provider, model_id = model
    out: list[dict[str, Any]] = []
    messages = job.session.messages
    last_user: str | None = None
    index = 0
    while index < len(messages):
        message = messages[index]
        index += 1
        stamp = _stamp(message, job)
        mid = ids.next("msg")
        if message.role == "user":
            parts = [p for part in message.parts for p in _user_part(part, job.report)]
            if not parts:
                continue
            out.append(_user_message(mid, session_id, stamp, model, parts, ids, agent))
            last_user = mid
            continue
        if message.role != "assistant":
            continue  # prepare leaves user, assistant and tool messages only
        results: dict[str, ToolResult] = {}
        ended = stamp
        if index < len(messages) and messages[index].role == "tool":
            answer = messages[index]
            results = {p.call_id: p for p in answer.parts if isinstance(p, ToolResult)}
            ended = max(stamp, _stamp(answer, job))
            index += 1
        parts = [
            p for part in message.parts for p in _assistant_part(part, results, stamp, ended, job)
        ]
        if not parts:
            continue
        if last_user is None:
            job.report.note("opencode answers a user message: the session starts with one")
            first = {"type": "text", "text": "(conversation converted by tether)"}
            out.append(_user_message(mid, session_id, stamp, model, [first], ids, agent))
            last_user, mid = mid, ids.next("msg")
        calls = any(p["type"] == "tool" for p in parts)
        info: dict[str, Any] = {
            "id": mid,
            "sessionID": session_id,
            "role": "assistant",
            "parentID": last_user,
            "mode": agent,
            "agent": agent,
            "path": {"cwd": job.cwd_text, "root": job.cwd_text},
            "cost": 0,
            "tokens": _tokens(message),
            "modelID": model_id,
            "providerID": provider,
            "time": {"created": stamp, "completed": ended},
            "finish": "tool-calls" if calls else "stop",
        }
        framed = [
            {"type": "step-start"},
            *parts,
            {"type": "step-finish", "reason": info["finish"], "cost": 0, "tokens": ZERO_TOKENS},
        ]
        out.append(_with_ids(info, framed, ids))
    return out


def _with_ids(info: dict[str, Any], parts: list[dict[str, Any]], ids: Ids) -> dict[str, Any]:
    ided = [
        {**part, "id": ids.next("prt"), "sessionID": info["sessionID"], "messageID": info["id"]}
        for part in parts
    ]
    return {"info": info, "parts": ided}


def _user_part(part: Part, report: Report) -> list[dict[str, Any]]:
    if isinstance(part, Text):
        return [{"type": "text", "text": part.text}] if part.text else []
    if isinstance(part, Attachment):
        if part.data:
            url = f"data:{part.media_type};base64,{part.data}"
            file = {"type": "file", "mime": part.media_type, "url": url}
            return [{**file, "filename": part.name} if part.name else file]
        report.downgrade("attachment", "not inline data")
        return [{"type": "text", "text": attachment_text(part)}]
    return []


def _assistant_part(
    part: Part, results: Mapping[str, ToolResult], stamp: int, ended: int, job: WriteJob
) -> list[dict[str, Any]]:
    if isinstance(part, Text):
        return [{"type": "text", "text": part.text}] if part.text else []
    if isinstance(part, ToolCall):
        return [_tool_part(part, results.get(part.id), stamp, ended)]
    if isinstance(part, Reasoning):
        if not part.text.strip():
            return []
        if job.same_tool:
            return [{"type": "reasoning", "text": part.text, "time": {"start": stamp}}]
        job.report.downgrade("reasoning", "another tool's reasoning is not replayed as opencode's")
        return [{"type": "text", "text": f"[reasoning]\n{part.text}"}]
    if isinstance(part, Attachment):
        job.report.downgrade("attachment", "an assistant attachment")
        return [{"type": "text", "text": attachment_text(part)}]
    return []


def _tool_part(call: ToolCall, result: ToolResult | None, stamp: int, ended: int) -> dict[str, Any]:
    arguments = call.input if isinstance(call.input, dict) else {"input": call.input}
    time = {"start": stamp, "end": ended}
    state: dict[str, Any]
    if result is None or result.is_error:
        error = result.output if result is not None else "the call was never answered"
        state = {"status": "error", "input": arguments, "error": error, "time": time}
    else:
        title = str(arguments.get("command") or arguments.get("filePath") or call.name)
        metadata: dict[str, Any] = {}
        if "exit" in result.native:
            metadata["exit"] = result.native["exit"]
        state = {
            "status": "completed",
            "input": arguments,
            "output": result.output,
            "title": title[:200],
            "metadata": metadata,
            "time": time,
        }
    return {"type": "tool", "tool": call.name, "callID": call.id, "state": state}


def _tokens(message: Message) -> dict[str, Any]:
    usage = message.usage or {}
    return {
        **ZERO_TOKENS,
        "input": int(usage.get("input_tokens") or 0),
        "output": int(usage.get("output_tokens") or 0),
    }


def _stamp(message: Message, job: WriteJob) -> int:
    """The message's time in ms (prepare gives every message one), else the write time."""
    try:
        when = datetime.fromisoformat((message.timestamp or "").replace("Z", "+00:00"))
    except ValueError:
        return _ms(job.now)
    return _ms(when) if when.tzinfo is not None else _ms(job.now)


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


# ---------------------------------------------------------------------------------------
# The real opencode


def find_binary(app: App = OPENCODE) -> str:
    """The real binary on PATH (never a tether shim)."""
    from tether.paths import shim_dir, tether_home
    from tether.tools.launch import find_real

    found = find_real(app.binary, str(shim_dir(tether_home())), os.environ.get("PATH", ""))
    if found is None:
        raise WriteError(
            f"{app.binary} is not installed here (not on PATH): it imports the session itself;"
            f" install it with `{app.install}`"
        )
    return found


def export_dir(app: App = OPENCODE) -> Path:
    from tether.paths import tether_home

    return tether_home() / app.imports


def import_env(store: Path, app: App = OPENCODE) -> dict[str, str]:
    """The caller's environment, pointed at the store tether was asked to write into."""
    env = {**os.environ, **app.quiet_env}
    if store.name == app.name:
        env["XDG_DATA_HOME"] = str(store.parent)
    return env


def _run(binary: str, args: list[str], cwd: str, env: Mapping[str, str], app: App) -> str:
    try:
        done = subprocess.run(
            [binary, *args],
            cwd=cwd,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=IMPORT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WriteError(f"`{app.binary} {args[0]}` could not run: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise WriteError(f"`{app.binary} {' '.join(args)}` failed ({done.returncode}): {tail[0]}")
    return done.stdout


def default_model(
    binary: str, cwd: str, env: Mapping[str, str], report: Report, app: App = OPENCODE
) -> tuple[str, str]:
    """The model opencode resumes with: its configured `model`, else the first it lists."""
    try:
        config = orjson.loads(_run(binary, ["debug", "config"], cwd, env, app))
    except orjson.JSONDecodeError:
        config = {}
    configured = config.get("model") if isinstance(config, dict) else None
    if isinstance(configured, str) and "/" in configured:
        provider, model = configured.split("/", 1)
        return provider, model
    for line in _run(binary, ["models"], cwd, env, app).splitlines():
        if "/" in line.strip():
            provider, model = line.strip().split("/", 1)
            report.note(
                f"{app.binary} has no default model configured: the session resumes with"
                f" {line.strip()}"
            )
            return provider, model
    raise WriteError(f'{app.binary} lists no model: configure one ("model": "provider/model")')


def run_import(
    binary: str,
    path: Path,
    cwd: str,
    env: Mapping[str, str],
    native_id: str,
    app: App = OPENCODE,
) -> None:
    out = _run(binary, ["import", str(path)], cwd, env, app)
    imported = [line.split(IMPORTED, 1)[1].strip() for line in out.splitlines() if IMPORTED in line]
    if imported != [native_id]:
        raise WriteError(
            f"`{app.binary} import` did not report session {native_id}: {out.strip()!r}"
        )
