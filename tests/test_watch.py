"""The watcher on real files laid out as the tools lay them out, written as the tools write:
appends (partial lines too), rotation, compression, deletion, stores made after start,
kill -9 mid-write, a second watcher, and `scan` run beside it.

Waits are polls with deadlines, never fixed sleeps, and nothing here is timed: the latency
and idle-CPU figures are in bench/watch.py.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard

from tests.conftest import DEADLINE, FIXTURES, checksums, eventually, run
from tests.stores import (
    CLAUDE_ID,
    CODEX_ID,
    CODEX_SAMPLE,
    append,
    claude_line,
    claude_prompt,
    codex_prompt,
    last_record,
    place_claude,
    place_codex,
)
from tether.capture.fresh import running_pid
from tether.capture.watch import AlreadyWatching, Watcher, watch_lock
from tether.paths import tether_home


def as_json(*args: str) -> Any:
    return orjson.loads(run(*args).stdout)


def hits(word: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = as_json("search", word, "--json", "--no-scan")
    return result


def show(ident: str) -> dict[str, Any]:
    result: dict[str, Any] = as_json("show", ident, "--json", "--no-scan")
    return result


def sessions() -> list[tuple[str, int]]:
    listed = as_json("list", "--json", "-a", "--no-scan")
    return sorted((s["native_id"], s["message_count"]) for s in listed)


def sources() -> dict[str, str | None]:
    from tether.archive.db import connect
    from tether.paths import db_path

    db = connect(db_path(tether_home()))
    try:
        return dict(db.execute("SELECT path, missing_since FROM sources"))
    finally:
        db.close()


@pytest.fixture(autouse=True)
def quiet_log() -> Iterator[None]:
    """`tether watch` run in-process points the watcher's log at the runner's stderr."""
    from tether.capture.watch import log

    handlers, propagate = list(log.handlers), log.propagate
    yield
    log.handlers[:], log.propagate = handlers, propagate


class Running:
    """A watcher in a thread of the test process, as quick to settle as it can be."""

    def __init__(self, env: dict[str, str], home: Path) -> None:
        # rescan=0: everything these tests see comes from events, never from a full rescan.
        self.watcher = Watcher(tether_home(), env, home, quiet=0.03, max_delay=0.15, rescan=0)
        self.thread = threading.Thread(target=self.watcher.run, daemon=True)
        self.thread.start()
        assert self.watcher.ready.wait(DEADLINE), "the watcher did not start"

    def tick(self) -> None:
        """Wait for one more capture than now."""
        start = self.watcher.ticks
        eventually(lambda: self.watcher.ticks > start, "a capture")

    def stop(self) -> None:
        self.watcher.stop()
        self.thread.join(DEADLINE)
        assert not self.thread.is_alive()


@pytest.fixture
def watching(isolated_home: Path) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(**env: str) -> Running:
        running = Running({**os.environ, **env}, isolated_home)
        started.append(running)
        return running

    yield start
    for running in started:
        if running.thread.is_alive():
            running.stop()


def test_appended_lines_become_searchable(isolated_home: Path, watching: Any) -> None:
    transcript = place_claude(isolated_home)
    rollout = place_codex(isolated_home)
    watching()
    counts = dict(sessions())  # the start-up scan took what was there
    assert set(counts) == {CLAUDE_ID, CODEX_ID}
    append(transcript, claude_prompt(transcript, "watched wombats"))
    eventually(lambda: hits("wombats"), "the Claude line searchable")
    append(rollout, codex_prompt("watched platypus", 900))
    eventually(lambda: hits("platypus"), "the Codex line searchable")
    final = dict(sessions())
    assert final == {CLAUDE_ID: counts[CLAUDE_ID] + 1, CODEX_ID: counts[CODEX_ID] + 1}
    before = checksums(isolated_home)
    append(transcript, claude_prompt(transcript, "third numbat"))
    after = checksums(isolated_home)
    eventually(lambda: hits("numbat"), "the third line searchable")
    assert checksums(isolated_home) == after != before  # the watcher wrote no native byte


def test_writes_to_other_files_read_nothing(isolated_home: Path, watching: Any) -> None:
    transcript = place_claude(isolated_home)
    running = watching()
    debug = isolated_home / ".claude" / "debug" / "latest.txt"
    debug.parent.mkdir()
    debug.write_text("starting\n")
    running.tick()  # made: its store is listed again, and it is no session file
    captures, ignored = running.watcher.ticks, running.watcher.ignored
    with debug.open("a") as fh:
        fh.write("a debug line the tool writes all the time\n")
    eventually(lambda: running.watcher.ignored > ignored, "the write seen and dropped")
    assert running.watcher.ticks == captures
    append(transcript, claude_prompt(transcript, "after the noise"))
    eventually(lambda: hits("noise"), "the session line still searchable")


def test_a_failed_capture_is_retried_by_a_full_scan(
    isolated_home: Path, watching: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tether.capture.watch

    transcript = place_claude(isolated_home)
    running = watching()
    failures: list[int] = []
    real = tether.capture.watch.Watcher._appended

    def flaky(*args: Any) -> Any:
        if not failures:
            failures.append(1)
            raise RuntimeError("database is locked")  # say, by a stuck process
        return real(*args)

    monkeypatch.setattr(tether.capture.watch.Watcher, "_appended", flaky)
    monkeypatch.setattr(tether.capture.watch, "RETRY", 0.05)
    append(transcript, claude_prompt(transcript, "retried tapir"))
    eventually(lambda: hits("tapir"), "the line captured by the retry")
    assert failures == [1] and running.thread.is_alive()


def test_it_keeps_no_map_of_the_stores_only_the_files_written_lately(
    isolated_home: Path, watching: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its memory does not grow with the stores: a full scan leaves nothing behind, and
    it keeps the sources of the files written to lately, RECENT at most."""
    import tether.capture.fresh
    import tether.capture.watch

    transcript = place_claude(isolated_home)
    rollout = place_codex(isolated_home)
    running = watching()
    assert not running.watcher.recent
    append(transcript, claude_prompt(transcript, "first okapi"))
    eventually(lambda: hits("okapi"), "the first append, listed alone")
    assert list(running.watcher.recent) == [str(transcript)]

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a file written lately was listed again")

    real = tether.capture.fresh.capture_changes
    monkeypatch.setattr(tether.capture.fresh, "capture_changes", refuse)
    append(transcript, claude_prompt(transcript, "second okapi gazelle"))
    eventually(lambda: hits("gazelle"), "the next append, read straight away")
    monkeypatch.setattr(tether.capture.fresh, "capture_changes", real)
    monkeypatch.setattr(tether.capture.watch, "RECENT", 1)
    append(rollout, codex_prompt("a codex eland", 90))
    eventually(lambda: hits("eland"), "the codex append")
    assert list(running.watcher.recent) == [str(rollout)]


