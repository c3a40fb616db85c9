"""Codex CLI: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<local time>-<uuid>.jsonl[.zst]`.

Codex names its sessions itself: a session a launch began is found afterwards, among the
rollouts started since the launch (started_since).
"""

from __future__ import annotations

import os
import time

from tether.files import is_regular
from tether.statefile import loads
from tether.tools.facts import env_dir, first_line, is_uuid, list_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Any

    from tether.tools.facts import Capability, LaunchSpec

NAME = "codex"
DISPLAY_NAME = "Codex CLI"
ALIASES: tuple[str, ...] = ("codex-cli", "openai-codex")
CAPABILITIES: frozenset[Capability] = frozenset({"read", "write", "resume", "autoresume"})
STORE_VARIABLES: tuple[str, ...] = ("CODEX_HOME",)
CANDIDATES = 64
"""At most this many rollouts are opened per look: only those started since the launch."""

LAUNCH: LaunchSpec | None = {
    "binary": "codex",
    "preassign": (),
    "resume": ("resume", "{id}"),
    "headless_flags": ("exec", "e"),
    "headless_resume": ("resume", "{id}"),
    "headless_value_flags": (
        *("-c", "--config", "--enable", "--disable", "-i", "--image", "-m", "--model"),
        *("--local-provider", "-p", "--profile", "-s", "--sandbox", "-C", "--cd"),
        *("--add-dir", "--thread-source", "--cyber-access-program", "--output-schema"),
        *("--color", "-o", "--output-last-message"),
    ),
    "passthrough_flags": ("-C", "--cd", "--remote", "-h", "--help", "-V", "--version"),
    "subcommands": (
        *("agents", "review", "login", "logout", "mcp", "mcp-server", "plugin"),
        *("app", "app-server", "remote-control", "completion", "update", "doctor"),
        *("sandbox", "debug", "apply", "a", "resume", "fork", "queue", "archive"),
        *("delete", "unarchive", "migrate-rollouts", "migrate-nfs-db", "cloud"),
        *("exec-server", "features", "help"),
    ),
    "prompt": ("{prompt}",),
}


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    return [env_dir(env, "CODEX_HOME", home) or f"{home}/.codex"]


valid_id = is_uuid


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    return f"sessions/*/*/*/rollout-*-{native_id}.jsonl*"


def started_since(store: str, cwd: str, since: float, headless: bool) -> list[tuple[str, str]]:
    """The sessions Codex began in `cwd` at or after `since` (epoch seconds), oldest first,
    as (id, rollout): by the kind of run the launch was (`codex exec` writes source "exec");
    forks and sub-agents, which start from another session, left out.

    Codex names folders and files by local time, to the second: only the day folders from
    the day before `since` on are listed, only names from its second on are opened (at
    most CANDIDATES of them), and of each only the first line (session_meta) is read.
    """
    first = time.strftime("rollout-%Y-%m-%dT%H-%M-%S", time.localtime(since - 1))
    found: list[tuple[str, str]] = []
    opened = 0
    for folder in _days_since(f"{store}/sessions", time.localtime(since - 86_400)):
        for name in list_dir(folder):
            if not (name.startswith("rollout-") and name.endswith(".jsonl")) or name < first:
                continue
            opened += 1
            if opened > CANDIDATES:
                return found
            path = f"{folder}/{name}"
            native_id = _began_here(path, cwd, headless)
            if native_id is not None and name.endswith(f"-{native_id}.jsonl"):
                found.append((native_id, path))
    return found


def _days_since(sessions: str, day: time.struct_time) -> Iterator[str]:
    """`sessions/YYYY/MM/DD` folders of `day` and after, in date order."""
    cutoff = (day.tm_year, day.tm_mon, day.tm_mday)
    for year in list_dir(sessions):
        if not (year.isdigit() and int(year) >= cutoff[0]):
            continue
        for month in list_dir(f"{sessions}/{year}"):
            if not (month.isdigit() and (int(year), int(month)) >= cutoff[:2]):
                continue
            for day_name in list_dir(f"{sessions}/{year}/{month}"):
                if day_name.isdigit() and (int(year), int(month), int(day_name)) >= cutoff:
                    yield f"{sessions}/{year}/{month}/{day_name}"


def _began_here(path: str, cwd: str, headless: bool) -> str | None:
    """The id of the rollout at `path` when it is a session begun in `cwd` by a run of this
    kind (not a fork, not a sub-agent), else None."""
    meta = session_meta(path)
    if meta is None:
        return None
    native_id, source, where = meta.get("id"), meta.get("source"), meta.get("cwd")
    if not (isinstance(native_id, str) and is_uuid(native_id) and isinstance(where, str)):
        return None
    if not isinstance(source, str) or meta.get("forked_from_id") or meta.get("parent_thread_id"):
        return None  # a sub-agent's source is an object; a fork names its parent
    if (source == "exec") != headless:
        return None
    if where != cwd and os.path.realpath(where) != os.path.realpath(cwd):
        return None
    return native_id


def session_meta(path: str) -> dict[str, Any] | None:
    """The payload of a rollout's first line when it is a session_meta record."""
    if not is_regular(path):
        return None
    try:
        record = loads(first_line(path))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("type") != "session_meta":
        return None
    payload = record.get("payload")
    return payload if isinstance(payload, dict) else None


# MCP: which file configures its MCP servers, and in which shape (tether.mcp.install).


def mcp_config(env: Mapping[str, str], home: str, project: str | None) -> tuple[str, str] | None:
    """(file, shape) of its MCP servers: the user's when `project` is None, else the file in
    that project folder; None where it has none of that scope."""
    if project is not None:  # read in projects the user trusts
        return f"{project}/.codex/config.toml", "codex"
    return f"{store_roots(env, home)[0]}/config.toml", "codex"
