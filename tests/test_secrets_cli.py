"""`tether secrets scan` through the real CLI: per rule, how many and where, never the
secret itself; and nothing in the real fixture sessions."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.conftest import FIXTURES, run
from tests.secrets_corpus import KINDS, leaks, placed, session_with
from tether.formats.tether_json import session_json


def import_session(tmp_path: Path, kind: str) -> tuple[str, dict]:
    where = placed()[[k.name for k in KINDS].index(kind)]
    export = tmp_path / f"{kind}.json"
    export.write_bytes(orjson.dumps(session_json(session_with(where, "/srv/app"))))
    run("import", str(export))
    return session_json(session_with(where, "/srv/app"))["session"]["id"], where


def test_scan_one_session_says_where_each_secret_is_and_never_what(tmp_path: Path) -> None:
    sid, where = import_session(tmp_path, "stripe-secret-key")
    result = run("secrets", "scan", sid[:10], "--json", "--no-scan")
    report = orjson.loads(result.stdout)
    assert report["sessions_scanned"] == 1
    assert report["rules"] == {"stripe-access-token": 6}
    places = {(f["message"], f["part_kind"], f["field"]) for f in report["findings"]}
    assert places == {
        (None, None, "session.title"),
        (0, "text", "text"),
        (1, "reasoning", "text"),
        (1, "text", "text"),
        (1, "tool_call", "input.content"),
        (2, "tool_result", "output"),
    }
    assert all(f["session_id"] == sid for f in report["findings"])
    assert leaks(result.stdout, where) == []
    human = run("secrets", "scan", sid, "--no-scan").stdout
    assert "6 secret(s) in 1 session(s)" in human and "stripe-access-token" in human
    assert leaks(human, where) == []


def test_scan_all_counts_every_session(tmp_path: Path) -> None:
    import_session(tmp_path, "github-fine-grained-token")
    import_session(tmp_path, "keyed-structured")
    report = orjson.loads(run("secrets", "scan", "--all", "--json", "--no-scan").stdout)
    assert report["sessions_scanned"] == 2
    assert report["rules"]["github-fine-grained-pat"] == 6
    assert report["rules"]["keyed-secret"] == 6
    keyed = [f for f in report["findings"] if f["part_kind"] == "tool_call"]
    assert any(f["field"] == "input.env.SERVICE_API_TOKEN" for f in keyed)


def test_scan_needs_one_session_or_all() -> None:
    assert run("secrets", "scan", "--no-scan", ok=False).exit_code == 2
    assert run("secrets", "scan", "abc", "--all", "--no-scan", ok=False).exit_code == 2
    missing = run("secrets", "scan", "ffffffffff", "--no-scan", ok=False)
    assert missing.exit_code == 4  # not found


def test_no_secret_is_found_in_the_real_fixture_sessions() -> None:
    """Real transcripts (code, paths, hashes, ids, signatures): nothing to flag."""
    run("import", str(FIXTURES), ok=False)  # a few fixtures hold bad lines on purpose
    listed = orjson.loads(run("list", "--json", "-n", "1000", "--all", "--no-scan").stdout)
    assert len(listed) > 30
    report = orjson.loads(run("secrets", "scan", "--all", "--json", "--no-scan").stdout)
    assert report["sessions_scanned"] >= len(listed)
    assert report["total"] == 0, report["rules"]
