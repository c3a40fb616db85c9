"""The errors a user can act on: each says what is wrong in one line and carries the exit code
`tether` ends with (README, "Exit codes and bad input"). Standard library only, and cheap:
the shim's hot path imports it."""

from __future__ import annotations

import os

BUG = 70
"""Exit code of an error tether did not expect (sysexits' EX_SOFTWARE): a bug to report."""


class TetherError(Exception):
    """Something failed: the message says what, and what to do, on one line."""

    exit_code = 1
    kind = "error"


class UsageError(TetherError):
    """The arguments or options cannot be used: a bad value, an unknown tool, a query that
    does not parse, an id prefix that names several sessions."""

    exit_code = 2
    kind = "usage"


class ConflictError(TetherError):
    """Something is in the way: a file that would be overwritten, a watcher already running."""

    exit_code = 3
    kind = "conflict"


class NotFoundError(TetherError):
    """What was named does not exist: no such session, team or agent."""

    exit_code = 4
    kind = "not_found"


class BusyError(TetherError):
    """Another process holds what is needed (the archive's write lock) past the wait: retry."""

    exit_code = 5
    kind = "busy"


KINDS = {
    cls.kind: cls.exit_code
    for cls in (TetherError, UsageError, ConflictError, NotFoundError, BusyError)
}
"""Every kind of error and its exit code, as documented; "bug" (BUG) is the one more."""


def describe(exc: BaseException) -> tuple[str, str, int] | None:
    """(kind, one-line message, exit code) of an error the user can act on: a TetherError
    or an OSError (disk full, permission denied, read-only); None for anything else."""
    if isinstance(exc, TetherError):
        message = str(exc) or (type(exc).__doc__ or type(exc).__name__)
        return exc.kind, one_line(message), exc.exit_code
    if isinstance(exc, OSError):
        kind = ConflictError if isinstance(exc, FileExistsError) else TetherError
        return kind.kind, one_line(os_error_message(exc)), kind.exit_code
    return None


def one_line(text: str) -> str:
    """The message on one line: line breaks become " / " (a message is one line on stderr)."""
    return " / ".join(line.strip() for line in text.splitlines() if line.strip())


def os_error_message(exc: OSError) -> str:
    """An OSError as a user reads it: the path(s) and the reason, no errno or repr."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is None:
        return reason
    where = os.fsdecode(exc.filename)
    if exc.filename2 is not None:
        where += f" -> {os.fsdecode(exc.filename2)}"
    return f"{where}: {reason}"
