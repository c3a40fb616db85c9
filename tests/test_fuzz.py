"""Every reader on mutated real files, through the capture path: byte flips, cut lines,
fields of another type (lists, objects, numbers, null), deep nesting, huge lines, junk
lines, files cut off, special files.

Asserted for every case: no exception escapes and no file is lost (a file of lines is never
failed, a document only when its bytes are no longer JSON), nothing hangs (a deadline per
case), and every message the reader takes from the lines the mutation did not touch is
still there (a document only fails as a FormatError, when its bytes or its header are no
longer what its reader knows). Seeded: a failure names the seed and case that reproduce it.

TETHER_FUZZ_CASES sets how many mutated files are read in all, spread over the readers: CI
runs the default, 980 (70 a reader, about 16 s of CPU here); at length, for instance
`TETHER_FUZZ_CASES=28000 pytest tests/test_fuzz.py` (2,000 a reader, about 10 minutes).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import orjson
import pytest

from tests.fuzzing import Mutation, Seed, mutate, seeds
from tests.test_special_files import unix_socket
from tether.archive.db import migrate
from tether.capture import feed
from tether.capture.ingest import ScanReport, read_sessions, readers
from tether.tools import facts as facts_common
from tether.tools.base import Member, Source

CASES = int(os.environ.get("TETHER_FUZZ_CASES", "980"))
LOG = os.environ.get("TETHER_FUZZ_LOG")
"""A file to append the reader errors the capture guard caught to (one per line), to see
what readers still fail on: each is a record skipped whole where a check could keep most."""
DEADLINE = 20.0
"""Seconds one case may take (a mutated read and its baseline's), on a loaded machine."""
READERS = sorted(readers())


class Hung(Exception):
    pass


@contextmanager
def deadline(seconds: float, what: str) -> Iterator[None]:
    """Fail (instead of hanging) when the block takes longer; interrupts a blocked open."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hung(f"{what}: still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Read:
    failed: list[str]
    texts: set[str]
    reasons: list[str]


def capture(seed: Seed, data: bytes | None, folder: Path) -> Read:
    """Read the seed's file (or member bytes) into a fresh archive as a scan would; data
    None leaves the file to the caller (a special file put there)."""
    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(db)
        db.execute("PRAGMA foreign_keys = ON")
        source, path = _source(seed, data, folder)
        report = ScanReport()
        read_sessions(db, readers()[seed.tool], source, path.stat(), None, report)
        texts = set()
        for text, kept in db.execute("SELECT text, data FROM parts"):
            texts.add(text)  # and the native text it keeps (a tool result's header, say)
            native = orjson.loads(kept).get("native") if kept else None
            if isinstance(native, dict):  # but not the ids (of a line, its parent) it keeps
                texts.update(_strings([v for k, v in native.items() if not _id_key(k)]))
        reasons = [
            reason
            for (stored,) in db.execute("SELECT reasons FROM sources WHERE reasons IS NOT NULL")
            for reason in orjson.loads(stored)
        ]
    finally:
        db.close()
    return Read([f"{p.path}: {p.message}" for p in report.failed], texts, reasons)


def _id_key(key: str) -> bool:
    return key.lower().endswith(("id", "uuid"))


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _source(seed: Seed, data: bytes | None, folder: Path) -> tuple[Source, Path]:
    if seed.member_of is None:
        path = folder / seed.name
        path.parent.mkdir(parents=True, exist_ok=True)
        if data is not None:
            path.write_bytes(data)
        return Source(path, seed.mode), path  # type: ignore[arg-type]
    path = folder / seed.member_of
    if data is not None:
        path.write_bytes(b"a container")
    assert seed.native_id is not None and seed.mode != "container"
    member = Member(seed.native_id, "1", lambda: data or b"", seed.mode)
    return Source(path, "container", members=lambda skip: iter([member])), path


def check(
    seed: Seed, mutation: Mutation, got: Read, want: Read | None, original: Read, where: str
) -> None:
    if seed.lines or seed.tool == "aider" or mutation.structural:
        assert not got.failed, f"{where}: the file was lost: {got.failed}"
    else:
        assert all("FormatError: " in f for f in got.failed), f"{where}: {got.failed}"
    if want is not None and not want.failed:
        missing = kept_by_both(original, want, mutation.touched) - _lines(got.texts)
        assert not missing, f"{where}: lost {len(missing)} line(s) of text: {sorted(missing)[:3]}"


def kept_by_both(original: Read, baseline: Read, touched: list[bytes]) -> set[str]:
    """What the unmutated file shows that came from lines the mutation did not touch: what
    the file without those lines shows too, but for what the touched lines said themselves.
    (Without a line, another may mean something else: a rewind to a message no longer
    there keeps what it would have dropped; a tool's start event names the command its
    request, now gone, named.)"""
    said = {line for raw in touched for text in _said(raw) for line in text.split("\n")}
    return (_lines(original.texts) & _lines(baseline.texts)) - said


def _said(raw: bytes) -> Iterator[str]:
    """The strings a native line holds (its text, when it is not JSON)."""
    try:
        yield from _strings(orjson.loads(raw))
    except orjson.JSONDecodeError:
        yield raw.decode("utf-8", "replace")


def _lines(texts: set[str]) -> set[str]:
    """Lines of message text: a message of several native lines (Aider's) may be cut short
    by a mutated line, and what the other lines said must still be there."""
    return {line for text in texts for line in text.split("\n") if line.strip()}


@pytest.fixture(scope="module")
def by_reader(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Seed]]:
    found: dict[str, list[Seed]] = {}
    for seed in seeds(tmp_path_factory.mktemp("seeds")):
        found.setdefault(seed.tool, []).append(seed)
    assert sorted(found) == READERS, "every reader needs real files to start from"
    return found


@pytest.fixture(autouse=True)
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Huge lines at a size a test can afford: MAX_LINE is 256 MB for real."""
    monkeypatch.setattr(feed, "MAX_LINE", 1 << 20)
    monkeypatch.setattr(facts_common, "PLATFORM", "linux")


@pytest.mark.parametrize("reader", READERS)
def test_mutated_files_lose_no_good_line(
    reader: str, by_reader: dict[str, list[Seed]], tmp_path: Path
) -> None:
    found = by_reader[reader]
    originals: dict[str, Read] = {}
    failures: list[str] = []
    for case in range(max(CASES // len(READERS), 1)):
        seed = found[case % len(found)]
        if seed.name not in originals:
            originals[seed.name] = capture(seed, seed.data, tmp_path / f"original-{case}")
        mutation = mutate(seed, random.Random(f"{reader}:{case}"))
        where = f"{reader} {seed.name} case {case} ({mutation.label})"
        folder = tmp_path / str(case)
        with deadline(DEADLINE, where):
            got = capture(seed, mutation.data, folder / "mutated")
            want = None
            if mutation.baseline is not None:
                want = capture(seed, mutation.baseline, folder / "baseline")
        try:
            check(seed, mutation, got, want, originals[seed.name], where)
        except AssertionError as exc:
            failures.append(str(exc).split("\n")[0])
        if LOG:
            with Path(LOG).open("a") as log:
                log.writelines(f"{where}\t{r}\n" for r in got.reasons if "Error: " in r)
    assert not failures, f"{len(failures)} case(s) failed:\n" + "\n".join(failures[:20])


SPECIALS = ("fifo", "zero", "folder", "socket")


@pytest.mark.parametrize("reader", READERS)
def test_special_files_fail_fast(
    reader: str, by_reader: dict[str, list[Seed]], tmp_path: Path
) -> None:
    seed = by_reader[reader][0]
    for kind in SPECIALS:
        folder = tmp_path / kind
        path = folder / (seed.member_of or seed.name)
        path.parent.mkdir(parents=True)
        with deadline(DEADLINE, f"{reader} {seed.name} as a {kind}"):
            if kind == "socket":
                with unix_socket(path):
                    got = capture(seed, None, folder)
            else:
                _special(kind, path, tmp_path)
                got = capture(seed, None, folder)
        assert len(got.failed) == 1 and "not a regular file" in got.failed[0], got.failed


def _special(kind: str, path: Path, tmp_path: Path) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    else:
        target = tmp_path / "a-folder"
        target.mkdir(exist_ok=True)
        path.symlink_to(target, target_is_directory=True)
