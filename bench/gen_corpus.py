"""Deterministic generator of a fake HOME full of Claude Code and Codex sessions.

`python bench/gen_corpus.py OUTDIR [--scale 1.0] [--seed 7] [--huge-mb N]`; writes OUTDIR/home
and OUTDIR/manifest.json (rare and common words, and the sessions that hold them).
"""

from __future__ import annotations

import argparse
import base64
import itertools
import math
import os
import random
import re
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

CLAUDE_SESSIONS = 2000
CODEX_SESSIONS = 500
CLAUDE_BYTES = 117_000_000  # targets; the last turn of each session overshoots a little
CODEX_BYTES = 34_000_000
PROJECTS = 20
RARE_WORDS = 40
SMALLEST_SESSION = 3_000
LARGEST_SESSION = 12_000_000
EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: fixed, so bytes never depend on today
SPAN_MS = 150 * 86_400_000
TEXT_POOL_WORDS = 1_500_000
CODE_POOL_LINES = 220_000
HUGE_LINE_EVERY = 40_000_000  # the huge session holds one multi-MB line per this many bytes

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
HEX = "0123456789abcdef"
# No consonant is "q": a rare word is the only token with a "q" that no "u" follows.
CONSONANTS = "bcdfghklmnprstvw"
VOWELS = "aeiouy"
RARE_MARK = re.compile(r"q[^u]")

ENGLISH = """
the to and of a in is it that for this you with on be not are as we can use file if
should from test so have but will or an all at by what there function error when code now
let me run check need add fix see make sure new value one which then would return like
update change also just line type name path data config only first case here because set
call some do into more was way any two work both each where failing output import build
still instead version module class method issue tests user session string list default
option command read write parse time because already current without other after before
about support missing expected result field between object handle number empty look found
project branch commit merge review changes request server client cache index query store
record message parser token model input format schema table column search context stream
""".split()  # noqa: SIM905  -- a long word list reads best as prose

CLAUDE_MODELS = [
    "claude-opus-4-5-20251101",
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001",
]
CLAUDE_VERSIONS = ["2.0.76", "2.1.7", "2.1.17", "2.1.31", "2.1.89"]
CODEX_MODELS = ["gpt-5.1-codex", "gpt-5-codex", "gpt-5.2-codex", "gpt-5.1-codex-max"]
CODEX_VERSIONS = ["0.58.0", "0.63.0", "0.77.0", "0.128.0", "0.146.0"]
BRANCHES = [
    "main",
    "main",
    "main",
    "develop",
    "fix/flaky-tests",
    "feat/search",
    "soph/chunking",
    "refactor/store",
    "release/1.4",
]
PROJECT_NAMES = [
    "tether",
    "chatbot-ui",
    "my_app.v2",
    "infra",
    "billing-service",
    "docs-site",
    "ml_pipeline",
    "api-gateway",
    "mobile.app",
    "dotfiles",
    "data-lake",
    "cli",
    "web-frontend",
    "auth_service",
    "scheduler",
    "go-kit",
    "rust-parser",
    "notebooks",
    "terraform-live",
    "payments",
    "search-index",
    "design-system",
]
PROMPT_OPENERS = [
    "can you review the changes in this branch and",
    "please fix the failing test in",
    "why does the build fail with this output",
    "add support for",
    "refactor the",
    "look at the logs below and tell me",
    "write a test for",
    "the ci is red again,",
    "implement the",
    "explain how the",
    "rename the",
    "there is a bug where",
]
CODE_TEMPLATES = [
    "def {a}_{b}(self, {c}: {C}) -> {D}:",
    "    {a} = self.{b}_{c}({d})",
    "    return {a}.{b}({c}, {d}={e})",
    "class {C}{D}({E}):",
    "import {a}.{b}",
    "from {a}.{b} import {C}, {d}_{e}",
    "    if {a} is None:",
    '        raise {C}Error(f"{a} {b}")',
    "    for {a} in self.{b}:",
    "        {a}.append({b}[{c}])",
    "    # {a} {b} {c} {d} {e}",
    "const {a}{C} = await {b}.{c}({d});",
    "export function {a}{C}({b}: {D}): {E} {{",
    "  return {a}.{b}.filter(({c}) => {c}.{d});",
    "}}",
    "",
    '    """{A} {b} {c} {d}."""',
    "func ({a} *{C}) {D}{E}(ctx context.Context) error {{",
    "\tif err := {a}.{b}(); err != nil {{",
    '\t\treturn fmt.Errorf("{a} {b}: %w", err)',
    "    let {a}_{b} = {c}.{d}()?;",
    '  "{a}_{b}": "{c}-{d}",',
    "SELECT {a}, {b} FROM {c} WHERE {d}_id = ?;",
]


def iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    )


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def uuid7(rng: random.Random, ms: int) -> str:
    value = (ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62)
    return str(uuid.UUID(int=value | rng.getrandbits(62)))


def token(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choices(alphabet, k=n))


def blob(rng: random.Random, n: int) -> str:
    """Opaque base64, like a thinking signature or Codex encrypted_content."""
    return base64.b64encode(rng.randbytes(n * 3 // 4)).decode()


def lognormal(rng: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    return max(lo, min(hi, int(median * math.exp(rng.gauss(0.0, sigma)))))


def pseudo_word(rng: random.Random, syllables: int) -> str:
    return "".join(
        rng.choice(CONSONANTS) + rng.choice(VOWELS) + rng.choice(("", "", "n", "r", "l"))
        for _ in range(syllables)
    )


class Vocabulary:
    """Zipf-distributed words in a prose pool and a code pool; texts are slices of the pools."""

    def __init__(self, seed: int, size: float = 1.0) -> None:
        """size scales the pools: a tiny corpus (the tests) needs only a small one."""
        rng = random.Random(f"{seed}:vocabulary")
        size = max(0.05, min(1.0, size))
        pseudo = dict.fromkeys(pseudo_word(rng, rng.randint(2, 3)) for _ in range(6000))
        self.words = list(dict.fromkeys(ENGLISH + list(pseudo)))
        self.common_word = self.words[0]
        cum = list(
            itertools.accumulate(1.0 / (rank + 1) ** 1.05 for rank in range(len(self.words)))
        )
        self.text_pool = self._prose(
            rng, rng.choices(self.words, cum_weights=cum, k=int(TEXT_POOL_WORDS * size))
        )
        idents = self.words[40:2400]
        self.code_pool = "\n".join(
            self._code_line(rng, idents) for _ in range(int(CODE_POOL_LINES * size))
        )
        self.paths = [self._path(rng, idents) for _ in range(3000)]
        if any(RARE_MARK.search(text) for text in (*self.words, self.text_pool, self.code_pool)):
            raise AssertionError("a common text looks like a rare word")

    @staticmethod
    def _prose(rng: random.Random, words: list[str]) -> str:
        parts: list[str] = []
        i = 0
        while i < len(words):
            k = rng.randint(5, 22)
            sentence = " ".join(words[i : i + k])
            i += k
            if rng.random() < 0.08:
                sentence = f"{sentence} `{rng.choice(words)}_{rng.choice(words)}`"
            parts.append(sentence[0].upper() + sentence[1:] + ".")
            parts.append("\n\n" if rng.random() < 0.1 else " ")
        return "".join(parts)

    @staticmethod
    def _code_line(rng: random.Random, idents: list[str]) -> str:
        a, b, c, d, e = rng.choices(idents, k=5)
        return rng.choice(CODE_TEMPLATES).format(
            a=a,
            b=b,
            c=c,
            d=d,
            e=e,
            A=a.capitalize(),
            C=c.capitalize(),
            D=d.capitalize(),
            E=e.capitalize(),
        )

    @staticmethod
    def _path(rng: random.Random, idents: list[str]) -> str:
        a, b, c = rng.choices(idents, k=3)
        ext = rng.choice([".py", ".py", ".ts", ".tsx", ".go", ".rs", ".md", ".json", ".sql"])
        return f"{rng.choice(['src', 'lib', 'tests', 'cmd', 'app', 'internal'])}/{a}/{b}_{c}{ext}"

    @staticmethod
    def _slice(pool: str, rng: random.Random, n: int, sep: str) -> str:
        if n >= len(pool) // 2:
            return "\n".join(
                Vocabulary._slice(pool, rng, len(pool) // 4, sep)
                for _ in range(n // (len(pool) // 4) + 1)
            )[:n]
        start = pool.find(sep, rng.randrange(len(pool) - n - 1)) + 1
        end = pool.rfind(sep, start, start + n)
        return pool[start:end] if end > start else pool[start : start + n]

    def text(self, rng: random.Random, n: int) -> str:
        return self._slice(self.text_pool, rng, n, " ")

    def code(self, rng: random.Random, n: int) -> str:
        return self._slice(self.code_pool, rng, n, "\n")


def rare_word(rng: random.Random) -> str:
    return (
        pseudo_word(rng, 2)
        + "q"
        + rng.choice(CONSONANTS)
        + rng.choice(VOWELS)
        + pseudo_word(rng, 2)
    )


@dataclass
class Spec:
    """Everything one session is generated from; its own rng keeps it independent of the rest."""

    index: int
    rng: random.Random
    native_id: str
    cwd: str
    start_ms: int
    target_bytes: int
    injections: dict[str, list[str]] = field(default_factory=dict)  # place -> rare words

    def inject(self, place: str, text: str) -> str:
        words = self.injections.pop(place, [])
        return " ".join([text, *words]) if words else text

    def inject_rest(self, text: str) -> str:
        rest = [w for words in self.injections.values() for w in words]
        self.injections.clear()
        return " ".join([text, *rest]) if rest else text


class Lines:
    """Buffered JSONL writer that counts what it wrote."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.size = 0

    def write(self, record: dict[str, Any]) -> None:
        data = orjson.dumps(record) + b"\n"
        self.fh.write(data)
        self.size += len(data)


@dataclass
class ToolRun:
    name: str
    input: dict[str, Any]
    output: str | list[dict[str, Any]]
    result: dict[str, Any]  # Claude's UI-only toolUseResult
    is_error: bool = False


def output_size(rng: random.Random) -> int:
    if rng.random() < 0.003:
        return rng.randint(100_000, 400_000)
    return lognormal(rng, 700, 1.2, 20, 60_000)


def claude_tool(rng: random.Random, vocab: Vocabulary, cwd: str) -> ToolRun:
    path = f"{cwd}/{rng.choice(vocab.paths)}"
    kind = rng.choices(
        ["Bash", "Read", "Edit", "Grep", "Write", "Task", "TodoWrite", "Glob"],
        weights=[30, 25, 15, 8, 5, 4, 5, 3],
    )[0]
    if kind == "Bash":
        command = rng.choice(
            [
                "pytest -x -q",
                "git diff main...HEAD --stat",
                "npm test",
                "go test ./...",
                "cargo build",
                "ruff check .",
                "git log --oneline",
            ]
        )
        out = vocab.code(rng, output_size(rng))
        err = rng.random() < 0.08
        text = f"Exit code 1\n{out}" if err else out
        return ToolRun(
            kind,
            {"command": command, "description": vocab.text(rng, 60)},
            text,
            {"stdout": out, "stderr": "", "interrupted": False, "isImage": False},
            err,
        )
    if kind == "Read":
        lines = vocab.code(rng, output_size(rng)).split("\n")
        numbered = "\n".join(f"{i:>6}\u2192{line}" for i, line in enumerate(lines, 1))
        return ToolRun(
            kind,
            {"file_path": path},
            numbered,
            {
                "type": "text",
                "file": {
                    "filePath": path,
                    "content": "\n".join(lines),
                    "numLines": len(lines),
                    "startLine": 1,
                    "totalLines": len(lines),
                },
            },
        )
    if kind == "Edit":
        old, new = vocab.code(rng, 300), vocab.code(rng, 400)
        snippet = vocab.code(rng, 800)
        result: dict[str, Any] = {
            "filePath": path,
            "oldString": old,
            "newString": new,
            "structuredPatch": [
                {
                    "oldStart": 10,
                    "oldLines": 3,
                    "newStart": 10,
                    "newLines": 4,
                    "lines": new.split("\n"),
                }
            ],
            "userModified": False,
            "replaceAll": False,
        }
        if rng.random() < 0.3:
            result["originalFile"] = vocab.code(rng, output_size(rng))
        return ToolRun(
            kind,
            {"file_path": path, "old_string": old, "new_string": new},
            f"The file {path} has been updated. Here's the result of running `cat -n` "
            f"on a snippet of the edited file:\n{snippet}",
            result,
        )
    if kind == "Grep":
        hits = [
            f"{rng.choice(vocab.paths)}:{rng.randint(1, 900)}:{line}"
            for line in vocab.code(rng, output_size(rng) // 2).split("\n")
        ]
        pattern = rng.choice(vocab.words[40:2000])
        return ToolRun(
            kind,
            {"pattern": pattern, "path": cwd, "output_mode": "content"},
            "\n".join(hits),
            {"mode": "content", "numFiles": len(hits), "filenames": [], "content": "\n".join(hits)},
        )
    if kind == "Write":
        content = vocab.code(rng, output_size(rng))
        return ToolRun(
            kind,
            {"file_path": path, "content": content},
            f"File created successfully at: {path}",
            {"type": "create", "filePath": path, "content": content},
        )
    if kind == "Task":
        report = vocab.text(rng, lognormal(rng, 3000, 0.8, 300, 40_000))
        prompt = vocab.text(rng, lognormal(rng, 800, 0.7, 100, 6000))
        blocks = [{"type": "text", "text": report}]
        return ToolRun(
            kind,
            {
                "description": vocab.text(rng, 40),
                "prompt": prompt,
                "subagent_type": "general-purpose",
            },
            blocks,
            {
                "status": "completed",
                "prompt": prompt,
                "agentId": token(rng, 8, HEX),
                "content": blocks,
                "totalDurationMs": rng.randint(5000, 400_000),
                "totalTokens": rng.randint(2000, 90_000),
                "totalToolUseCount": rng.randint(1, 40),
            },
        )
    if kind == "TodoWrite":
        todos = [
            {
                "content": vocab.text(rng, 50),
                "status": rng.choice(["pending", "completed"]),
                "activeForm": vocab.text(rng, 50),
            }
            for _ in range(rng.randint(2, 7))
        ]
        return ToolRun(
            kind,
            {"todos": todos},
            "Todos have been modified successfully. Ensure that "
            "you continue to use the todo list to track your progress.",
            {"oldTodos": [], "newTodos": todos},
        )
    found = [f"{cwd}/{p}" for p in rng.sample(vocab.paths, rng.randint(1, 60))]
    return ToolRun(
        kind,
        {"pattern": "**/*.py"},
        "\n".join(found),
        {"filenames": found, "durationMs": rng.randint(1, 90), "numFiles": len(found)},
    )


class ClaudeWriter:
    """Writes one Claude Code transcript: envelope, chained uuids, responses split per block."""

    def __init__(self, spec: Spec, vocab: Vocabulary, out: Lines) -> None:
        self.spec, self.vocab, self.out, self.rng = spec, vocab, out, spec.rng
        self.clock = spec.start_ms
        self.parent: str | None = None
        self.model = self.rng.choice(CLAUDE_MODELS)
        self.env: dict[str, Any] = {
            "isSidechain": False,
            "userType": "external",
            "cwd": spec.cwd,
            "sessionId": spec.native_id,
            "version": self.rng.choice(CLAUDE_VERSIONS),
            "gitBranch": self.rng.choice(BRANCHES),
        }
        if self.rng.random() < 0.7:
            self.env["slug"] = "-".join(self.rng.choices(vocab.words[100:900], k=3))
        self.big_line_at = HUGE_LINE_EVERY

    def tick(self, lo: int = 200, hi: int = 20_000) -> str:
        self.clock += self.rng.randint(lo, hi)
        return iso(self.clock)

    def record(self, kind: str, body: dict[str, Any], **extra: Any) -> str:
        uid = uuid4(self.rng)
        self.out.write(
            {
                "parentUuid": self.parent,
                **self.env,
                "type": kind,
                **body,
                "uuid": uid,
                "timestamp": self.tick(),
                **extra,
            }
        )
        self.parent = uid
        return uid

    def user_prompt(self, first: bool) -> None:
        rng, vocab = self.rng, self.vocab
        text = vocab.text(rng, lognormal(rng, 220, 1.0, 20, 12_000))
        text = f"{rng.choice(PROMPT_OPENERS)} {vocab.common_word} {text}" if first else text
        text = self.spec.inject("prompt", text)
        uid = uuid4(rng)
        ts = self.tick(5_000, 600_000)
        self.out.write(
            {
                "type": "file-history-snapshot",
                "messageId": uid,
                "snapshot": {"messageId": uid, "trackedFileBackups": {}, "timestamp": ts},
                "isSnapshotUpdate": False,
            }
        )
        self.out.write(
            {
                "parentUuid": self.parent,
                **self.env,
                "type": "user",
                "message": {"role": "user", "content": text},
                "uuid": uid,
                "timestamp": ts,
                "thinkingMetadata": {"level": "high", "disabled": False, "triggers": []},
                "todos": [],
            }
        )
        self.parent = uid

    def response(self, final: bool) -> None:
        rng, vocab = self.rng, self.vocab
        msg_id, request = "msg_01" + token(rng, 22), "req_011" + token(rng, 21)
        usage = {
            "input_tokens": rng.randint(3, 400),
            "cache_creation_input_tokens": rng.randint(0, 9000),
            "cache_read_input_tokens": rng.randint(0, 150_000),
            "cache_creation": {
                "ephemeral_5m_input_tokens": rng.randint(0, 9000),
                "ephemeral_1h_input_tokens": 0,
            },
            "output_tokens": rng.randint(1, 4000),
            "service_tier": "standard",
        }
        blocks: list[dict[str, Any]] = []
        if rng.random() < 0.6:
            blocks.append(
                {
                    "type": "thinking",
                    "signature": blob(rng, rng.randint(200, 1200)),
                    "thinking": vocab.text(rng, lognormal(rng, 500, 0.9, 40, 8000)),
                }
            )
        if final or rng.random() < 0.6:
            text = vocab.text(rng, lognormal(rng, 600 if final else 150, 1.0, 10, 15_000))
            if final and rng.random() < 0.3:
                text += "\n\n```\n" + vocab.code(rng, lognormal(rng, 600, 0.8, 50, 5000)) + "\n```"
            blocks.append({"type": "text", "text": self.spec.inject("assistant", text)})
        runs = (
            []
            if final
            else [
                claude_tool(rng, vocab, self.spec.cwd) for _ in range(rng.choice((1, 1, 1, 2, 3)))
            ]
        )
        tool_ids = ["toolu_01" + token(rng, 22) for _ in runs]
        blocks += [
            {"type": "tool_use", "id": tid, "name": run.name, "input": run.input}
            for tid, run in zip(tool_ids, runs, strict=True)
        ]
        lines = [
            self.record(
                "assistant",
                {
                    "message": {
                        "model": self.model,
                        "id": msg_id,
                        "type": "message",
                        "role": "assistant",
                        "content": [block],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": usage,
                    }
                },
                requestId=request,
            )
            for block in blocks
        ]
        asked_by = lines[len(lines) - len(runs) :]  # the line of each tool_use block
        for tid, run, line in zip(tool_ids, runs, asked_by, strict=True):
            self.tool_result(tid, run, line)

    def tool_result(self, tool_id: str, run: ToolRun, asked_by: str) -> None:
        output = run.output
        if isinstance(output, str):
            output = self.spec.inject("tool", output)
            if self.out.size >= self.big_line_at and self.spec.target_bytes > 100_000_000:
                self.big_line_at += HUGE_LINE_EVERY  # the huge session: one multi-MB tool output
                output = self.vocab.code(self.rng, self.rng.randint(2_000_000, 6_000_000))
        result: dict[str, Any] = {"tool_use_id": tool_id, "type": "tool_result", "content": output}
        if run.is_error:
            result["is_error"] = True
        self.record(
            "user",
            {"message": {"role": "user", "content": [result]}},
            toolUseResult=run.result,
            sourceToolAssistantUUID=asked_by,
        )

    def compaction(self) -> None:
        logical, self.parent = self.parent, None
        self.record(
            "system",
            {
                "subtype": "compact_boundary",
                "content": "Conversation compacted",
                "isMeta": False,
                "level": "info",
                "compactMetadata": {"trigger": "auto", "preTokens": 155_250},
            },
            logicalParentUuid=logical,
        )
        summary = (
            "This session is being continued from a previous conversation that ran out of "
            "context. Analysis: " + self.vocab.text(self.rng, 6000)
        )
        self.record(
            "user",
            {"message": {"role": "user", "content": summary}},
            isCompactSummary=True,
            isVisibleInTranscriptOnly=True,
        )

    def turn(self, first: bool) -> None:
        self.user_prompt(first)
        rounds = self.rng.choice((0, 1, 1, 2, 3, 4, 6, 9))
        for _ in range(rounds):
            self.response(final=False)
            if self.out.size >= self.spec.target_bytes:
                break
        self.response(final=True)
        if self.rng.random() < 0.4:
            self.record(
                "system",
                {
                    "subtype": "turn_duration",
                    "durationMs": self.rng.randint(2_000, 900_000),
                    "isMeta": False,
                },
            )

    def write(self) -> None:
        first = True
        compact_at = 2_000_000
        while first or self.out.size < self.spec.target_bytes:
            self.turn(first)
            first = False
            if self.out.size > compact_at:
                compact_at += 2_000_000
                self.compaction()
        if self.spec.injections:
            self.parent = self.record(
                "assistant",
                {
                    "message": {
                        "model": self.model,
                        "id": "msg_01" + token(self.rng, 22),
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "text", "text": self.spec.inject_rest("")}],
                        "stop_reason": "end_turn",
                        "stop_sequence": None,
                        "usage": {},
                    }
                },
            )
        if self.rng.random() < 0.3:
            self.out.write(
                {
                    "type": "summary",
                    "summary": self.vocab.text(self.rng, 50),
                    "leafUuid": self.parent,
                }
            )


class CodexWriter:
    """Writes one Codex rollout: session_meta, turn_context, response_items, event_msg copies."""

    def __init__(self, spec: Spec, vocab: Vocabulary, out: Lines) -> None:
        self.spec, self.vocab, self.out, self.rng = spec, vocab, out, spec.rng
        self.clock = spec.start_ms
        self.model = self.rng.choice(CODEX_MODELS)
        self.version = self.rng.choice(CODEX_VERSIONS)
        self.newer = int(self.version.split(".")[1]) >= 100  # task_started, turn_id, ...
        self.total = 0

    def line(self, kind: str, payload: dict[str, Any], lo: int = 5, hi: int = 3000) -> None:
        self.clock += self.rng.randint(lo, hi)
        self.out.write({"timestamp": iso(self.clock), "type": kind, "payload": payload})

    def meta(self) -> None:
        rng, spec = self.rng, self.spec
        payload: dict[str, Any] = {
            "id": spec.native_id,
            "timestamp": iso(self.clock),
            "cwd": spec.cwd,
            "originator": rng.choice(
                ["codex_cli_rs", "codex_cli_rs", "codex_exec", "codex_vscode"]
            ),
            "cli_version": self.version,
            "instructions": None,
            "source": "cli",
            "model_provider": "openai",
        }
        if self.newer:
            del payload["instructions"]
            payload["base_instructions"] = {"text": self.vocab.text(random.Random(7), 9000)}
        payload["git"] = {
            "commit_hash": token(rng, 40, HEX),
            "branch": rng.choice(BRANCHES),
            "repository_url": f"git@github.com:acme/{Path(spec.cwd).name}.git",
        }
        self.line("session_meta", payload)
        env = (
            f"<environment_context>\n  <cwd>{spec.cwd}</cwd>\n  <approval_policy>never"
            "</approval_policy>\n  <sandbox_mode>workspace-write</sandbox_mode>\n  "
            "<network_access>restricted</network_access>\n  <shell>bash</shell>\n"
            "</environment_context>"
        )
        self.message("user", "input_text", env)

    def message(self, role: str, kind: str, text: str) -> None:
        self.line(
            "response_item",
            {"type": "message", "role": role, "content": [{"type": kind, "text": text}]},
        )

    def token_count(self) -> None:
        last = self.rng.randint(2_000, 15_000)
        self.total += last
        usage = {
            "input_tokens": last,
            "cached_input_tokens": last // 2,
            "output_tokens": 90,
            "reasoning_output_tokens": 40,
            "total_tokens": last + 90,
        }
        total = {**usage, "input_tokens": self.total, "total_tokens": self.total + 90}
        self.line(
            "event_msg",
            {
                "type": "token_count",
                "info": {
                    "total_token_usage": total,
                    "last_token_usage": usage,
                    "model_context_window": 258400,
                },
                "rate_limits": {
                    "primary": {
                        "used_percent": 52.0,
                        "window_minutes": 300,
                        "resets_at": 1763422724,
                    }
                },
            },
        )

    def turn_context(self, turn_id: str) -> None:
        payload: dict[str, Any] = {
            "cwd": self.spec.cwd,
            "approval_policy": "never",
            "sandbox_policy": {"mode": "workspace-write"},
            "model": self.model,
            "effort": "high",
            "summary": "auto",
        }
        if self.newer:
            payload = {"turn_id": turn_id, **payload}
        self.line("turn_context", payload)

    def call(self, turn_id: str) -> None:
        rng, vocab, spec = self.rng, self.vocab, self.spec
        title = "**" + vocab.text(rng, 40).capitalize() + "**"
        self.line("event_msg", {"type": "agent_reasoning", "text": title})
        self.token_count()
        summary = title + ("\n\n" + vocab.text(rng, 400) if rng.random() < 0.5 else "")
        self.line(
            "response_item",
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": summary}],
                "content": None,
                "encrypted_content": "gAAAAAB" + blob(rng, rng.randint(600, 3000)),
            },
        )
        call_id = "call_" + token(rng, 24)
        out = spec.inject("tool", vocab.code(rng, output_size(rng)))
        if rng.random() < 0.15:
            patch = (
                "*** Begin Patch\n*** Update File: "
                + rng.choice(vocab.paths)
                + "\n@@\n"
                + vocab.code(rng, lognormal(rng, 900, 0.8, 100, 20_000))
                + "\n*** End Patch"
            )
            self.line(
                "response_item",
                {
                    "type": "custom_tool_call",
                    "status": "completed",
                    "call_id": call_id,
                    "name": "apply_patch",
                    "input": patch,
                },
            )
            self.line(
                "response_item",
                {
                    "type": "custom_tool_call_output",
                    "call_id": call_id,
                    "output": "Success. Updated the following files:\nM " + rng.choice(vocab.paths),
                },
            )
        else:
            command = [
                "bash",
                "-lc",
                rng.choice(
                    [
                        "ls",
                        "rg -n TODO",
                        "pytest -q",
                        "git status",
                        f"sed -n '1,200p' {rng.choice(vocab.paths)}",
                    ]
                ),
            ]
            args = orjson.dumps({"command": command, "workdir": spec.cwd}).decode()
            self.line(
                "response_item",
                {"type": "function_call", "name": "shell", "arguments": args, "call_id": call_id},
            )
            if self.newer:
                output = f"Exit code: 0\nWall time: 0.{rng.randint(1, 9)} seconds\nOutput:\n{out}"
            else:
                output = orjson.dumps(
                    {"output": out, "metadata": {"exit_code": 0, "duration_seconds": 0.1}}
                ).decode()
            self.line(
                "response_item",
                {"type": "function_call_output", "call_id": call_id, "output": output},
            )
        self.turn_context(turn_id)

    def turn(self, first: bool) -> None:
        rng, vocab, spec = self.rng, self.vocab, self.spec
        turn_id = uuid7(rng, self.clock)
        if self.newer:
            self.line(
                "event_msg",
                {"type": "task_started", "turn_id": turn_id, "model_context_window": 258400},
            )
        prompt = vocab.text(rng, lognormal(rng, 220, 1.0, 20, 12_000))
        prompt = f"{rng.choice(PROMPT_OPENERS)} {vocab.common_word} {prompt}" if first else prompt
        prompt = spec.inject("prompt", prompt)
        self.turn_context(turn_id)
        self.message("user", "input_text", prompt)
        self.line("event_msg", {"type": "user_message", "message": prompt, "images": []})
        for _ in range(rng.choice((0, 1, 2, 3, 5, 8))):
            self.call(turn_id)
            if self.out.size >= spec.target_bytes:
                break
        answer = vocab.text(rng, lognormal(rng, 600, 1.0, 20, 15_000))
        answer = spec.inject_rest(spec.inject("assistant", answer))
        self.message("assistant", "output_text", answer)
        self.line("event_msg", {"type": "agent_message", "message": answer})
        self.token_count()
        if self.newer:
            self.line(
                "event_msg",
                {"type": "task_complete", "turn_id": turn_id, "last_agent_message": answer},
            )

    def write(self) -> None:
        self.meta()
        first = True
        while first or self.out.size < self.spec.target_bytes:
            self.turn(first)
            first = False


def session_sizes(rng: random.Random, count: int, total: int) -> list[int]:
    """Mostly small sessions, a long tail of multi-MB ones; scaled to add up to about total."""
    raw = [math.exp(rng.gauss(0.0, 1.75)) for _ in range(count)]
    factor = total / sum(raw)
    return [max(SMALLEST_SESSION, min(LARGEST_SESSION, int(r * factor))) for r in raw]


def project_dir(cwd: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]", "-", cwd)


@dataclass
class Plan:
    claude: list[Spec]
    codex: list[Spec]
    rare: dict[str, list[tuple[str, int]]]  # word -> [(tool, index)]


def plan(seed: int, scale: float) -> Plan:
    rng = random.Random(f"{seed}:plan")
    n_claude = max(1, round(CLAUDE_SESSIONS * scale))
    n_codex = max(1, round(CODEX_SESSIONS * scale))
    projects = [f"/home/dev/src/{name}" for name in PROJECT_NAMES[:PROJECTS]]
    busy = [1.0 / (i + 1) ** 0.8 for i in range(len(projects))]

    def specs(tool: str, count: int, total: int) -> list[Spec]:
        out = []
        for i, size in enumerate(session_sizes(rng, count, int(total * scale))):
            srng = random.Random(f"{seed}:{tool}:{i}")
            start = EPOCH_MS + srng.randrange(SPAN_MS)
            native = uuid4(srng) if tool == "claude" else uuid7(srng, start)
            cwd = srng.choices(projects, weights=busy)[0]
            out.append(Spec(i, srng, native, cwd, start, size))
        return out

    claude = specs("claude", n_claude, CLAUDE_BYTES)
    codex = specs("codex", n_codex, CODEX_BYTES)
    rare: dict[str, list[tuple[str, int]]] = {}
    everyone = [("claude", i) for i in range(n_claude)] + [("codex", i) for i in range(n_codex)]
    while len(rare) < max(3, round(RARE_WORDS * min(scale, 1.0))):
        word = rare_word(rng)
        holders = rng.sample(everyone, min(len(everyone), 1 if not rare else rng.randint(1, 3)))
        rare.setdefault(word, sorted(holders))
    for word, holders in rare.items():
        for tool, i in holders:
            spec = (claude if tool == "claude" else codex)[i]
            spec.injections.setdefault(rng.choice(["prompt", "assistant", "tool"]), []).append(word)
    return Plan(claude, codex, rare)


def claude_path(home: Path, spec: Spec) -> Path:
    return home / ".claude" / "projects" / project_dir(spec.cwd) / f"{spec.native_id}.jsonl"


def codex_path(home: Path, spec: Spec) -> Path:
    when = datetime.fromtimestamp(spec.start_ms / 1000, UTC)
    name = f"rollout-{when:%Y-%m-%dT%H-%M-%S}-{spec.native_id}.jsonl"
    return home / ".codex" / "sessions" / f"{when:%Y}" / f"{when:%m}" / f"{when:%d}" / name


def write_session(
    path: Path,
    spec: Spec,
    vocab: Vocabulary,
    writer: Callable[[Spec, Vocabulary, Lines], ClaudeWriter | CodexWriter],
) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb", buffering=1 << 20) as fh:
        lines = Lines(fh)
        session = writer(spec, vocab, lines)
        session.write()
    end = session.clock / 1000
    os.utime(path, (end, end))
    return lines.size


def session_entry(home: Path, tool: str, spec: Spec) -> dict[str, str]:
    path = claude_path(home, spec) if tool == "claude" else codex_path(home, spec)
    return {"tool": tool, "id": spec.native_id, "path": path.relative_to(home).as_posix()}


def generate(out: Path, scale: float, seed: int) -> dict[str, Any]:
    home = out / "home"
    if home.exists():
        shutil.rmtree(home)
    vocab = Vocabulary(seed, scale * 10)
    layout = plan(seed, scale)
    sizes: list[tuple[int, str]] = []
    for spec in layout.claude:
        path = claude_path(home, spec)
        sizes.append(
            (write_session(path, spec, vocab, ClaudeWriter), path.relative_to(home).as_posix())
        )
    for spec in layout.codex:
        path = codex_path(home, spec)
        sizes.append(
            (write_session(path, spec, vocab, CodexWriter), path.relative_to(home).as_posix())
        )
    rare = [
        {
            "word": word,
            "sessions": [
                session_entry(home, tool, (layout.claude if tool == "claude" else layout.codex)[i])
                for tool, i in holders
            ],
        }
        for word, holders in layout.rare.items()
    ]
    largest = max(sizes)
    manifest = {
        "generator": "bench/gen_corpus.py",
        "seed": seed,
        "scale": scale,
        "home": "home",
        "claude_sessions": len(layout.claude),
        "codex_sessions": len(layout.codex),
        "files": len(sizes),
        "bytes": sum(s for s, _ in sizes),
        "projects": sorted({spec.cwd for spec in layout.claude + layout.codex}),
        "largest_file": {"path": largest[1], "bytes": largest[0]},
        "rare_word": rare[0]["word"],
        "rare_word_sessions": rare[0]["sessions"],
        "rare_words": rare,
        "common_word": vocab.common_word,
        "common_word_sessions": len(sizes),  # every session's first prompt holds it
    }
    (out / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest


def generate_huge(out: Path, megabytes: int, seed: int) -> dict[str, Any]:
    """One single Claude Code session of about `megabytes` MB, for the memory test."""
    home = out / "home"
    if home.exists():
        shutil.rmtree(home)
    vocab = Vocabulary(seed, megabytes / 100)
    srng = random.Random(f"{seed}:huge")
    spec = Spec(
        0, srng, uuid4(srng), "/home/dev/src/huge-monorepo", EPOCH_MS, megabytes * 1_000_000
    )
    path = claude_path(home, spec)
    size = write_session(path, spec, vocab, ClaudeWriter)
    manifest = {
        "generator": "bench/gen_corpus.py",
        "seed": seed,
        "home": "home",
        "huge": True,
        "claude_sessions": 1,
        "codex_sessions": 0,
        "files": 1,
        "bytes": size,
        "session": session_entry(home, "claude", spec),
        "common_word": vocab.common_word,
    }
    (out / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("outdir", type=Path, help="corpus root: gets home/ and manifest.json")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="fraction of the full corpus (2,000 + 500 sessions, ~190 MB)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--huge-mb",
        type=int,
        default=0,
        help="instead of the corpus, write one Claude session of this many MB",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    args.outdir.mkdir(parents=True, exist_ok=True)
    if args.huge_mb:
        manifest = generate_huge(args.outdir, args.huge_mb, args.seed)
    else:
        manifest = generate(args.outdir, args.scale, args.seed)
    seconds = time.perf_counter() - started
    print(
        f"{manifest['files']} files, {manifest['bytes'] / 1e6:.1f} MB in {seconds:.1f} s "
        f"-> {args.outdir / 'home'}",
        file=sys.stderr,
    )
    if not args.huge_mb:
        print(
            f"rare word: {manifest['rare_word']} ({len(manifest['rare_word_sessions'])} session); "
            f"common word: {manifest['common_word']} (all sessions)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
