"""Run the real AI coding CLIs headless against the mock model server (tests/e2e/mockmodel.py).

Every run gets the HOME it is given (tests pass a fresh one), the env and config files of
research/real-clis-offline.md, and its own mock server. As root, where ``unshare -n`` works,
the mock and the CLI run together in a loopback-only network namespace: nothing can leave.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from tether.tools.facts.claude import folder_name

from .mockmodel import PORT_TOKEN, Request

REPO = Path(__file__).resolve().parents[2]
MOCKMODEL = Path(__file__).with_name("mockmodel.py")
MOCK_URL = f"http://127.0.0.1:{PORT_TOKEN}"

# Keep in step with scripts/install-clis.sh.
PINS = {
    "claude": ("@anthropic-ai/claude-code", "2.1.197"),
    "codex": ("@openai/codex", "0.169.0"),
    "gemini": ("@google/gemini-cli", "0.61.0"),
    "copilot": ("@github/copilot", "1.0.102"),
}
PYTHON_PINS = {"aider": ("aider-chat", "0.86.2")}
"""Python CLIs, each in its own venv (.cache/<cli>-venv): keep in step with install-clis.sh."""
DEFAULT_TIMEOUT = 120.0


class Run(NamedTuple):
    """One CLI run: its process result and every request the mock received meanwhile."""

    proc: subprocess.CompletedProcess[str]
    requests: list[Request]

    def model_requests(self) -> list[Request]:
        return [request for request in self.requests if request.kind != "other"]

    def describe(self) -> str:
        """For assertion messages: exit code, output tails and the paths requested."""
        paths = [f"{r.method} {r.path}" for r in self.requests]
        return (
            f"exit {self.proc.returncode}; argv {self.proc.args}\nrequests: {paths}\n"
            f"stdout: {self.proc.stdout[-3000:]}\nstderr: {self.proc.stderr[-3000:]}"
        )


def clis_dir() -> Path:
    return Path(os.environ.get("TETHER_CLIS_DIR") or REPO / ".cache" / "clis")


BINARY_PATHS = {"kilo": ("@kilocode", "cli-linux-x64", "bin", "kilo")}
"""CLIs whose npm package has no bin entry: their binary below node_modules."""


def binary(cli: str) -> Path:
    if cli in BINARY_PATHS:
        return clis_dir().joinpath("node_modules", *BINARY_PATHS[cli])
    return clis_dir() / "node_modules" / ".bin" / cli


def installed_version(cli: str) -> str | None:
    manifest = clis_dir() / "node_modules" / PINS[cli][0] / "package.json"
    try:
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def missing_clis() -> list[str]:
    """The pinned CLIs that are not installed (at their pinned version)."""
    return [
        f"{package}@{version}"
        for cli, (package, version) in PINS.items()
        if installed_version(cli) != version or not binary(cli).exists()
    ]


@functools.cache
def use_namespace() -> bool:
    """Whether runs go into a loopback-only network namespace (root, and unshare works)."""
    if os.environ.get("TETHER_E2E_NETNS") == "0" or os.geteuid() != 0:
        return False
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    return probe.returncode == 0


def base_env(home: Path) -> dict[str, str]:
    """A small, fixed environment: nothing of the caller's (keys, proxies, config) leaks in."""
    node_dir = str(Path(shutil.which("node") or "/usr/bin/node").parent)
    path = os.pathsep.join(dict.fromkeys([node_dir, "/usr/local/bin", "/usr/bin", "/bin"]))
    return {
        "HOME": str(home),
        "PATH": path,
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "CI": "1",
        "TZ": "UTC",
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
        "TETHER_WATCH_ON_DEMAND": "0",  # no watcher left behind by a tether run here
    }