def test_a_partial_line_waits_for_its_end(isolated_home: Path, watching: Any) -> None:
    transcript = place_claude(isolated_home)
    running = watching()
    count = dict(sessions())[CLAUDE_ID]
    line = claude_prompt(transcript, "halfway echidna")
    append(transcript, line[:40])
    running.tick()
    assert dict(sessions())[CLAUDE_ID] == count and not hits("echidna")
    append(transcript, line[40:])
    eventually(lambda: hits("echidna"), "the completed line searchable")
    assert dict(sessions())[CLAUDE_ID] == count + 1


def test_store_made_after_start_is_watched(
    isolated_home: Path, tmp_path: Path, watching: Any
) -> None:
    deep = tmp_path / "later" / "deeper" / "codex"
    running = watching(CODEX_HOME=str(deep))
    assert sessions() == []
    # The folders appear one at a time, as `mkdir -p` and the tool make them.
    (tmp_path / "later").mkdir()
    running.tick()
    (tmp_path / "later" / "deeper").mkdir()
    running.tick()
    day = deep / "sessions" / "2026" / "09" / "01"
    day.mkdir(parents=True)
    rollout = day / CODEX_SAMPLE.name
    shutil.copy(CODEX_SAMPLE, rollout)
    eventually(lambda: [n for n, _ in sessions()] == [CODEX_ID], "the new store captured")
    append(rollout, codex_prompt("late quokka", 901))
    eventually(lambda: hits("quokka"), "a line in the late store searchable")
    # And a store under HOME that appears later still: Claude's.
    transcript = place_claude(isolated_home)
    eventually(lambda: CLAUDE_ID in dict(sessions()), "the Claude store captured")
    append(transcript, claude_prompt(transcript, "later still kiwi"))
    eventually(lambda: hits("kiwi"), "a line in it searchable")


