"""Which `<store>/tmp/<project>/` folder the Gemini CLI reads a folder's sessions from.

The CLI (0.61, packages/core/src/config/projectRegistry.ts and storage.ts) names it by a
slug registered in `projects.json` (`{"projects": {"/abs/cwd": "slug"}}`); for a folder it
has not seen, the first `.project_root` marker (in `tmp/*/` or `history/*/`) naming the
folder wins, else it claims `slugify(basename)`, `-1`, `-2`… and writes the marker. Before
0.29 the folder was `sha256(cwd)`: the CLI copies that folder into the slug folder only
while the slug folder holds nothing but its marker.

tether resolves the folder the same way and never rewrites `projects.json` (the CLI's own
registry): for a folder the CLI has not seen, it claims the slug with a new marker, which
the CLI then finds and registers itself. Where a pre-0.29 folder is still to be migrated,
the session goes into it, so the CLI's migration carries it over with the user's others.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import orjson

from tether.files import write_new
from tether.tools.facts import as_node_sees

PROJECT_ROOT = ".project_root"
REGISTRY_MAX = 1 << 22
MARKER_MAX = 1 << 16
_SLUG = re.compile(r"[a-z0-9-]+")


@dataclass(frozen=True)
class ProjectFolder:
    path: Path
    """`<store>/tmp/<slug or sha256>`: sessions go in its `chats/`."""
    cwd: str
    claim: bool
    """A new slug: the folder's `.project_root` marker must be written to claim it."""

    def claim_marker(self) -> Path | None:
        """Write the ownership marker the CLI would write (only if absent); the path if written."""
        if not self.claim:
            return None
        marker = self.path / PROJECT_ROOT
        try:
            write_new(marker, self.cwd.encode())
        except FileExistsError:
            return None
        return marker


def project_hash(cwd: str) -> str:
    """`projectHash` of the session records: sha256 of the project root, in every version."""
    return hashlib.sha256(cwd.encode()).hexdigest()


def project_folder(store: Path, cwd: Path) -> ProjectFolder:
    root = as_node_sees(str(cwd))  # as the CLI knows it, in its registry and its markers
    tmp = store / "tmp"
    bases = (tmp, store / "history")
    registry = _registry(store / "projects.json")
    slug = registry.get(root)
    if slug is not None and not _owned(bases, slug, root):
        slug = None
    slug = slug or _marked(bases, root)
    legacy = tmp / project_hash(root)
    if slug is not None:
        folder = tmp / slug
        if legacy.is_dir() and _only_marker(folder):
            return ProjectFolder(legacy, root, claim=False)
        return ProjectFolder(folder, root, claim=False)
    if legacy.is_dir():
        return ProjectFolder(legacy, root, claim=False)
    return ProjectFolder(tmp / _new_slug(bases, root, set(registry.values())), root, claim=True)


def slugify(name: str) -> str:
    slug = re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", name.lower()))
    return slug.removeprefix("-").removesuffix("-") or "project"


def _registry(path: Path) -> dict[str, str]:
    """projects.json as the CLI reads it: any entry off its schema makes it empty."""
    try:
        with path.open("rb") as fh:
            data = orjson.loads(fh.read(REGISTRY_MAX))
    except (OSError, orjson.JSONDecodeError):
        return {}
    projects = data.get("projects") if isinstance(data, dict) else None
    if not isinstance(projects, dict):
        return {}
    if not all(isinstance(v, str) and _SLUG.fullmatch(v) for v in projects.values()):
        return {}
    return {str(k): str(v) for k, v in projects.items()}


def _owner(marker: Path) -> str | None:
    """The folder a `.project_root` marker names; FileNotFoundError when there is none."""
    with marker.open("rb") as fh:
        text = fh.read(MARKER_MAX).decode("utf-8", errors="replace").strip()
    # path.resolve in the CLI normalises without following symlinks, as abspath does
    return os.path.abspath(text) if text else None  # noqa: PTH100


def _owned(bases: tuple[Path, ...], slug: str, root: str) -> bool:
    """No marker of the slug names another folder (an absent marker is fine)."""
    for base in bases:
        try:
            if _owner(base / slug / PROJECT_ROOT) != root:
                return False
        except FileNotFoundError:
            continue
        except OSError:
            return False
    return True


def _marked(bases: tuple[Path, ...], root: str) -> str | None:
    """The first folder whose marker names `root`, in directory order (as the CLI scans)."""
    for base in bases:
        try:
            names = [entry.name for entry in base.iterdir()]  # directory order, as the CLI
        except OSError:
            continue
        for name in names:
            try:
                if _owner(base / name / PROJECT_ROOT) == root:
                    return name
            except OSError:
                continue
    return None


def _new_slug(bases: tuple[Path, ...], root: str, taken: set[str]) -> str:
    """The slug the CLI would claim: the folder's name, then `-1`, `-2`… past any taken one."""
    slug = slugify(Path(root).name)
    counter = 0
    while True:
        candidate = slug if counter == 0 else f"{slug}-{counter}"
        counter += 1
        if candidate not in taken and _owned(bases, candidate, root):
            return candidate


def _only_marker(folder: Path) -> bool:
    """Absent or holding nothing but its marker: the CLI still migrates the sha256 folder."""
    try:
        names = [entry.name for entry in folder.iterdir()]
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return not names or names == [PROJECT_ROOT]
