"""A home for the web tests: all thirteen tools' real sample sessions, a long session, a
session whose every field is hostile, a session holding a secret, and a team of agents,
captured into one archive."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tether.model import session_id

HOSTILE_ID = "hostile-0001"
LONG_ID = "long-0001"
SECRET_ID = "secret-0001"
SECRET = "ghp_" + "R8x2Lq7Vn4Zt9Kd3Wm6Yp1Hs5Jc0Fb8Ge2Ua"
LONG_MESSAGES = 240
LONG_OUTPUT = 150_000
NEEDLE = "zebraquokka"
"""A word only the long session holds, in message NEEDLE_AT."""
NEEDLE_AT = 201
TEAM = "crew"
OLD_LINE = "timeout = 5"
NEW_LINE = "timeout = 30"
"""The long session's Edit call (message 5) changes this line into that one."""


def payload(where: str) -> str:
    """Script in every form a page could run it, naming where it was planted."""
    call = f"__xss('{where}')"
    return (
        f'<script>{call}</script><img src=x onerror="{call}">'
        f'<a href="javascript:{call}">link</a><svg onload="{call}"></svg>'
        f'"><iframe srcdoc="<script>{call}</script>"></iframe>'
        f"\x1b[31m\u202e\u0000 {where} {'A' * 3000}"
    )


@dataclass
class WebHome:
    home: Path
    data: Path
    project: Path
    """The folder of the team (and of the Cursor agent's sessions)."""
    corpus: dict[str, Any]
    """The generated corpus's manifest (rare words and the sessions that hold them)."""

    @property
    def db(self) -> Path:
        return self.data / "tether.db"

    def sid(self, tool: str, native_id: str) -> str:
        return session_id(tool, native_id)


@contextmanager
def environment(home: Path, data: Path) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("TETHER_HOME", str(data))
        for name in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "COPILOT_HOME"):
            patch.delenv(name, raising=False)
        for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "CODEX_SQLITE_HOME"):
            patch.delenv(name, raising=False)
        from tether.tools import facts

        patch.setattr(facts, "PLATFORM", "linux")
        yield


def build(base: Path, corpus_scale: float = 0.0) -> WebHome:
    """Lay the sessions out (and a generated corpus of `corpus_scale`: bench/gen_corpus.py)
    and capture them (the scan runs twice: Aider's project is learnt from the first)."""
    from tests.test_all_tools import lay_out_every_tool
    from tether.cli import main

    home, data = base / "home", base / "data"
    manifest: dict[str, Any] = {}
    if corpus_scale:
        from tests.test_bench_corpus import gen_corpus

        manifest = gen_corpus.generate(base, corpus_scale, 7)
    home.mkdir(parents=True, exist_ok=True)
    with environment(home, data):
        lay_out_every_tool(home)
        project = home / "work" / "my-app"
        imports = base / "imports"
        imports.mkdir()
        for name, doc in (
            ("hostile", hostile_doc()),
            ("long", long_doc(str(project))),
            ("secret", secret_doc(str(project))),
        ):
            (imports / f"{name}.json").write_text(json.dumps(doc))
        runner = CliRunner()
        runner.invoke(main, ["scan"], catch_exceptions=False)
        runner.invoke(main, ["scan"], catch_exceptions=False)
        done = runner.invoke(main, ["import", str(imports)], catch_exceptions=False)
        assert done.exit_code == 0, done.output
        write_team(project)
        from tether.web.serve import warm_up

        warm_up()  # the redaction rules, once per process (slow in a new HOME: its cache)
    return WebHome(home, data, project, manifest)


