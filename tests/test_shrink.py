"""A file its tool rewrites smaller (cut short, or a thread with a message taken out) keeps
what it dropped in `show` and `search`, where it stood, marked `dropped_by_tool`, and
without a second copy of what the file still holds; `tether reindex` gives the same."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson

from tests.conftest import run
from tests.stores import CLAUDE_ID, append, claude_prompt, place_claude
from tests.tools.test_amp import THREAD

AMP_ID = THREAD.stem


def shown(ident: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = orjson.loads(run("show", ident, "--json", "--no-scan").stdout)[
        "messages"
    ]
    return messages


def said(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["role"], orjson.dumps(m["parts"]).decode()) for m in messages]


def dropped(messages: list[dict[str, Any]]) -> list[bool]:
    return [bool(m["native"].get("dropped_by_tool")) for m in messages]


def hits(words: str) -> int:
    return len(orjson.loads(run("search", words, "--json", "--no-scan").stdout))


def test_a_file_cut_short_keeps_what_it_dropped(isolated_home: Path) -> None:
    path = place_claude(isolated_home)
    run("scan")
    whole = shown(CLAUDE_ID)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: len(lines) // 2]))  # the tool cut it short
    run("scan")
    after = shown(CLAUDE_ID)
    assert said(after) == said(whole)  # every message once, in its place
    assert any(dropped(after)) and not all(dropped(after))
    assert not any(dropped(after)[: dropped(after).index(True)])
    assert hits('"Would you like me to read the detailed review files"') == 1
    run("reindex")
    assert shown(CLAUDE_ID) == after

    append(path, claude_prompt(path, "written after the cut"))  # the tool goes on
    run("scan")
    grown = shown(CLAUDE_ID)
    assert said(grown)[:-1] == said(whole) and grown[-1]["parts"][0]["text"] == (
        "written after the cut"
    )
    path.write_bytes(path.read_bytes().replace(b"soph/chunking", b"soph/chunkinG"))
    run("scan")  # rewritten, not smaller: the history it dropped before is still kept
    assert said(shown(CLAUDE_ID)) == said(grown)
    run("reindex")
    assert said(shown(CLAUDE_ID)) == said(grown)


def test_a_thread_rewritten_without_a_message_keeps_it_where_it_stood(
    isolated_home: Path,
) -> None:
    threads = isolated_home / ".local" / "share" / "amp" / "threads"
    threads.mkdir(parents=True)
    path = threads / THREAD.name
    shutil.copy(THREAD, path)
    run("scan")
    whole = shown(AMP_ID)
    doc = orjson.loads(path.read_bytes())
    gone = doc["messages"].pop(1)  # an edit in Amp drops the turns after it
    path.write_bytes(orjson.dumps(doc))
    run("scan")
    after = shown(AMP_ID)
    assert said(after) == said(whole)
    assert dropped(after) == [False, True] + [False] * (len(after) - 2)
    assert after[1]["role"] == gone["role"] == "assistant"
    run("reindex")
    assert shown(AMP_ID) == after


def test_a_file_cut_to_nothing_keeps_every_message(isolated_home: Path) -> None:
    path = place_claude(isolated_home)
    run("scan")
    whole = shown(CLAUDE_ID)
    path.write_bytes(b"")
    run("scan")
    after = shown(CLAUDE_ID)
    assert said(after) == said(whole) and all(dropped(after))
    run("reindex")
    assert shown(CLAUDE_ID) == after
