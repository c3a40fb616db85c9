"""A seeded mutator for native session files, and the real files it starts from.

Every seed is a real file (tests/fixtures, /work/shared/research/samples) or the bytes a real
container (a SQLite database, a task folder) hands its reader for one session. A mutation
changes some lines (or, in a JSON document, some elements of its longest list) and says
which: the baseline is the same file without them, whose messages must all survive the
mutation.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tests.conftest import FIXTURES
from tests.test_capture_task_tools import CLINE_TASK, KILO_TASK, ROO_TASK
from tests.tools import opencode_store
from tests.tools.test_cursor import make_state_db, make_store_db
from tether.tools import aider, cursor_agent, cursor_ide, opencode, taskdirs
from tether.tools.base import Member, MemberMode, SourceMode

SAMPLES = Path("/work/shared/research/samples")
DOCS = Path(__file__).resolve().parents[1] / "docs" / "examples"
HUGE = 3 << 20
"""A huge line: longer than the MAX_LINE the fuzz test sets (see test_fuzz)."""
DEPTHS = (60, 130, 260, 1000, 1030, 100_000)
"""Nesting depths around the limits: the archive's (128), orjson's writer (254) and
reader (1024), Python's recursion (1000)."""
NEST = "\x00nest\x00"
NODES_DEPTH = 40


@dataclass(frozen=True)
class Seed:
    tool: str
    name: str
    """Where the file lies in a case's folder (its name means something to some readers)."""
    data: bytes
    mode: SourceMode | MemberMode
    native_id: str | None = None
    member_of: str | None = None
    """The container's file name when the data is one member's bytes."""

    @property
    def lines(self) -> bool:
        return self.mode == "jsonl"


@dataclass
class Mutation:
    data: bytes
    baseline: bytes | None
    """The seed without what the mutation touched; None when that cannot be said."""
    label: str
    structural: bool
    """The result is still valid JSON where the seed was (a document must not fail)."""
    touched: list[bytes] = field(default_factory=list)
    """The seed's lines (or elements) the mutation changed, as they were."""


# ----------------------------------------------------------------------- the real files


def _files(tool: str, pattern: str, *folders: Path) -> list[tuple[str, Path]]:
    return [(tool, p) for folder in folders for p in sorted(folder.glob(pattern))]


def seeds(work: Path) -> list[Seed]:
    """Every real file each reader reads, once each (samples that repeat a fixture dropped)."""
    found: list[Seed] = []
    for tool, path in [
        *_files("claude", "*.jsonl", FIXTURES / "claude", SAMPLES / "claude-code"),
        *_files("codex", "*.jsonl", FIXTURES / "codex", SAMPLES / "codex"),
        *_files("gemini", "*.jsonl", FIXTURES / "gemini", SAMPLES / "gemini-cli"),
        *_files("copilot", "*.jsonl", FIXTURES / "copilot", SAMPLES / "copilot-cli"),
        *_files("copilot", "*/events.jsonl", FIXTURES / "copilot" / "store" / "session-state"),
        *_files("antigravity", "*.jsonl", FIXTURES / "antigravity", SAMPLES / "antigravity"),
        *_files("cursor", "*.jsonl", FIXTURES / "cursor", SAMPLES / "cursor"),
        *_files("qwen", "*.jsonl", FIXTURES / "qwen", SAMPLES / "qwen-code"),
    ]:
        name = path.name if path.name != "events.jsonl" else f"{path.parent.name}/events.jsonl"
        found.append(Seed(tool, name, path.read_bytes(), "jsonl"))
    sub = FIXTURES / "claude" / "agentsessions_subagent"
    for path in sorted(sub.rglob("agent-*.jsonl")):
        found.append(Seed("claude", str(path.relative_to(sub)), path.read_bytes(), "jsonl"))
    for tool, path in [
        *_files("gemini", "*.json", FIXTURES / "gemini", SAMPLES / "gemini-cli"),
        *_files("copilot", "*.json", FIXTURES / "copilot" / "store" / "history-session-state"),
        *_files("amp", "T-*.json", FIXTURES / "amp"),
        *_files("tether", "*.json", DOCS),
    ]:
        found.append(Seed(tool, path.name, path.read_bytes(), "document"))
    found += _member_seeds(work)
    unique: dict[str, Seed] = {}
    for seed in found:
        unique.setdefault(hashlib.sha256(seed.tool.encode() + seed.data).hexdigest(), seed)
    return list(unique.values())


