"""The quick answers (`list`, `show`, `search`, `--help`, `--version` without click) print
what click's commands print, byte for byte, on every tool's real sessions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.conftest import run
from tests.test_all_tools import lay_out_every_tool
from tether.archive.db import connect
from tether.archive.documents import FORMAT_VERSION, session_document, truthy
from tether.archive.query import Filters, search_rows, session_rows
from tether.archive.rows import session_dict, session_text
from tether.archive.store import load_session
from tether.commands.quick import parse
from tether.formats.tether_json import session_json
from tether.model import FORMAT_VERSION as MODEL_FORMAT_VERSION
from tether.paths import db_path, tether_home
from tether.tools import facts as facts_common

pytestmark = pytest.mark.usefixtures("linux")


@pytest.fixture
def linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(facts_common, "PLATFORM", "linux")


@pytest.fixture
def every_tool(isolated_home: Path) -> Path:
    lay_out_every_tool(isolated_home)
    # Folders written in the last seconds are listed again by every check (clocks are
    # coarse): these were written long ago, as a store's are.
    for folder in [isolated_home, *(p for p in isolated_home.rglob("*") if p.is_dir())]:
        os.utime(folder, (1e9, 1e9))
    run("scan", ok=False)  # exit 1: the Cursor chat store's opaque blob is counted
    run("scan")
    return isolated_home


def cli(*args: str, columns: int | None = None) -> subprocess.CompletedProcess[bytes]:
    """tether as the console script runs it (tether.cli.run), in a process of its own."""
    env = dict(os.environ)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from tether.cli import run; sys.argv[0] = 'tether'; run()",
            *args,
        ],
        capture_output=True,
        env=env,
        check=False,
    )


def test_the_format_version_is_the_models() -> None:
    assert FORMAT_VERSION == MODEL_FORMAT_VERSION


def test_show_json_is_the_models_json_for_every_tools_sessions(every_tool: Path) -> None:
    db = connect(db_path(tether_home()))
    try:
        pks = [row[0] for row in db.execute("SELECT pk FROM sessions")]
        assert len(pks) >= 13
        for pk in pks:
            expected = orjson.dumps(session_json(load_session(db, pk))).decode()
            assert "".join(session_document(db, pk)) == expected, pk
    finally:
        db.close()


def test_list_and_search_text_are_the_dicts_json(every_tool: Path) -> None:
    db = connect(db_path(tether_home()))
    try:
        rows = session_rows(db, Filters(limit=1000, include_empty=True))
        assert len(rows) >= 13
        for row in rows:
            assert session_text(row) == orjson.dumps(session_dict(row)).decode()
        from tether.archive.query import hit_dict

        hits = search_rows(db, "the", Filters(limit=500))
        assert hits
        for hit in hits:
            assert orjson.loads(orjson.dumps(hit_dict(hit))) == hit_dict(hit)
    finally:
        db.close()


@pytest.mark.parametrize(
    "args",
    [
        ("list", "--json"),
        ("list", "--json", "--limit", "3"),
        ("list", "--json", "-n5", "--tool", "codex"),
        ("list", "--json", "-a", "-t", "claude-code"),
        ("list",),
        ("list", "--no-scan", "--json", "--since", "2020-01-01"),
        ("search", "the", "--json"),
        ("search", "--json", "-r", "user", "the"),
        ("search", "the", "OR", "session", "--json", "--limit=4"),
        ("search", "nosuchwordanywhere", "--json"),
        ("search", "the"),
        ("search", '"unclosed', "--json"),
        ("search", "--json", "--", "the"),
    ],
)
def test_quick_answers_print_what_click_prints(every_tool: Path, args: tuple[str, ...]) -> None:
    from click.testing import CliRunner

    from tether.cli import main

    quick = cli(*args)
    slow = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert quick.returncode == slow.exit_code, quick.stderr
    assert quick.stdout.decode() == slow.stdout


def test_show_json_through_both_paths(every_tool: Path) -> None:
    from click.testing import CliRunner

    from tether.cli import main

    for row in orjson.loads(run("list", "--json", "--limit", "100").stdout):
        quick = cli("show", row["id"][:10], "--json")
        slow = CliRunner().invoke(main, ["show", row["id"], "--json"], catch_exceptions=False)
        assert quick.returncode == 0, quick.stderr
        assert quick.stdout.decode() == slow.stdout


@pytest.fixture
def named_and_linked(every_tool: Path) -> list[str]:
    """Two sessions with aliases, one with a checkpoint, one continuing another and one
    pulled from a server: what `list` prints beside a session's own fields."""
    ids = [row["id"] for row in orjson.loads(run("list", "--json").stdout)]
    run("alias", ids[0], "zeta-fix")
    run("alias", ids[0], "alpha")
    run("checkpoint", ids[1], "before-fix")
    db = connect(db_path(tether_home()))
    try:
        from tether.archive import lineage

        lineage.record(db, ids[2], ids[0], "resume")
        db.executemany(
            "INSERT INTO pulled (session_id, server, owner, device, revision, pulled_at)"
            " VALUES (?, 'https://t.example', ?, ?, 'r1', '2026-01-01T00:00:00Z')",
            [(ids[3], "alice", "laptop"), (ids[4], "bob", None)],
        )
    finally:
        db.close()
    return ids


