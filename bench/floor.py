"""The floor: read every session file, parse every line with orjson, put every text into FTS5.

One transaction, nothing else (no archive, no model, no incremental state): tether's full scan
is judged against this. `python bench/floor.py HOME [--db PATH] [--json]`.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson


def session_files(home: Path) -> Iterator[Path]:
    roots = [home / ".claude" / "projects", home / ".codex" / "sessions"]
    for root in roots:
        for folder, _, names in sorted(os.walk(root)):
            for name in sorted(names):
                if name.endswith(".jsonl"):
                    yield Path(folder) / name


def block_texts(content: Any) -> Iterator[str]:
    """Texts of a Claude message's content (a string or a list of blocks)."""
    if isinstance(content, str):
        yield content
        return
    if not isinstance(content, list):
        return
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            yield block.get("text") or ""
        elif kind == "thinking":
            yield block.get("thinking") or ""
        elif kind == "tool_use":
            yield orjson.dumps(block.get("input")).decode()
        elif kind == "tool_result":
            yield from block_texts(block.get("content"))


def claude_texts(record: dict[str, Any]) -> Iterator[str]:
    if record.get("type") in ("user", "assistant"):
        message = record.get("message")
        if isinstance(message, dict):
            yield from block_texts(message.get("content"))


def codex_output(output: Any) -> Iterator[str]:
    if isinstance(output, str):
        yield output
    elif isinstance(output, list):
        for item in output:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                yield item["text"]
    elif isinstance(output, dict) and isinstance(output.get("text"), str):
        yield output["text"]


def codex_texts(record: dict[str, Any]) -> Iterator[str]:
    """Texts of response_items only: event_msg lines are UI copies of the same texts."""
    if record.get("type") != "response_item":
        return
    item = record.get("payload")
    if not isinstance(item, dict):
        return
    kind = item.get("type")
    if kind == "message":
        yield from codex_output(item.get("content"))
    elif kind == "reasoning":
        yield from codex_output(item.get("summary"))
    elif kind == "function_call":
        yield item.get("arguments") or ""
    elif kind == "custom_tool_call":
        yield item.get("input") or ""
    elif kind in ("function_call_output", "custom_tool_call_output"):
        yield from codex_output(item.get("output"))


def rows(home: Path, stats: dict[str, int]) -> Iterator[tuple[str, str]]:
    for path in session_files(home):
        texts = codex_texts if ".codex" in path.parts else claude_texts
        session = path.stem
        with path.open("rb") as fh:
            for line in fh:
                stats["bytes"] += len(line)
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:
                    stats["bad_lines"] += 1
                    continue
                if isinstance(record, dict):
                    for text in texts(record):
                        if text:
                            stats["text_chars"] += len(text)
                            yield session, text
        stats["files"] += 1


def build(home: Path, db_path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    stats = {"files": 0, "bytes": 0, "text_chars": 0, "bad_lines": 0}
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("CREATE VIRTUAL TABLE parts USING fts5(session UNINDEXED, text)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO parts (session, text) VALUES (?, ?)", rows(home, stats))
    db.execute("COMMIT")
    count = db.execute("SELECT max(rowid) FROM parts").fetchone()[0] or 0
    db.close()
    seconds = time.perf_counter() - started
    return {
        **stats,
        "texts": count,
        "seconds": round(seconds, 3),
        "mb": round(stats["bytes"] / 1e6, 1),
        "db_mb": round(db_path.stat().st_size / 1e6, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("home", type=Path, help="the HOME that holds .claude/ and .codex/")
    parser.add_argument("--db", type=Path, help="FTS database to write (default: a temp file)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tether-floor-") as tmp:
        db_path = args.db or Path(tmp) / "floor.db"
        db_path.unlink(missing_ok=True)
        result = build(args.home, db_path)
    if args.json:
        print(orjson.dumps(result).decode())
    else:
        print(
            f"floor: {result['files']} files, {result['mb']} MB, {result['texts']} texts "
            f"-> FTS5 in {result['seconds']:.2f} s ({result['mb'] / result['seconds']:.0f} MB/s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
