"""Run a team of the real CLIs in real tmux against one mock model: start, stop, resume.

The CLIs run interactively (their TUIs, in tmux windows) for minutes and several at once, so
this does not go through ``run_cli``: it is a script that serves the mock itself, in a
loopback-only network namespace when started under ``unshare -n`` (``spec["namespace"]``),
drives ``tether team`` and writes what happened to a JSON file for the test to judge:

    python teamrun.py SPEC.json OUT.json
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.e2e import clis  # noqa: E402 - the repository must be on sys.path first
from tests.e2e.mockmodel import (  # noqa: E402
    PORT_TOKEN,
    MockModel,
    bring_loopback_up,
    end_leftovers,
)
from tether.tools import launch  # noqa: E402

READY = {"cline": clis.CLINE_READY, "opencode": ("ctrl+p commands",)}
READY["kilo"] = READY["opencode"]
"""What a TUI shows once it takes keys, for the tools whose resume drops a prompt."""

TEAM = "crew"
SECOND = "Second turn: what was the word?"
THIRD = "Third turn, after the move: the word again?"
MOVED, MOVED_TO = "planner", "codex"


def first_prompt(agent: str) -> str:
    return f"Hello from {agent}: remember the word zebra-{agent}"


QWEN_SETTINGS = {
    **clis.QWEN_SETTINGS,
    # Its TUI takes no --openai-* flags from a team: the provider is in its settings.
    "security": {"auth": {"selectedType": "openai", "apiKey": "test",
                          "baseUrl": f"{clis.MOCK_URL}/v1"}},
    "model": {"name": clis.QWEN_MODEL},
}  # fmt: skip


def write_configs(home: Path, folders: list[Path], port: str) -> None:
    """Each CLI's offline settings, with the first-run questions of its TUI answered."""
    trusted = "".join(f'\n[projects."{folder}"]\ntrust_level = "trusted"\n' for folder in folders)
    files = {
        home / ".codex" / "config.toml": clis.CODEX_CONFIG + trusted,
        home / ".gemini" / "settings.json": json.dumps(clis.GEMINI_SETTINGS),
        home / ".claude.json": json.dumps(
            {
                "hasCompletedOnboarding": True,
                "theme": "dark",
                "customApiKeyResponses": {"approved": ["sk-ant-test"], "rejected": []},
                "projects": {
                    str(folder): {
                        "hasTrustDialogAccepted": True,
                        "hasCompletedProjectOnboarding": True,
                    }
                    for folder in folders
                },
            }
        ),
        home / ".copilot" / "config.json": json.dumps(
            {"trustedFolders": [str(folder) for folder in folders]}
        ),
        home / ".qwen" / "settings.json": json.dumps(QWEN_SETTINGS),
        **clis.opencode_config_files(home),
        **clis.kilo_config_files(home),
        **clis.cline_files(home),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace(PORT_TOKEN, port))


def agent_env(spec: dict[str, Any], port: str) -> dict[str, str]:
    env = clis.base_env(Path(spec["home"]))
    del env["CI"]  # Ink, the TUI library of several CLIs, draws no live screen under CI
    env.update(TERM="xterm-256color", NO_COLOR="1")
    for each in (clis.CLAUDE_ENV, clis.CODEX_ENV, clis.GEMINI_ENV, clis.copilot_env(),
                 clis.QWEN_ENV, clis.OPENCODE_ENV, clis.KILO_ENV, clis.CLINE_ENV):  # fmt: skip
        env.update({key: value.replace(PORT_TOKEN, port) for key, value in each.items()})
    bins = [clis.binary("claude").parent, clis.binary("kilo").parent]
    env["PATH"] = os.pathsep.join([*map(str, bins), env["PATH"]])
    env["TETHER_HOME"] = spec["tether_home"]
    env["TMUX_TMPDIR"] = spec["tmux_dir"]
    return env


