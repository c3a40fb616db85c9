"""Which folder on this machine holds a session's project, found by its git remote.

A pulled session ran in someone's folder on another machine. Here its project is the
checkout of the same repository (the same `origin`, however it is spelt: ssh or https,
with `.git` or without) among the user's checkouts: every project folder the archive knows
(where sessions ran on this machine), and the folders listed in `$TETHER_HOME/config.toml`
under `[sync] checkouts` with the folders right inside them (`~/src` finds `~/src/api`).
Paths the session names inside its old folder are mapped into the new one.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tether.errors import TetherError, UsageError
from tether.model import Reasoning, Session, Text, ToolCall, ToolResult
from tether.paths import tether_home

_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?([\w.-]+):(?!//)(.+)$")


class NoCheckout(TetherError):
    """The session's project is not checked out here (that tether knows of)."""


def normal_remote(url: str | None) -> str | None:
    """`host/path` of a git remote, the same for its ssh and https spellings, without
    credentials, `.git` or a trailing slash; None for a local path or nothing."""
    if not url:
        return None
    url = url.strip()
    match = _SCP_LIKE.match(url)
    if match and "://" not in url:
        host, path = match.groups()
    else:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if not parts.hostname:
            return None
        host, path = parts.hostname, parts.path
    path = path.strip("/").removesuffix(".git").strip("/")
    return f"{host.lower()}/{path}" if path else None


def remote_of(folder: str | Path) -> str | None:
    """The git remote of the repository at `folder` (origin first), normalised; None when
    it is no git checkout or has no remote."""
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "config", "--get-regexp", r"^remote\..*\.url$"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    urls: dict[str, str] = {}
    for line in done.stdout.splitlines():
        key, _, value = line.partition(" ")
        urls[key.removeprefix("remote.").removesuffix(".url")] = value
    chosen = urls.get("origin") or next(iter(urls.values()), None)
    return normal_remote(chosen)


def configured() -> list[Path]:
    """The folders `[sync] checkouts` lists in $TETHER_HOME/config.toml."""
    path = tether_home() / "config.toml"
    try:
        with path.open("rb") as fh:
            config = tomllib.load(fh)
    except FileNotFoundError:
        return []
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    listed = config.get("sync", {}).get("checkouts", [])
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        raise UsageError(f"{path}: [sync] checkouts must be a list of folders")
    return [Path(item).expanduser() for item in listed]


def candidates(known: list[Path]) -> Iterator[Path]:
    """Every folder that may be a checkout: the archive's, then the configured ones and
    the folders right inside them; each once."""
    seen: set[Path] = set()
    for folder in [*known, *_with_children(configured())]:
        if folder not in seen and folder.is_dir():
            seen.add(folder)
            yield folder


def _with_children(folders: list[Path]) -> Iterator[Path]:
    for folder in folders:
        yield folder
        try:
            children = sorted(entry for entry in folder.iterdir() if entry.is_dir())
        except OSError:
            continue
        yield from (child for child in children if not child.name.startswith("."))


def find_checkout(git_remote: str, known: list[Path]) -> Path | None:
    """The first checkout of the repository `git_remote` names."""
    wanted = normal_remote(git_remote) or git_remote
    for folder in candidates(known):
        if (folder / ".git").exists() and remote_of(folder) == wanted:
            return folder
    return None


def place(
    session: Session, git_remote: str | None, cwd: Path | None, known: list[Path]
) -> tuple[Session, Path]:
    """Where a session from another machine continues here, and the session with the paths
    it names inside its old project mapped there: `cwd` when given, else the checkout of
    its git remote, else its own folder when that exists here."""
    old_root = session.project or session.cwd
    if cwd is not None:
        new_root = cwd.expanduser().resolve()
        if not new_root.is_dir():
            raise UsageError(f"{new_root} is not a folder")
    else:
        found = find_checkout(git_remote, known) if git_remote else None
        if found is None and old_root and _own_folder(Path(old_root), git_remote, known):
            found = Path(old_root)
        if found is None:
            where = f"of {git_remote}" if git_remote else "of this session's project"
            raise NoCheckout(
                f"no checkout {where} found here (looked in the archive's project folders"
                " and [sync] checkouts in $TETHER_HOME/config.toml): clone it, or pass --cwd DIR"
            )
        new_root = found
    if not old_root:
        return session, new_root
    moved = relocate(session, old_root, str(new_root))
    return moved, _inside(moved.cwd, new_root)


def _own_folder(folder: Path, git_remote: str | None, known: list[Path]) -> bool:
    """Whether the folder a pulled session names is one of the user's here: a checkout
    tether knows of, or a checkout of the session's repository. Any folder that merely
    exists (`/`, `~`, `~/.ssh`) would have the tool run there on a teammate's word."""
    if not folder.is_dir():
        return False
    real = folder.resolve()
    if any(real == known_folder.resolve() for known_folder in candidates(known)):
        return True
    wanted = normal_remote(git_remote)
    return wanted is not None and (folder / ".git").exists() and remote_of(folder) == wanted


def _inside(cwd: str | None, root: Path) -> Path:
    """The session's folder when it lies inside `root` (its project here), else `root`: a
    session's cwd outside its project must not move the tool out of the checkout."""
    if cwd and Path(cwd).is_dir() and Path(cwd).resolve().is_relative_to(root.resolve()):
        return Path(cwd)
    return root


def relocate(session: Session, old_root: str, new_root: str) -> Session:
    """A copy of the session with every path under `old_root` (in its folder fields, texts,
    tool inputs and outputs) moved under `new_root`."""
    old_root = old_root.rstrip("/") or "/"
    if old_root == new_root:
        return session
    pattern = re.compile(re.escape(old_root) + r"(?![\w.-])")

    def move(text: str) -> str:
        return pattern.sub(lambda _m: new_root, text) if old_root in text else text

    moved = copy.deepcopy(session)
    moved.cwd = move(moved.cwd) if moved.cwd else moved.cwd
    moved.project = move(moved.project) if moved.project else moved.project
    for message in moved.messages:
        for part in message.parts:
            if isinstance(part, Text | Reasoning):
                part.text = move(part.text)
            elif isinstance(part, ToolCall):
                part.input = _moved_value(part.input, move)
            elif isinstance(part, ToolResult):
                part.output = move(part.output)
    return moved


def _moved_value(value: Any, move: Any) -> Any:
    if isinstance(value, str):
        return move(value)
    if isinstance(value, dict):
        return {key: _moved_value(item, move) for key, item in value.items()}
    if isinstance(value, list):
        return [_moved_value(item, move) for item in value]
    return value


def known_projects(env: dict[str, str] | None = None) -> list[Path]:
    """The project folders the archive knows, most recently used first."""
    from tether.tools.projects import known_folders

    return known_folders(os.environ if env is None else env)