def test_project_folders_are_watched_at_their_top_only(
    isolated_home: Path, tmp_path: Path, watching: Any
) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    transcript = place_claude(isolated_home, sid="in-project")
    with_cwd = {**last_record(transcript), "cwd": str(project)}
    transcript.write_bytes(claude_line(with_cwd, "a session in the project"))
    running = watching()  # its start-up scan learns the project folder
    assert running.watcher.watches is not None
    watch = running.watcher.watches.active[project]
    assert watch[1].recursive is False and watch[1].writes is True
    assert not any(p.is_relative_to(project / "src") for p in running.watcher.watches.active)
    history = project / ".aider.chat.history.md"
    shutil.copy(FIXTURES / "aider" / "real_chat-history_head247lines.md", history)
    eventually(lambda: any(t == "aider" for t in tools()), "the aider history captured")
    append(history, b"#### watched aardvark\n\n")
    eventually(lambda: hits("aardvark"), "a line appended to it searchable")


def tools() -> list[str]:
    return [s["tool"] for s in as_json("list", "--json", "-a", "--no-scan")]


def test_store_deleted_and_made_again(isolated_home: Path, watching: Any) -> None:
    place_codex(isolated_home)
    running = watching()
    shutil.rmtree(isolated_home / ".codex")
    running.tick()
    rollout = place_codex(isolated_home)
    append(rollout, codex_prompt("reborn axolotl", 902))
    eventually(lambda: hits("axolotl"), "a line in the re-made store searchable")
    # Gone and back before the watcher even looks: the same path, another folder.
    shutil.rmtree(isolated_home / ".codex")
    rollout = place_codex(isolated_home)
    running.tick()
    append(rollout, codex_prompt("twice reborn olm", 903))
    eventually(lambda: hits("olm"), "a line in the store made again at once searchable")


def test_compressed_rollout_keeps_one_session(isolated_home: Path, watching: Any) -> None:
    rollout = place_codex(isolated_home)
    watching()
    listed = sessions()
    before = show(CODEX_ID)["messages"]
    packed = rollout.with_name(rollout.name + ".zst")
    packed.write_bytes(zstandard.ZstdCompressor().compress(rollout.read_bytes()))
    rollout.unlink()
    eventually(lambda: sources().get(str(packed), "absent") is None, "the .zst captured")
    eventually(lambda: sources()[str(rollout)], "the plain file marked missing")
    assert sessions() == listed
    assert show(CODEX_ID)["messages"] == before


def test_rotation_keeps_one_session_and_every_line(isolated_home: Path, watching: Any) -> None:
    transcript = place_claude(isolated_home)
    rollout = place_codex(isolated_home)
    watching()
    listed = dict(sessions())
    # Rewritten whole into a temp file and renamed over the old one (a new inode).
    tmp = transcript.with_name(".rewrite.tmp")
    tmp.write_bytes(transcript.read_bytes() + claude_prompt(transcript, "rotated dugong"))
    tmp.replace(transcript)
    eventually(lambda: hits("dugong"), "the rewritten file's new line searchable")
    assert dict(sessions())[CLAUDE_ID] == listed[CLAUDE_ID] + 1
    # Moved elsewhere in the store (`codex archive`), then appended to there.
    archived = isolated_home / ".codex" / "archived_sessions"
    archived.mkdir()
    moved = archived / rollout.name
    rollout.rename(moved)
    eventually(lambda: sources().get(str(moved), "absent") is None, "the moved file captured")
    append(moved, codex_prompt("archived manatee", 903))
    eventually(lambda: hits("manatee"), "a line of the moved file searchable")
    assert dict(sessions()) == {CLAUDE_ID: listed[CLAUDE_ID] + 1, CODEX_ID: listed[CODEX_ID] + 1}