def _member_seeds(work: Path) -> list[Seed]:
    """The bytes real containers give their reader, one session each."""
    work.mkdir(parents=True, exist_ok=True)
    out: list[Seed] = []

    def add(tool: str, container: str, listed: Iterator[Member]) -> None:
        for member in listed:
            out.append(Seed(tool, member.key, member.load(), member.mode, member.key, container))

    def skip(_: str) -> None:
        return None

    state = work / "ide" / "state.vscdb"
    make_state_db(state)
    add("cursor", "state.vscdb", cursor_ide.container(state).members(skip))  # type: ignore[misc]
    store = work / "agent" / "store.db"
    make_store_db(store)
    add("cursor", "store.db", cursor_agent.store_container(store).members(skip))  # type: ignore[misc]
    built = work / "opencode" / "opencode.db"
    opencode_store.build(built)
    real = work / "real" / "opencode.db"
    real.parent.mkdir()
    shutil.copy(FIXTURES / "opencode" / "opencode-1.18.33.db", real)
    for db in (built, real):
        add("opencode", "opencode.db", opencode.database(db).members(skip))  # type: ignore[misc]
    kilo = work / "kilo" / "kilo.db"
    opencode_store.build(kilo, sessions=(opencode_store.LARGE,))
    add("kilo", "kilo.db", opencode.database(kilo).members(skip))  # type: ignore[misc]
    legacy = opencode_store.STORAGE / "session" / "proj_test"
    for session in sorted(legacy.glob("*.json")):
        add("opencode", session.name, opencode.legacy(session).members(skip))  # type: ignore[misc]
    for tool, task in (("cline", CLINE_TASK), ("roo", ROO_TASK), ("kilo", KILO_TASK)):
        listed = taskdirs.task(task / taskdirs.HISTORY).members(skip)  # type: ignore[misc]
        add(tool, taskdirs.HISTORY, listed)
    for history in (FIXTURES / "aider" / "real_chat-history_head247lines.md",):
        add("aider", aider.HISTORY, aider.container(history).members(skip))  # type: ignore[misc]
    return out


# ----------------------------------------------------------------------------- mutations


