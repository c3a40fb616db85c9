"""Auto-push: `tether sync auto on` makes the watcher push what it captures.

The setting is `$TETHER_HOME/sync.json` (`{"auto": true}`); the watcher asks it at start.
A push that fails (server down) is one line in the watcher's log and is retried with the
next capture: nothing is lost, since the archive keeps what was captured.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tether.paths import tether_home

log = logging.getLogger("tether.watch")


def setting_file() -> Path:
    return tether_home() / "sync.json"


def enabled() -> bool:
    try:
        return bool(json.loads(setting_file().read_text()).get("auto"))
    except (OSError, ValueError, AttributeError):
        return False


def set_enabled(on: bool) -> None:
    path = setting_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps({"auto": on}) + "\n")
    temp.replace(path)


def hook() -> Callable[[Any], None] | None:
    """What the watcher calls after a capture that read something, when auto-push is on."""
    if not enabled():
        return None

    def after_capture(_report: Any) -> None:
        from tether.archive.db import connect
        from tether.errors import TetherError
        from tether.paths import db_path
        from tether.sync.client import Client
        from tether.sync.push import Options, push
        from tether.sync.remote import load

        try:
            remote = load()
            db = connect(db_path(tether_home()))
            try:
                with Client.of(remote) as client:
                    report = push(db, client, remote.url, None, Options())
            finally:
                db.close()
        except (TetherError, OSError) as exc:
            log.warning("auto-push: %s", exc)
            return
        fresh = [p for p in report.pushed if not p["unchanged"]]
        if fresh or report.failed:
            log.info(
                "auto-push: %d session(s) pushed, %d byte(s) sent, %d not pushed",
                len(fresh),
                report.bytes_sent,
                len(report.failed),
            )

    return after_capture
