"""Machine output: every command that prints a result takes --json, and prints exactly the
keys the README's JSON table documents (the team commands are held to SHAPES in
tests/test_teams.py, where a team runs)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

from tests.conftest import FIXTURES, run
from tests.stores import CLAUDE_ID, place_claude, place_codex
from tests.test_error_path import README, TREE


@dataclass(frozen=True)
class Some:
    """An object with the `always` keys and those of `maybe` that apply."""

    always: frozenset[str]
    maybe: frozenset[str]


@dataclass(frozen=True)
class OneOf:
    """A value of one of these shapes (a command that prints one of two results)."""

    shapes: tuple[Any, ...]


# A shape: a set is an object with exactly these keys; a dict, one whose values have shapes
# too (None: any value); Some, one with optional keys; OneOf, one of several shapes; [shape]
# a non-empty array of such items; (shape,) one that may be empty.
SESSION_ITEM = {
    *("id", "tool", "native_id", "project", "cwd", "git_branch", "git_commit", "title"),
    *("created_at", "updated_at", "message_count", "models", "usage", "parent_id"),
    *("names", "checkpoints"),
    *("continues", "pushed_by"),
}
PROBLEM = {"path", "message"}
CONVERTED = {
    **dict.fromkeys(("tool", "native_id", "path", "paths", "cwd", "resume_command")),
    "source": {"id", "tool", "native_id"},
    "report": {"source", "mapped", "downgraded", "shortened", "dropped", "notes"},
}
SERVICE = {"kind", "path", "changed", "ran", "to_run", "stopped_pid", "error"}
TOKENS = {"input", "cache_read", "cache_write", "output", "reasoning", "total"}
FILES = {"read", "write", "edit", "delete"}
COUNTS = {"user_messages", "assistant_messages", "tool_calls"}
TEST_COUNTS = {"runs", "passed", "failed"}
SUMMARY = {
    **dict.fromkeys(("started_at", "ended_at", "duration_seconds", "tokens_by_model")),
    "session": SESSION_ITEM,
    "counts": COUNTS,
    "files": FILES,
    "commands": ({"command", "exit_code", "failed", "timestamp"},),
    "tests": (
        {*("runner", "command", "exit_code", "outcome", "passed", "failed", "skipped", "errors")},
    ),
    "packages": ({"manager", "packages", "command", "exit_code"},),
    "errors": (Some(frozenset({"tool_call", "message", "exit_code"}), frozenset({"command"})),),
    "tokens": TOKENS,
}
PERIOD = {
    "since": None,
    "project": None,
    "sessions": (
        {
            **dict.fromkeys(("id", "tool", "native_id", "project", "title", "started_at")),
            **dict.fromkeys(("ended_at", "duration_seconds", "commands", "failed_commands")),
            **dict.fromkeys(("packages", "errors")),
            "counts": COUNTS,
            "files": FILES,
            "tests": TEST_COUNTS,
            "tokens": TOKENS,
        },
    ),
    "totals": {
        **dict.fromkeys(("sessions", "by_tool", "commands", "failed_commands", "packages")),
        **dict.fromkeys(("errors", "duration_seconds")),
        "files": FILES,
        "tests": TEST_COUNTS,
        "tokens": TOKENS,
    },
}
RULE_FILE = {"tool", "path", "state"}
MCP_CHANGE = {"tool", "scope", "path", "changed", "backup"}
USAGE_GROUP = {
    **dict.fromkeys(("sessions", "messages", "cost_usd", "unpriced_tokens")),
    "tokens": TOKENS,
}
NAMED = {
    **dict.fromkeys(("name", "kind", "messages", "timestamp", "removed")),
    "session": {"id", "tool", "native_id"},
}
HEAD = {
    *("owner", "session_id", "tool", "native_id", "title", "project", "cwd", "git_branch"),
    *("git_commit", "git_remote", "created_at", "updated_at", "message_count", "models"),
    *("parent_id", "parent_how", "device", "team", "revision", "bytes", "pushed_at", "change"),
    "via",
}
"""A session as the tether server lists it (`remote list`)."""
PUSH = {
    "pushed": ({"id", "tool", "title", "revision", "unchanged"},),
    "failed": ({"id", "error"},),
    **dict.fromkeys(("unchanged", "bytes_read", "bytes_sent", "chunks_sent", "seconds")),
}
PULL = {
    "pulled": ({"id", "tool", "owner", "device", "title", "via"},),
    "skipped": ({"id", "reason"},),
    **dict.fromkeys(("unchanged", "bytes_received", "seconds")),
}
TEAM = {"team", "members"}
SHAPES: dict[str, Any] = {
    "list": [SESSION_ITEM],
    "search": [
        {
            *("id", "session_id", "tool", "native_id", "project", "title", "created_at"),
            *("updated_at", "message_count", "models", "message_id", "role", "timestamp"),
            *("kind", "snippet"),
        }
    ],
    "show": {"format", "version", "session", "messages"},
    "scan": {
        *("files", "read", "bytes_read", "sessions_added", "sessions_updated", "missing"),
        *("skipped_lines", "repaired_lines", "skipped_in", "failed", "seconds"),
    },
    "import": {"sessions": [SESSION_ITEM], "unrecognised": None, "failed": (PROBLEM,)},
    "reindex": {"sessions": None, "skipped": None, "failed": (PROBLEM,)},
    "doctor": {
        "archive": {
            *("path", "bytes", "sessions", "messages", "parts", "sources", "raw_bytes"),
            "raw_compressed_bytes",
        },
        "health": {"database", "search_index", "migrations"},
        "stores": [{"tool", "root", "found", "files", "sessions"}],
        "problems": (
            Some(
                frozenset({"path"}),
                frozenset(
                    {"error", "skipped_lines", "pending_bytes", "missing_since", "reasons", "note"}
                ),
            ),
        ),
    },
    "convert": CONVERTED,
    "fork": CONVERTED,
    "alias": NAMED,
    "checkpoint": NAMED,
    "storage": {
        **dict.fromkeys(("sessions", "bytes", "raw_bytes", "text_bytes")),
        "archive": {"path", "bytes"},
        "by_tool": [{"tool", "sessions", "bytes"}],
        "by_project": [{"project", "sessions", "bytes"}],
        "by_age": [{"age", "sessions", "bytes"}],
    },
    "prune": {
        **dict.fromkeys(("dry_run", "cutoff", "sessions", "bytes", "vacuumed")),
        "by_tool": ({"tool", "sessions", "bytes"},),
        "removed": ({"id", "tool", "native_id", "project", "updated_at", "bytes"},),
    },
    "resume": {"tool", "native_id", "cwd", "resume_command", "written", "runs"},
    "status": {
        **dict.fromkeys(("project", "headless", "headless_from")),
        "tools": [
            {
                *("tool", "state_file", "session_id", "session_file", "action", "problem"),
                *("command", "next"),
            }
        ],
    },
    "reset": {"project": None, "tools": [{"tool", "reset", "was"}]},
    "shim install": {"folder", "on_path", "installed"},
    "shim uninstall": {"folder", "removed"},
    "shim status": {
        **dict.fromkeys(("folder", "on_path")),
        "shims": [{"tool", "shim", "real", "active"}],
    },
    "daemon start": {"pid", "started"},
    "daemon stop": {"pid", "stopped"},
    "daemon status": {
        **dict.fromkeys(("running", "pid", "started_at", "log_file")),
        "service": {"kind", "path", "installed"},
    },
    "daemon install": SERVICE,
    "daemon uninstall": SERVICE,
    "team start": {
        "team": None,
        "agents": [{"name", "tool", "action", "native_id", "tmux_target", "cwd", "argv"}],
    },
    "team resume": {
        "team": None,
        "agents": [{"name", "tool", "action", "native_id", "tmux_target", "cwd", "argv"}],
    },
    "team stop": {"team", "stopped"},
    "team status": {
        "team": None,
        "agents": [
            {
                *("name", "tool", "state", "running", "exit_status", "native_id", "session_file"),
                *("last_activity", "tmux_target", "cwd", "command", "started_at", "resumed_at"),
            }
        ],
    },
    "team list": [
        {
            **dict.fromkeys(("name", "file", "running", "tmux_session", "started_at")),
            "stopped_at": None,
            "agents": [{"name", "tool", "native_id"}],
        }
    ],
    "team move": {"team": None, "agent": None, **CONVERTED},
    "summary": OneOf((SUMMARY, PERIOD)),
    "mcp install": {"command": None, "changes": [MCP_CHANGE]},
    "rules init": {"path", "imported"},
    "rules compile": {"project": None, "warnings": None, "files": [RULE_FILE]},
    "rules check": {"project": None, "warnings": None, "files": [RULE_FILE]},
    "mcp uninstall": {"command": None, "changes": [MCP_CHANGE]},
    "stats": {
        **dict.fromkeys(("by", "since", "unpriced_models", "prices")),
        "rows": ({"key": None, **USAGE_GROUP},),
        "total": USAGE_GROUP,
    },
    "login": {"server", "user", "device", "file"},
    "push": PUSH,
    "pull": PULL,
    "sync": {"auto": None, "sent": PUSH, "received": PULL},
    "remote list": (HEAD,),
    "remote search": ({*HEAD, "snippet"},),
    "remote web": {"url", "expires_at", "opened"},
    "handoff": {"id", "session_id", "from", "to", "note", "created_at", "pushed"},
    "inbox": (
        Some(
            frozenset({"id", "from", "note", "created_at", "received_at", "session", "pulled"}),
            frozenset({"problem"}),
        ),
    ),
    "server user add": {"user", "code", "expires_at"},
    "server user list": ({"user", "created_at", "devices", "sessions", "teams"},),
    "server user remove": {"user", "removed", "sessions"},
    "server team add": TEAM,
    "server team list": (TEAM,),
    "server team member add": TEAM,
    "server team member remove": TEAM,
    "secrets scan": {
        **dict.fromkeys(("sessions_scanned", "total", "rules")),
        "findings": (
            {
                *("rule", "session_id", "tool", "native_id", "message", "part", "part_kind"),
                "field",
            },
        ),
    },
}
NO_JSON = {"watch", "daemon logs", "init", "export", "web", "mcp serve", "completion"}
NO_JSON |= {"server start"}
"""They print no result of their own: log lines, shell code, the export itself, the link to
the pages (each page has its own .json), the MCP protocol on stdout, a server that serves
until stopped."""


def assert_shape(value: Any, shape: Any, where: str = "") -> None:
    """`value` has exactly the keys `shape` names, all the way down (see SHAPES)."""
    if shape is None:
        return
    if isinstance(shape, list | tuple):
        assert isinstance(value, list), where
        assert value or isinstance(shape, tuple), f"{where}: empty, so its items are unchecked"
        for item in value:
            assert_shape(item, shape[0], f"{where}[]")
        return
    if isinstance(shape, OneOf):
        errors = []
        for one in shape.shapes:
            try:
                assert_shape(value, one, where)
            except AssertionError as error:
                errors.append(str(error))
            else:
                return
        raise AssertionError(f"{where}: none of the shapes fits: {errors}")
    assert isinstance(value, dict), where
    if isinstance(shape, Some):
        assert shape.always <= set(value) <= shape.always | shape.maybe, f"{where}: {value}"
        return
    assert set(value) == set(shape), f"{where}: {sorted(set(value) ^ set(shape))}"
    if isinstance(shape, dict):
        for key, inner in shape.items():
            assert_shape(value[key], inner, f"{where}.{key}")


def keys_in(shape: Any) -> set[str]:
    if isinstance(shape, OneOf):
        return set().union(*(keys_in(one) for one in shape.shapes))
    if isinstance(shape, list | tuple):
        return keys_in(shape[0])
    if isinstance(shape, dict):
        return set(shape).union(*(keys_in(v) for v in shape.values() if v is not None))
    if isinstance(shape, Some):
        return set(shape.always | shape.maybe)
    return set(shape) if isinstance(shape, set) else set()


def json_output(*args: str, ok: bool = True) -> Any:
    return json.loads(run(*args, "--json", ok=ok).stdout)


def test_every_command_that_prints_a_result_takes_json() -> None:
    leaves = {" ".join(p): c for p, c in TREE.items() if not isinstance(c, click.Group)}
    with_json = {n for n, c in leaves.items() if any("--json" in p.opts for p in c.params)}
    assert with_json == set(SHAPES)
    assert set(leaves) - with_json == NO_JSON


def test_the_readme_documents_every_key() -> None:
    section = README.read_text().split("### JSON\n", 1)[1].split("\n### ", 1)[0]
    rows: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = line.split(" | ")
        if len(cells) == 2 and line.startswith("| `"):
            words = set(re.findall(r"`([a-z_]+)`", cells[1]))
            for command in re.findall(r"`([a-z ]+)`", cells[0]):
                rows[command] = words
    assert set(rows) == set(SHAPES)

    def documented(command: str) -> set[str]:
        words = rows[command]
        # "as `list` prints them", "the keys `convert` prints" (`reset` is a key of reset's)
        others = words & set(SHAPES) - {command}
        return (words - others).union(*(documented(other) for other in others))

    for command, shape in SHAPES.items():
        assert documented(command) == keys_in(shape), command


@pytest.fixture
def captured(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from tether.capture import daemon

    monkeypatch.setattr(daemon, "manager_available", lambda kind, env: False)
    monkeypatch.chdir(isolated_home)
    place_claude(isolated_home)
    place_codex(isolated_home)
    return isolated_home


def test_capture_and_archive_commands(captured: Path) -> None:
    assert_shape(json_output("scan"), SHAPES["scan"], "scan")
    assert_shape(json_output("list"), SHAPES["list"], "list")
    assert_shape(json_output("search", "review"), SHAPES["search"], "search")
    assert_shape(json_output("show", CLAUDE_ID), SHAPES["show"], "show")
    imported = FIXTURES / "claude" / "real_entire_a6_e4c2a0fbd1_0.jsonl"
    assert_shape(json_output("import", str(imported)), SHAPES["import"], "import")
    assert_shape(json_output("reindex"), SHAPES["reindex"], "reindex")
    assert_shape(json_output("doctor"), SHAPES["doctor"], "doctor")
    assert_shape(json_output("secrets", "scan", "--all"), SHAPES["secrets scan"], "secrets")
    summary = json_output("summary", CLAUDE_ID)
    assert_shape(summary, SUMMARY, "summary")
    assert summary["commands"]  # so their items are checked
    period = json_output("summary", "--since", "2020-01-01")
    assert_shape(period, PERIOD, "summary --since")
    assert period["sessions"]
    assert_shape(json_output("stats"), SHAPES["stats"], "stats")
    for command in ("install", "uninstall"):
        done = json_output("mcp", command, "--for", "claude")
        assert_shape(done, SHAPES[f"mcp {command}"], f"mcp {command}")
    assert_shape(json_output("rules", "init"), SHAPES["rules init"], "rules init")
    for command in ("compile", "check"):
        done = json_output("rules", command)
        assert_shape(done, SHAPES[f"rules {command}"], f"rules {command}")


def test_convert_fork_and_resume(captured: Path, tmp_path: Path) -> None:
    run("scan")
    where = ("--anyway", "--cwd", str(tmp_path))
    for command in ("convert", "fork"):
        extra = ("--to", "codex") if command == "convert" else ()
        assert_shape(json_output(command, CLAUDE_ID, *extra, *where), SHAPES[command], command)
    plan = json_output("resume", CLAUDE_ID, "--in", "gemini", "--print", *where)
    assert_shape(plan, SHAPES["resume"], "resume")
    assert plan["runs"] is False and plan["written"] and plan["tool"] == "gemini"
    same = json_output("resume", CLAUDE_ID, "--print", *where)
    assert same["written"] is None and same["resume_command"][0] == "claude"


def test_auto_resume_commands(captured: Path, tmp_path: Path) -> None:
    assert_shape(json_output("status"), SHAPES["status"], "status")
    assert_shape(json_output("reset"), SHAPES["reset"], "reset")
    assert_shape(json_output("shim", "install", "claude"), SHAPES["shim install"], "install")
    assert_shape(json_output("shim", "status"), SHAPES["shim status"], "shim status")
    removed = json_output("shim", "uninstall")
    assert_shape(removed, SHAPES["shim uninstall"], "uninstall")
    assert [Path(p).name for p in removed["removed"]] == ["claude"]


def test_daemon_commands(captured: Path) -> None:
    started = json_output("daemon", "start")
    try:
        assert_shape(started, SHAPES["daemon start"], "start")
        again = json_output("daemon", "start")
        assert again == {"pid": started["pid"], "started": False}
        assert_shape(json_output("daemon", "status"), SHAPES["daemon status"], "status")
    finally:
        stopped = json_output("daemon", "stop")
    assert stopped == {"pid": started["pid"], "stopped": True}
    assert json_output("daemon", "stop") == {"pid": None, "stopped": False}
    for command in ("install", "uninstall"):
        assert_shape(json_output("daemon", command), SHAPES[f"daemon {command}"], command)
