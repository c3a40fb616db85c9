"""The benchmark corpus generator: deterministic, valid JSONL, and its manifest tells the truth."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
TINY = "0.004"  # 8 Claude Code sessions and 2 Codex rollouts


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_corpus", BENCH / "gen_corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_corpus"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


gen_corpus = load_generator()


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def session_files(root: Path) -> list[Path]:
    return sorted((root / "home").rglob("*.jsonl"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    assert gen_corpus.main([str(root), "--scale", TINY]) == 0
    return root


def manifest(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((root / "manifest.json").read_bytes())
    return data


def test_same_seed_gives_the_same_bytes(corpus: Path, tmp_path: Path) -> None:
    gen_corpus.main([str(tmp_path / "again"), "--scale", TINY])
    gen_corpus.main([str(tmp_path / "other"), "--scale", TINY, "--seed", "8"])
    first = snapshot(corpus)
    assert len(session_files(corpus)) == 10
    assert snapshot(tmp_path / "again") == first
    assert snapshot(tmp_path / "other") != first


def test_every_line_is_json_in_the_native_shape(corpus: Path) -> None:
    data = manifest(corpus)
    claude = [p for p in session_files(corpus) if ".claude" in p.parts]
    codex = [p for p in session_files(corpus) if ".codex" in p.parts]
    assert (len(claude), len(codex)) == (data["claude_sessions"], data["codex_sessions"])
    assert sum(p.stat().st_size for p in session_files(corpus)) == data["bytes"]
    for path in claude:
        records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
        asked, answered = set(), set()
        for r in records:
            if r["type"] in ("user", "assistant"):
                assert r["sessionId"] == path.stem
                assert path.parent.name == re.sub(r"[^a-zA-Z0-9]", "-", r["cwd"])
            content = r.get("message", {}).get("content")
            for block in content if isinstance(content, list) else []:
                asked |= {block["id"]} if block["type"] == "tool_use" else set()
                answered |= {block["tool_use_id"]} if block["type"] == "tool_result" else set()
        assert asked == answered
    for path in codex:
        records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
        assert records[0]["type"] == "session_meta"
        assert path.name.endswith(f"-{records[0]['payload']['id']}.jsonl")
        items = [r["payload"] for r in records if r["type"] == "response_item"]
        calls = {i["call_id"] for i in items if i["type"] in ("function_call", "custom_tool_call")}
        outputs = {i["call_id"] for i in items if i["type"].endswith("_call_output")}
        assert calls == outputs
        for item in items:
            if item["type"] == "function_call":
                orjson.loads(item["arguments"])


def test_rare_words_are_exactly_where_the_manifest_says(corpus: Path) -> None:
    data = manifest(corpus)
    files = {
        p.relative_to(corpus / "home").as_posix(): p.read_bytes() for p in session_files(corpus)
    }
    assert data["rare_word"] == data["rare_words"][0]["word"]
    assert len(data["rare_word_sessions"]) == 1
    for entry in data["rare_words"]:
        holders = {path for path, raw in files.items() if entry["word"].encode() in raw}
        assert holders == {s["path"] for s in entry["sessions"]}
        assert 1 <= len(holders) <= 3
    common = re.compile(rb"\b%s\b" % data["common_word"].encode(), re.IGNORECASE)
    assert all(common.search(raw) for raw in files.values())
    assert data["common_word_sessions"] == len(files)


def test_huge_option_writes_one_big_session(tmp_path: Path) -> None:
    assert gen_corpus.main([str(tmp_path), "--huge-mb", "2"]) == 0
    [path] = session_files(tmp_path)
    assert path.stat().st_size >= 2_000_000
    assert manifest(tmp_path)["bytes"] == path.stat().st_size
