"""Human output: tables and sessions for a terminal (rich). JSON never passes through here."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tether.controls import CONTROLS

if TYPE_CHECKING:
    from rich.console import Console

    from tether.capture.ingest import ScanReport

RESULT_LINES = 12


def shown(text: str) -> str:
    """`text` safe to print: a title, note or message from a session or a server (anything
    tether did not write) must not set the terminal's title, move the cursor or hide text,
    so its control characters print as their code (`\\u001b`)."""
    return CONTROLS.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def one_line(text: str) -> str:
    """`text` on one line (runs of white space as one space), safe to print."""
    return shown(" ".join(text.split()))


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def short_path(path: str | None) -> str:
    if not path:
        return ""
    home = str(Path.home())
    if home not in ("", "/") and (path == home or path.startswith(home + "/")):
        return "~" + path[len(home) :]
    return path


def when(stamp: str | None) -> str:
    return stamp[:16].replace("T", " ") if stamp else ""


def _styled(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code and text else text


def _fit(text: str, width: int) -> str:
    text = one_line(text)
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _terminal() -> tuple[int, bool]:
    import shutil
    import sys

    colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return shutil.get_terminal_size((120, 24)).columns, colour


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Collection[int] = (),
    styles: Mapping[int, str] | None = None,
    fit: int | None = None,
) -> None:
    """The one table printer: plain columns two spaces apart under a bold header, fast (no
    rich) and never dropping a column on a narrow terminal. Column `fit` is cut to the room
    the others leave; `right` columns align right; `styles` colours columns (ANSI SGR
    codes) on a terminal."""
    width, colour = _terminal()
    styles = styles or {}
    table = [list(headers), *([one_line(str(cell)) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    if fit is not None:
        others = sum(w + 2 for i, w in enumerate(widths) if i != fit)
        widths[fit] = min(widths[fit], max(width - others, 20))
        for row in table[1:]:
            row[fit] = _fit(row[fit], widths[fit])
    last = len(headers) - 1
    for number, row in enumerate(table):
        cells = []
        for i, cell in enumerate(row):
            text = cell.rjust(widths[i]) if i in right else cell
            if i != last and i not in right:
                text = text.ljust(widths[i])
            cells.append(_styled(text, "1" if number == 0 else styles.get(i, ""), colour))
        print("  ".join(cells).rstrip())


def print_sessions(rows: list[dict[str, Any]]) -> None:
    """One line a session."""
    if not rows:
        print("no sessions found (try `tether scan`, or widen the filters)")
        return
    print_table(
        ["ID", "TOOL", "UPDATED", "MSGS", "PROJECT", "TITLE"],
        [
            [
                r["id"][:12],
                r["tool"],
                when(r["updated_at"]),
                str(r["message_count"]),
                _fit(short_path(r["project"]), 28),
                _lineage_mark(r) + _named(r) + (r["title"] or ""),
            ]
            for r in rows
        ],
        right={3},
        styles={0: "36", 4: "2"},
        fit=5,
    )


def _named(row: dict[str, Any]) -> str:
    """A session's names and checkpoints before its title: `[auth, @before-fix] `."""
    names = [*row.get("names", ()), *(f"@{c}" for c in row.get("checkpoints", ()))]
    return f"[{', '.join(names)}] " if names else ""


def _lineage_mark(row: Mapping[str, Any]) -> str:
    """`[alice@laptop] ` for a pulled session, `↳ 3f9a2c1b ` for one that continues another."""
    mark = f"[{row['pushed_by']}] " if row.get("pushed_by") else ""
    return mark + (f"↳ {row['continues'][:8]} " if row.get("continues") else "")


def print_hits(hits: list[dict[str, Any]]) -> None:
    if not hits:
        print("no matches")
        return
    width, colour = _terminal()
    for hit in hits:
        role = hit["role"] + (f"/{hit['kind']}" if hit["kind"] != "text" else "")
        stamp = when(hit["timestamp"] or hit["updated_at"])
        head = f"  {hit['tool']}  {stamp}  {role}  "
        title = _fit(hit["title"] or "", max(width - len(head) - 14, 10))
        print(_styled(hit["session_id"][:12], "36", colour) + head + _styled(title, "2", colour))
        snippet = one_line(hit["snippet"])
        if colour:
            snippet = snippet.replace("«", "\x1b[1;33m").replace("»", "\x1b[0m")
        print("  " + snippet)
        print()


def _clip(body: str, full: bool) -> str:
    lines = body.splitlines()
    if full or len(lines) <= RESULT_LINES:
        return body
    return "\n".join(lines[:RESULT_LINES]) + f"\n… {len(lines) - RESULT_LINES} more lines (--full)"