def run_cli(
    argv: list[str],
    home: Path,
    cwd: Path,
    env: dict[str, str],
    files: dict[Path, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    typed: tuple[str, ...] = (),
    ready: tuple[str, ...] = (),
) -> Run:
    """Run argv against a fresh mock; ``@MOCK_PORT@`` in env and files is its port.

    With ``typed``, the CLI runs in a terminal (its TUI) and each text is typed in turn,
    once the screen has settled (and shows one of ``ready``, its input box) and the mock has
    answered the one before."""
    home.mkdir(parents=True, exist_ok=True)
    cwd.mkdir(parents=True, exist_ok=True)
    namespace = use_namespace()
    with tempfile.TemporaryDirectory(prefix="tether-e2e-") as scratch:
        spec_path, record_path = Path(scratch, "spec.json"), Path(scratch, "record.json")
        spec: dict[str, Any] = {
            "argv": argv,
            "env": {**base_env(home), **env},
            "cwd": str(cwd),
            "files": {str(path): text for path, text in (files or {}).items()},
            "timeout": timeout,
            "record": str(record_path),
            "namespace": namespace,
            "typed": list(typed),
            "ready": list(ready),
        }
        spec_path.write_text(json.dumps(spec))
        runner = [sys.executable, str(MOCKMODEL), str(spec_path)]
        if namespace:
            runner = ["unshare", "-n", *runner]
        done = subprocess.run(
            runner, capture_output=True, text=True, timeout=timeout + 60, check=False
        )
        if not record_path.exists():
            raise RuntimeError(f"mock runner failed ({done.returncode}): {done.stderr[-3000:]}")
        record = json.loads(record_path.read_text())
    returncode = -9 if record["timed_out"] else record["returncode"]
    proc = subprocess.CompletedProcess(
        argv, returncode, record["stdout"], record["stderr"] + done.stderr
    )
    return Run(proc, [Request(**request) for request in record["requests"]])


# ---------------------------------------------------------------------------------------
# Claude Code

CLAUDE_ENV = {
    "ANTHROPIC_BASE_URL": MOCK_URL,
    "ANTHROPIC_API_KEY": "sk-ant-test",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_ERROR_REPORTING": "1",
}


def run_claude(
    home: Path,
    cwd: Path,
    prompt: str,
    session_id: str | None = None,
    resume: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    continue_last: bool = False,
    allowed_tools: str = "Bash",
    env: dict[str, str] | None = None,
) -> Run:
    """``claude -p``: new (``session_id``), ``--resume``, or ``--continue`` (latest in cwd);
    ``allowed_tools`` run without asking (``--allowedTools``); ``env`` adds to CLAUDE_ENV."""
    argv = [
        str(binary("claude")),
        "-p",
        prompt,
        "--output-format",
        "json",
        "--allowedTools",
        allowed_tools,
    ]
    if session_id:
        argv += ["--session-id", session_id]
    if resume:
        argv += ["--resume", resume]
    if continue_last:
        argv += ["--continue"]
    return run_cli(argv, home, cwd, {**CLAUDE_ENV, **(env or {})}, timeout=timeout)


def claude_project_dir(home: Path, cwd: Path) -> Path:
    return home / ".claude" / "projects" / folder_name(str(cwd.resolve()))


def claude_session_file(home: Path, cwd: Path, session_id: str) -> Path:
    return claude_project_dir(home, cwd) / f"{session_id}.jsonl"


# ---------------------------------------------------------------------------------------
# Codex CLI

CODEX_CONFIG = f"""\
model = "test-model"
model_provider = "mock"
approval_policy = "never"
sandbox_mode = "workspace-write"

[model_providers.mock]
name = "Mock"
base_url = "{MOCK_URL}/v1"
wire_api = "responses"
env_key = "MOCK_API_KEY"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false

[features]
plugins = false
"""
CODEX_ENV = {"MOCK_API_KEY": "x"}


def run_codex(
    home: Path,
    cwd: Path,
    prompt: str,
    resume: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    continue_last: bool = False,
    config: str = CODEX_CONFIG,
) -> Run:
    """``codex exec`` (a new session), ``exec resume <id>`` or ``exec resume --last`` (the
    latest session of the cwd); --json prints the id. ``config`` is its config.toml."""
    argv = [str(binary("codex")), "exec", "--skip-git-repo-check", "--json"]
    if continue_last:
        argv += ["resume", "--last", prompt]
    else:
        argv += ["resume", resume, prompt] if resume else [prompt]
    files = {home / ".codex" / "config.toml": config}
    return run_cli(argv, home, cwd, dict(CODEX_ENV), files, timeout)


def codex_thread_id(run: Run) -> str:
    """The session id from ``codex exec --json`` output (its thread.started event)."""
    for line in run.proc.stdout.splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            if event.get("type") == "thread.started":
                return str(event["thread_id"])
    raise AssertionError(f"no thread.started event\n{run.describe()}")


def codex_session_files(home: Path) -> list[Path]:
    return sorted((home / ".codex" / "sessions").glob("*/*/*/rollout-*.jsonl"))


# ---------------------------------------------------------------------------------------
# Gemini CLI

GEMINI_SETTINGS = {
    "privacy": {"usageStatisticsEnabled": False},
    "telemetry": {"enabled": False},
    "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}},
    "general": {
        "disableAutoUpdate": True,
        "disableUpdateNag": True,
        "sessionRetention": {"enabled": False},
    },
    "model": {"name": "gemini-2.5-flash"},
}
GEMINI_ENV = {
    "GEMINI_API_KEY": "test",
    "GOOGLE_GEMINI_BASE_URL": MOCK_URL,
    "GEMINI_CLI_TRUST_WORKSPACE": "true",
}


def run_gemini(
    home: Path,
    cwd: Path,
    prompt: str,
    session_id: str | None = None,
    resume: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    continue_last: bool = False,
    settings: dict[str, Any] | None = None,
    extra: tuple[str, ...] = (),
) -> Run:
    """``gemini -p``: new, ``--resume <id>``, or ``--resume latest`` (latest of the project).

    ``settings`` replaces GEMINI_SETTINGS (a test of session clean-up turns it on);
    ``extra`` arguments go last (``--list-sessions``).
    """
    argv = [
        str(binary("gemini")),
        "-p",
        prompt,
        "--approval-mode",
        "yolo",
        "--output-format",
        "json",
    ]
    if session_id:
        argv += ["--session-id", session_id]
    if resume:
        argv += ["--resume", resume]
    if continue_last:
        argv += ["--resume", "latest"]
    argv += extra
    config = GEMINI_SETTINGS if settings is None else settings
    files = {home / ".gemini" / "settings.json": json.dumps(config, indent=2)}
    return run_cli(argv, home, cwd, dict(GEMINI_ENV), files, timeout)


def gemini_session_files(home: Path) -> list[Path]:
    return sorted((home / ".gemini" / "tmp").glob("*/chats/session-*.jsonl"))


# ---------------------------------------------------------------------------------------
# Copilot CLI


def copilot_env() -> dict[str, str]:
    return {
        "COPILOT_OFFLINE": "true",
        "COPILOT_PROVIDER_BASE_URL": f"{MOCK_URL}/v1",
        "COPILOT_PROVIDER_TYPE": "openai",
        "COPILOT_PROVIDER_API_KEY": "test",
        "COPILOT_MODEL": "gpt-4.1",
        "COPILOT_AUTO_UPDATE": "false",
        # Copilot unpacks ~235 MB of itself into the cache dir on first run: share it.
        "XDG_CACHE_HOME": str(clis_dir() / "xdg-cache"),
    }


def run_copilot(
    home: Path,
    cwd: Path,
    prompt: str,
    session_id: str | None = None,
    resume: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    continue_last: bool = False,
) -> Run:
    """``copilot -p``: new, ``--resume=<id>``, or ``--continue`` (the latest session)."""
    argv = [
        str(binary("copilot")),
        "-p",
        prompt,
        "--allow-all-tools",
        "--disable-client-telemetry",
        "--no-auto-update",
        "-s",
    ]
    if session_id:
        argv += ["--session-id", session_id]
    if resume:
        argv += [f"--resume={resume}"]
    if continue_last:
        argv += ["--continue"]
    return run_cli(argv, home, cwd, copilot_env(), timeout=timeout)


def copilot_session_dir(home: Path, session_id: str) -> Path:
    return home / ".copilot" / "session-state" / session_id


# ---------------------------------------------------------------------------------------
# Qwen Code (a conversion target only: no RealSession of its own)

TARGET_PINS = {
    "qwen": ("@qwen-code/qwen-code", "0.24.4"),
    "cline": ("cline", "3.0.65"),
    # The @kilocode/cli wrapper's own platform packages are not all on the registry (its
    # 7.8.1 install fails on a missing musl one): the linux-x64 binary package, pinned
    # alone, is the Kilo CLI itself.
    "kilo": ("@kilocode/cli-linux-x64", "7.7.9"),
}
"""npm CLIs beyond the four of PINS (each of which writes a RealSession): conversion
targets and the tools whose auto-resume and readers the tests prove. Keep in step with
scripts/install-clis.sh."""
QWEN_MODEL = "test-model"
QWEN_SETTINGS = {
    "privacy": {"usageStatisticsEnabled": False},
    "telemetry": {"enabled": False},
    "general": {"enableAutoUpdate": False},
    # Its background memory extraction would send one more request after each turn.
    "memory": {"enableManagedAutoMemory": False, "enableManagedAutoDream": False},
}
QWEN_ENV = {"QWEN_DISABLE_AUTO_TITLE": "1", "QWEN_CODE_SUPPRESS_YOLO_WARNING": "1"}


def target_missing(cli: str) -> str | None:
    """The pinned target CLI, unless it is installed at its pinned version."""
    package, version = TARGET_PINS[cli]
    manifest = clis_dir() / "node_modules" / package / "package.json"
    try:
        installed = json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        installed = None
    return None if installed == version and binary(cli).exists() else f"{package}@{version}"


def run_qwen(
    home: Path,
    cwd: Path,
    prompt: str,
    session_id: str | None = None,
    resume: str | None = None,
    continue_last: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    settings: dict[str, Any] | None = None,
) -> Run:
    """``qwen -p``: new (``session_id``), ``--resume <id>``, or ``--continue`` (the latest
    session of the folder), OpenAI chat completions against the mock, every tool approved.
    ``settings`` replaces QWEN_SETTINGS."""
    argv = [
        str(binary("qwen")),
        *("-p", prompt, "--yolo", "--auth-type", "openai", "--openai-api-key", "test"),
        *("--openai-base-url", f"{MOCK_URL}/v1", "-m", QWEN_MODEL),
    ]
    if session_id:
        argv += ["--session-id", session_id]
    if resume:
        argv += ["--resume", resume]
    if continue_last:
        argv += ["--continue"]
    config = QWEN_SETTINGS if settings is None else settings
    files = {home / ".qwen" / "settings.json": json.dumps(config, indent=2)}
    return run_cli(argv, home, cwd, dict(QWEN_ENV), files, timeout)


def qwen_session_files(home: Path) -> list[Path]:
    return sorted((home / ".qwen" / "projects").glob("*/chats/*.jsonl"))


def require_target(cli: str) -> None:
    """Skip (fail under TETHER_E2E) unless the pinned target CLI is installed."""
    import pytest

    missing = opencode_missing() if cli == "opencode" else target_missing(cli)
    if missing:
        message = f"{missing} not installed: run scripts/install-clis.sh"
        if os.environ.get("TETHER_E2E", "0") not in ("", "0"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


# ---------------------------------------------------------------------------------------
# Cline (3.0: its own session store, ~/.cline/data/sessions/<id>/)

CLINE_MODEL = "test-model"
CLINE_ENV = {
    # A local session store: no background hub daemon that outlives the run.
    "CLINE_SESSION_BACKEND_MODE": "local",
    "CLINE_NO_AUTO_UPDATE": "1",
    "DO_NOT_TRACK": "1",
    "CLINE_DISABLE_CLINE_PASS_NOTICE": "1",
}


CLINE_READY = ("What can I do for you?", "Ask anything")
"""The placeholder of the TUI's input box: it takes keys once it shows."""


def cline_files(home: Path) -> dict[Path, str]:
    """Cline's provider settings under ``home``: an OpenAI-compatible provider at the mock."""
    settings = {
        "version": 1,
        "lastUsedProvider": "openai-compatible",
        "modes": {},
        "providers": {
            "openai-compatible": {
                "settings": {
                    "provider": "openai-compatible",
                    "apiKey": "test",
                    "model": CLINE_MODEL,
                    "baseUrl": f"{MOCK_URL}/v1",
                },
                "updatedAt": "2026-12-01T00:00:00.000Z",
                "tokenSource": "manual",
            }
        },
    }
    return {home / ".cline" / "data" / "settings" / "providers.json": json.dumps(settings)}


def run_cline(
    home: Path,
    cwd: Path,
    prompt: str,
    resume: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    typed: tuple[str, ...] = (),
    tui: bool = False,
) -> Run:
    """``cline --json PROMPT`` (headless, a new session), or Cline's TUI under a terminal:
    ``cline --id ID`` (``resume``) or ``cline`` (``tui``, or when ``typed`` is given), with
    ``prompt`` and then each of ``typed`` typed into it (its resume opens the TUI only)."""
    if resume is None and not typed and not tui:
        argv = [str(binary("cline")), "--json", prompt]
        return run_cli(argv, home, cwd, dict(CLINE_ENV), cline_files(home), timeout)
    argv = [str(binary("cline")), *(["--id", resume] if resume else [])]
    keys = (prompt, *typed)
    files = cline_files(home)
    return run_cli(argv, home, cwd, dict(CLINE_ENV), files, timeout, keys, CLINE_READY)


def cline_sessions(home: Path) -> list[Path]:
    return sorted((home / ".cline" / "data" / "sessions").glob("*/*.messages.json"))


# ---------------------------------------------------------------------------------------
# Kilo Code's CLI (an opencode fork: opencode's config and flags under its own names)

KILO_ENV = {
    "KILO_DISABLE_AUTOUPDATE": "1",
    "KILO_DISABLE_MODELS_FETCH": "1",
    "KILO_DISABLE_LSP_DOWNLOAD": "1",
    "KILO_DISABLE_DEFAULT_PLUGINS": "1",
    "KILO_DISABLE_SHARE": "1",
    "KILO_NO_DAEMON": "1",
    "KILO_TELEMETRY_LEVEL": "off",
}


def kilo_config_files(home: Path) -> dict[Path, str]:
    config = {key: value for key, value in OPENCODE_CONFIG.items() if key != "$schema"}
    return {home / ".config" / "kilo" / "kilo.json": json.dumps(config)}


def run_kilo(
    home: Path,
    cwd: Path,
    prompt: str,
    session: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Run:
    """``kilo run --auto``: new, or ``--session <id>``, as ``run_opencode``."""
    return run_opencode(home, cwd, prompt, session, timeout=timeout, cli="kilo")


# ---------------------------------------------------------------------------------------
# Aider (Python, its own venv)


def aider_venv() -> Path:
    return Path(os.environ.get("TETHER_AIDER_VENV") or REPO / ".cache" / "aider-venv")


def aider_binary() -> Path:
    return aider_venv() / "bin" / "aider"


def aider_missing() -> str | None:
    """The pinned aider-chat, unless its venv has it at the pinned version."""
    package, version = PYTHON_PINS["aider"]
    found = list(
        (aider_venv() / "lib").glob(f"python3*/site-packages/aider_chat-{version}.dist-info")
    )
    return None if found and aider_binary().exists() else f"{package}=={version}"


AIDER_MODEL = "gpt-4.1"
AIDER_ENV = {
    # litellm would fetch its model price map from GitHub at import.
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "AIDER_ANALYTICS": "false",
    "AIDER_CHECK_UPDATE": "false",
}


def run_aider(
    home: Path,
    cwd: Path,
    prompt: str,
    restore: bool = True,
    history_file: Path | None = None,
    extra: tuple[str, ...] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> Run:
    """``aider --message PROMPT``: headless, no git, every confirmation yes, against the
    mock's OpenAI chat completions; ``restore`` loads the history (``history_file``, else
    the folder's own ``.aider.chat.history.md``). ``extra`` arguments go last (a resume
    command's own arguments)."""
    argv = [
        str(aider_binary()),
        *("--message", prompt),
        *("--model", f"openai/{AIDER_MODEL}", "--openai-api-base", f"{MOCK_URL}/v1"),
        *("--openai-api-key", "test", "--yes-always", "--no-git", "--no-auto-commits"),
        *("--no-check-update", "--no-show-release-notes", "--analytics-disable"),
        *("--no-show-model-warnings", "--no-pretty", "--no-stream", "--map-tokens", "0"),
        *("--no-fancy-input", "--no-detect-urls", "--no-suggest-shell-commands"),
        # The restored history would be summarized by the model above 1k tokens.
        *("--max-chat-history-tokens", "100000"),
    ]
    if restore:
        argv.append("--restore-chat-history")
    if history_file is not None:
        argv += ["--chat-history-file", str(history_file)]
    argv += list(extra)
    return run_cli(argv, home, cwd, AIDER_ENV, timeout=timeout)


# ---------------------------------------------------------------------------------------
# opencode (proven as a conversion target: tests/e2e/test_convert_to_opencode.py)

OPENCODE_PIN = ("opencode-ai", "1.18.33")
"""Keep in step with scripts/install-clis.sh; not in PINS, so no RealSession is driven."""
OPENCODE_MODEL = "mock/test-model"
OPENCODE_CONFIG = {
    "$schema": "https://opencode.ai/config.json",
    "autoupdate": False,
    "share": "disabled",
    "model": OPENCODE_MODEL,
    "provider": {
        "mock": {
            "npm": "@ai-sdk/openai-compatible",
            "name": "Mock",
            "options": {"baseURL": f"{MOCK_URL}/v1", "apiKey": "sk-test"},
            "models": {"test-model": {"name": "Test model", "tool_call": True}},
        }
    },
}
OPENCODE_ENV = {
    "OPENCODE_DISABLE_AUTOUPDATE": "1",
    "OPENCODE_DISABLE_MODELS_FETCH": "1",
    "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
    "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
    "OPENCODE_DISABLE_SHARE": "1",
}


def opencode_missing() -> str | None:
    """The pinned opencode-ai, unless it is installed at the pinned version."""
    package, version = OPENCODE_PIN
    manifest = clis_dir() / "node_modules" / package / "package.json"
    try:
        found = json.loads(manifest.read_text()).get("version")
    except (OSError, ValueError):
        found = None
    ok = found == version and binary("opencode").exists()
    return None if ok else f"{package}@{version}"


def opencode_config_files(home: Path, config: dict[str, Any] | None = None) -> dict[Path, str]:
    """opencode's global config under ``home`` (OPENCODE_CONFIG: pointing at the mock)."""
    text = json.dumps(OPENCODE_CONFIG if config is None else config)
    return {home / ".config" / "opencode" / "opencode.json": text}


def run_opencode(
    home: Path,
    cwd: Path,
    prompt: str,
    session: str | None = None,
    continue_last: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    config: dict[str, Any] | None = None,
    cli: str = "opencode",
) -> Run:
    """``opencode run --auto``: new, ``--session <id>``, or ``--continue`` (the latest);
    ``config`` replaces OPENCODE_CONFIG; ``cli="kilo"``: the same with the Kilo CLI, an
    opencode fork.

    The prompt goes word by word: opencode quotes a message argument holding a space.
    """
    argv = [str(binary(cli)), "run", "--auto"]
    if session:
        argv += ["--session", session]
    if continue_last:
        argv += ["--continue"]
    argv += prompt.split(" ")
    if cli == "kilo":
        return run_cli(argv, home, cwd, dict(KILO_ENV), kilo_config_files(home), timeout)
    files = opencode_config_files(home, config)
    return run_cli(argv, home, cwd, dict(OPENCODE_ENV), files, timeout)


# ---------------------------------------------------------------------------------------
# One real session per CLI: a text turn, a shell tool turn, then a resume


@dataclass(frozen=True)
class RealSession:
    """A session that a real CLI wrote: where it lives and what went into it.

    ``runs`` are the new session (``prompts[0]``, answered ``replies[0]``), a resume whose
    prompt makes the mock call the CLI's shell tool (``command``, printing ``output``;
    answered ``replies[1]``), and a last resume (``prompts[2]``, ``replies[2]``), whose
    request carries the whole history.
    """

    cli: str
    home: Path
    cwd: Path
    session_id: str
    prompts: tuple[str, str, str]
    replies: tuple[str, str, str]
    command: str
    output: str
    shell_tool: str
    runs: tuple[Run, ...]
    native_files: tuple[Path, ...]

    def final_request(self) -> Request:
        return self.runs[-1].model_requests()[-1]

    @property
    def native_file(self) -> Path:
        """The file holding the conversation (Gemini may also leave stubs, see native_files)."""
        holding = [path for path in self.native_files if self.prompts[0] in path.read_text()]
        if len(holding) != 1:
            raise AssertionError(f"{self.cli}: {len(holding)} files hold the session: {holding}")
        return holding[0]


RUNNERS: dict[str, Callable[..., Run]] = {
    "claude": run_claude,
    "codex": run_codex,
    "gemini": run_gemini,
    "copilot": run_copilot,
}
# The shell tool each pinned CLI offers the model (the mock calls it for ``RUN:<command>``).
SHELL_TOOL = {
    "claude": "Bash",
    "codex": "exec_command",
    "gemini": "run_shell_command",
    "copilot": "bash",
    "opencode": "bash",
    "kilo": "bash",
    "cline": "run_commands",
}


def session_texts(cli: str) -> tuple[tuple[str, str, str], tuple[str, str, str], str, str]:
    """Prompts, the mock's replies, the command and its output, distinct per CLI."""
    command = f"echo {cli}-tool-output | tr a-z A-Z"
    output = f"{cli.upper()}-TOOL-OUTPUT"
    prompts = (
        f"Hello from {cli}: please remember the word zebra-{cli}",
        f"Now list something for {cli}. RUN:{command}",
        f"Final question for {cli}: what was the word?",
    )
    replies = (f"ECHO: {prompts[0]}", f"TOOL-DONE: {output}", f"ECHO: {prompts[2]}")
    return prompts, replies, command, output


def native_files(cli: str, home: Path, cwd: Path, session_id: str) -> tuple[Path, ...]:
    """The files where each CLI keeps the session (research/native-formats.md).

    Gemini starts every run with a new file named by the current minute and switches to the
    session's own file on ``--resume``: when the minute has changed, a stub (a metadata line
    and the context message, same session id) stays behind next to the real file.
    """
    if cli == "claude":
        candidates = [claude_session_file(home, cwd, session_id)]
    elif cli == "codex":
        candidates = [p for p in codex_session_files(home) if p.stem.endswith(session_id)]
    elif cli == "gemini":
        candidates = [p for p in gemini_session_files(home) if p.stem.endswith(session_id[:8])]
    else:
        candidates = [copilot_session_dir(home, session_id) / "events.jsonl"]
    return tuple(path for path in candidates if path.is_file())


def drive_session(cli: str, base: Path, timeout: float = DEFAULT_TIMEOUT) -> RealSession:
    """Run the three turns of a RealSession with the real ``cli`` under ``base``."""
    home, cwd = base / cli / "home", base / cli / f"{cli}-project"
    prompts, replies, command, output = session_texts(cli)
    session_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://tether.invalid/e2e/{cli}"))
    runs: list[Run] = []

    def check(run: Run) -> Run:
        runs.append(run)
        if run.proc.returncode != 0 or not run.model_requests():
            raise AssertionError(f"{cli} run {len(runs)} failed\n{run.describe()}")
        return run

    run = RUNNERS[cli]
    if cli == "codex":  # Codex picks its own id (a UUID v7)
        session_id = codex_thread_id(check(run_codex(home, cwd, prompts[0], timeout=timeout)))
    else:
        check(run(home, cwd, prompts[0], session_id=session_id, timeout=timeout))
    for prompt in prompts[1:]:
        check(run(home, cwd, prompt, resume=session_id, timeout=timeout))
    return RealSession(
        cli=cli,
        home=home,
        cwd=cwd,
        session_id=session_id,
        prompts=prompts,
        replies=replies,
        command=command,
        output=output,
        shell_tool=SHELL_TOOL[cli],
        runs=tuple(runs),
        native_files=native_files(cli, home, cwd, session_id),
    )


def drive_more(cli: str, base: Path, timeout: float = DEFAULT_TIMEOUT) -> RealSession:
    """A RealSession written by the real Kilo or Cline CLI, which name their sessions
    themselves: Kilo's turns are headless (`kilo run`, then `--session`); Cline's first is
    (`cline --json`), the others are typed into its TUI (`cline --id`, its only resume)."""
    home, cwd = base / cli / "home", base / cli / f"{cli}-project"
    prompts, replies, command, output = session_texts(cli)
    runs: list[Run] = []

    def check(run: Run) -> Run:
        runs.append(run)
        if run.proc.returncode != 0 or not run.model_requests():
            raise AssertionError(f"{cli} run {len(runs)} failed\n{run.describe()}")
        return run

    if cli == "kilo":
        check(run_kilo(home, cwd, prompts[0], timeout=timeout))
        db = sqlite3.connect(f"file:{home}/.local/share/kilo/kilo.db?mode=ro", uri=True)
        [(session_id,)] = db.execute("SELECT id FROM session").fetchall()
        db.close()
        for prompt in prompts[1:]:
            check(run_kilo(home, cwd, prompt, session=session_id, timeout=timeout))
        files = (home / ".local" / "share" / "kilo" / "kilo.db",)
    else:
        check(run_cline(home, cwd, prompts[0], timeout=timeout))
        [path] = cline_sessions(home)
        session_id = path.parent.name
        check(run_cline(home, cwd, prompts[1], resume=session_id, typed=(prompts[2],)))
        files = (path,)
    return RealSession(
        cli=cli,
        home=home,
        cwd=cwd,
        session_id=str(session_id),
        prompts=prompts,
        replies=replies,
        command=command,
        output=output,
        shell_tool=SHELL_TOOL[cli],
        runs=tuple(runs),
        native_files=files,
    )


@dataclass
class RealSessions:
    """One RealSession per CLI; asking for a CLI whose runs failed fails with the details."""

    sessions: dict[str, RealSession] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, cli: str) -> RealSession:
        if cli in self.failures:
            raise AssertionError(f"the {cli} session could not be made:\n{self.failures[cli]}")
        return self.sessions[cli]

    def __iter__(self) -> Iterator[str]:
        return iter(PINS)
