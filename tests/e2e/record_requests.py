"""Record the tools each pinned CLI declares to the model, as fixtures for the writers' tests.

The Gemini and Copilot writers encode tool calls for their CLI; their tests check every
encoded call against the tools the pinned CLI really declares. This runs each CLI once,
headless, against the mock model (tests/e2e/mockmodel.py, offline) and keeps, of the last
model request it sends, the `tools` of the body: the prompt and the system instruction
(which name this machine's folders and today's date) are left out. Re-record when a pin in
tests/e2e/clis.py moves; tests/e2e/test_recorded_requests.py fails until then.

    .venv/bin/python -m tests.e2e.record_requests [gemini] [copilot]
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import clis

FIXTURES = clis.REPO / "tests" / "fixtures"
RECORDED = {
    "gemini": FIXTURES / "declared" / "gemini.json",
    "copilot": FIXTURES / "declared" / "copilot.json",
}
PROMPT = "hello"


def _gemini(home: Path, cwd: Path) -> clis.Run:
    return clis.run_gemini(home, cwd, PROMPT)


def _copilot(home: Path, cwd: Path) -> clis.Run:
    """Without COPILOT_OFFLINE, which drops the tools that reach the network (web_fetch): the
    run stays offline all the same, in the mock's loopback-only namespace."""
    env = {k: v for k, v in clis.copilot_env().items() if k != "COPILOT_OFFLINE"}
    argv = [str(clis.binary("copilot")), "-p", PROMPT, "--allow-all-tools"]
    argv += ["--disable-client-telemetry", "--no-auto-update", "-s"]
    return clis.run_cli(argv, home, cwd, env)


RUNS: dict[str, Callable[[Path, Path], clis.Run]] = {"gemini": _gemini, "copilot": _copilot}


def record(cli: str, scratch: Path) -> dict[str, Any]:
    """What `cli` at its pin declares: the fixture's content."""
    run = RUNS[cli](scratch / cli / "home", scratch / cli / "project")
    requests = [r for r in run.model_requests() if isinstance(r.body, dict) and r.body.get("tools")]
    if run.proc.returncode != 0 or not requests:
        raise RuntimeError(f"{cli}: no model request declaring tools\n{run.describe()}")
    last = requests[-1]
    package, version = clis.PINS[cli]
    return {
        "recorded_by": "tests/e2e/record_requests.py",
        "package": package,
        "version": version,
        "path": last.path,
        "body": {"tools": last.body["tools"]},
    }


def text(recorded: dict[str, Any]) -> str:
    return json.dumps(recorded, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    missing = clis.missing_clis()
    if missing:
        print(f"pinned CLIs not installed: {', '.join(missing)}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="tether-record-") as scratch:
        for cli in argv or list(RECORDED):
            RECORDED[cli].write_text(text(record(cli, Path(scratch))))
            print(f"wrote {RECORDED[cli].relative_to(clis.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
