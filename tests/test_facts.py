"""One place for each fact about a tool: writer, reader, auto-resume and teams agree on where a
session of every writable tool lives, for folders with hostile names; and the facts hold the
ids, store roots and capabilities that the rest of tether reads."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tether.archive.db import connect
from tether.autoresume.plan import plan, session_file
from tether.capture.scan import scan
from tether.convert.session import convert
from tether.convert.writers.base import WriteError
from tether.model import Message, Session, Text, session_id
from tether.paths import db_path
from tether.teams.runner import Teams
from tether.tools import facts, launch
from tether.tools.facts import as_node_sees, find_session, is_uuid, js_dashed, matches
from tether.tools.registry import TOOLS

HOSTILE = {
    "space": b"with space",
    "dots": b"dots.and..dots",
    "underscore": b"under_score",
    "emoji": "emoji😀x".encode(),
    "not-utf8": b"bad\xffname",
    "hash-and-dollar": b"wt-#(touch x)-$HOME",
    "long": b"/".join([b"a" * 100, b"b" * 100, b"c" * 100]),
}
WRITERS_WITH_FILES = ("claude", "codex", "gemini", "copilot", "qwen")
"""Every tool tether writes one file per session of (opencode: one database, through the
real opencode's import; aider: the project's own folder)."""


def folder(tmp_path: Path, name: bytes) -> str:
    path = Path(os.fsdecode(os.fsencode(tmp_path) + b"/projects/" + name))
    path.mkdir(parents=True)
    return str(path)


def a_session(cwd: str) -> Session:
    messages = [
        Message("user", [Text("where does the config live?")], "2026-11-20T10:00:00Z"),
        Message("assistant", [Text("In config.toml.")], "2026-11-20T10:00:05Z"),
    ]
    return Session(
        id=session_id("claude", "src"), tool="claude", native_id="src", cwd=cwd, messages=messages
    )


@pytest.mark.parametrize("tool", WRITERS_WITH_FILES)
@pytest.mark.parametrize("name", HOSTILE, ids=list(HOSTILE))
def test_writer_reader_autoresume_and_teams_agree(
    tool: str, name: str, tmp_path: Path, isolated_home: Path
) -> None:
    cwd = folder(tmp_path, HOSTILE[name])
    env = {"HOME": str(isolated_home)}
    tool_facts = facts.get(tool)
    store = tool_facts.store_roots(env, str(isolated_home))[0]
    if (tool, name) == ("qwen", "long"):  # Qwen Code never shortens its folder names
        with pytest.raises(WriteError, match="over the 255 a file name may have"):
            convert(a_session(cwd), tool, store=Path(store), cwd=Path(cwd))
        return
    converted = convert(
        a_session(cwd), tool, store=Path(store), cwd=Path(cwd), now=datetime.now(UTC)
    )
    written = converted.written
    path = str(written.path)
    assert path.startswith(store + "/") and Path(path).is_file()
    # the writer's file is where the facts, auto-resume and teams look for it
    assert find_session(tool_facts, store, written.native_id, cwd) == path
    assert session_file(tool, written.native_id, None, cwd, store) == path
    assert session_file(tool, written.native_id, path, cwd, store) == path
    assert str(Teams(Path(cwd), env).session_file(tool, written.native_id, cwd)) == path
    # a launch in that folder resumes it
    state = Path(f"{cwd}/.tether/autoresume/{tool}.json")
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"version": 1, "session_id": written.native_id}))
    resumed = plan(tool, [], env, cwd, 1.0)
    assert resumed.args == launch.resume_args(tool, written.native_id) and resumed.cwd == cwd
    # the reader finds it there, as that session, in that folder
    db = connect(db_path(Path(os.environ["TETHER_HOME"])))
    scan(db, env, isolated_home)
    row = db.execute(
        "SELECT x.cwd FROM sessions x JOIN sources s ON s.session_pk = x.pk"
        " WHERE x.id = ? AND s.path = ?",
        (session_id(tool, written.native_id), path),
    ).fetchone()
    assert row is not None, f"the {tool} reader did not find {path}"
    assert row[0] in (None, as_node_sees(cwd))


def test_the_folder_names_are_the_clis_own() -> None:
    """JavaScript's `replace(/[^a-zA-Z0-9]/g, "-")` counts UTF-16 units: an emoji is two."""
    assert js_dashed("/tmp/😀x") == "-tmp---x"
    assert js_dashed("/tmp/é") == "-tmp--"
    assert js_dashed(os.fsdecode(b"/tmp/bad\xffname")) == "-tmp-bad-name"
    assert facts.get("qwen").folder_name("/a b/😀") == "-a-b---"  # type: ignore[attr-defined]
    long = "/" + "x" * 250
    claude = facts.get("claude")
    assert claude.folder_name(long).startswith("-" + "x" * 199 + "-")  # type: ignore[attr-defined]


