"""opencode's SQLite store (1.2 and later) built the way opencode writes it, from the real
legacy sample records: for the opencode and Kilo CLI reader tests."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.conftest import FIXTURES

STORAGE = FIXTURES / "opencode" / "storage"
LARGE = "s_stage0_large"
SMALL = "s_stage0_small"

# Tables and indexes of a live opencode 1.x database (packages/opencode/src/session/session.sql.ts
# in anomalyco/opencode; `sqlite3 opencode.db .schema` on a user's store, 2026-05).
SCHEMA = """
CREATE TABLE `project` (`id` text PRIMARY KEY, `worktree` text NOT NULL, `vcs` text,
 `name` text, `time_created` integer NOT NULL, `time_updated` integer NOT NULL);
CREATE TABLE `session` (`id` text PRIMARY KEY, `project_id` text NOT NULL, `parent_id` text,
 `slug` text NOT NULL, `directory` text NOT NULL, `title` text NOT NULL, `version` text NOT NULL,
 `share_url` text, `summary_additions` integer, `summary_deletions` integer,
 `summary_files` integer, `summary_diffs` text, `revert` text, `permission` text,
 `time_created` integer NOT NULL, `time_updated` integer NOT NULL, `time_compacting` integer,
 `time_archived` integer, `workspace_id` text, `path` text, `agent` text, `model` text,
 FOREIGN KEY (`project_id`) REFERENCES `project`(`id`) ON DELETE cascade);
CREATE TABLE `message` (`id` text PRIMARY KEY, `session_id` text NOT NULL,
 `time_created` integer NOT NULL, `time_updated` integer NOT NULL, `data` text NOT NULL,
 FOREIGN KEY (`session_id`) REFERENCES `session`(`id`) ON DELETE cascade);
CREATE TABLE `part` (`id` text PRIMARY KEY, `message_id` text NOT NULL,
 `session_id` text NOT NULL, `time_created` integer NOT NULL, `time_updated` integer NOT NULL,
 `data` text NOT NULL, FOREIGN KEY (`message_id`) REFERENCES `message`(`id`) ON DELETE cascade);
CREATE TABLE `todo` (`session_id` text NOT NULL, `content` text NOT NULL, `status` text NOT NULL,
 `priority` text NOT NULL, `position` integer NOT NULL, `time_created` integer NOT NULL,
 `time_updated` integer NOT NULL, PRIMARY KEY(`session_id`, `position`));
CREATE INDEX `message_session_time_created_id_idx` ON `message` (`session_id`,`time_created`,`id`);
CREATE INDEX `part_message_id_id_idx` ON `part` (`message_id`,`id`);
CREATE INDEX `part_session_idx` ON `part` (`session_id`);
CREATE INDEX `session_project_idx` ON `session` (`project_id`);
"""


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def build(path: Path, sessions: tuple[str, ...] = (LARGE, SMALL), wal: bool = False) -> None:
    """A database holding the sample sessions, their ids and data split as opencode splits
    them (the row's columns hold the ids, `data` the rest)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    if wal:
        db.execute("PRAGMA journal_mode = WAL")
    db.execute("INSERT INTO project VALUES ('proj_test', '/tmp', 'git', NULL, 1, 1)")
    for file in sorted((STORAGE / "session" / "proj_test").glob("*.json")):
        info = load(file)
        if info["id"] in sessions:
            insert_session(db, info)
    db.commit()
    db.close()


def insert_session(db: sqlite3.Connection, info: dict[str, Any]) -> None:
    sid = info["id"]
    time = info["time"]
    db.execute(
        "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version,"
        " time_created, time_updated) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            sid,
            info["projectID"],
            info.get("parentID"),
            info.get("slug") or sid,
            info["directory"],
            info["title"],
            info["version"],
            time["created"],
            time["updated"],
        ),
    )
    for file in sorted((STORAGE / "message" / sid).glob("*.json")):
        message = load(file)
        insert_message(db, sid, message)
        parts = sorted((STORAGE / "part" / message["id"]).glob("*.json"))
        for n, part_file in enumerate(parts):
            part = load(part_file)
            # Part ids sort by creation (opencode's ids are time-ordered); the sample's do not.
            insert_part(db, sid, message["id"], f"prt_{message['id']}_{n:03d}", part)


def insert_message(db: sqlite3.Connection, sid: str, message: dict[str, Any]) -> None:
    data = {k: v for k, v in message.items() if k not in ("id", "sessionID")}
    created = message["time"]["created"]
    db.execute(
        "INSERT INTO message VALUES (?,?,?,?,?)",
        (message["id"], sid, created, created, json.dumps(data)),
    )


def insert_part(
    db: sqlite3.Connection, sid: str, mid: str, pid: str, part: dict[str, Any], at: int = 1
) -> None:
    data = {k: v for k, v in part.items() if k not in ("id", "sessionID", "messageID")}
    db.execute("INSERT INTO part VALUES (?,?,?,?,?,?)", (pid, mid, sid, at, at, json.dumps(data)))
