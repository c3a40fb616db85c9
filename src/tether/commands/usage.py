"""`tether --help` and `--version` printed without click: the page click prints, laid out as
click lays it out (tests hold the two to the same text at every width), at the cost of an
interpreter start and textwrap."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

MAX_WIDTH = 80
COLUMN_MAX = 30
SPACING = 2


def terminal_width() -> int:
    """The width click's help formatter uses: the terminal's, at most 80, less 2; at least
    50 (COLUMNS first, as shutil.get_terminal_size reads it)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]  # None: caught
        except (AttributeError, ValueError, OSError):
            columns = 0
    return max(min(columns or 80, MAX_WIDTH) - 2, 50)


def page(
    prog: str,
    text: str,
    options: Iterable[tuple[str, str]],
    commands: Iterable[tuple[str, str]],
    width: int,
) -> str:
    """The help page of a group: usage, its text, its options, its commands."""
    out = [f"Usage: {prog} [OPTIONS] COMMAND [ARGS]...\n", "\n"]
    out.append(_wrap(text, width, "  ") + "\n")
    for heading, rows in (("Options", list(options)), ("Commands", list(commands))):
        if rows:
            out += ["\n", f"{heading}:\n", _table(rows, width, 2)]
    return "".join(out)


def _wrap(text: str, width: int, indent: str) -> str:
    """click.formatting.wrap_text with preserve_paragraphs: paragraphs apart by blank lines,
    each filled to the width, a paragraph that starts with a \\b line kept as it is."""
    import textwrap

    wrapper = textwrap.TextWrapper(
        width, initial_indent=indent, subsequent_indent=indent, replace_whitespace=False
    )
    paragraphs: list[tuple[int, bool, str]] = []
    lines: list[str] = []
    depth: int | None = None

    def flush() -> None:
        if not lines:
            return
        if lines[0].strip() == "\b":
            paragraphs.append((depth or 0, True, "\n".join(lines[1:])))
        else:
            paragraphs.append((depth or 0, False, " ".join(lines)))
        lines.clear()

    for raw_line in text.expandtabs().splitlines():
        if not raw_line:
            flush()
            depth = None
            continue
        line = raw_line
        if depth is None:
            line = raw_line.lstrip()
            depth = len(raw_line) - len(line)
        lines.append(line)
    flush()
    out = []
    for extra, raw, body in paragraphs:
        wrapper.initial_indent = wrapper.subsequent_indent = indent + " " * extra
        if raw:
            out.append("\n".join(wrapper.initial_indent + line for line in body.splitlines()))
        else:
            out.append(wrapper.fill(body))
    return "\n\n".join(out)


def _table(rows: list[tuple[str, str]], width: int, indent: int) -> str:
    """click's HelpFormatter.write_dl: a first column at most 30 wide, the second wrapped."""
    first = min(max(len(name) for name, _ in rows), COLUMN_MAX) + SPACING
    out = []
    for name, text in rows:
        out.append(" " * indent + name)
        if not text:
            out.append("\n")
            continue
        if len(name) <= first - SPACING:
            out.append(" " * (first - len(name)))
        else:
            out.append("\n" + " " * (first + indent))
        lines = _wrap(text, max(width - first - 2, 10), "").splitlines()
        out.append((lines[0] if lines else "") + "\n")
        out += [" " * (first + indent) + line + "\n" for line in lines[1:]]
    return "".join(out)
