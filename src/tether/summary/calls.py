"""One tool call as a summary sees it: what it did to which files, the command it ran, and how
that command ended.

The shared vocabulary (tether.tools.vocabulary) says what a call means in every tool; patch
headers (Codex's apply_patch, a patch given to a shell) name the files a patch touches; a
call the vocabulary leaves generic (Claude's MultiEdit, an MCP tool) counts by its name and
its path argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from tether.model import ToolCall, ToolResult
from tether.tools import vocabulary
from tether.tools.vocabulary import codex_patch

How = Literal["read", "write", "edit", "delete"]
KIND_HOW: dict[str, How] = {"read_file": "read", "write_file": "write", "edit_file": "edit"}
PATCH_START = "*** Begin Patch"
PATH_KEYS = (
    "file_path",
    "path",
    "filePath",
    "target_file",
    "notebook_path",
    "TargetFile",
    "AbsolutePath",
)
# Words in a generic call's name that say what it does to the file its path argument names.
NAME_HOW: tuple[tuple[How, tuple[str, ...]], ...] = (
    ("delete", ("delete", "remove")),
    ("edit", ("edit", "replace", "patch", "diff", "insert")),
    ("write", ("write", "create")),
    ("read", ("read", "view", "cat")),
)
EXIT_LINE = re.compile(
    r"(?im)^\s*(?:exit code:?|exit status:?|process exited with code)\s*(-?\d+)\b"
)
EXIT_PHRASE = re.compile(
    r"(?i)(?:exited with (?:exit )?code|completed with exit code|failed with exit code:?)"
    r"\s*(-?\d+)"
)
EXIT_KEYS = ("exit_code", "exitCode", "exit")
SCAN_CHARS = 2_000
"""An exit code is stated at the head or the tail of an output: only those are read."""


@dataclass(frozen=True, slots=True)
class Action:
    """What one call did: its canonical kind ("other" for a generic call), the files it read,
    wrote, edited or deleted, and its command when it ran one."""

    kind: str
    name: str
    files: tuple[tuple[str, str], ...] = ()
    """(how, path): how is read, write, edit or delete."""
    command: str | None = None


def action(tool: str, call: ToolCall) -> Action:
    """The call decoded with its tool's table; patches and generic calls by their shape."""
    canonical = vocabulary.of(tool).decode(call.name, call.input)
    patches = [codex_patch.touched(text) for text in _strings(call.input) if PATCH_START in text]
    patched = tuple(touch for patch in patches for touch in patch)
    if canonical is None:
        return Action("other", call.name, patched or _generic_files(call), None)
    args = canonical.args
    if canonical.kind == "shell":
        return Action("shell", call.name, patched, str(args["command"]))
    how = KIND_HOW.get(canonical.kind)
    path = args.get("path")
    if how is not None and isinstance(path, str) and path and not patched:
        return Action(canonical.kind, call.name, ((how, path),))
    return Action(canonical.kind, call.name, patched)


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    """The strings of a call's input, two levels deep (a patch is a value, not a key)."""
    if isinstance(value, str):
        yield value
    elif depth < 2 and isinstance(value, dict):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif depth < 2 and isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def _generic_files(call: ToolCall) -> tuple[tuple[str, str], ...]:
    if not isinstance(call.input, dict):
        return ()
    path = next((call.input[k] for k in PATH_KEYS if isinstance(call.input.get(k), str)), None)
    if not path:
        return ()
    name = call.name.lower()
    if name == "str_replace_editor":  # Copilot's older editor: the command says what it does
        command = call.input.get("command")
        how: How = "read" if command == "view" else "write" if command == "create" else "edit"
        return ((how, path),)
    for how, words in NAME_HOW:
        if any(word in name for word in words):
            return ((how, path),)
    return ()


def exit_code(result: ToolResult | None) -> int | None:
    """The exit code a command's result states (its native record, else its text), if any."""
    if result is None:
        return None
    for key in EXIT_KEYS:
        value = result.native.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    output = result.output
    ends = output if len(output) <= 2 * SCAN_CHARS else output[:SCAN_CHARS] + output[-SCAN_CHARS:]
    found = EXIT_LINE.search(ends) or EXIT_PHRASE.search(ends)
    return int(found.group(1)) if found else None


def first_line(text: str, limit: int = 200) -> str:
    """The first line that says something, shortened to `limit` characters."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def error_line(output: str, code: int | None) -> str:
    """What an error says, in one line: the command's own output where a tool wraps it in
    a header (`Exit code: 1 … Output:`), else the first line; the exit code when silent."""
    head, marker, rest = output.partition("Output:")
    if marker and "\n" in head.strip() + "\n":
        line = first_line(rest)
        if line:
            return line
    line = first_line(output)
    return line or (f"exit code {code}, no output" if code is not None else "(no output)")
