"""What `tether web` does around the app: load what the first page would wait for, and open
the browser without putting the token where other users can read it."""

from __future__ import annotations

import html
import os
from pathlib import Path


def warm_up() -> None:
    """Load the redaction rules now (about a second), not on the first page."""
    from tether.redact import redact_text

    redact_text("warm up")


def launch_file(url: str, pid: int) -> Path:
    """A page, readable by you alone, that sends the browser on to `url` (as Jupyter does:
    a URL given to the browser's command line shows in `ps` to every user)."""
    from tether.files import write_new

    path = _launch_path(pid)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    target = html.escape(url, quote=True)
    page = (
        '<!doctype html><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0;url={target}">'
        f'<title>tether web</title><p><a href="{target}">Open tether web</a></p>\n'
    )
    write_new(path, page.encode())
    return path


def remove_launch_file(pid: int) -> None:
    _launch_path(pid).unlink(missing_ok=True)


def _launch_path(pid: int) -> Path:
    from tether.paths import tether_home

    return tether_home() / "web" / f"open-{os.getpid() if pid <= 0 else pid}.html"
