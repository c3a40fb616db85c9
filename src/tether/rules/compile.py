"""`tether rules init | compile | check`: write each tool's rule files from AGENTS.md, tell
which are stale or edited by hand, never overwrite a file tether did not write.

Every compiled file carries a marker, `tether-managed … sha256:<hash>`, after its front
matter if it has one; the hash covers the rest of the file, so an edit by hand shows.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tether.errors import NotFoundError
from tether.files import within
from tether.rules.sources import CANONICAL, canonical, project_text, rule_files
from tether.rules.targets import MARK, PLANS, RULE_FOLDERS, Output
from tether.statefile import read_text, write_atomic

Status = Literal[
    "written", "unchanged", "stale", "edited", "missing", "not_ours", "outside", "removed"
]
MARKER = re.compile(rf"^(?:<!-- |# ){MARK}: .*? sha256:([0-9a-f]{{16}})(?: -->)?$", re.M)
NOTE = f"{MARK}: written by `tether rules compile` from {CANONICAL}; edit that, then compile."
LIMIT = 1 << 20
IMPORTED = (
    "CLAUDE.md",
    "GEMINI.md",
    "QWEN.md",
    ".github/copilot-instructions.md",
    ".cursorrules",
    ".windsurfrules",
    "CONVENTIONS.md",
)
"""Rule files a project may already have, whose text `init` takes into AGENTS.md."""


class NoRules(NotFoundError):
    """A project without AGENTS.md: `tether rules init` makes one."""


@dataclass(slots=True)
class FileReport:
    tool: str
    path: str
    status: Status

    def as_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "path": self.path, "state": self.status}


@dataclass(slots=True)
class Report:
    root: str
    files: list[FileReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.root,
            "files": [f.as_dict() for f in self.files],
            "warnings": list(self.warnings),
        }


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def rendered(output: Output) -> str:
    """The file's bytes: front matter, the marker with the hash of the rest, the text."""
    front = f"---\n{output.front}---\n" if output.front else ""
    body = front + output.text
    note = f"{NOTE} sha256:{digest(body)}"
    marker = f"# {note}\n" if output.comment == "yaml" else f"<!-- {note} -->\n"
    return front + marker + output.text


def state(text: str | None) -> Literal["missing", "not_ours", "edited", "ours"]:
    """Whether a file is there, tether's, and as tether wrote it."""
    if text is None:
        return "missing"
    found = MARKER.search(text)
    if found is None:
        return "not_ours"
    rest = text[: found.start()] + text[found.end() + 1 :]
    return "ours" if digest(rest) == found.group(1) else "edited"


def plan(root: Path, tools: list[str]) -> tuple[list[tuple[str, Output]], list[str]]:
    agents = canonical(root)
    if agents is None:
        raise NoRules(f"{root} has no {CANONICAL}: `tether rules init` makes one")
    rules = rule_files(root)
    outputs: list[tuple[str, Output]] = []
    warnings: list[str] = []
    for tool in tools:
        made = PLANS[tool](agents, rules)
        outputs += [(tool, output) for output in made.outputs]
        warnings += made.warnings
    return outputs, list(dict.fromkeys(warnings))


def compile_rules(root: Path, tools: list[str], write: bool) -> Report:
    """Write (or, write=False, only compare) every tool's files; a file that is not
    tether's is reported, never touched."""
    outputs, warnings = plan(root, tools)
    report = Report(str(root), warnings=warnings)
    done: dict[str, Status] = {}
    for tool, output in outputs:
        if output.path in done:  # one file, several tools (none today): once
            report.files.append(FileReport(tool, output.path, done[output.path]))
            continue
        path = root / output.path
        if not within(root, path):
            report.files.append(FileReport(tool, output.path, "outside"))
            continue
        text = read_text(str(path), LIMIT)
        wanted = rendered(output)
        found = state(text)
        if found == "not_ours":
            status: Status = "not_ours"
        elif text == wanted:
            status = "unchanged"
        elif not write:
            status = {"missing": "missing", "edited": "edited"}.get(found, "stale")  # type: ignore[assignment]
        elif found == "edited":
            status = "edited"  # an edit by hand is never overwritten either
        else:
            write_atomic(str(path), wanted, mode=0o644)
            status = "written"
        done[output.path] = status
        report.files.append(FileReport(tool, output.path, status))
    every, _ = plan(root, list(PLANS))  # another tool's files are not leftovers
    report.files += _leftovers(root, {output.path for _, output in every}, write)
    return report


def _leftovers(root: Path, kept: set[str], write: bool) -> list[FileReport]:
    """Managed files in the per-rule folders that no rule makes any more."""
    gone = []
    for folder in RULE_FOLDERS:
        for path in sorted((root / folder).glob("*")) if (root / folder).is_dir() else []:
            relative = path.relative_to(root).as_posix()
            if relative in kept or not path.is_file() or not within(root, path):
                continue
            if state(read_text(str(path), LIMIT)) != "ours":
                continue
            if write:
                path.unlink()
            gone.append(FileReport("", relative, "removed" if write else "stale"))
    return gone


def init(root: Path) -> tuple[Path, list[str]]:
    """AGENTS.md for a project without one, from what its other rule files say (those
    tether did not write); the files it took text from."""
    target = root / CANONICAL
    if read_text(str(target), LIMIT) is not None or not within(root, target):
        return target, []
    sections = []
    taken = []
    for name in IMPORTED:
        text = project_text(root, root / name)
        if text is None or state(text) != "not_ours" or not text.strip():
            continue
        taken.append(name)
        sections.append(f"<!-- from {name} -->\n{text.strip()}\n")
    body = "\n".join(sections) if sections else f"# {root.name}\n\nRules for every coding agent.\n"
    write_atomic(str(target), body if body.endswith("\n") else body + "\n", mode=0o644)
    return target, taken


def unseen(root: Path, tool: str) -> str | None:
    """Why `tool` would not see this project's rules, and what to do; None when it would
    (or the project has none, or tether knows nothing of how the tool reads them)."""
    if tool not in PLANS:
        return None
    if canonical(root) is None:
        others = [n for n in IMPORTED if state(project_text(root, root / n)) == "not_ours"]
        mine = {"claude": "CLAUDE.md", "gemini": "GEMINI.md", "qwen": "QWEN.md"}.get(tool)
        if not others or mine in others:
            return None
        return (
            f"{tool} does not read this project's rules ({', '.join(others)}): run "
            "`tether rules init && tether rules compile` to give every tool the same"
        )
    report = compile_rules(root, [tool], write=False)
    off = [
        f"{f.path} ({f.status.replace('_', ' ')})" for f in report.files if f.status != "unchanged"
    ]
    if not off:
        return None
    return (
        f"{tool} would not see this project's AGENTS.md as it is: {', '.join(off)}; "
        "run `tether rules compile`"
    )