def odd_values(rng: random.Random) -> Any:
    """A value of a type a field rarely has: what a careless or hostile writer puts there."""
    return rng.choice(
        [
            [],
            {},
            [1, "x", None],
            {"a": {"b": []}},
            {"type": []},
            0,
            -1,
            1.5,
            1e300,
            2**63 + 5,
            True,
            False,
            None,
            "",
            "\u202e\x00\ufeff",
            NEST,
        ]
    )


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into a JSON value, but not below NODES_DEPTH (a line an earlier mutation
    nested deep)."""
    yield path
    if len(path) >= NODES_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nodes(item, (*path, index))


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(value[head], rest, new)
    return copy


def _encode(value: Any, rng: random.Random) -> bytes:
    """JSON bytes, with a deep nest spliced in where the NEST marker stands (orjson would
    not write it)."""
    data = orjson.dumps(value)
    marker = orjson.dumps(NEST)
    while marker in data:
        depth = rng.choice(DEPTHS)
        data = data.replace(marker, b"[" * depth + b"]" * depth, 1)
    return data


def swap_field(value: Any, rng: random.Random) -> Any:
    """One field (a `type` most often: every reader dispatches on it) of another type."""
    paths = list(_nodes(value))[1:] or [()]
    typed = [p for p in paths if p and p[-1] in ("type", "role", "kind", "id", "uuid")]
    path = rng.choice(typed) if typed and rng.random() < 0.5 else rng.choice(paths)
    new = odd_values(rng)
    if rng.random() < 0.05:
        new = "y" * HUGE
    return _replace(value, path, new)


def flip(line: bytes, rng: random.Random) -> bytes:
    if not line:
        return bytes([rng.randrange(256)])
    at = rng.randrange(len(line))
    return line[:at] + bytes([line[at] ^ rng.randrange(1, 256)]) + line[at + 1 :]


def mutate_lines(data: bytes, rng: random.Random) -> Mutation:
    """One to three lines changed (a byte flipped, cut short, a field's type swapped, a
    deep nest, a huge line) or junk inserted; sometimes the file is cut off too."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    rows: list[tuple[bytes, bool]] = [(line, False) for line in lines]
    labels = []
    touched: list[bytes] = []
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(["flip", "cut", "swap", "swap", "swap", "junk", "huge", "blank"])
        labels.append(op)
        if op == "junk" or not rows:
            junk = rng.choice([b"\x00\xff\xfe", b"[1,2]", b'"text"', b"null", b"{", b"}"])
            rows.insert(rng.randrange(len(rows) + 1), (junk, True))
            continue
        fresh = [i for i, (_, done) in enumerate(rows) if not done]
        at = rng.choice(fresh) if fresh else rng.randrange(len(rows))
        line = rows[at][0]
        if not rows[at][1]:
            touched.append(line)
        elif op == "swap":
            op = "flip"  # a line changed already may be nested too deep to write again
        if op == "flip":
            new = flip(line, rng)
        elif op == "cut":
            new = line[: rng.randrange(len(line) + 1)]
        elif op == "blank":
            new = b" " * rng.randrange(3)
        elif op == "huge":
            new = b'{"type": "' + b"z" * HUGE + b'"}' if rng.random() < 0.5 else b"x" * HUGE
        else:
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                value = None
            new = _encode(swap_field(value, rng), rng) if value is not None else flip(line, rng)
        rows[at] = (new, True)
    mutated = b"".join(line + b"\n" for line, _ in rows)
    baseline = b"".join(line + b"\n" for line, touched in rows if not touched)
    if rng.random() < 0.15 and rows:
        cut = rng.randrange(len(mutated))
        ends = list(itertools.accumulate(len(line) + 1 for line, _ in rows))
        whole = [row for row, end in zip(rows, ends, strict=True) if end <= cut]
        kept = [line for line, touched in whole if not touched]
        mutated = mutated[:cut]
        baseline = b"".join(line + b"\n" for line in kept)
        labels.append("truncate")
    return Mutation(mutated, baseline, "+".join(labels), structural=False, touched=touched)


def _longest_list(value: Any) -> tuple[Any, ...] | None:
    best: tuple[int, tuple[Any, ...] | None] = (0, None)
    for path in _nodes(value):
        item = _get(value, path)
        if isinstance(item, list) and len(item) > best[0]:
            best = (len(item), path)
    return best[1]


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def mutate_document(data: bytes, rng: random.Random) -> Mutation:
    """Elements of the document's longest list (its messages) with fields of odd types or
    replaced whole; or, less often, a field outside that list (the document's header)
    swapped, or the bytes themselves flipped or cut."""
    doc = orjson.loads(data)
    where = _longest_list(doc)
    chance = rng.random()
    if where is None or chance < 0.15:
        cut = data[: rng.randrange(len(data))] if rng.random() < 0.5 else flip(data, rng)
        return Mutation(cut, None, "bytes", structural=False)
    if chance < 0.3:
        outside = [p for p in _nodes(doc) if p and p[: len(where)] != where]
        header = _replace(doc, rng.choice(outside), odd_values(rng)) if outside else doc
        return Mutation(_encode(header, rng), None, "header", structural=False)
    items = list(_get(doc, where))
    touched = sorted(rng.sample(range(len(items)), min(len(items), rng.randint(1, 2))))
    originals = [orjson.dumps(items[index]) for index in touched]
    for index in touched:
        items[index] = odd_values(rng) if rng.random() < 0.2 else swap_field(items[index], rng)
    mutated = _encode(_replace(doc, where, items), rng)
    kept = [item for i, item in enumerate(_get(doc, where)) if i not in touched]
    baseline = orjson.dumps(_replace(doc, where, kept))
    return Mutation(mutated, baseline, f"elements {touched}", True, originals)


def mutate(seed: Seed, rng: random.Random) -> Mutation:
    if seed.lines:
        return mutate_lines(seed.data, rng)
    if seed.tool == "aider":
        return mutate_lines(seed.data, rng)
    return mutate_document(seed.data, rng)
