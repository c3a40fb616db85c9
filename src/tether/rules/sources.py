"""What the rules are compiled from: the project's AGENTS.md, and its rule files
`.agents/rules/*.md`, each with optional front matter:

    ---
    description: Python style
    targets: [claude, cursor]     # only these tools (default: every tool)
    globs: ["src/**/*.py"]        # only for these paths (default: always)
    ---
    Use type hints everywhere.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from tether.errors import ConflictError, UsageError
from tether.files import within
from tether.statefile import read_text

CANONICAL = "AGENTS.md"
RULES_DIR = ".agents/rules"
LIMIT = 1 << 20
"""A rules file larger than this is no rules file."""
NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
KEYS = frozenset({"description", "targets", "globs"})


class OutsideProject(ConflictError):
    """A rule file that is a link out of the project."""


class BadRuleFile(UsageError):
    """A rule file whose front matter tether cannot read."""


@dataclass(frozen=True, slots=True)
class RuleFile:
    name: str
    """The file's stem: names the compiled files (`.cursor/rules/<name>.mdc`)."""
    description: str
    targets: tuple[str, ...]
    """Tools it is for; empty: every tool."""
    globs: tuple[str, ...]
    """Paths it is for; empty: always."""
    body: str

    def for_tool(self, tool: str) -> bool:
        return not self.targets or tool in self.targets


def canonical(root: Path) -> str | None:
    """The text of the project's AGENTS.md, None when it has none."""
    path = root / CANONICAL
    if not within(root, path) and os.path.lexists(path):
        raise OutsideProject(
            f"{path} is a link out of the project: tether reads nothing through it (its"
            " text would be copied into every tool's file)"
        )
    return read_text(str(path), LIMIT)


def project_text(root: Path, path: Path) -> str | None:
    """The text of a file of the project's, None when there is none, or when it is a link
    out of the project (a clone can commit one to a file of yours: never read through it)."""
    return read_text(str(path), LIMIT) if within(root, path) else None


def rule_files(root: Path) -> list[RuleFile]:
    """The rule files under `.agents/rules/`, in name order."""
    folder = root / RULES_DIR
    if not folder.is_dir():
        return []
    rules = []
    for path in sorted(folder.glob("*.md")):
        text = project_text(root, path)
        if text is not None:
            rules.append(parse(path, text))
    return rules


def parse(path: Path, text: str) -> RuleFile:
    from tether.tools import facts

    name = path.stem.lower()
    if not NAME.fullmatch(name):
        raise BadRuleFile(f"{path}: name rule files with letters, digits, - and _")
    meta, body = front_matter(path, text)
    targets = tuple(facts.resolve(tool) for tool in _list(meta.get("targets")))
    globs = tuple(_list(meta.get("globs")))
    return RuleFile(name, str(meta.get("description") or ""), targets, globs, body.strip())


def front_matter(path: Path, text: str) -> tuple[dict[str, str | list[str]], str]:
    """The front matter (`key: value`, `key: [a, b]` or a `- item` list) and the body."""
    if not text.startswith("---\n"):
        return {}, text
    head, sep, body = text[4:].partition("\n---")
    if not sep:
        raise BadRuleFile(f"{path}: its front matter has no closing ---")
    meta: dict[str, str | list[str]] = {}
    key = None
    for line in head.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.lstrip().startswith("- ") and key is not None:
            value = meta.setdefault(key, [])
            if isinstance(value, list):
                value.append(_scalar(line.lstrip()[2:]))
            continue
        key, colon, value = line.partition(":")
        key = key.strip()
        if not colon or key not in KEYS:
            raise BadRuleFile(f"{path}: unknown front matter {line.strip()!r} ({sorted(KEYS)})")
        value = value.split(" #")[0].strip()
        if value.startswith("[") and value.endswith("]"):
            meta[key] = [_scalar(item) for item in value[1:-1].split(",") if item.strip()]
        else:
            meta[key] = _scalar(value) if value else []
    return meta, body.removeprefix("\n")


def _scalar(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
