"""Dates, safe writes, redaction, migrations, the readers' field guards."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest

from tether.archive.db import MIGRATIONS, connect, migrate
from tether.dates import parse_since
from tether.files import replace, write_new
from tether.redact import redact_text, redact_value
from tether.tools.common import (
    dict_or_empty,
    head_records,
    nonempty_str,
    read_small,
    str_or_none,
    token_counts,
)


def test_since_accepts_dates_and_relative_spans() -> None:
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert parse_since("3d", now) == "2026-11-18T12:00:00.000Z"
    assert parse_since("12h", now) == "2026-11-21T00:00:00.000Z"
    assert parse_since("2026-11-01T10:00:00Z", now) == "2026-11-01T10:00:00.000Z"
    assert parse_since("yesterday", now) == "2026-11-20T00:00:00.000Z"
    with pytest.raises(ValueError, match="cannot read the date"):
        parse_since("last tuesday", now)


def test_write_new_never_overwrites_and_is_private(tmp_path: Path) -> None:
    target = tmp_path / "out" / "a.md"
    write_new(target, b"one")
    assert target.read_bytes() == b"one"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        write_new(target, b"two")
    assert target.read_bytes() == b"one"
    assert [p.name for p in target.parent.iterdir()] == ["a.md"]


def test_replace_swaps_the_whole_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "unit.service"
    replace(target, b"one", mode=0o755)
    assert target.read_bytes() == b"one"
    assert stat.S_IMODE(target.stat().st_mode) == 0o755 & ~_umask()
    replace(str(target), b"two" * 100_000, sync=False)
    assert target.read_bytes() == b"two" * 100_000
    assert [p.name for p in target.parent.iterdir()] == ["unit.service"]


def test_a_failed_replace_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state" / "x.json"
    (tmp_path / "state" / "folder").mkdir(parents=True)
    target.write_bytes(b"old")
    with pytest.raises(IsADirectoryError):
        replace(target.parent / "folder", b"new")  # a rename cannot put a file over a folder
    with pytest.raises(TypeError):
        replace(target, "not bytes")  # type: ignore[arg-type]  # fails while writing
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["folder", "x.json"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize(
    "secret",
    [
        "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789",
        "sk-proj-abcdefghijklmnopqrstuvwxyz0123",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB",
        "AKIAIOSFODNN7EXAMPLE",
        "AIzaSyA-abcdefghijklmnopqrstuvwxyz012345",
        "xoxb-1234567890-abcdefghij",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop",
    ],
)
def test_redaction_removes_known_secret_shapes(secret: str) -> None:
    out = redact_text(f"use {secret} now")
    assert secret not in out and "[REDACTED:" in out and out.startswith("use ")


def test_redaction_of_urls_keys_and_assignments() -> None:
    text = (
        "postgres://app:hunter2secret@db:5432/x\n"
        "Authorization: Bearer abcdefghijklmnopqrstuvwxyz\n"
        "export OPENAI_API_KEY='abcdefgh12345678'\n"
        "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAB3Nza\n-----END OPENSSH PRIVATE KEY-----\n"
        "ordinary words stay"
    )
    out = redact_value({"a": [text]})["a"][0]
    for secret in ("hunter2secret", "abcdefghijklmnopqrstuvwxyz", "abcdefgh12345678", "AAAAB3Nza"):
        assert secret not in out
    assert "postgres://app:" in out and "ordinary words stay" in out


def test_migrations_run_once_and_are_recorded(tmp_path: Path) -> None:
    db = connect(tmp_path / "t.db")
    names = [r[0] for r in db.execute("SELECT name FROM migrations ORDER BY name")]
    assert names == [m.__name__ for m in MIGRATIONS]
    assert migrate(db) == []
    assert stat.S_IMODE((tmp_path / "t.db").stat().st_mode) == 0o600


def test_one_table_printer_aligns_cuts_to_the_terminal_and_colours_only_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tether.commands.render import print_table

    monkeypatch.setenv("COLUMNS", "40")
    rows = [
        ["antigravity", "7", "a long title that does not fit in forty columns"],
        ["amp", "12", ""],
    ]
    print_table(["TOOL", "N", "TITLE"], rows, right={1}, styles={0: "36"}, fit=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "TOOL          N  TITLE",
        "antigravity   7  a long title that does…",
        "amp          12",
    ]  # the title cut to the 23 columns the others leave of 40; no colour off a terminal
    assert "\x1b" not in "".join(lines)


def test_list_and_search_take_the_same_session_options() -> None:
    from tether.commands.archive import list_, search

    def options(command: click.Command) -> dict[str, tuple[str, ...]]:
        return {p.name or "": tuple(p.opts) for p in command.params if p.name != "limit"}

    shared = {"tool", "project", "here", "since", "as_json", "no_scan"}
    assert {k: v for k, v in options(list_).items() if k in shared} == {
        k: v for k, v in options(search).items() if k in shared
    }
    assert shared <= set(options(list_)) and shared <= set(options(search))


@pytest.mark.parametrize(
    ("value", "as_dict", "as_str", "as_nonempty"),
    [
        ({"a": 1}, {"a": 1}, None, None),
        ("text", {}, "text", "text"),
        ("", {}, "", None),  # the one value on which the two string rules differ
        (None, {}, None, None),
        ([], {}, None, None),
        (0, {}, None, None),
    ],
)
def test_the_readers_field_guards_say_their_rule(
    value: object, as_dict: object, as_str: object, as_nonempty: object
) -> None:
    assert dict_or_empty(value) == as_dict
    assert str_or_none(value) == as_str
    assert nonempty_str(value) == as_nonempty


def test_a_small_file_is_read_whole_or_not_at_all(tmp_path: Path) -> None:
    small = tmp_path / "small" / ".project_root"
    small.parent.mkdir()
    small.write_bytes(b"/work/shop")
    assert read_small(small, 10) == b"/work/shop"
    assert read_small(small, 9) is None  # bigger than such a file is: not the one we want
    assert read_small(small.parent / "missing", 10) is None
    assert read_small(small.parent, 10) is None  # a folder


def test_token_counts_are_whole_numbers_under_our_names() -> None:
    names = (("promptTokenCount", "input_tokens"), ("candidatesTokenCount", "output_tokens"))
    native = {"promptTokenCount": 12, "candidatesTokenCount": True, "other": 3}
    assert token_counts(native, names) == {"input_tokens": 12}
    assert token_counts({"promptTokenCount": 1.5, "candidatesTokenCount": "2"}, names) == {}
    assert token_counts([12], names) == {}
    assert token_counts(None, names) == {}


def test_a_head_gives_the_json_of_its_first_lines_only() -> None:
    head = b'\n{"a": 1}\nnot json\n[2]\n{"b": 3}\n{"cut": '
    assert list(head_records(head, 4)) == [{"a": 1}, [2]]
    assert list(head_records(head, 10)) == [{"a": 1}, [2], {"b": 3}]
    assert list(head_records(b"", 5)) == []


def test_what_a_session_or_a_server_wrote_cannot_drive_the_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A pulled title, a handoff note, a device name: an OSC sets the terminal's title, a CSI
    # moves the cursor, a bidi mark reorders; each prints as its code, in every column.
    from tether.commands.render import print_session, print_table

    hostile = "ok\x1b]0;pwned\x07\x1b[2J\u202eevil\r\nnext"
    print_table(["FROM", "NOTE", "TITLE"], [[hostile, hostile, hostile]], fit=2)
    table = capsys.readouterr().out
    assert "\x1b" not in table and "\x07" not in table and "\u202e" not in table
    assert "ok\\u001b]0;pwned\\u0007\\u001b[2J\\u202eevil next" in table
    doc = {
        "session": {"title": hostile, "tool": "claude", "native_id": "x", "id": "ab" * 32},
        "messages": [
            {"role": "user", "timestamp": None, "parts": [{"type": "text", "text": hostile}]}
        ],
    }
    print_session(doc)
    shown = capsys.readouterr().out
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "\\u001b[2J" in shown
    # what joins letters and emoji is text, not a trick: it prints as it is
    family, persian = (
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",
        "\u0645\u06cc\u200c\u0631\u0648\u0645",
    )
    print_table(["TITLE"], [[f"{family} {persian}"]], fit=0)
    assert f"{family} {persian}" in capsys.readouterr().out


def test_pull_refuses_a_session_the_server_says_is_huge_before_fetching_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One chunk named many times over would be joined in memory: the server's manifest is
    # held to the limits a pusher's is held to on the server.
    from tether.sync import wire
    from tether.sync.pull import BadSession, _check_sources

    monkeypatch.setattr(wire, "MAX_SESSION_RAW", 1000, raising=False)
    ref = ["ab" * 32, 10]
    assert _check_sources([{"name": "a.jsonl", "mode": "jsonl", "chunks": [ref] * 100}])
    for sources in (
        [{"name": "a.jsonl", "mode": "jsonl", "chunks": [ref] * 101}],
        [{"name": "a.jsonl", "mode": "jsonl", "chunks": [[ref[0], -(1 << 40)], ref]}],
        [{"name": "a.jsonl", "mode": "jsonl", "chunks": [[ref[0], wire.MAX_CHUNK + 1]]}],
        ["a.jsonl"],
    ):
        with pytest.raises(BadSession):
            _check_sources(sources)


def test_the_sign_in_link_opens_on_the_server_this_machine_is_logged_in_to() -> None:
    # `tether remote web` opens what the server answers: a hostile or misconfigured server
    # cannot send the browser to another site; behind a proxy the path lands on the public URL.
    from tether.commands.sync import on_server
    from tether.sync.client import ServerRefused

    here = "http://127.0.0.1:8765"
    assert on_server(here, f"{here}/-/sign-in?code=AB") == f"{here}/-/sign-in?code=AB"
    public = "https://tether.example.com"
    assert on_server(public, "http://10.0.0.5:8765/-/sign-in?code=AB") == (
        f"{public}/-/sign-in?code=AB"
    )
    assert on_server(public, "https://evil.example/-/sign-in") == f"{public}/-/sign-in"
    for bad in ("javascript:alert(1)", "", "data:text/html,hi"):
        with pytest.raises(ServerRefused):
            on_server(public, bad)
