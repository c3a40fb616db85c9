"""Codex's `apply_patch` envelope: an edit or a new file as a patch, a patch holding exactly
one edit of one file back as (path, old, new), and the files any patch names."""

from __future__ import annotations

BEGIN = "*** Begin Patch"
END = "*** End Patch"
ADD = "*** Add File: "
UPDATE = "*** Update File: "
HUNK = "@@"


def add_file(path: str, content: str) -> str:
    body = "".join(f"+{line}\n" for line in content.splitlines())
    return f"{BEGIN}\n{ADD}{path}\n{body}{END}\n"


def update_file(path: str, old: str, new: str) -> str:
    removed = "".join(f"-{line}\n" for line in old.splitlines())
    added = "".join(f"+{line}\n" for line in new.splitlines())
    return f"{BEGIN}\n{UPDATE}{path}\n{HUNK}\n{removed}{added}{END}\n"


def parse_update(patch: str) -> tuple[str, str, str] | None:
    """(path, old, new) of a patch that updates one file in one hunk, else None."""
    lines = patch.strip("\n").split("\n")
    if len(lines) < 3 or lines[0].strip() != BEGIN or lines[-1].strip() != END:
        return None
    header, body = lines[1], lines[2:-1]
    if not header.startswith(UPDATE) or any(line.startswith("*** ") for line in body):
        return None
    if sum(line.startswith(HUNK) for line in body) > 1:
        return None
    old: list[str] = []
    new: list[str] = []
    for line in body:
        if line.startswith(HUNK):
            continue
        sign, text = (line[:1], line[1:]) if line else (" ", "")
        if sign not in (" ", "-", "+"):
            return None
        if sign != "+":
            old.append(text)
        if sign != "-":
            new.append(text)
    if old == new:
        return None
    return header[len(UPDATE) :], "\n".join(old), "\n".join(new)


DELETE = "*** Delete File: "
MOVE = "*** Move to: "
TOUCHES = ((ADD, "write"), (UPDATE, "edit"), (DELETE, "delete"), (MOVE, "write"))


def touched(patch: str) -> list[tuple[str, str]]:
    """(how, path) for every file a patch names: added (`write`), updated (`edit`), deleted
    (`delete`) or moved to (`write`), in the order the patch names them."""
    found: list[tuple[str, str]] = []
    for line in patch.splitlines():
        for header, how in TOUCHES:
            if line.startswith(header) and line[len(header) :].strip():
                found.append((how, line[len(header) :].strip()))
    return found