@pytest.mark.parametrize("args", [("list", "--json"), ("list", "--json", "-n", "2"), ("list",)])
def test_list_names_and_lineage_as_click_prints_them(
    named_and_linked: list[str], args: tuple[str, ...]
) -> None:
    from click.testing import CliRunner

    from tether.cli import main

    quick = cli(*args, columns=200)
    slow = CliRunner().invoke(main, list(args), catch_exceptions=False, env={"COLUMNS": "200"})
    assert quick.returncode == slow.exit_code == 0, quick.stderr
    assert quick.stdout.decode() == slow.stdout
    if "--json" in args:
        first = orjson.loads(quick.stdout)[0]
        assert (first["names"], first["checkpoints"]) == (["alpha", "zeta-fix"], [])


def test_show_by_a_checkpoint_is_the_session_at_that_point(named_and_linked: list[str]) -> None:
    from click.testing import CliRunner

    from tether.cli import main

    for ident in ("before-fix", "alpha", named_and_linked[1]):
        quick = cli("show", ident, "--json")
        slow = CliRunner().invoke(main, ["show", ident, "--json"], catch_exceptions=False)
        assert quick.returncode == 0, quick.stderr
        assert quick.stdout.decode() == slow.stdout
    at_point = orjson.loads(cli("show", "before-fix", "--json").stdout)
    assert at_point["session"]["native"]["checkpoint"] == "before-fix"


@pytest.mark.parametrize(
    ("args", "code", "kind"),
    [
        (("show", "nosuch", "--json"), 4, "not_found"),
        (("search", "the", "--tool", "nosuchtool", "--json"), 2, "usage"),
        (("list", "--since", "yesterday-ish", "--json"), 2, "usage"),
        (("search", "AND", "--json"), 2, "usage"),
    ],
)
def test_quick_errors_are_clicks(
    every_tool: Path, args: tuple[str, ...], code: int, kind: str
) -> None:
    quick = cli(*args)
    assert quick.returncode == code
    assert quick.stdout == b""
    assert orjson.loads(quick.stderr)["kind"] == kind


def click_path(*args: str, columns: int) -> bytes:
    """tether as `main` (click) runs it, in a process of its own."""
    code = "import sys; from tether.cli import main; sys.argv[0] = 'tether'; main()"
    env = {**os.environ, "COLUMNS": str(columns)}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, env=env, check=False
    )
    return done.stdout


@pytest.mark.parametrize("columns", [40, 50, 64, 80, 120, 300])
def test_help_and_version_are_clicks(columns: int) -> None:
    assert cli("--help", columns=columns).stdout == click_path("--help", columns=columns)
    assert cli("-V").stdout == click_path("--version", columns=columns)


def test_the_quick_path_loads_neither_click_nor_rich_nor_orjson(every_tool: Path) -> None:
    code = (
        "import sys; from tether.cli import run; sys.argv = ['tether'] + sys.argv[1:]\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "heavy = {'click', 'rich', 'orjson', 'zstandard', 'dataclasses', 'typing', 're', 'enum'}\n"
        "heavy &= set(sys.modules)\n"
        "sys.stderr.write(repr(sorted(heavy)))"
    )
    sid = orjson.loads(cli("list", "--json", "--limit", "1").stdout)[0]["id"]
    # The answers load no regular expressions either (3 ms of a 12 ms start); help text does.
    for args, allowed in (
        (["list", "--json"], []),
        (["search", "the", "--json"], []),
        (["show", sid, "--json"], []),
        (["--help"], ["enum", "re"]),
        (["--version"], []),
    ):
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, check=False)
        assert done.stderr.decode().endswith(repr(allowed)), (args, done.stderr[-300:])


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--help"],
        ["list", "--bogus"],
        ["list", "--json=1"],
        ["list", "--limit", "many"],
        ["list", "extra"],
        ["show"],
        ["show", "a", "b", "--json"],
        ["search"],
        ["search", "x", "--role", "robot"],
        ["search", "-x"],
        ["list", "-n", "-1"],
    ],
)
def test_unusual_forms_go_to_click(args: list[str]) -> None:
    assert parse(args[0], args[1:]) is None


def test_usual_forms_are_read_as_click_reads_them() -> None:
    assert parse("list", ["-n5", "--tool=codex", "--here", "--json"]) == (
        {"limit": "5", "tool": "codex", "here": True, "json": True},
        [],
    )
    assert parse("search", ["a", "--json", "b", "--", "--c"]) == ({"json": True}, ["a", "b", "--c"])


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (None, False),
        ("null", False),
        ("false", False),
        ("{}", False),
        ("[]", False),
        ('""', False),
        ("0", False),
        ("0.0", False),
        ("-0", False),
        ("true", True),
        ("1", True),
        ('"0"', True),
        ('{"a":1}', True),
        ("[0]", True),
    ],
)
def test_truthy_is_pythons_truth_of_the_json(text: str | None, value: bool) -> None:
    assert truthy(text) is value
    if text is not None:
        assert bool(orjson.loads(text)) is value
