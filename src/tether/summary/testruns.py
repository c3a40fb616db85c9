"""Test runs in a session: a shell command that runs pytest, jest, vitest, go test or cargo
test (directly, or through npm test, make test, …), and what its output says of the result.

The runner is named by the command, else recognised by the closing lines it printed; the
counts come from those lines (pytest's `3 passed, 1 failed in 0.2s`, jest's `Tests: 1
failed, 5 passed, 6 total`, vitest's `Tests  1 failed | 5 passed (6)`, go test's `ok` /
`FAIL` package lines and `--- FAIL:` tests, cargo's `test result: ok. 3 passed; 0 failed`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["passed", "failed", "unknown"]
COMMAND_RUNNERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pytest", re.compile(r"(?:^|[\s/;&|(])(?:py\.test|pytest)\b|-m\s+pytest\b")),
    ("vitest", re.compile(r"\bvitest\b")),
    ("jest", re.compile(r"\bjest\b")),
    ("go test", re.compile(r"\bgo\s+test\b")),
    ("cargo test", re.compile(r"\bcargo\s+(?:test|nextest)\b")),
)
TEST_SCRIPT = re.compile(
    r"\b(?:npm|pnpm|yarn|bun|deno|make|mise|just|task|tox|nox|hatch|uv|poetry)\b"
    r"(?:\s+(?:run|-C\s+\S+|--?\w[\w-]*))*\s+test\b"
)
"""A project's own test command (npm test, make test, mise run test, uv run pytest, …)."""
COUNT = re.compile(
    r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)\b", re.IGNORECASE
)
PYTEST_CLOSE = re.compile(
    r"^=*\s*(?:\d+ (?:passed|failed|skipped|errors?|xfailed|xpassed|deselected|warnings?)"
    r"(?:, )?)+ in [\d.]+s",
    re.MULTILINE,
)
JEST_TESTS = re.compile(r"^Tests:\s+(.*\d+ total)", re.MULTILINE)
VITEST_TESTS = re.compile(r"^\s*Tests\s+(.*\(\d+\))", re.MULTILINE)
GO_PACKAGE = re.compile(r"^(ok|FAIL|---\s+FAIL:|---\s+PASS:|--- SKIP:)\s", re.MULTILINE)
CARGO_RESULT = re.compile(
    r"^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored", re.MULTILINE
)


@dataclass(slots=True)
class TestRun:
    """One test run: the runner, the counts its output states, and the outcome."""

    __test__ = False  # a result type, not a test for pytest to collect

    runner: str
    command: str
    exit_code: int | None
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0
    counted: bool = field(default=False)
    """Whether the output held the runner's closing lines (else only the exit code tells)."""

    @property
    def outcome(self) -> Outcome:
        if self.failed or self.errors or (self.exit_code not in (None, 0)):
            return "failed"
        if self.passed or (self.counted and self.exit_code == 0):
            return "passed"
        return "passed" if self.exit_code == 0 else "unknown"

    def as_dict(self) -> dict[str, object]:
        return {
            "runner": self.runner,
            "command": self.command,
            "exit_code": self.exit_code,
            "outcome": self.outcome,
            "passed": self.passed,
            "failed": self.failed,
            "skipped": self.skipped,
            "errors": self.errors,
        }


def parse_test_run(command: str, output: str, exit_code: int | None) -> TestRun | None:
    """The test run this command was, or None when it ran no tests that tether knows."""
    runner = next((name for name, pattern in COMMAND_RUNNERS if pattern.search(command)), None)
    if runner is None and not TEST_SCRIPT.search(command):
        return None
    tail = output[-20_000:]
    candidates = [runner] if runner else [name for name, _ in COMMAND_RUNNERS]
    for name in candidates:
        run = TestRun(name, command, exit_code)
        if COUNTERS[name](tail, run):
            run.counted = True
            return run
    if runner is None:
        return TestRun("tests", command, exit_code) if exit_code is not None else None
    return TestRun(runner, command, exit_code)


def _add_counts(text: str, run: TestRun) -> None:
    for number, said in COUNT.findall(text):
        word = said.lower()
        if word == "passed":
            run.passed += int(number)
        elif word == "failed":
            run.failed += int(number)
        elif word == "skipped":
            run.skipped += int(number)
        elif word.startswith("error"):
            run.errors += int(number)


def _pytest(text: str, run: TestRun) -> bool:
    closing = PYTEST_CLOSE.findall(text)
    if closing:
        _add_counts(closing[-1], run)
    return bool(closing)


def _jest(text: str, run: TestRun) -> bool:
    lines = JEST_TESTS.findall(text)
    if lines:
        _add_counts(lines[-1], run)
    return bool(lines)


def _vitest(text: str, run: TestRun) -> bool:
    lines = VITEST_TESTS.findall(text)
    if lines:
        _add_counts(lines[-1].replace("|", ","), run)
    return bool(lines)


def _go(text: str, run: TestRun) -> bool:
    """Tests when -v printed them (`--- PASS:` / `--- FAIL:`), else packages (`ok` / `FAIL`)."""
    marks = [
        mark.split()[-1] if mark.startswith("---") else mark for mark in GO_PACKAGE.findall(text)
    ]
    if not marks:
        return False
    tests = [mark for mark in marks if mark.endswith(":")]
    counted = tests or marks
    run.passed = sum(mark in ("ok", "PASS:") for mark in counted)
    run.failed = sum(mark in ("FAIL", "FAIL:") for mark in counted)
    run.skipped = sum(mark == "SKIP:" for mark in counted)
    return True


def _cargo(text: str, run: TestRun) -> bool:
    results = CARGO_RESULT.findall(text)
    for passed, failed, ignored in results:
        run.passed += int(passed)
        run.failed += int(failed)
        run.skipped += int(ignored)
    return bool(results)


COUNTERS: dict[str, Callable[[str, TestRun], bool]] = {
    "pytest": _pytest,
    "vitest": _vitest,
    "jest": _jest,
    "go test": _go,
    "cargo test": _cargo,
}
