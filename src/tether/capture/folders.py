"""The store folders a listing went through, and the places the stores are at: what a quick
freshness check (tether.capture.fresh) stats instead of every file.

Every store root, and every folder between a root and a file it holds: a file made, deleted
or renamed in one changes its mtime, a file appended to does not. Cheap to import.
"""

from __future__ import annotations

import os
import sqlite3

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

    from tether.tools.base import Source, Tool

SLACK = 2 * 10**9
"""A folder counts as changed when its mtime is past the time it was last listed less this
(file system clocks are coarse; a folder listed twice costs little)."""


def roots_key(env: Mapping[str, str], home: str, names: Iterable[str] | None = None) -> str:
    """What the stores' places depend on: the home and every variable that moves a store
    (`names`: those a full scan recorded, else every tool's). A watcher or a recorded scan
    of other places says nothing about these."""
    if names is None:
        names = store_variables()
    values = (f"{n}={env.get(n, '')}" for n in names)
    return "\0".join([os.path.normpath(home), *values])


def store_variables() -> list[str]:
    """Every environment variable that moves some tool's store."""
    from tether.tools import facts

    return sorted({v for name in facts.NAMES for v in facts.get(name).STORE_VARIABLES})


def sources_in(tool: Tool, root: Path, path: Path) -> list[Source]:
    """The sources tool.discover(root) yields at or below `path` (a folder or a file): through
    the tool's own `discover_in` where it has one (a listing of that folder alone), else
    its whole listing, filtered."""
    listing = getattr(tool, "discover_in", None)
    if listing is not None:
        found: list[Source] = list(listing(root, path))
        return found
    prefix = str(path) + os.sep
    return [s for s in tool.discover(root) if s.path == path or str(s.path).startswith(prefix)]


class Folders:
    """The store folders a listing went through: every store root, and every folder between
    a root and a file it holds. A quick check stats each of them (tether.capture.fresh): a
    file made, deleted or renamed in one changes its mtime."""

    def __init__(self) -> None:
        self.found: dict[str, tuple[str, str]] = {}
        """folder -> (tool, store root)."""

    def root(self, tool: str, root: Path) -> None:
        self.found.setdefault(str(root), (tool, str(root)))

    def above(self, tool: str, root: Path, path: Path, within: Path | None = None) -> None:
        """The folders from the file's own up to `within` (default: its store root)."""
        top = str(within if within is not None else root)
        folder = os.path.dirname(str(path))
        while len(folder) >= len(top) and folder not in self.found:
            self.found[folder] = (tool, str(root))
            if folder == top:
                break
            folder = os.path.dirname(folder)

    def remember(
        self,
        db: sqlite3.Connection,
        listed_at: int,
        env: Mapping[str, str],
        home: Path,
        every_tool: bool,
    ) -> None:
        """After a full scan of every tool's stores: these are all the folders there are,
        and where the stores are for these env and home (a scan of some tools says
        nothing of the others)."""
        if not every_tool:
            return
        names = store_variables()
        self.record(db, listed_at, (roots_key(env, str(home), names), names), replace=True)

    def record(
        self,
        db: sqlite3.Connection,
        listed_at: int,
        key: tuple[str, list[str]] | None,
        replace: bool,
    ) -> None:
        """Remember these folders as listed at `listed_at` (ns); replace: they are all there
        is (a full scan), and `key` (fresh.roots_key, and the variables it reads) names the
        stores' places they were found under."""
        rows = []
        for folder, (tool, root) in self.found.items():
            present = os.path.isdir(folder)
            rows.append((folder, tool, root, listed_at - SLACK if present else -1))
        own = not db.in_transaction
        if own:
            db.execute("BEGIN IMMEDIATE")
        if replace:
            db.execute("DELETE FROM folders")
        db.executemany("INSERT OR REPLACE INTO folders VALUES (?,?,?,?)", rows)
        if key is not None:
            db.executemany(
                "INSERT OR REPLACE INTO scan_state VALUES (?, ?)",
                [
                    ("roots_key", key[0]),
                    ("roots_variables", ",".join(key[1])),
                    ("full_scan_at", f"{listed_at / 1e9:.3f}"),
                ],
            )
        if own:
            db.execute("COMMIT")
