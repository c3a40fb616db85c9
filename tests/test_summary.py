"""`tether summary` and `tether stats`: what real sessions of several tools did, from their
recorded tool calls, and what they cost at genai-prices' list prices."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, run
from tether.model import ToolCall, ToolResult
from tether.summary import usage
from tether.summary.calls import action, exit_code
from tether.summary.packages import installs
from tether.summary.testruns import parse_test_run
from tether.tools import facts
from tether.tools import vocabulary as vocab
from tether.tools.vocabulary import codex_patch

CLAUDE_GO = FIXTURES / "claude" / "real_entire_a6_e4c2a0fbd1_0.jsonl"
CODEX_FAILS = (
    FIXTURES / "codex" / "rollout-2026-09-01T10-00-00-019f1111-2222-7333-8444-555566667777.jsonl"
)
CODEX_PATCH = (
    FIXTURES
    / "codex"
    / "real_rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl"
)
COPILOT = FIXTURES / "copilot" / "store" / "session-state" / "2b8e3c1a-5d4f-4e6a-9b7c-1d2e3f4a5b6c"
ROO = FIXTURES / "roo"
AMP = FIXTURES / "amp"


def summary_of(path: Path) -> dict[str, Any]:
    imported = json.loads(run("import", str(path), "--json").stdout)["sessions"]
    assert len(imported) >= 1
    return json.loads(run("summary", imported[0]["id"], "--json", "--no-scan").stdout)


def test_a_claude_session_edits_and_runs_go_tests() -> None:
    summary = summary_of(CLAUDE_GO)
    handlers = "/Users/soph/Work/entire/devenv/cli/cmd/entire/cli/hooks_claudecode_handlers.go"
    assert summary["files"]["edit"] == [handlers]
    assert summary["files"]["read"] == [handlers]
    runners = {run["runner"] for run in summary["tests"]}
    assert runners == {"go test"}  # `mise run test` is recognised by go test's own lines
    assert all(run["outcome"] == "passed" and run["passed"] for run in summary["tests"])
    assert summary["tokens"]["total"] > 0 and summary["tokens"]["cache_read"] > 0
    assert summary["duration_seconds"] > 0
    assert summary["session"]["tool"] == "claude"


def test_a_codex_command_that_failed_is_an_error_with_its_exit_code() -> None:
    summary = summary_of(CODEX_FAILS)
    assert [(c["command"], c["exit_code"], c["failed"]) for c in summary["commands"]] == [
        ("ls", 0, False),
        ("cat missing.txt", 1, True),
    ]
    assert summary["errors"] == [
        {
            "tool_call": "exec_command",
            "message": "cat: missing.txt: No such file or directory",
            "exit_code": 1,
            "command": "cat missing.txt",
        }
    ]
    # Codex counts cached input inside input_tokens: the summary counts it once
    assert summary["tokens"]["cache_read"] == 550
    assert summary["tokens"]["total"] == 907


def test_a_codex_patch_names_the_file_it_edits() -> None:
    summary = summary_of(CODEX_PATCH)
    assert summary["files"]["edit"] == ["components/chat/chat-helpers/index.ts"]
    assert len(summary["commands"]) > 30
    assert sum(command["failed"] for command in summary["commands"]) == 3


def test_copilot_roo_and_amp_sessions() -> None:
    copilot = summary_of(COPILOT)
    assert [(c["command"], c["exit_code"]) for c in copilot["commands"]] == [
        ("ls", 0),
        ("cat a.txt", 1),
    ]
    imported = json.loads(run("import", str(ROO), "--json").stdout)["sessions"]
    roo = {
        s["title"]: json.loads(run("summary", s["id"], "--json", "--no-scan").stdout)
        for s in imported
    }
    health = roo["Add a /health endpoint to the shop API"]
    assert health["files"] == {
        "read": ["src/app.ts"],
        "write": [],
        "edit": ["src/app.ts"],
        "delete": [],
    }
    assert health["errors"][0]["tool_call"] == "apply_diff"
    build = roo["Build failure"]
    assert build["commands"][0]["failed"] and build["commands"][0]["command"] == "npm run build"
    amp = summary_of(AMP)
    assert amp["tests"][0]["runner"] == "pytest"
    assert amp["files"]["read"] == ["/home/dev/billing/tests/test_retry.py"]


def test_a_period_across_tools_and_its_human_form() -> None:
    for path in (CLAUDE_GO, CODEX_FAILS, COPILOT):
        run("import", str(path))
    period = json.loads(run("summary", "--since", "2020-01-01", "--json", "--no-scan").stdout)
    assert set(period) == {"since", "project", "sessions", "totals"}
    totals = period["totals"]
    assert totals["sessions"] == len(period["sessions"]) == 3
    assert totals["by_tool"] == {"claude": 1, "codex": 1, "copilot": 1}
    assert totals["failed_commands"] == 2
    assert totals["tokens"]["total"] == sum(s["tokens"]["total"] for s in period["sessions"])
    assert [s["started_at"] for s in period["sessions"]] == sorted(
        s["started_at"] for s in period["sessions"]
    )
    # a period counts only what happened in it
    later = json.loads(run("summary", "--since", "2026-09-01T10:00:06Z", "--json").stdout)
    assert [s["tool"] for s in later["sessions"]] == ["codex", "copilot"]  # not claude's
    assert later["sessions"][0]["commands"] == 1  # the `cat` at 10:00:07, not the `ls` at 10:00:05
    text = run("summary", "--since", "2020-01-01", "--no-scan").stdout
    assert "3 session(s)" in text and "claude 1" in text


def test_summary_wants_an_id_or_a_period() -> None:
    assert run("summary", ok=False).exit_code == 2
    assert run("summary", "abc", "--today", ok=False).exit_code == 2
    assert run("summary", "--today", "--since", "3d", ok=False).exit_code == 2
    assert "no sessions" not in run("summary", "--today").stdout


def test_stats_prices_every_tool_that_records_usage() -> None:
    for path in (CLAUDE_GO, CODEX_PATCH, CODEX_FAILS, COPILOT):
        run("import", str(path))
    result = json.loads(run("stats", "--json", "--no-scan").stdout)
    assert result["by"] == "tool" and result["prices"].startswith("genai-prices ")
    rows = {row["key"]: row for row in result["rows"]}
    assert set(rows) == {"claude", "codex", "copilot"}
    assert rows["claude"]["cost_usd"] > 0 and rows["claude"]["unpriced_tokens"] == 0
    assert "test-model" in result["unpriced_models"]  # the mock model of the e2e sessions
    for key in usage.TOKEN_KEYS:
        assert result["total"]["tokens"][key] == sum(r["tokens"][key] for r in rows.values())
    assert result["total"]["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in rows.values()))
    by_model = json.loads(run("stats", "--by", "model", "--json", "--no-scan").stdout)
    assert "claude-opus-4-5-20251101" in {row["key"] for row in by_model["rows"]}
    by_day = json.loads(run("stats", "--by", "day", "--json", "--no-scan").stdout)
    days = [row["key"] for row in by_day["rows"]]
    assert days == sorted(days, reverse=True)
    recent = json.loads(run("stats", "--since", "2026-01-01", "--json", "--no-scan").stdout)
    assert 0 < recent["total"]["tokens"]["total"] < result["total"]["tokens"]["total"]
    assert "TOTAL" in run("stats", "--no-scan").stdout


def test_the_price_of_a_model_comes_from_genai_prices() -> None:
    from tether.summary.prices import cost, model_ref

    tokens = {"input": 800, "cache_read": 200, "cache_write": 0, "output": 100}
    # claude-opus-4-5: $5 per million input, $0.50 cached, $25 output
    assert cost({**tokens, "total": 1100}, "claude-opus-4-5-20251101", "2026-01-07") == (
        pytest.approx(800 * 5e-6 + 200 * 0.5e-6 + 100 * 25e-6)
    )
    assert cost({**tokens, "total": 1100}, "test-model", None) is None
    assert model_ref("Gemini 2.5 Flash (High)") == "gemini-2.5-flash"


# ----------------------------------------------------------------------- the pieces


def test_usage_of_every_tool_counts_cache_and_reasoning_once() -> None:
    claude = usage.tokens(
        {"input_tokens": 10, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 5,
         "output_tokens": 7}
    )  # fmt: skip
    assert claude == {"input": 10, "cache_read": 100, "cache_write": 5, "output": 7,
                      "reasoning": 0, "total": 122}  # fmt: skip
    codex = usage.tokens(
        {"input_tokens": 850, "cached_input_tokens": 550, "output_tokens": 57,
         "reasoning_output_tokens": 5, "total_tokens": 907}
    )  # fmt: skip
    assert (codex["input"], codex["output"], codex["total"]) == (300, 57, 907)
    gemini = usage.tokens(
        {"input_tokens": 100, "cached_tokens": 40, "output_tokens": 10, "reasoning_tokens": 20}
    )
    assert (gemini["input"], gemini["output"], gemini["reasoning"]) == (60, 30, 20)
    assert usage.tokens(None)["total"] == 0


@pytest.mark.parametrize(
    ("output", "native", "code"),
    [
        ("Chunk ID: 9b1c\nProcess exited with code 1\nOutput:\nnope\n", {}, 1),  # Codex
        ("Exit code: 0\nWall time: 0.1 seconds\nOutput:\nok", {}, 0),  # older Codex
        ("Exit code 2\nmake: *** [test] Error 2", {}, 2),  # Claude Code
        ("Command: ls\nOutput: x\nError: (none)\nExit Code: 1\nSignal: 0", {}, 1),  # Gemini
        ("cat: a.txt: Permission denied\n<exited with exit code 1>", {}, 1),  # Copilot
        ("OUT\n<shellId: 0 completed with exit code 0>", {}, 0),  # Copilot 1.0.102
        ("The command failed with exit code: 127\n", {}, 127),  # Antigravity
        ("anything", {"exit": 3}, 3),  # opencode (native metadata)
        ("a.txt\n", {}, None),
    ],
)
def test_exit_codes_as_each_tool_states_them(
    output: str, native: dict[str, Any], code: int
) -> None:
    assert exit_code(ToolResult("c1", output, native=native)) == code


def test_every_tool_has_a_table_that_decodes_its_calls() -> None:
    for tool in facts.NAMES:
        table = vocab.of(tool)
        assert isinstance(table, vocab.Vocabulary)
        assert (tool == "aider") == (not table.shapes), tool
    cases = [
        ("cline", "execute_command", {"command": "npm test"}, "shell"),
        ("roo", "apply_diff", {"path": "a.ts", "diff": "x"}, "edit_file"),
        ("kilo", "bash", {"command": "ls"}, "shell"),
        ("cursor", "run_terminal_cmd", {"command": "ls"}, "shell"),
        ("cursor", "search_replace", {"file_path": "a", "old_string": "x", "new_string": "y"},
         "edit_file"),
        ("amp", "Bash", {"cmd": "ls", "cwd": "/p"}, "shell"),
        ("antigravity", "run_command", {"CommandLine": "ls", "Cwd": "/p"}, "shell"),
        ("antigravity", "write_to_file", {"TargetFile": "/p/a", "CodeContent": "x"}, "write_file"),
    ]  # fmt: skip
    for tool, name, args, kind in cases:
        decoded = vocab.of(tool).decode(name, args)
        assert decoded is not None and decoded.kind == kind, (tool, name)


def test_patches_and_generic_calls_name_their_files() -> None:
    patch = (
        "*** Begin Patch\n*** Add File: new.py\n+x = 1\n*** Update File: old.py\n@@\n-a\n+b\n"
        "*** Delete File: gone.py\n*** Update File: here.py\n*** Move to: there.py\n*** End Patch\n"
    )
    assert codex_patch.touched(patch) == [
        ("write", "new.py"),
        ("edit", "old.py"),
        ("delete", "gone.py"),
        ("edit", "here.py"),
        ("write", "there.py"),
    ]
    freeform = action("codex", ToolCall("c1", "apply_patch", patch))
    assert [path for _, path in freeform.files] == [
        "new.py",
        "old.py",
        "gone.py",
        "here.py",
        "there.py",
    ]
    shell = action("codex", ToolCall("c2", "shell", {"command": ["apply_patch", patch]}))
    assert shell.kind == "shell" and len(shell.files) == 5
    multi = action("claude", ToolCall("c3", "MultiEdit", {"file_path": "/a.py", "edits": []}))
    assert multi.files == (("edit", "/a.py"),)
    editor = action(
        "copilot", ToolCall("c4", "str_replace_editor", {"command": "view", "path": "/b"})
    )
    assert editor.files == (("read", "/b"),)
    assert action("claude", ToolCall("c5", "mcp__x__search", {"query": "q"})).files == ()


PYTEST_OUT = "....F.\n=========== 1 failed, 5 passed, 2 skipped in 0.42s ===========\n"
JEST_OUT = "Tests:       1 failed, 5 passed, 6 total\nSnapshots:   0 total\nTime: 1.2 s\n"
VITEST_OUT = " Test Files  1 failed | 2 passed (3)\n      Tests  2 failed | 10 passed (12)\n"
GO_OUT = (
    "--- FAIL: TestParse (0.00s)\nFAIL\nFAIL\texample.com/p\t0.01s\nok  \texample.com/q\t0.2s\n"
)
CARGO_OUT = (
    "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out\n"
    "test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out\n"
)


@pytest.mark.parametrize(
    ("command", "output", "code", "expected"),
    [
        ("python -m pytest -q", PYTEST_OUT, 1, ("pytest", "failed", 5, 1, 2)),
        ("uv run pytest x.py", "===== 12 passed in 1.01s ====", 0, ("pytest", "passed", 12, 0, 0)),
        ("npx jest", JEST_OUT, 1, ("jest", "failed", 5, 1, 0)),
        ("npm test", JEST_OUT, 1, ("jest", "failed", 5, 1, 0)),
        ("pnpm vitest run", VITEST_OUT, 1, ("vitest", "failed", 10, 2, 0)),
        ("go test ./...", GO_OUT, 1, ("go test", "failed", 0, 1, 0)),
        ("cargo test --all", CARGO_OUT, 101, ("cargo test", "failed", 4, 2, 1)),
        ("make test", "all good", 0, ("tests", "passed", 0, 0, 0)),
    ],
)  # fmt: skip
def test_test_runs_of_each_runner(
    command: str, output: str, code: int, expected: tuple[str, str, int, int, int]
) -> None:
    found = parse_test_run(command, output, code)
    assert found is not None
    assert (found.runner, found.outcome, found.passed, found.failed, found.skipped) == expected


def test_commands_that_run_no_tests() -> None:
    assert parse_test_run("ls tests", "a\n", 0) is None
    assert parse_test_run("cat pytest.ini", "[pytest]\n", 0) is not None  # named, unknown result
    assert parse_test_run("echo test", "test", 0) is None


def test_installs_of_each_package_manager() -> None:
    found = installs(
        "cd app && sudo apt-get install -y jq && pip install -r requirements.txt requests==2.32"
        " && npm i -D vitest; uv add httpx; cargo add serde --features derive;"
        " go get golang.org/x/mod",
        0,
    )
    assert [(i.manager, i.packages) for i in found] == [
        ("apt", ("jq",)),
        ("pip", ("-r requirements.txt", "requests==2.32")),
        ("npm", ("vitest",)),
        ("uv", ("httpx",)),
        ("cargo", ("serde",)),
        ("go", ("golang.org/x/mod",)),
    ]
    assert installs("npm install", 0)[0].packages == ()
    assert installs("pip list", 0) == []