def print_session(
    doc: dict[str, Any], full: bool = False, links: dict[str, Any] | None = None
) -> None:
    from rich.text import Text

    from tether.formats.render import part_blocks

    out = console()
    info = doc["session"]
    out.print(Text(one_line(info.get("title") or "Untitled session"), style="bold"))
    facts = [
        f"{info['tool']} {info['native_id']}",
        f"id {info['id'][:12]}",
        short_path(info.get("project")),
        info.get("git_branch") or "",
        f"{when(info.get('created_at'))} → {when(info.get('updated_at'))}",
        ", ".join(info.get("models") or []),
    ]
    out.print(Text(one_line("  ".join(f for f in facts if f)), style="dim"))
    if links and (links["continues"] or links["continued_by"] or links["pulled"]):
        out.print(Text(one_line(lineage_line(links)), style="dim"))
    colours = {"user": "blue", "assistant": "green", "tool": "yellow", "system": "magenta"}
    for message in doc["messages"]:
        out.print()
        role = message["role"]
        out.print(Text(f"{role} {when(message.get('timestamp'))}", style=f"bold {colours[role]}"))
        for kind, title, body in part_blocks(message):
            if kind == "text":
                out.print(Text(shown(body)))
            elif kind == "reasoning":
                out.print(Text(shown(_clip(body, full)), style="italic dim"))
            else:
                out.print(Text(f"▸ {one_line(title)}", style="bold"))
                out.print(Text(shown(_clip(body, full)), style="dim"))


def lineage_line(links: dict[str, Any]) -> str:
    """Where a session comes from and where it went on: `show`'s lineage line."""
    bits = []
    pulled = links.get("pulled")
    if pulled:
        who = f"{pulled['owner']}@{pulled['device']}" if pulled.get("device") else pulled["owner"]
        bits.append(f"pushed by {who} to {pulled['server']}")
    if links.get("continues"):
        parent = links["continues"]
        bits.append(f"continues {parent['id'][:12]} ({parent['how']})")
    for child in links.get("continued_by") or []:
        bits.append(f"continued by {child['id'][:12]} ({child['how']})")
    return " · ".join(bits)


def print_scan(report: ScanReport) -> None:
    line = (
        f"scanned {report.files} file(s): read {report.read}"
        f" ({report.bytes_read / 1e6:.1f} MB), {report.sessions_added} new session(s),"
        f" {report.sessions_updated} updated in {report.seconds:.2f} s"
    )
    if report.missing:
        line += f"; {report.missing} deleted by their tools, kept in the archive"
    console(stderr=True).print(line)


def print_doctor(result: dict[str, Any]) -> None:
    out = console()
    a = result["archive"]
    out.print(f"[bold]archive[/] {a['path']} ({a['bytes'] / 1e6:.1f} MB)")
    out.print(
        f"  {a['sessions']} sessions, {a['messages']} messages, {a['parts']} parts from"
        f" {a['sources']} files; raw bytes {a['raw_bytes'] / 1e6:.1f} MB kept as"
        f" {a['raw_compressed_bytes'] / 1e6:.1f} MB"
    )
    h = result["health"]
    if h["database"] is None:
        out.print("  database and search index: not checked (`tether doctor --deep` checks them)")
    else:
        out.print(f"  database: {h['database']}, search index: {h['search_index']}")
    out.print()
    print_table(
        ["TOOL", "STORE", "FOUND", "FILES", "SESSIONS"],
        [
            [
                s["tool"],
                short_path(s["root"]),
                "yes" if s["found"] else "no",
                str(s["files"]),
                str(s["sessions"]),
            ]
            for s in result["stores"]
        ],
        right={3, 4},
    )
    if not result["problems"]:
        out.print("\nno problems: every line of every file was read")
        return
    out.print(f"\n[bold]{len(result['problems'])} file(s) with something to say[/]")
    for p in result["problems"]:
        bits = [k for k in ("error", "skipped_lines", "pending_bytes", "missing_since") if k in p]
        summary = ", ".join(f"{k.replace('_', ' ')}: {p[k]}" for k in bits)
        out.print(f"  {short_path(p['path'])}  [dim]{summary}[/]")
        for reason in p.get("reasons", [])[:5]:
            out.print(f"    [dim]- {reason}[/]")
        if "note" in p:
            out.print(f"    [dim]{p['note']}[/]")


@contextmanager
def progress_bar() -> Iterator[Callable[[int, int], None]]:
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("capturing", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def print_conversion(result: dict[str, Any]) -> None:
    """What convert/fork wrote, how to resume it, and what changed on the way."""
    out = console()
    out.print(
        f"wrote a new {result['tool']} session [bold]{result['native_id']}[/]", highlight=False
    )
    out.print(f"  file:    {result['path']}", highlight=False, soft_wrap=True)
    command = " ".join(result["resume_command"])
    out.print(f"  resume:  cd {result['cwd']} && {command}", highlight=False, soft_wrap=True)
    report = result["report"]
    for heading in ("mapped", "downgraded", "shortened", "dropped"):
        for what, count in report[heading].items():
            out.print(f"  {heading:<10} {count:>4} x {what}", highlight=False, soft_wrap=True)
    for note in report["notes"]:
        out.print(f"  note: {note}", highlight=False, soft_wrap=True)
