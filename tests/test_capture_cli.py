"""Capture and the core CLI on real native files laid out as the tools lay them out.

The oracle is the native files themselves: every tool-call id, user prompt and tool output
that a file holds must come back from `show` and be found by `search`.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import FIXTURES, checksums, run

LIST_KEYS = {
    "id",
    "tool",
    "native_id",
    "project",
    "cwd",
    "git_branch",
    "git_commit",
    "title",
    "created_at",
    "updated_at",
    "message_count",
    "models",
    "usage",
    "parent_id",
}
SEARCH_KEYS = {
    "id",
    "session_id",
    "tool",
    "native_id",
    "project",
    "title",
    "created_at",
    "updated_at",
    "message_count",
    "models",
    "message_id",
    "role",
    "timestamp",
    "kind",
    "snippet",
}
CLAUDE_REAL = sorted((FIXTURES / "claude").glob("real_entire_*.jsonl"))
CODEX_REAL = (
    FIXTURES
    / "codex"
    / ("real_rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl")
)


def first_session_id(path: Path) -> str:
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("sessionId"):
            return str(rec["sessionId"])
    raise AssertionError(f"no sessionId in {path}")


def lay_out(home: Path) -> dict[str, Path]:
    """Real samples placed where each tool keeps them; returns native id -> file."""
    placed: dict[str, Path] = {}
    project = home / ".claude" / "projects" / "-Users-soph-Work-entire-devenv-cli"
    project.mkdir(parents=True)
    for sample in CLAUDE_REAL:
        sid = first_session_id(sample)
        placed[sid] = project / f"{sid}.jsonl"
        shutil.copy(sample, placed[sid])
    day = home / ".codex" / "sessions" / "2025" / "11" / "17"
    day.mkdir(parents=True)
    rollout = day / CODEX_REAL.name.removeprefix("real_")
    shutil.copy(CODEX_REAL, rollout)
    placed["019a93b9-f380-7600-98ff-940e6b99603c"] = rollout
    return placed


def as_json(*args: str) -> Any:
    return orjson.loads(run(*args).stdout)


def native_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def claude_oracle(path: Path) -> tuple[set[str], set[str]]:
    """(tool_use ids, tool_result ids) recorded in a Claude Code file."""
    calls, results = set(), set()
    for rec in native_records(path):
        content = (rec.get("message") or {}).get("content")
        if not isinstance(content, list):
            continue
        for block in content:
            if block.get("type") == "tool_use":
                calls.add(block["id"])
            elif block.get("type") == "tool_result":
                results.add(block["tool_use_id"])
    return calls, results


def parts_of(session: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [p for m in session["messages"] for p in m["parts"] if p["type"] == kind]


@pytest.fixture
def home(isolated_home: Path) -> Path:
    return isolated_home


def test_scan_list_show_search_on_real_files(home: Path) -> None:
    placed = lay_out(home)
    before = checksums(home)
    result = run("scan", "--json")
    report = orjson.loads(result.stdout)
    assert report["sessions_added"] == len(placed)
    assert checksums(home) == before, "capture must never write a native byte"

    rows = as_json("list", "--json", "--no-scan")
    assert {r["native_id"] for r in rows} == set(placed)
    for row in rows:
        assert set(row) >= LIST_KEYS
        assert len(row["id"]) == 64
        assert row["message_count"] > 0 and row["created_at"] and row["updated_at"]
    assert as_json("list", "--json", "--tool", "codex")[0]["models"] == ["gpt-5.1-codex"]
    assert {r["tool"] for r in as_json("list", "--json", "--tool", "claude-code")} == {"claude"}

    for native_id, path in placed.items():
        if path.parent.name != "-Users-soph-Work-entire-devenv-cli":
            continue
        session = as_json("show", native_id, "--json")
        calls, results = claude_oracle(path)
        assert {p["id"] for p in parts_of(session, "tool_call")} == calls
        assert {p["call_id"] for p in parts_of(session, "tool_result")} == results
        for message in session["messages"]:
            assert set(message) >= {"role", "timestamp", "parts"}
        assert session["session"]["cwd"] == "/Users/soph/Work/entire/devenv/cli"


def test_every_codex_call_output_and_prompt_comes_back(home: Path) -> None:
    lay_out(home)
    session = as_json("show", "019a93b9-f380-7600-98ff-940e6b99603c", "--json")
    records = native_records(CODEX_REAL)
    call_ids = {
        r["payload"]["call_id"]
        for r in records
        if r["type"] == "response_item" and r["payload"]["type"] == "function_call"
    }
    assert {p["id"] for p in parts_of(session, "tool_call")} == call_ids
    assert {p["call_id"] for p in parts_of(session, "tool_result")} == call_ids
    prompts = [
        r["payload"]["message"]
        for r in records
        if r["type"] == "event_msg" and r["payload"]["type"] == "user_message"
    ]
    user_texts = [p["text"] for m in session["messages"] if m["role"] == "user" for p in m["parts"]]
    assert user_texts == prompts
    assert not any("<environment_context>" in t for t in user_texts)


def test_search_finds_prompts_tool_inputs_and_tool_outputs(home: Path) -> None:
    lay_out(home)
    hits = as_json("search", "competing", "agents", "--json")
    assert hits and set(hits[0]) >= SEARCH_KEYS
    assert hits[0]["message_id"].startswith(hits[0]["session_id"] + ":")
    assert any(h["role"] == "user" for h in hits)
    # A word that only a Codex tool output holds (the `ls` of the project folder).
    outputs = as_json("search", "LM", "Studio", "--role", "tool", "--json")
    assert outputs and all(h["role"] == "tool" and h["tool"] == "codex" for h in outputs)
    # Tool inputs are searchable too: the codex shell calls ran `rg`.
    calls = as_json("search", "rg", "--tool", "codex", "--json")
    assert any(h["kind"] == "tool_call" for h in calls)
    assert as_json("search", "zzqqxxnotaword", "--json") == []


def test_search_query_syntax_and_errors(home: Path) -> None:
    lay_out(home)
    assert as_json("search", "file.py", "--json") is not None
    assert as_json("search", "migrat*", "--json") is not None
    bad = run("search", '"unbalanced', ok=False)
    assert bad.exit_code in (0, 2)
    empty = run("search", " ", ok=False)
    assert empty.exit_code == 2 and "empty" in empty.stderr


def test_json_is_one_unwrapped_line_even_for_long_strings(home: Path) -> None:
    lay_out(home)
    out = run("list", "--json").stdout
    assert out.count("\n") == 1
    orjson.loads(out)
    out = run("search", "the", "--json", "--limit", "200").stdout
    assert out.count("\n") == 1 and len(orjson.loads(out)) > 50


def test_show_by_prefix_and_ambiguity(home: Path) -> None:
    lay_out(home)
    rows = as_json("list", "--json")
    full = rows[0]["id"]
    assert as_json("show", full[:10], "--json")["session"]["id"] == full
    missing = run("show", "nosuchsession", ok=False)
    assert missing.exit_code == 4 and "no session matches" in missing.stderr
    ambiguous = run("show", "", ok=False)
    assert ambiguous.exit_code != 0


def test_incremental_append_reads_only_new_lines(home: Path) -> None:
    placed = lay_out(home)
    run("scan")
    sid = next(k for k in placed if "claude" in str(placed[k]))
    path = placed[sid]
    count = as_json("show", sid, "--json")["session"]["message_count"]
    last = native_records(path)[-1]
    new = {
        **last,
        "type": "user",
        "uuid": "11111111-2222-4333-8444-555555555555",
        "parentUuid": last.get("uuid"),
        "message": {"role": "user", "content": "appended prompt about quokkas"},
        "timestamp": "2027-01-01T00:00:00.000Z",
    }
    line = orjson.dumps(new) + b"\n"
    with path.open("ab") as fh:
        fh.write(line)
    report = as_json("scan", "--json")
    assert report["read"] == 1 and report["bytes_read"] == len(line)
    session = as_json("show", sid, "--json")
    assert session["session"]["message_count"] == count + 1
    assert session["session"]["updated_at"] == "2027-01-01T00:00:00.000Z"
    assert len(as_json("search", "quokkas", "--json")) == 1
    # Nothing new: stat only, nothing read.
    assert as_json("scan", "--json")["read"] == 0


def test_rewritten_file_is_reread_without_duplicates(home: Path) -> None:
    placed = lay_out(home)
    run("scan")
    sid = next(k for k in placed if "claude" in str(placed[k]))
    path = placed[sid]
    before = as_json("show", sid, "--json")
    lines = path.read_bytes().splitlines(keepends=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(b"".join(lines[:-1]) + lines[-1])
    tmp.replace(path)  # same bytes, new inode: the tool rewrote the file
    run("scan")
    after = as_json("show", sid, "--json")
    assert after["messages"] == before["messages"]


def test_deleted_native_file_stays_in_the_archive(home: Path) -> None:
    placed = lay_out(home)
    run("scan")
    sid, path = next((k, v) for k, v in placed.items() if "claude" in str(v))
    before = as_json("show", sid, "--json")
    path.unlink()
    report = as_json("scan", "--json")
    assert report["missing"] == 1
    assert as_json("show", sid, "--json")["messages"] == before["messages"]
    doctor = as_json("doctor", "--json")
    assert any("missing_since" in p for p in doctor["problems"])
    # And a reindex rebuilds it from the archived raw bytes alone.
    run("reindex")
    assert as_json("show", sid, "--json")["messages"] == before["messages"]


def test_reindex_gives_back_the_same_sessions(home: Path) -> None:
    lay_out(home)
    run("scan")
    before = {r["id"]: as_json("show", r["id"], "--json") for r in as_json("list", "--json")}
    run("reindex")
    after = {sid: as_json("show", sid, "--json", "--no-scan") for sid in before}
    assert after == before
    assert as_json("doctor", "--json", "--deep")["health"]["search_index"] == "ok"


def test_doctor_checks_the_index_only_when_asked_and_then_finds_damage(home: Path) -> None:
    """Plain `doctor` reads no more than what it lists (its checks read the whole archive,
    15 s at the bench's 10x); `--deep` checks, and a search index that no longer matches
    the texts it indexes is reported as damage, in one line, with exit 1."""
    lay_out(home)
    run("scan")
    plain = as_json("doctor", "--json")["health"]
    assert (plain["database"], plain["search_index"]) == (None, None)
    assert "m001_sessions_messages_parts" in plain["migrations"]
    assert "not checked" in run("doctor").output
    deep = as_json("doctor", "--json", "--deep")["health"]
    assert (deep["database"], deep["search_index"]) == ("ok", "ok")
    from tether.archive.db import connect
    from tether.paths import db_path, tether_home

    db = connect(db_path(tether_home()))
    try:  # words indexed for a text the archive does not hold
        db.execute("INSERT INTO parts_fts(rowid, text) VALUES (987654321, 'ghostly words')")
        db.commit()
    finally:
        db.close()
    assert run("doctor").exit_code == 0  # not checked: nothing to say of it
    damaged = run("doctor", "--deep", ok=False)
    assert damaged.exit_code == 1
    assert "the archive is damaged" in damaged.output
    assert "search index" in damaged.output


def test_bad_input_keeps_what_can_be_read(home: Path) -> None:
    project = home / ".claude" / "projects" / "-tmp-bad"
    project.mkdir(parents=True)
    good = {
        "type": "user",
        "uuid": "u1",
        "parentUuid": None,
        "sessionId": "bad",
        "cwd": "/tmp/bad",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "message": {"role": "user", "content": "first readable prompt"},
    }
    later = {**good, "uuid": "u2", "parentUuid": "u1"}
    later["message"] = {"role": "user", "content": "second readable prompt caf\xe9"}
    data = (
        orjson.dumps(good)
        + b"\n{not json\n[1, 2]\n"
        + orjson.dumps({"type": "brand-new-record-type", "x": 1})
        + b"\n"
        + orjson.dumps(later).replace("caf\xe9".encode(), b"caf\xe9")
        + b'\n{"type": "user", "trunc'
    )
    bad = project / "00000000-0000-4000-8000-000000000001.jsonl"
    bad.write_bytes(data)
    (project / "00000000-0000-4000-8000-000000000002.jsonl").write_bytes(b"")
    (project / "loop").symlink_to(project)
    (home / ".claude" / "projects" / "loop2").symlink_to(home / ".claude" / "projects")
    before = checksums(home)

    result = run("scan", ok=False)
    assert result.exit_code == 1
    problem_lines = [ln for ln in result.stderr.splitlines() if ln.startswith("tether:")]
    assert len(problem_lines) == 1 and "skipped" in problem_lines[0]
    session = as_json("show", "00000000-0000-4000-8000-000000000001", "--json")
    texts = [p["text"] for p in parts_of(session, "text")]
    assert texts[0] == "first readable prompt"
    assert texts[1].startswith("second readable prompt caf")
    assert checksums(home) == before

    doctor = as_json("doctor", "--json")
    by_path = {Path(p["path"]).name: p for p in doctor["problems"]}
    entry = by_path[bad.name]
    assert entry["skipped_lines"] >= 2 and entry["repaired_lines"] == 1
    assert entry["pending_bytes"] == len(b'{"type": "user", "trunc')
    assert any("invalid JSON" in r for r in entry["reasons"])
    # The truncated line completes later: read then, once.
    with bad.open("ab") as fh:
        fh.write(b'ated": 1}\n')
    run("scan", ok=False)
    assert as_json("doctor", "--json")["problems"]


def test_unreadable_file_is_reported_and_retried_when_it_changes(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    placed = lay_out(home)
    victim = next(p for p in placed.values() if "claude" in str(p))
    import tether.capture.ingest

    real_feed = tether.capture.ingest.FileFeed

    def deny(source: Any, *args: Any, **kwargs: Any) -> Any:
        if source.path == victim:
            raise PermissionError(13, "Permission denied", str(victim))
        return real_feed(source, *args, **kwargs)

    # Root reads every file, so the denial is simulated where the file is opened.
    monkeypatch.setattr(tether.capture.ingest, "FileFeed", deny)
    result = run("scan", ok=False)
    assert result.exit_code == 1
    assert "1 file(s) unreadable" in result.stderr and "Permission denied" in result.stderr
    assert len(as_json("list", "--json", "--no-scan")) == len(placed) - 1
    problem = next(p for p in as_json("doctor", "--json")["problems"] if "error" in p)
    assert problem["path"] == str(victim) and "Permission denied" in problem["error"]
    assert as_json("scan", "--json")["read"] == 0  # unchanged: not retried every scan
    monkeypatch.setattr(tether.capture.ingest, "FileFeed", real_feed)
    victim.touch()
    assert as_json("scan", "--json")["read"] == 1
    assert len(as_json("list", "--json")) == len(placed)


def test_corrupt_archive_is_a_clear_error(home: Path, tmp_path: Path) -> None:
    data = Path(os.environ["TETHER_HOME"])
    data.mkdir(parents=True)
    (data / "tether.db").write_bytes(b"this is not a database" * 100)
    result = run("list", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("tether: error:") and len(result.stderr.splitlines()) == 1


def test_export_formats_redact_and_import_round_trip(home: Path, tmp_path: Path) -> None:
    lay_out(home)
    codex_id = "019a93b9-f380-7600-98ff-940e6b99603c"
    original = as_json("show", codex_id, "--json")
    md = run("export", codex_id).stdout
    assert md.startswith("# ") and "```" in md
    assert f"- **Tool:** `codex`\n- **Session:** `{codex_id}`\n" in md
    html = run("export", codex_id, "--format", "html").stdout
    assert html.startswith("<!doctype html>") and "<script" not in html
    assert f"<dt>Tool</dt><dd>codex</dd><dt>Session</dt><dd>{codex_id}</dd>" in html
    out = tmp_path / "s.json"
    run("export", codex_id, "-f", "json", "-o", str(out))
    again = run("export", codex_id, "-f", "json", "-o", str(out), ok=False)
    assert again.exit_code == 3 and "exists" in again.stderr
    exported = orjson.loads(out.read_bytes())
    assert exported["format"] == "tether.session" and exported["version"] == 1

    # Into a fresh archive, from the export alone.
    shutil.rmtree(home / ".codex")
    shutil.rmtree(home / ".claude")
    os.environ["TETHER_HOME"] = str(tmp_path / "other-archive")
    imported = as_json("import", str(out), "--json")
    assert [s["native_id"] for s in imported["sessions"]] == [codex_id]
    back = as_json("show", codex_id, "--json")
    assert back["session"]["tool"] == "codex"
    assert len(back["messages"]) == len(original["messages"])
    assert parts_of(back, "tool_call") == parts_of(original, "tool_call")


def test_export_redacts_secrets_unless_asked(home: Path, tmp_path: Path) -> None:
    project = home / ".claude" / "projects" / "-tmp-s"
    project.mkdir(parents=True)
    secret = "sk-ant-api03-" + "Zq3" * 31 + "AA"  # well-formed (tests/secrets_corpus.py)
    rec = {
        "type": "user",
        "uuid": "u1",
        "parentUuid": None,
        "sessionId": "s",
        "cwd": "/tmp/s",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "message": {"role": "user", "content": f"my key is {secret}"},
    }
    (project / "00000000-0000-4000-8000-00000000000a.jsonl").write_bytes(orjson.dumps(rec) + b"\n")
    sid = "00000000-0000-4000-8000-00000000000a"
    assert secret not in run("export", sid, "-f", "json").stdout
    assert secret in run("export", sid, "-f", "json", "--no-redact").stdout


def test_import_native_file_from_anywhere(home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "backup"
    elsewhere.mkdir()
    shutil.copy(CLAUDE_REAL[0], elsewhere / CLAUDE_REAL[0].name)
    shutil.copy(CODEX_REAL, elsewhere / CODEX_REAL.name)
    (elsewhere / "notes.txt").write_text("not a session")
    report = as_json("import", str(elsewhere), "--json")
    assert {s["tool"] for s in report["sessions"]} == {"claude", "codex"}
    (elsewhere / CLAUDE_REAL[0].name).unlink()
    run("scan")
    assert len(as_json("list", "--json")) == 2
    stray = run("import", str(elsewhere / "notes.txt"), ok=False)
    assert stray.exit_code == 1 and "not a session file" in stray.stderr


def test_list_filters(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lay_out(home)
    assert len(as_json("list", "--json", "--limit", "2")) == 2
    assert as_json("list", "--json", "--since", "2030-01-01") == []
    codex = as_json("list", "--json", "--project", "/home/user/projects/temp")
    assert [r["tool"] for r in codex] == ["codex"]
    repo = tmp_path / "Users" / "x"
    (repo / ".git").mkdir(parents=True)
    monkeypatch.chdir(repo)
    assert as_json("list", "--json", "--here") == []
    # A worktree's `.git` is a file; a subfolder's project is the worktree, as for the shims.
    from tether.commands.common import here_root

    worktree = tmp_path / "wt"
    (worktree / "src" / "deep").mkdir(parents=True)
    (worktree / ".git").write_text("gitdir: /elsewhere/.git/worktrees/wt\n")
    monkeypatch.chdir(worktree / "src" / "deep")
    assert here_root() == str(worktree.resolve())
    bad = run("list", "--tool", "vim", ok=False)
    assert bad.exit_code == 2 and "unknown tool" in bad.stderr


def test_every_command_has_help_and_is_in_the_readme() -> None:
    from click import Context

    from tether.cli import main

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    ctx = Context(main)
    names = main.list_commands(ctx)
    assert set(main.commands) < set(names)  # the lazily loaded command families too
    for name in names:
        command = main.get_command(ctx, name)
        assert command is not None and command.help, name
        assert f"tether {name}" in readme, f"README does not show `tether {name}`"
        assert run(name, "--help").stdout.strip()
    top = run("--help").stdout
    assert all(name in top for name in names)


def test_gemini_and_copilot_stores_and_the_gemini_resume_stub(home: Path) -> None:
    chats = home / ".gemini" / "tmp" / "myproj" / "chats"
    chats.mkdir(parents=True)
    (chats.parent / ".project_root").write_text("/tmp/gemrun/home/proj/myproj")
    gemini = FIXTURES / "gemini"
    # The real 0.61 CLI's files: the session, and the stub its resume wrote with the same id.
    shutil.copy(
        gemini / "cli061_resumed_tool_call.jsonl", chats / "session-2026-11-21T19-44-11111111.jsonl"
    )
    shutil.copy(
        gemini / "cli061_resume_stub.jsonl", chats / "session-2026-11-21T19-46-11111111.jsonl"
    )
    shutil.copytree(FIXTURES / "copilot" / "store", home / ".copilot")
    before = checksums(home)
    run("scan")
    assert checksums(home) == before

    rows = as_json("list", "--json")
    assert sorted(r["tool"] for r in rows) == ["copilot", "copilot", "copilot", "gemini"]
    assert len(as_json("list", "--json", "--all")) == 5  # the stub, kept but not listed
    session = as_json("show", "11111111-2222-3333-4444-555555555555", "--json")
    assert session["session"]["project"] == "/tmp/gemrun/home/proj/myproj"
    calls, results = parts_of(session, "tool_call"), parts_of(session, "tool_result")
    assert len(calls) == 1 and [r["call_id"] for r in results] == [calls[0]["id"]]
    users = [p["text"] for m in session["messages"] if m["role"] == "user" for p in m["parts"]]
    assert len(users) == 3 and not any("<session_context>" in u for u in users)
    hits = as_json("search", calls[0]["input"]["command"].split()[0], "--tool", "gemini", "--json")
    assert any(h["kind"] == "tool_call" for h in hits)


def test_a_batched_scan_keeps_every_key_right(home: Path) -> None:
    """Batches are written without foreign-key checks (for speed): the keys must hold."""
    import sqlite3

    from tether.archive.db import connect
    from tether.capture.scan import scan

    lay_out(home)
    db = connect(Path(os.environ["TETHER_HOME"]) / "tether.db")
    scan(db, os.environ, home)
    assert db.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO messages (session_pk, seq, key, role) VALUES (999999, 0, 'k', 'user')"
        )
    db.close()
