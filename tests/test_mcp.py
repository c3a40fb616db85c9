"""`tether mcp`: the server's tools through the official SDK's own client (in memory, and
over stdio with `tether mcp serve` as a process), and `mcp install` / `uninstall` in every
tool's configuration file."""

from __future__ import annotations

import ast
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import FIXTURES, run
from tests.secrets_corpus import KINDS
from tether.mcp import install

SRC = Path(__file__).resolve().parents[1] / "src"
CODEX_PATCH = (
    FIXTURES
    / "codex"
    / "real_rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl"
)
CLAUDE = FIXTURES / "claude" / "real_entire_a6_e4c2a0fbd1_0.jsonl"
TOOLS = {
    "search_sessions",
    "recent_sessions",
    "get_session",
    "session_summary",
    "sessions_touching_file",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def rules_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def shared_rules_cache(rules_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The redaction rules compile once for this module, not once per test's own HOME."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(rules_cache))


def secret_session(tmp_path: Path) -> tuple[str, str]:
    """A session (tether's JSON format) whose user text holds a secret: (its id, the secret)."""
    import random

    sample = next(kind for kind in KINDS if kind.name == "github-oauth-token").make(
        random.Random(7)
    )
    secret = sample.material[0]
    doc = {
        "format": "tether.session",
        "version": 1,
        "session": {"tool": "gemini", "native_id": "9f8e7d6c-0000-4000-8000-00000000beef",
                    "project": "/home/dev/shop", "title": "Deploy with the token"},
        "messages": [
            {"role": "user", "timestamp": "2026-05-01T10:00:00Z",
             "parts": [{"type": "text", "text": f"deploy with {sample.snippet} quokkaword"}]},
            {"role": "assistant", "timestamp": "2026-05-01T10:00:05Z",
             "parts": [{"type": "text", "text": "Deployed."}]},
        ],
    }  # fmt: skip
    path = tmp_path / "secret.json"
    path.write_text(json.dumps(doc))
    imported = json.loads(run("import", str(path), "--json").stdout)["sessions"]
    return imported[0]["id"], secret


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Any]:
    from mcp import Client

    from tether.mcp.server import build
    from tether.mcp.source import LocalArchive
    from tether.paths import db_path, tether_home

    for path in (CODEX_PATCH, CLAUDE):
        run("import", str(path))
    home = tether_home()
    source = LocalArchive(db_path(home), home, scan=False)
    async with Client(build(lambda: source, here="/home/dev/shop"), raise_exceptions=True) as c:
        yield c


def test_the_sdk_is_the_real_one_and_nothing_here_shadows_it() -> None:
    import mcp

    import tether.mcp.server

    assert tether.mcp.server.MCPServer.__module__.startswith("mcp.server")
    assert "site-packages" in (mcp.__file__ or "") and mcp is not sys.modules["tether.mcp"]
    for path in (SRC / "tether" / "mcp").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            assert not (isinstance(node, ast.ImportFrom) and node.level), f"{path}: relative"


def test_help_loads_neither_the_sdk_nor_prices_nor_tomlkit() -> None:
    import subprocess

    code = (
        "import sys; from tether.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('mcp', 'genai_prices', 'tomlkit', 'pydantic')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


LOADED_AT_EXIT = """
import atexit, json, sys
from tether.cli import main
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["tether", "mcp", "serve"]
main()
"""


INITIALIZE = {"id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25",
              "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}}  # fmt: skip
LIST = [{"method": "notifications/initialized"}, {"id": 2, "method": "tools/list"}]
DISCOVER = {"id": 0, "method": "server/discover", "params": {"_meta": {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "0"},
    "io.modelcontextprotocol/clientCapabilities": {}}}}  # fmt: skip


def serve_raw(tmp_path: Path, messages: list[dict[str, Any]]) -> tuple[dict[Any, Any], str]:
    """`tether mcp serve` sent these messages at once, as a client that does not wait for
    the server's replies; stdin closes once every request has its reply (or the server
    ends). Its replies by id, and its stderr."""
    import subprocess

    lines = "".join(json.dumps({"jsonrpc": "2.0", **m}) + "\n" for m in messages)
    wanted = {m["id"] for m in messages if "id" in m}
    server = subprocess.Popen(
        [sys.executable, "-c", LOADED_AT_EXIT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(lines)
    server.stdin.flush()
    replies: dict[Any, Any] = {}
    while not wanted <= replies.keys() and (line := server.stdout.readline()):
        reply = json.loads(line)
        replies[reply.get("id")] = reply
    _, stderr = server.communicate(timeout=120)
    return replies, stderr


def test_a_discover_the_client_gave_up_on_does_not_refuse_its_initialize(tmp_path: Path) -> None:
    """Copilot CLI probes `server/discover` (the 2026-07-28 protocol) and, after ~10 s
    without an answer, falls back to `initialize`; a server that was still starting reads
    both at once. The server answers the probe with an error and serves the `initialize`
    handshake: it never locks the connection to the era of a probe nobody waits for."""
    replies, stderr = serve_raw(tmp_path, [DISCOVER, INITIALIZE, *LIST])
    assert "error" in replies[0]
    assert replies[1]["result"]["protocolVersion"] == "2025-11-25", replies[1]
    assert {tool["name"] for tool in replies[2]["result"]["tools"]} == TOOLS, stderr


def test_serve_lists_its_tools_before_loading_the_archive_or_the_rules(tmp_path: Path) -> None:
    """Coding tools give a server only seconds to answer (Copilot ~10 s from spawn, on a
    loaded box): the archive's queries, the redaction rules and the summaries load with
    the first tool call, and the tool list is whole anyway."""
    replies, stderr = serve_raw(tmp_path, [INITIALIZE, *LIST])
    done = SimpleNamespace(stderr=stderr)
    listed = replies[2]["result"]["tools"]
    assert {tool["name"] for tool in listed} == TOOLS, done.stderr
    for tool in listed:
        assert tool["outputSchema"]["type"] == "object" and tool["outputSchema"]["properties"]
        assert tool["inputSchema"]["type"] == "object"
    loaded = json.loads(done.stderr.strip().splitlines()[-1])
    late = ("tether.archive", "tether.redact", "tether.summary", "tether.capture", "tether.model")
    assert [name for name in loaded if name.startswith(late)] == []


@pytest.mark.anyio
async def test_five_read_only_tools_with_typed_output(client: Any) -> None:
    listed = (await client.list_tools()).tools
    assert {tool.name for tool in listed} == TOOLS
    for tool in listed:
        assert tool.annotations.read_only_hint is True
        assert tool.output_schema and tool.output_schema["type"] == "object"
        assert tool.description


@pytest.mark.anyio
async def test_search_finds_and_says_how_to_get_more(client: Any) -> None:
    found = await client.call_tool("search_sessions", {"query": "lmstudio", "limit": 1})
    assert not found.is_error
    hits = found.structured_content["hits"]
    assert len(hits) == 1 and hits[0]["tool"] == "codex" and "«" in hits[0]["snippet"]
    assert "limit=2" in found.structured_content["more"]
    narrowed = await client.call_tool(
        "search_sessions", {"query": "lmstudio", "tool": "claude", "since": "2020-01-01"}
    )
    assert narrowed.structured_content["hits"] == []
    bad = await client.call_tool("search_sessions", {"query": "x", "limit": 500})
    assert bad.is_error
    unknown = await client.call_tool("search_sessions", {"query": "x", "tool": "nosuch"})
    assert unknown.is_error and "unknown tool" in unknown.content[0].text


@pytest.mark.anyio
async def test_get_session_pages_within_the_cap(client: Any) -> None:
    first = await client.call_tool(
        "get_session", {"session_id": "019a93b9-f380-7600-98ff-940e6b99603c", "max_chars": 2000}
    )
    page = first.structured_content
    assert page["session"]["tool"] == "codex" and page["offset"] == 0
    assert sum(len(m["text"]) for m in page["messages"][1:]) <= 2000
    assert page["next_offset"] and f"offset={page['next_offset']}" in page["more"]
    second = await client.call_tool(
        "get_session",
        {"session_id": page["session"]["session_id"], "offset": page["next_offset"]},
    )
    assert second.structured_content["messages"][0]["index"] == page["next_offset"]
    assert any("[call " in m["text"] for m in second.structured_content["messages"])
    missing = await client.call_tool("get_session", {"session_id": "nosuch"})
    assert missing.is_error and "no session matches" in missing.content[0].text


@pytest.mark.anyio
async def test_summary_recent_and_files(client: Any) -> None:
    summary = await client.call_tool("session_summary", {"session_id": "019a93b9"})
    assert summary.structured_content["files"]["edit"] == ["components/chat/chat-helpers/index.ts"]
    assert summary.structured_content["truncated"] == []
    touching = await client.call_tool("sessions_touching_file", {"path": "chat-helpers/index.ts"})
    sessions = touching.structured_content["sessions"]
    assert [s["session"]["tool"] for s in sessions] == ["codex"]
    assert sessions[0]["edit"] >= 1 and sessions[0]["read"] == 0
    assert (
        await client.call_tool("sessions_touching_file", {"path": "nope.rs"})
    ).structured_content["sessions"] == []
    recent = await client.call_tool("recent_sessions", {"limit": 5})
    assert recent.structured_content["project"] == "/home/dev/shop"
    assert len(recent.structured_content["sessions"]) == 2


@pytest.mark.anyio
async def test_answers_are_redacted(client: Any, tmp_path: Path) -> None:
    ident, secret = secret_session(tmp_path)
    found = await client.call_tool("search_sessions", {"query": "quokkaword"})
    page = await client.call_tool("get_session", {"session_id": ident})
    recent = await client.call_tool("recent_sessions", {"project": "/home/dev/shop"})
    for answer in (found, page, recent):
        text = json.dumps(answer.structured_content) + answer.content[0].text
        assert secret not in text
    assert "[REDACTED:" in json.dumps(page.structured_content)
    assert recent.structured_content["sessions"][0]["session_id"] == ident  # this project first


def test_serve_speaks_mcp_on_stdio(tmp_path: Path) -> None:
    import anyio
    from mcp import Client, StdioServerParameters

    run("import", str(CODEX_PATCH))
    launcher = install.command()
    params = StdioServerParameters(
        command=launcher[0],
        args=launcher[1:],
        env={key: os.environ[key] for key in ("TETHER_HOME", "HOME", "XDG_CACHE_HOME")},
        cwd=str(tmp_path),
    )

    async def ask() -> Any:
        async with Client(params) as client:
            return await client.call_tool("search_sessions", {"query": "lmstudio"})

    answer = anyio.run(ask)
    assert not answer.is_error and answer.structured_content["hits"][0]["tool"] == "codex"


# ------------------------------------------------------------------------- install


def configure(*args: str, ok: bool = True) -> dict[str, Any]:
    result = run("mcp", *args, "--json", ok=ok)
    return json.loads(result.stdout) if ok else {"code": result.exit_code}


USER_FILES = {
    "claude": ".claude.json",
    "codex": ".codex/config.toml",
    "gemini": ".gemini/settings.json",
    "copilot": ".copilot/mcp-config.json",
    "qwen": ".qwen/settings.json",
    "opencode": ".config/opencode/opencode.json",
    "cursor": ".cursor/mcp.json",
    "amp": ".config/amp/settings.json",
}


def servers_in(path: Path) -> dict[str, Any]:
    if path.suffix == ".toml":
        import tomllib

        return dict(tomllib.loads(path.read_text()).get("mcp_servers", {}))
    doc = json.loads(path.read_text())
    for key in ("mcpServers", "mcp", "amp.mcpServers"):
        if key in doc:
            return dict(doc[key])
    return {}


def test_install_in_every_tool_is_idempotent_and_keeps_the_rest(isolated_home: Path) -> None:
    mine = {"mcpServers": {"other": {"command": "other-server"}}, "theme": "dark"}
    (isolated_home / ".cursor").mkdir()
    (isolated_home / ".cursor" / "mcp.json").write_text(json.dumps(mine, indent=4) + "\n")
    codex = isolated_home / ".codex" / "config.toml"
    codex.parent.mkdir()
    codex.write_text(
        '# my settings\nmodel = "o3"  # the best\n\n[mcp_servers.docs]\ncommand = "docs"\n'
    )
    tools = [arg for tool in USER_FILES for arg in ("--for", tool)]
    first = configure("install", *tools)
    assert [c["tool"] for c in first["changes"]] == list(USER_FILES)
    assert all(c["changed"] for c in first["changes"])
    for tool, name in USER_FILES.items():
        entry = servers_in(isolated_home / name)["tether"]
        argv = entry["command"] if tool == "opencode" else [entry["command"], *entry["args"]]
        assert argv == first["command"] and argv[-2:] == ["mcp", "serve"], tool
        assert (
            entry.get("env", entry.get("environment"))["TETHER_HOME"] == os.environ["TETHER_HOME"]
        )
    # the user's own servers and settings stay, formatting included
    cursor = json.loads((isolated_home / ".cursor" / "mcp.json").read_text())
    assert (
        cursor["theme"] == "dark" and cursor["mcpServers"]["other"] == mine["mcpServers"]["other"]
    )
    assert (isolated_home / ".cursor" / "mcp.json").read_text().startswith('{\n    "mcpServers"')
    text = codex.read_text()
    assert text.startswith('# my settings\nmodel = "o3"  # the best\n\n[mcp_servers.docs]')
    assert set(servers_in(codex)) == {"docs", "tether"}
    # backups of the files that were there before, and only of those
    backups = {c["tool"]: c["backup"] for c in first["changes"]}
    assert (
        backups["cursor"]
        and Path(backups["cursor"]).read_text() == json.dumps(mine, indent=4) + "\n"
    )
    assert backups["codex"] and backups["claude"] is None
    # again: nothing changes
    again = configure("install", *tools)
    assert not any(c["changed"] for c in again["changes"])
    # uninstall takes tether's entry out, and nothing else
    removed = configure("uninstall", *tools)
    assert all(c["changed"] for c in removed["changes"])
    assert servers_in(codex) == {"docs": {"command": "docs"}}
    assert "[mcp_servers.docs]" in codex.read_text() and "# the best" in codex.read_text()
    assert servers_in(isolated_home / ".cursor" / "mcp.json") == mine["mcpServers"]
    assert not any(c["changed"] for c in configure("uninstall", *tools)["changes"])


def test_install_for_a_project_and_the_variables_that_move_files(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    monkeypatch.chdir(project)
    done = configure("install", "--for", "claude", "--for", "copilot", "--for", "roo", "--scope",
                     "project")  # fmt: skip
    assert [(c["path"], c["changed"]) for c in done["changes"]] == [
        (str(project / ".mcp.json"), True),
        (str(project / ".mcp.json"), False),  # Copilot reads Claude Code's: already there
        (str(project / ".roo" / "mcp.json"), True),
    ]
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude-config"))
    done = configure("install", "--for", "codex", "--for", "claude")
    assert [c["path"] for c in done["changes"]] == [
        str(tmp_path / "codex-home" / "config.toml"),
        str(tmp_path / "claude-config" / ".claude.json"),
    ]


def test_what_cannot_be_configured_is_said(isolated_home: Path) -> None:
    assert configure("install", "--for", "aider", ok=False)["code"] == 2
    assert configure("install", "--for", "roo", ok=False)["code"] == 2  # user scope: editors'
    assert configure("install", "--for", "nosuch", ok=False)["code"] == 2
    commented = isolated_home / ".gemini" / "settings.json"
    commented.parent.mkdir()
    commented.write_text('{\n  // mine\n  "theme": "x"\n}\n')
    assert configure("install", "--for", "gemini", ok=False)["code"] == 3
    assert commented.read_text() == '{\n  // mine\n  "theme": "x"\n}\n'
    text = run("mcp", "install", "--for", "cursor").stdout
    assert "added to" in text and ".cursor/mcp.json" in text


def test_a_project_file_that_is_a_link_out_of_the_project_is_never_written(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cloned project may commit `.mcp.json` as a link to a file of yours."""
    project = tmp_path / "proj"
    project.mkdir()
    yours = tmp_path / "yours.json"
    yours.write_text('{"mine": true}\n')
    (project / ".mcp.json").symlink_to(yours)
    monkeypatch.chdir(project)
    refused = configure("install", "--for", "claude", "--scope", "project", ok=False)
    assert refused["code"] == 3 and yours.read_text() == '{"mine": true}\n'


def test_the_archive_an_agent_reads_holds_a_line_written_a_moment_before(
    isolated_home: Path,
) -> None:
    """The MCP server's reads are as fresh as `search`'s: no window in which a line a tool
    just wrote is missing (it used to rescan at most every 5 s, and stat every file then)."""
    from tests.stores import append, claude_prompt, place_claude
    from tether.archive.query import Filters
    from tether.mcp.source import LocalArchive
    from tether.paths import db_path, tether_home

    path = place_claude(isolated_home)
    home = tether_home()
    source = LocalArchive(db_path(home), home)
    assert source.search("wombatfirst", Filters()) == []
    for word in ("wombatfirst", "wombatsecond"):
        append(path, claude_prompt(path, f"a line with {word} in it"))
        hits = source.search(word, Filters())
        assert [hit["snippet"] for hit in hits if word in hit["snippet"]], word
