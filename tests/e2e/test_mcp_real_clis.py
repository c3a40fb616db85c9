"""tether's MCP server in the real CLIs: after `tether mcp install --for X`, the mock model
answers X's first request with a call to tether's search tool (under the name X gives it);
X runs it through `tether mcp serve`, and its next request to the model carries the hit: a
word that only another tool's session holds, and that session's id.

The six CLIs run side by side, each in its own HOME with its own archive.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tether.mcp.install import command

from . import clis
from .conftest import require_qwen_and_opencode
from .mockmodel import MCP_SEARCH, conversation, offered_tools

WORD = "zirconpelican4711"
PROMPT = f"What was tried before about the cache? SEARCH:{WORD[::-1]}"
# How each CLI names an MCP server's tool (seen in the requests they send).
EXPECTED_NAMES = {
    "claude": "mcp__tether__search_sessions",
    "codex": "mcp__tether__search_sessions",  # the tool search_sessions of namespace mcp__tether
    "gemini": "mcp_tether_search_sessions",
    "copilot": "tether-search_sessions",
    "qwen": "mcp__tether__search_sessions",
    "opencode": "tether_search_sessions",
}
CLIS = tuple(EXPECTED_NAMES)


def tether(*args: str, env: dict[str, str]) -> str:
    argv = [*command()[:-2], *args]  # this tether: its launcher, without `mcp serve`
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{argv}: {done.stderr}"
    return done.stdout


def archive_with_the_word(base: Path, env: dict[str, str]) -> str:
    """An archive holding one Codex session that says WORD; its tether id."""
    doc = {
        "format": "tether.session",
        "version": 1,
        "session": {"tool": "codex", "native_id": "019a0000-0000-7000-8000-00000000c0de",
                    "project": "/srv/other", "title": "Flushing the cache"},
        "messages": [
            {"role": "user", "timestamp": "2026-11-01T10:00:00Z",
             "parts": [{"type": "text", "text": f"Try {WORD} to flush the cache"}]},
            {"role": "assistant", "timestamp": "2026-11-01T10:00:05Z",
             "parts": [{"type": "text", "text": "That did not flush it."}]},
        ],
    }  # fmt: skip
    path = base / "other-session.json"
    base.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    imported = json.loads(tether("import", str(path), "--json", env=env))
    return str(imported["sessions"][0]["id"])


def installed(cli: str, home: Path, env: dict[str, str], config: Path | None, text: str) -> str:
    """`tether mcp install --for cli` over the CLI's own config (if the test writes one);
    the config as the install left it."""
    if config is not None:
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(text)
    done = json.loads(tether("mcp", "install", "--for", cli, "--json", env=env))
    assert done["changes"][0]["changed"], done
    path = Path(done["changes"][0]["path"])
    assert path.is_relative_to(home), path
    return path.read_text()


def required(config: str) -> str:
    """Codex's config with tether's server required: `codex exec` starts its first turn
    without waiting for the servers that are not."""
    import tomlkit

    doc = tomlkit.parse(config)
    doc["mcp_servers"]["tether"]["required"] = True  # type: ignore[index]
    doc["mcp_servers"]["tether"]["startup_timeout_sec"] = 120  # type: ignore[index]
    return doc.as_string()


def compiled_rules(base: Path) -> Path:
    """The redaction rules, compiled once (5-40 s) into a cache folder to copy from: the
    server of each CLI finds them in its HOME's cache, as a user's finds its own."""
    cache = base / "cache"
    env = {**clis.base_env(base), "TETHER_HOME": str(base / "rules"), "XDG_CACHE_HOME": str(cache)}
    archive_with_the_word(base, env)
    tether("secrets", "scan", "--all", "--json", env=env)
    return cache / "tether"


def run_with_tether(cli: str, base: Path, rules: Path) -> tuple[clis.Run, str]:
    home, cwd = base / cli / "home", base / cli / "project"
    home.mkdir(parents=True)
    shutil.copytree(rules, home / ".cache" / "tether")
    env = {**clis.base_env(home), "TETHER_HOME": str(base / cli / "tether")}
    source = archive_with_the_word(base / cli, env)
    runners: dict[str, Callable[[], clis.Run]] = {
        "claude": lambda: (
            installed(cli, home, env, None, ""),
            clis.run_claude(home, cwd, PROMPT, allowed_tools=EXPECTED_NAMES["claude"],
                            env={"MCP_CONNECT_TIMEOUT_MS": "120000"}),  # a loaded box
        )[1],
        "codex": lambda: clis.run_codex(
            home, cwd, PROMPT,
            config=required(installed(cli, home, env, home / ".codex/config.toml",
                                      clis.CODEX_CONFIG)),
        ),
        "gemini": lambda: clis.run_gemini(
            home, cwd, PROMPT,
            settings=json.loads(installed(cli, home, env, home / ".gemini/settings.json",
                                          json.dumps(clis.GEMINI_SETTINGS))),
        ),
        "copilot": lambda: (
            installed(cli, home, env, None, ""),
            clis.run_copilot(home, cwd, PROMPT),
        )[1],
        "qwen": lambda: clis.run_qwen(
            home, cwd, PROMPT,
            settings=json.loads(installed(cli, home, env, home / ".qwen/settings.json",
                                          json.dumps(clis.QWEN_SETTINGS))),
        ),
        "opencode": lambda: clis.run_opencode(
            home, cwd, PROMPT,
            config=json.loads(installed(cli, home, env, home / ".config/opencode/opencode.json",
                                        json.dumps(clis.OPENCODE_CONFIG))),
        ),
    }  # fmt: skip
    return runners[cli](), source


@dataclass
class Outcome:
    run: clis.Run | None
    source: str
    error: str = ""


@pytest.fixture(scope="module")
def base_and_rules(
    installed_clis: None, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("mcp-real-clis")
    return base, compiled_rules(base)


@pytest.fixture(scope="module")
def outcomes(base_and_rules: tuple[Path, Path]) -> dict[str, Outcome]:
    require_qwen_and_opencode()
    base, rules = base_and_rules

    def one(cli: str) -> Outcome:
        try:
            return Outcome(*run_with_tether(cli, base, rules))
        except (AssertionError, OSError, RuntimeError, ValueError) as error:
            return Outcome(None, "", str(error))

    with ThreadPoolExecutor(max_workers=len(CLIS)) as pool:
        return dict(zip(CLIS, pool.map(one, CLIS), strict=True))


def search_calls(run: clis.Run) -> list[tuple[str, dict[str, Any]]]:
    calls = []
    for request in run.model_requests():
        calls += [c for c in conversation(request).tool_calls if c[0].endswith(MCP_SEARCH)]
    return calls


def assert_searched(cli: str, run: clis.Run, source: str) -> None:
    """The CLI offered tether's search, ran the call the mock asked for, and sent the hit
    (the other tool's session, by its tether id) back to the model."""
    requests = run.model_requests()
    assert requests, run.describe()
    first = next(r for r in requests if offered_tools(r))  # opencode first names the session
    offered = [name for name in offered_tools(first) if name.endswith(MCP_SEARCH)]
    assert offered == [EXPECTED_NAMES[cli]], (sorted(offered_tools(first)), run.describe())
    assert search_calls(run) and search_calls(run)[-1][1] == {"query": WORD}, run.describe()
    sent = conversation(requests[-1])
    hits = [output for output in sent.tool_outputs if WORD in output]
    assert hits, (sent.tool_outputs, run.describe())
    assert source in hits[-1]
    assert "TOOL-DONE" in run.proc.stdout, run.describe()


@pytest.mark.e2e
@pytest.mark.parametrize("cli", CLIS)
def test_the_cli_searches_tether_and_the_model_gets_the_hit(
    outcomes: dict[str, Outcome], cli: str
) -> None:
    outcome = outcomes[cli]
    assert outcome.run is not None, outcome.error
    assert_searched(cli, outcome.run, outcome.source)


LATE = 15
"""Seconds tether's server is held back in the late-start proof: longer than Copilot CLI
waits for an answer to its `server/discover` probe before it falls back to `initialize`
(~10 s from its start: a server held back 8 s answered the probe in time, 9.5 s not)."""


@pytest.mark.e2e
def test_copilot_uses_a_server_that_starts_after_its_probe_gave_up(
    base_and_rules: tuple[Path, Path],
) -> None:
    """A server that starts slowly (a loaded box) reads Copilot's abandoned probe and its
    `initialize` at once, and must serve the `initialize` (tether.mcp.server.serve_stdio):
    the server is held back LATE seconds by a shell in front of it, and Copilot still
    offers tether's tools and runs the search. Its mcp-config's `timeout` (tool discovery
    and calls) does not move the probe's wait, so the test sets none."""
    base, rules = base_and_rules
    home, cwd = base / "late" / "home", base / "late" / "project"
    home.mkdir(parents=True)
    shutil.copytree(rules, home / ".cache" / "tether")
    env = {**clis.base_env(home), "TETHER_HOME": str(base / "late" / "tether")}
    source = archive_with_the_word(base / "late", env)
    config = Path(json.loads(tether("mcp", "install", "--for", "copilot", "--json", env=env))[
        "changes"][0]["path"])  # fmt: skip
    doc = json.loads(config.read_text())
    server = doc["mcpServers"]["tether"]
    server["args"] = ["-c", f'sleep {LATE}; exec "$0" "$@"', server["command"], *server["args"]]
    server["command"] = "/bin/sh"
    config.write_text(json.dumps(doc))
    run = clis.run_copilot(home, cwd, PROMPT)
    assert_searched("copilot", run, source)