@pytest.mark.parametrize("tool", facts.NAMES)
def test_ids_that_could_add_a_flag_or_leave_the_store_are_no_tools_id(tool: str) -> None:
    tool_facts = facts.get(tool)
    for hostile in ("--help", "-c", "../../etc/passwd", "a/b", "a b", "", "x\n", "x\0"):
        assert not tool_facts.valid_id(hostile) or (tool == "aider" and "@" in hostile)
        if tool_facts.LAUNCH is not None and tool_facts.LAUNCH["preassign"]:
            with pytest.raises(launch.CannotLaunch):
                launch.resume_args(tool, hostile)


def test_every_tools_own_ids_are_valid() -> None:
    uuid = "0b6f4c8e-3a1d-4e2b-9c7f-5d8a6e4b2c1a"
    examples = {
        "claude": uuid,
        "codex": "019a93b9-f380-7600-98ff-940e6b99603c",
        "gemini": "0b6f_c8e-3a1d-4e2b-9c7f-5d8a6e4b2c1a",
        "copilot": uuid,
        "qwen": uuid,
        "opencode": "ses_3f1a2b4c5d6e7f8a9b0c1d2e3f",
        "aider": "2026-11-20 10:00:00@/home/u/app",
        "cursor": uuid,
        "cline": "1731234567890",
        "roo": uuid,
        "kilo": "ses_3f1a2b4c5d6e7f8a9b0c1d2e3f",
        "amp": "T-" + uuid,
        "antigravity": uuid,
    }
    assert set(examples) == set(facts.NAMES)
    for tool, native_id in examples.items():
        assert facts.get(tool).valid_id(native_id), tool
    assert is_uuid(uuid) and not is_uuid(uuid.upper() + "0")


@pytest.mark.parametrize(
    "name", ["os", "base", "../claude", "claude.py", "tether.tools.claude", ""]
)
def test_the_registry_imports_nothing_for_a_name_it_does_not_list(name: str) -> None:
    """A tool name read from the archive or a command line reaches import_module only as one
    of the registry's own module names."""
    import sys

    before = set(sys.modules)
    assert TOOLS.get(name) is None and name not in TOOLS
    with pytest.raises(KeyError):
        TOOLS[name]
    assert set(sys.modules) == before


def test_the_registry_and_the_facts_list_the_same_tools() -> None:
    assert list(TOOLS) == list(facts.NAMES)
    for name, reader in TOOLS.items():
        tool_facts = facts.get(name)
        assert (reader.name, reader.display_name) == (name, tool_facts.DISPLAY_NAME)
        assert reader.aliases == tool_facts.ALIASES
        assert reader.capabilities == tool_facts.CAPABILITIES
        if "resume" in tool_facts.CAPABILITIES:
            assert tool_facts.LAUNCH is not None
        if "autoresume" in tool_facts.CAPABILITIES:
            assert tool_facts.LAUNCH is not None
            assert tool_facts.LAUNCH["preassign"] or tool_facts.started_since is not None
    assert facts.resolve("Claude-Code") == "claude" and facts.resolve("agy") == "antigravity"
    with pytest.raises(facts.UnknownTool, match="known tools are claude, codex"):
        facts.resolve("emacs")


@pytest.mark.parametrize("tool", facts.NAMES)
def test_store_roots_follow_the_tools_own_variables(tool: str, tmp_path: Path) -> None:
    tool_facts = facts.get(tool)
    home = str(tmp_path)
    plain = tool_facts.store_roots({}, home)
    assert all(root.startswith(home + "/") for root in plain) or tool == "aider"
    for variable in tool_facts.STORE_VARIABLES:
        moved = tool_facts.store_roots({variable: "~/moved"}, home)
        assert any(root.startswith(f"{home}/moved") for root in moved), variable


def test_a_path_from_outside_is_taken_only_where_the_tool_keeps_that_session() -> None:
    pattern = "projects/*/ID.jsonl"
    assert matches("/s", pattern, "/s/projects/-a/ID.jsonl")
    for outside in (
        "/s/projects/../../etc/ID.jsonl",
        "/s/projects/-a/../-b/ID.jsonl",
        "/s//projects/-a/ID.jsonl",
        "/other/projects/-a/ID.jsonl",
        "/s/projects/-a/b/ID.jsonl",
        "/s/projects/-a/OTHER.jsonl",
        "s/projects/-a/ID.jsonl",
    ):
        assert not matches("/s", pattern, outside), outside
