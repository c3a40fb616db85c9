"""Antigravity: the agy CLI's `~/.gemini/antigravity-cli/` (conversations/<id>.db or .pb,
the step log brain/<id>/.system_generated/logs/transcript.jsonl, and history.jsonl, the
prompts typed with their folder and conversation), and the IDE's `~/.gemini/antigravity/`
(encrypted: not readable).

agy names its conversations itself and takes no id up front: a conversation a launch began
is found afterwards in its own history.jsonl (each prompt's `workspace` and
`conversationId`), as ai-session-manager finds it (started_since).
"""

from __future__ import annotations

import os

from tether.files import open_fd
from tether.statefile import loads
from tether.tools.facts import is_uuid, same_folder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts import Capability, LaunchSpec

NAME = "antigravity"
DISPLAY_NAME = "Antigravity"
ALIASES: tuple[str, ...] = ("agy", "antigravity-cli", "google-antigravity")
CAPABILITIES: frozenset[Capability] = frozenset({"read", "resume", "autoresume"})
STORE_VARIABLES: tuple[str, ...] = ()
HISTORY = "history.jsonl"
HISTORY_TAIL = 1 << 20
"""Only the end of history.jsonl is read: the prompts of a launch are its last lines."""

LAUNCH: LaunchSpec | None = {
    # agy's documented arguments: `--conversation ID` (or `=ID`) resumes one conversation,
    # `-c/--continue` the latest, `-p/--print PROMPT` runs headless.
    "binary": "agy",
    "preassign": (),
    "resume": ("--conversation", "{id}"),
    "headless_flags": ("-p", "--print"),
    "headless_resume": ("--conversation", "{id}"),
    "headless_value_flags": (),
    "passthrough_flags": (
        *("--conversation", "-c", "--continue", "-h", "--help", "-v", "--version"),
    ),
    "subcommands": ("auth", "help", "update"),
    "prompt": ("{prompt}",),
}


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    """The CLI's and the IDE's folders under ~/.gemini (no override of their own)."""
    return [f"{home}/.gemini/antigravity-cli", f"{home}/.gemini/antigravity"]


valid_id = is_uuid


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    """The conversation's own store: `<id>.db` (agy 1.0.10 and later) or `<id>.pb`."""
    return f"conversations/{native_id}.*"


def started_since(store: str, cwd: str, since: float, headless: bool) -> list[tuple[str, str]]:
    """The conversations agy began in `cwd` at or after `since` (epoch seconds), oldest
    first, as (id, conversation file): the first prompt of each conversation in
    history.jsonl that was typed there since, whose conversation has its file."""
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for record in _history_tail(f"{store}/{HISTORY}"):
        native_id = record.get("conversationId")
        stamp = record.get("timestamp")
        if not isinstance(native_id, str) or not is_uuid(native_id) or native_id in seen:
            continue
        seen.add(native_id)  # its first prompt decides when it began
        if _epoch_ms(stamp) < since * 1000 - 1000:
            continue
        if not same_folder(record.get("workspace"), cwd):
            continue
        conversation = _conversation_file(store, native_id)
        if conversation:
            found.append((native_id, conversation))
    return found


def _epoch_ms(stamp: object) -> float:
    """A prompt's time in ms: history.jsonl says it in ms (older lines: ISO text)."""
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        return float(stamp)
    if isinstance(stamp, str):
        from datetime import datetime

        try:
            when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            return 0.0
        return when.timestamp() * 1000 if when.tzinfo else 0.0
    return 0.0


def _conversation_file(store: str, native_id: str) -> str | None:
    for suffix in (".db", ".pb"):
        path = f"{store}/conversations/{native_id}{suffix}"
        if os.path.isfile(path):
            return path
    return None


def _history_tail(path: str) -> list[dict[str, object]]:
    """The JSON-object lines of the end of history.jsonl, in order; none when unreadable."""
    try:
        fd = open_fd(path)
    except OSError:
        return []
    try:
        size = os.fstat(fd).st_size
        start = max(0, size - HISTORY_TAIL)
        os.lseek(fd, start, os.SEEK_SET)
        data = os.read(fd, HISTORY_TAIL)
    except OSError:
        return []
    finally:
        os.close(fd)
    lines = data.decode("utf-8", "replace").split("\n")
    if start:
        lines = lines[1:]  # the first line read is cut
    records = []
    for line in lines:
        try:
            value = loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            records.append(value)
    return records