class Scenario:
    def __init__(self, spec: dict[str, Any], mock: MockModel) -> None:
        self.spec = spec
        self.mock = mock
        self.root = Path(spec["root"])
        self.env = agent_env(spec, str(mock.port))
        self.out: dict[str, Any] = {"steps": {}, "waits": {}}

    def tether(self, step: str, *args: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "tether", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        result = {"argv": list(args), "code": done.returncode, "out": done.stdout}
        result["err"] = done.stderr
        self.out["steps"][step] = result
        return result

    def status(self) -> list[dict[str, Any]]:
        result = self.tether("status", "team", "status", TEAM, "--json")
        return list(json.loads(result["out"])["agents"]) if result["code"] == 0 else []

    def wait_for_turns(self, name: str, text_of: Any) -> bool:
        """Until every agent's session file holds the reply to its prompt `text_of(agent)`."""
        started = time.monotonic()
        while time.monotonic() - started < self.spec["timeout"]:
            rows = self.status()
            if rows and all(self._holds(row, f"ECHO: {text_of(row['name'])}") for row in rows):
                self.out["waits"][name] = round(time.monotonic() - started, 1)
                return True
            time.sleep(1)
        self.out["waits"][name] = None
        return False

    @staticmethod
    def _holds(row: dict[str, Any], text: str) -> bool:
        path = row.get("session_file")
        if path and path.endswith(".db"):  # opencode's and Kilo's: one database of them all
            return in_database(path, row["native_id"], text)
        try:
            return bool(path) and text in Path(path).read_text(errors="replace")
        except OSError:
            return False

    def type_where_resume_drops_the_prompt(self, prompt: str) -> None:
        """Type `prompt` into the agents whose tool's resume drops a prompt (the TUIs of
        Cline, opencode and Kilo opened on a session): `team resume` leaves it out, and a
        user types it."""
        typed = self.out.setdefault("typed", {})
        for agent in (self.record() or {}).get("agents", []):
            if launch.spec(agent["tool"]).get("resume_takes_prompt", True):
                continue
            target = f"={TEAM}:={agent['name']}"
            typed[agent["name"]] = self.wait_for_screen(target, READY[agent["tool"]])
            if typed[agent["name"]]:
                for keys in (["-l", prompt], ["Enter"]):
                    subprocess.run(["tmux", "send-keys", "-t", target, *keys], env=self.env,
                                   check=False)  # fmt: skip

    def wait_for_screen(self, target: str, shows: tuple[str, ...]) -> bool:
        started = time.monotonic()
        while time.monotonic() - started < self.spec["timeout"]:
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", target], env=self.env,
                                    capture_output=True, text=True, check=False).stdout  # fmt: skip
            if any(text in screen for text in shows):
                time.sleep(2)  # drawn is not yet listening: let it settle
                return True
            time.sleep(1)
        return False

    def screens(self) -> dict[str, str]:
        shown = {}
        for agent in self.spec["agents"]:
            done = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", f"={TEAM}:={agent}"],
                env=self.env,
                capture_output=True,
                text=True,
                check=False,
            )
            shown[agent] = done.stdout.strip() or done.stderr.strip()
        return shown

    def move(self) -> None:
        """Stop, move one agent to another tool, resume: it carries on there."""
        self.tether("stop_again", "team", "stop", TEAM)
        self.tether("move", "team", "move", TEAM, MOVED, "--to", MOVED_TO, "--json")
        with self.mock.lock:
            self.out["moved_at"] = len(self.mock.requests)
        self.tether("resume_moved", "team", "resume", TEAM, "--prompt", THIRD, "--json")
        self.wait_for_turns("third", lambda _agent: THIRD)
        self.out["status_moved"] = self.status()

    def run(self) -> dict[str, Any]:
        self.tether("start", "team", "start", TEAM, "--json")
        if self.wait_for_turns("first", first_prompt):
            self.out["status_started"] = self.status()
            self.tether("stop", "team", "stop", TEAM, "--json")
            self.out["status_stopped"] = self.status()
            with self.mock.lock:
                self.out["resume_at"] = len(self.mock.requests)
            self.tether("resume", "team", "resume", TEAM, "--prompt", SECOND, "--json")
            self.type_where_resume_drops_the_prompt(SECOND)
            if self.wait_for_turns("second", lambda _agent: SECOND):
                self.out["status_resumed"] = self.status()
                self.out["record_resumed"] = self.record()
                if self.spec.get("move", True):
                    self.move()
        self.out["screens"] = self.screens()
        self.out["record"] = self.record()
        return self.out

    def record(self) -> dict[str, Any] | None:
        path = self.root / ".tether" / "teams" / f"{TEAM}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def close(self) -> None:
        self.tether("stop_last", "team", "stop", TEAM)
        subprocess.run(["tmux", "kill-server"], env=self.env, capture_output=True, check=False)
        self.out["leftovers"] = end_leftovers(self.spec["home"])


def in_database(path: str, native_id: str, text: str) -> bool:
    """Whether a part of session `native_id` in opencode's (or Kilo's) database holds
    `text`, read while the CLI writes it (its write-ahead log included)."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            query = "SELECT 1 FROM part WHERE session_id = ? AND instr(data, ?) > 0 LIMIT 1"
            return db.execute(query, (native_id, text)).fetchone() is not None
        finally:
            db.close()
    except sqlite3.Error:
        return False


def main(spec_path: str, out_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    if spec["namespace"]:
        bring_loopback_up()
    with MockModel() as mock:
        folders = [Path(folder) for folder in spec["folders"]]
        write_configs(Path(spec["home"]), folders, str(mock.port))
        scenario = Scenario(spec, mock)
        try:
            out = scenario.run()
        finally:
            scenario.close()
        with mock.lock:
            out["requests"] = [asdict(request) for request in mock.requests]
    Path(out_path).write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
