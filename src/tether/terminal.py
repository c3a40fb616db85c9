"""One line for the person at the terminal, on stderr, and only when stderr is one: a notice
that long work is under way must never reach a pipe, a log a script reads, or a protocol's
stream (the MCP server's stdout, `--json`)."""

from __future__ import annotations

import sys


def say(line: str) -> None:
    if sys.stderr.isatty():
        print(line, file=sys.stderr, flush=True)