def test_deleted_file_stays_in_the_archive(isolated_home: Path, watching: Any) -> None:
    transcript = place_claude(isolated_home)
    watching()
    append(transcript, claude_prompt(transcript, "doomed narwhal"))
    eventually(lambda: hits("narwhal"), "the line searchable")
    before = show(CLAUDE_ID)["messages"]
    transcript.unlink()
    eventually(lambda: sources()[str(transcript)], "the deletion noticed")
    assert show(CLAUDE_ID)["messages"] == before and hits("narwhal")


def test_a_second_watcher_is_refused(isolated_home: Path) -> None:
    data = tether_home()
    assert running_pid(data) is None
    with watch_lock(data):
        assert running_pid(data) == os.getpid()
        refused = run("watch", ok=False)
        assert refused.exit_code == 3
        assert f"already running (pid {os.getpid()})" in refused.stderr
        with pytest.raises(AlreadyWatching), watch_lock(data):
            pass
    assert running_pid(data) is None
    assert (data / "watch.pid").read_text() == ""


# ---------------------------------------------------------------- concurrency and crashes


class Writer(threading.Thread):
    """Appends prompts to a transcript as fast as a busy tool, some lines in two writes."""

    def __init__(self, path: Path, count: int, seed: int) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.count = count
        self.rng = random.Random(seed)
        self.words = [f"tok{seed}x{i}" for i in range(count)]

    def run(self) -> None:
        last = last_record(self.path)
        with self.path.open("ab") as fh:
            for word in self.words:
                line = claude_line(last, f"prompt {word}")
                cut = self.rng.randrange(1, len(line)) if self.rng.random() < 0.3 else len(line)
                fh.write(line[:cut])
                fh.flush()
                if cut < len(line):
                    time.sleep(0.003)
                    fh.write(line[cut:])
                    fh.flush()
                time.sleep(self.rng.uniform(0, 0.004))


