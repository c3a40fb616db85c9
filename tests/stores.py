"""Real samples laid out where the tools keep them, and appends the way the tools write."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import orjson

from tests.conftest import FIXTURES

CLAUDE_SAMPLE = FIXTURES / "claude" / "real_entire_dc_49cb8a2a42_0.jsonl"
CLAUDE_ID = "70fc6d83-147d-4fdf-b015-bd67eeb11883"
CODEX_SAMPLE = (
    FIXTURES / "codex" / "rollout-2026-09-01T10-00-00-019f1111-2222-7333-8444-555566667777.jsonl"
)
CODEX_ID = "019f1111-2222-7333-8444-555566667777"


def place_claude(home: Path, sample: Path = CLAUDE_SAMPLE, sid: str = CLAUDE_ID) -> Path:
    project = home / ".claude" / "projects" / "-Users-soph-Work-entire-devenv-cli"
    project.mkdir(parents=True, exist_ok=True)
    path = project / f"{sid}.jsonl"
    data = sample.read_bytes()
    # The samples were cut without their last newline; Claude Code ends every line.
    path.write_bytes(data if data.endswith(b"\n") else data + b"\n")
    return path


def codex_day(home: Path) -> Path:
    return home / ".codex" / "sessions" / "2026" / "09" / "01"


def place_codex(home: Path) -> Path:
    day = codex_day(home)
    day.mkdir(parents=True, exist_ok=True)
    path = day / CODEX_SAMPLE.name
    shutil.copy(CODEX_SAMPLE, path)
    return path


def last_record(path: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(path.read_bytes().splitlines()[-1])
    return record


def claude_prompt(path: Path, text: str) -> bytes:
    """One user line as Claude Code appends it after the file's last record."""
    return claude_line(last_record(path), text)


def claude_line(last: dict[str, Any], text: str) -> bytes:
    record = {
        **last,
        "type": "user",
        "uuid": str(uuid.uuid4()),
        "parentUuid": last.get("uuid"),
        "message": {"role": "user", "content": text},
        "timestamp": "2027-01-01T00:00:00.000Z",
    }
    return orjson.dumps(record) + b"\n"


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as fh:
        fh.write(data)


def codex_prompt(text: str, ordinal: int) -> bytes:
    record = {
        "timestamp": "2026-09-01T11:00:00.000Z",
        "ordinal": ordinal,
        "type": "response_item",
        "payload": {
            "type": "message",
            "id": f"msg_w{ordinal}",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        },
    }
    return orjson.dumps(record) + b"\n"
