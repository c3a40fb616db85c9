"""`list`, `show` and `search` answered without click, rich or orjson: the commands a user
and a shell prompt run most, at the cost of an interpreter start and little more.

The options are read as click reads them for the forms these commands take (tests hold
the two to the same output); anything else, `--help` included, returns None and click
answers as always. JSON is written straight from the rows (tether.archive.rows and
documents), and the freshness check is tether.capture.fresh's.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable

    from tether.archive.query import Filters

Options = dict[str, "str | bool"]

FLAGS = {"--here": "here", "--json": "json", "--no-scan": "no_scan"}
VALUES = {"--tool": "tool", "-t": "tool", "--project": "project", "-p": "project"}
VALUES |= {"--since": "since", "--limit": "limit", "-n": "limit"}
COMMANDS: dict[str, tuple[dict[str, str], dict[str, str], int]] = {
    # name: (flags, options with a value, how many arguments: -1 one or more, 1 exactly one)
    "list": (FLAGS | {"--all": "all", "-a": "all"}, VALUES, 0),
    "search": (FLAGS, VALUES | {"--role": "role", "-r": "role"}, -1),
    "show": ({"--json": "json", "--full": "full", "--no-scan": "no_scan"}, {}, 1),
}
ROLES = ("user", "assistant", "system", "tool")
LIMITS = {"list": 50, "search": 20}


def answer(argv: list[str]) -> bool:
    """Answer argv when it is one of the forms read here (True), else leave it to click
    (False, having printed nothing). Errors are raised, as click's commands raise them."""
    if not argv or argv[0] not in COMMANDS:
        return False
    parsed = parse(argv[0], argv[1:])
    if parsed is None:
        return False
    options, words = parsed
    if argv[0] == "show" and not options.get("json"):
        return False  # rich prints a session: click's path loads it anyway
    run = {"list": _list, "search": _search, "show": _show}[argv[0]]
    return run(options, words)


def parse(command: str, args: list[str]) -> tuple[Options, list[str]] | None:
    """(options, arguments) as click would give them, or None for anything unusual: an
    unknown option, a value click would refuse, --help, a flag given a value."""
    flags, valued, wanted = COMMANDS[command]
    options: Options = {}
    words: list[str] = []
    at = 0
    while at < len(args):
        token = args[at]
        at += 1
        if token == "--":
            words += args[at:]
            break
        if not token.startswith("-") or token == "-":
            words.append(token)
            continue
        name, eq, value = token.partition("=") if token.startswith("--") else (token, "", "")
        if not token.startswith("--") and len(token) > 2:
            name, value, eq = token[:2], token[2:], "="  # -n5, -tcodex
        if name in flags and not eq:
            options[flags[name]] = True
        elif name in valued:
            if not eq:
                if at >= len(args) or args[at].startswith("-"):
                    return None  # click's own message for a missing value
                value = args[at]
                at += 1
            options[valued[name]] = value
        else:
            return None
    if not _valid(options) or (wanted == 1 and len(words) != 1) or (wanted < 0 and not words):
        return None
    if wanted == 0 and words:
        return None
    return options, words


def _valid(options: Options) -> bool:
    limit = options.get("limit")
    if isinstance(limit, str):
        try:
            int(limit)
        except ValueError:
            return False
    return options.get("role") in (None, *ROLES)


def _filters(options: Options, default_limit: int) -> Filters:
    from tether.archive.query import Filters

    project = options.get("project")
    since = options.get("since")
    tool = options.get("tool")
    if options.get("here"):
        from tether.statefile import project_root

        project = project_root(os.getcwd())
    elif isinstance(project, str) and project:
        from pathlib import Path

        project = str(Path(project).expanduser().absolute())
    if isinstance(since, str):
        from tether.dates import parse_since

        since = parse_since(since)
    if isinstance(tool, str):
        from tether.tools import facts

        tool = facts.resolve(tool)
    limit = options.get("limit")
    return Filters(
        tool=tool if isinstance(tool, str) else None,
        project=project if isinstance(project, str) and project else None,
        since=since if isinstance(since, str) else None,
        limit=int(limit) if isinstance(limit, str) else default_limit,
    )


def _archive(options: Options, read: Callable[[sqlite3.Connection], bool]) -> bool:
    """Open the archive, make it fresh (unless --no-scan), read; what `read` says (False:
    it printed nothing, click answers)."""
    from tether.archive.db import connect, store_errors
    from tether.paths import data_dir

    data = data_dir()
    path = os.path.join(data, "tether.db")
    db = connect(path)
    try:
        with store_errors(path):
            if not options.get("no_scan"):
                from tether.capture.fresh import fresh
                from tether.paths import user_home_str

                report = fresh(db, data, os.environ, user_home_str())
                line = report.problem_line() if report is not None else None
                if line:
                    sys.stderr.write(f"tether: {line}\n")
            return read(db)
    finally:
        db.close()


def _write(pieces: list[str] | tuple[str, ...]) -> None:
    out = sys.stdout.buffer
    for piece in pieces:
        out.write(piece.encode("utf-8", "surrogatepass"))
    out.write(b"\n")
    out.flush()


def _list(options: Options, words: list[str]) -> bool:
    from tether.archive.query import session_rows

    f = _filters(options, LIMITS["list"])
    f.include_empty = bool(options.get("all"))

    def read(db: sqlite3.Connection) -> bool:
        if options.get("json"):
            from tether.archive.rows import listed_text

            _write((listed_text(db, session_rows(db, f)),))
            return True
        from tether.archive.names import with_names
        from tether.archive.query import list_sessions
        from tether.commands.render import print_sessions

        print_sessions(with_names(db, list_sessions(db, f)))
        return True

    return _archive(options, read)


def _search(options: Options, words: list[str]) -> bool:
    from tether.archive.query import search_rows
    from tether.archive.rows import number, stored, text

    f = _filters(options, LIMITS["search"])
    role = options.get("role")
    f.role = role if isinstance(role, str) else None
    query = " ".join(words)

    def read(db: sqlite3.Connection) -> bool:
        rows = search_rows(db, query, f)
        if not options.get("json"):
            from tether.archive.query import hit_dict
            from tether.commands.render import print_hits

            print_hits([hit_dict(r) for r in rows])
            return True
        hits = (
            f'{{"id":{text(r[0])},"session_id":{text(r[0])},"tool":{text(r[1])},'
            f'"native_id":{text(r[2])},"project":{text(r[3])},"title":{text(r[4] or r[5])},'
            f'"created_at":{text(r[6])},"updated_at":{text(r[7])},'
            f'"message_count":{number(r[8])},"models":{stored(r[9], "[]")},'
            f'"message_id":{text(f"{r[0]}:{r[10]}")},"role":{text(r[11])},'
            f'"timestamp":{text(r[12])},"kind":{text(r[13])},"snippet":{text(r[14])}}}'
            for r in rows
        )
        _write(("[", ",".join(hits), "]"))
        return True

    return _archive(options, read)


def _show(options: Options, words: list[str]) -> bool:
    """False for a checkpoint's name: the session as it was then is the model's to cut
    (tether.archive.names.at_checkpoint), on click's path."""
    from tether.archive.documents import session_document
    from tether.archive.query import find_session_row

    def read(db: sqlite3.Connection) -> bool:
        row, kind = find_session_row(db, words[0])
        if kind == "checkpoint":
            return False
        _write(list(session_document(db, row[0])))
        return True

    return _archive(options, read)