def reference(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What a plain scan of the same files, into an archive of its own, makes of them."""
    with monkeypatch.context() as m:
        m.setenv("TETHER_HOME", str(tmp_path / "reference"))
        run("scan")
        return show(CLAUDE_ID)


def assert_exactly_once(session: dict[str, Any], words: list[str]) -> None:
    keys = [m["native_id"] for m in session["messages"]]
    assert len(keys) == len(set(keys)), "a message was captured twice"
    texts = [p.get("text", "") for m in session["messages"] for p in m["parts"]]
    for word in words:
        assert sum(f"prompt {word}" == t for t in texts) == 1, word


def test_scan_beside_the_watcher_stays_consistent(
    isolated_home: Path, tmp_path: Path, watching: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    transcript = place_claude(isolated_home)
    watching()
    writer = Writer(transcript, 150, seed=1)
    writer.start()
    while writer.is_alive():
        run("scan")  # waits for the watcher's capture in progress, and vice versa
    writer.join()
    expected = reference(isolated_home, tmp_path, monkeypatch)
    eventually(lambda: show(CLAUDE_ID)["messages"] == expected["messages"], "all lines in")
    assert_exactly_once(show(CLAUDE_ID), writer.words)
    assert len(hits(writer.words[-1])) == 1


def spawn_watcher(log: Path | None = None) -> subprocess.Popen[bytes]:
    """`tether watch` as its own process; with a log, returns once its first scan is done."""
    logging = ["--log-file", str(log)] if log else []
    child = subprocess.Popen(
        [sys.executable, "-m", "tether", "watch", "--rescan", "0", *logging],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    eventually(
        lambda: running_pid(tether_home()) == child.pid or child.poll() is not None,
        "the watcher holding its lock",
    )
    assert child.poll() is None, child.stderr.read() if child.stderr else ""
    if log is not None:
        eventually(lambda: log.exists() and "full scan:" in log.read_text(), "its first scan")
    return child


def test_ctrl_c_and_sigterm_stop_it_cleanly(isolated_home: Path, tmp_path: Path) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        log = tmp_path / f"{signum}.log"
        child = spawn_watcher(log)
        child.send_signal(signum)
        assert child.wait(DEADLINE) == 0
        assert log.read_text().rstrip().endswith("INFO stopped")
        assert running_pid(tether_home()) is None


def test_a_corrupt_archive_is_a_clear_error(isolated_home: Path) -> None:
    data = tether_home()
    data.mkdir(parents=True)
    (data / "tether.db").write_bytes(b"not a database at all" * 100)
    failed = run("watch", ok=False)
    assert failed.exit_code == 1 and "cannot open the archive" in failed.stderr
    assert running_pid(data) is None


def bytes_read(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/<pid>/io")


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="reads /proc/<pid>/io")
def test_kill_9_inside_a_capture_rolls_it_back(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    transcript = place_claude(isolated_home)
    child = spawn_watcher(tmp_path / "first.log")
    count = show(CLAUDE_ID)["session"]["message_count"]
    last = last_record(transcript)
    words = [f"bulk{i}" for i in range(1200)]
    padding = " filler" * 1400  # ~10 KB a line, ~12 MB in all: a capture that takes a while
    before = bytes_read(child.pid)
    append(transcript, b"".join(claude_line(last, f"prompt {w}{padding}") for w in words))
    # Killed once it has read 2 MB of the 12: inside the capture's transaction.
    eventually(lambda: bytes_read(child.pid) - before > 2 << 20, "the capture under way", 60)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert show(CLAUDE_ID)["session"]["message_count"] == count  # rolled back whole
    child = spawn_watcher()
    try:
        expected = reference(isolated_home, tmp_path, monkeypatch)
        eventually(lambda: show(CLAUDE_ID)["messages"] == expected["messages"], "all lines in")
        assert show(CLAUDE_ID)["session"]["message_count"] == count + len(words)
        assert len(hits(words[-1])) == 1
    finally:
        child.terminate()
        assert child.wait(DEADLINE) == 0


def test_kill_9_mid_write_loses_and_duplicates_nothing(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    transcript = place_claude(isolated_home)
    writer = Writer(transcript, 800, seed=2)
    rng = random.Random(3)
    writer.start()
    kills = 0
    while writer.is_alive():
        child = spawn_watcher()
        time.sleep(rng.uniform(0, 0.3))  # let it capture some, then kill it wherever it is
        child.send_signal(signal.SIGKILL)
        child.wait()
        kills += 1
    writer.join()
    assert kills >= 3
    assert running_pid(tether_home()) is None  # the kernel dropped the lock of the dead
    child = spawn_watcher()  # a restart is never refused by a stale pid file
    try:
        expected = reference(isolated_home, tmp_path, monkeypatch)
        eventually(lambda: show(CLAUDE_ID)["messages"] == expected["messages"], "all lines in")
        assert_exactly_once(show(CLAUDE_ID), writer.words)
        assert all(len(hits(word)) == 1 for word in rng.sample(writer.words, 20))
    finally:
        child.terminate()
        assert child.wait(DEADLINE) == 0


def test_a_full_scan_apart_reports_what_it_read(isolated_home: Path) -> None:
    """`tether watch` scans in a child process (its memory stays flat): the report is the
    child's, and a child that cannot scan is a failed capture (retried), not a silent one."""
    from tether.capture.watch import scan_apart

    place_claude(isolated_home)
    report = scan_apart(os.environ)
    assert (report.read, report.sessions_added) == (1, 1)
    assert sessions() == [(CLAUDE_ID, sessions()[0][1])]
    (tether_home() / "tether.db").write_bytes(b"not a database" * 100)
    for name in ("tether.db-wal", "tether.db-shm"):
        (tether_home() / name).unlink(missing_ok=True)
    with pytest.raises(RuntimeError, match="scan exited"):
        scan_apart(os.environ)