def _doc(native_id: str, info: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
    session = {
        "id": session_id("claude", native_id),
        "tool": "claude",
        "native_id": native_id,
        "project": None,
        "cwd": None,
        "git_branch": None,
        "git_commit": None,
        "title": None,
        "created_at": "2026-11-20T09:00:00.000Z",
        "updated_at": "2026-11-20T10:00:00.000Z",
        "message_count": len(messages),
        "models": [],
        "usage": None,
        "parent_id": None,
        "native": {},
        **info,
    }
    return {"format": "tether.session", "version": 1, "session": session, "messages": messages}


def message(role: str, parts: list[dict[str, Any]], minute: int, **rest: Any) -> dict[str, Any]:
    return {
        "role": role,
        "timestamp": f"2026-11-20T09:{minute // 60:02d}:{minute % 60:02d}.000Z",
        "model": None,
        "usage": None,
        "native_id": None,
        "parts": parts,
        "native": {},
        **rest,
    }


def hostile_doc() -> dict[str, Any]:
    """A session with script planted in every field a page shows."""
    info = {
        "title": payload("title"),
        "project": "/tmp/" + payload("project").replace("/", "_")[:200],
        "cwd": "/tmp/" + payload("cwd").replace("/", "_")[:200],
        "git_branch": payload("branch")[:300],
        "git_commit": payload("commit")[:300],
    }
    html = base64.b64encode(payload("attachment data").encode()).decode()
    messages = [
        message("user", [{"type": "text", "text": payload("user text")}], 0),
        message(
            "assistant",
            [
                {"type": "reasoning", "text": payload("reasoning"), "signature": None},
                {"type": "text", "text": payload("assistant text")},
                {
                    "type": "tool_call",
                    "id": payload("call id")[:200],
                    "name": payload("tool name")[:200],
                    "input": {
                        payload("argument name")[:120]: payload("argument"),
                        "old_string": payload("old"),
                        "new_string": payload("new"),
                        "file_path": payload("path")[:200],
                    },
                },
            ],
            1,
            model=payload("model")[:200],
        ),
        message(
            "tool",
            [
                {
                    "type": "tool_result",
                    "call_id": payload("call id")[:200],
                    "output": payload("output"),
                    "is_error": True,
                }
            ],
            2,
        ),
        message(
            "user",
            [
                {
                    "type": "attachment",
                    "media_type": "text/html",
                    "name": payload("attachment name")[:200],
                    "data": html,
                    "uri": "javascript:__xss('attachment uri')",
                },
                {
                    "type": "attachment",
                    "media_type": "image/svg+xml",
                    "name": "picture.svg",
                    "data": base64.b64encode(
                        b'<svg xmlns="http://www.w3.org/2000/svg" onload="__xss(\'svg\')"/>'
                    ).decode(),
                    "uri": None,
                },
            ],
            3,
        ),
    ]
    return _doc(HOSTILE_ID, info, messages)


def long_doc(project: str) -> dict[str, Any]:
    """A session longer than a page, with an output longer than a page shows of it."""
    messages = []
    for n in range(LONG_MESSAGES):  # message n has seq n
        if n == 4:
            output = "".join(f"line {i} of the output\n" for i in range(LONG_OUTPUT // 24))
            result = {"type": "tool_result", "call_id": "c3", "output": output, "is_error": False}
            messages.append(message("tool", [result], n))
        elif n % 2 == 0:
            text = f"question {n}" + (f" about the {NEEDLE}" if n == NEEDLE_AT - 1 else "")
            messages.append(message("user", [{"type": "text", "text": text}], n))
        else:
            parts: list[dict[str, Any]] = [{"type": "text", "text": f"answer {n}"}]
            if n == NEEDLE_AT:
                parts = [{"type": "text", "text": f"the {NEEDLE} is here"}]
            if n == 3:
                call = {"type": "tool_call", "id": "c3", "name": "Bash", "input": {"command": "ls"}}
                parts.append(call)
            if n == 5:
                edit = {"file_path": "app.py", "old_string": OLD_LINE, "new_string": NEW_LINE}
                parts.append({"type": "tool_call", "id": "c5", "name": "Edit", "input": edit})
            messages.append(message("assistant", parts, n))
    info = {"title": "A long session", "project": project, "cwd": project}
    return _doc(LONG_ID, info, messages)


def secret_doc(project: str) -> dict[str, Any]:
    messages = [
        message("user", [{"type": "text", "text": f"my token is {SECRET}, keep it"}], 0),
        message("assistant", [{"type": "text", "text": "I will not repeat it."}], 1),
    ]
    return _doc(SECRET_ID, {"title": "A secret", "project": project}, messages)


def write_team(project: Path) -> None:
    """Team `crew` as `tether team start` records it: its planner on the long session."""
    from tests.stores import CLAUDE_ID

    folder = project / ".tether" / "teams"
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "team": TEAM,
        "root": str(project),
        "tmux_session": TEAM,
        "agents": [
            {
                "name": "planner",
                "tool": "claude",
                "command": ["claude"],
                "cwd": str(project),
                "tmux_target": f"{TEAM}:planner",
                "native_id": CLAUDE_ID,
                "started_at": "2026-11-20T09:00:00.000+00:00",
                "moved_from": [],
            },
            {
                "name": "coder",
                "tool": "codex",
                "command": ["codex"],
                "cwd": str(project),
                "tmux_target": f"{TEAM}:coder",
                "native_id": None,
                "started_at": "2026-11-20T09:00:01.000+00:00",
                "moved_from": [],
            },
        ],
        "stopped_at": None,
        "version": 1,
    }
    (folder / f"{TEAM}.json").write_text(json.dumps(record))


TOKEN = "test-token"
HOST = "127.0.0.1:8766"


class Pages:
    """The app driven in-process through httpx, as a browser would (cookies kept)."""

    def __init__(self, app: Any, host: str = HOST) -> None:
        import asyncio

        import httpx

        self.runner = asyncio.Runner()
        transport = httpx.ASGITransport(app=app)
        self.client = httpx.AsyncClient(transport=transport, base_url=f"http://{host}")

    def get(self, url: str, **options: Any) -> Any:
        return self.runner.run(self.client.get(url, **options))

    def post(self, url: str, **options: Any) -> Any:
        return self.runner.run(self.client.post(url, **options))

    def signed_in(self) -> Pages:
        answer = self.get(f"/?token={TOKEN}")
        assert answer.status_code == 303, answer.text
        return self

    def close(self) -> None:
        self.runner.run(self.client.aclose())
        self.runner.close()


def local_app(built: WebHome) -> Any:
    from tether.web.app import create_app
    from tether.web.auth import TokenAuth
    from tether.web.local import LocalSource

    auth = TokenAuth(TOKEN, frozenset({HOST}))
    return create_app(LocalSource(built.db, roots=(built.project,)), auth)
