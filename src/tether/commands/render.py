"""Human output: tables and sessions for a terminal (rich). JSON never passes through here."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from tether.capture.ingest import ScanReport

RESULT_LINES = 12


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
    return f"\x1b[{code}m{text}\x1b[0m" if colour and text else text


def _fit(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _terminal() -> tuple[int, bool]:
    import shutil
    import sys

    colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return shutil.get_terminal_size((120, 24)).columns, colour


def print_sessions(rows: list[dict[str, Any]]) -> None:
    """One line a session; plain columns (fast, and never drops a column when narrow)."""
    if not rows:
        print("no sessions found (try `tether scan`, or widen the filters)")
        return
    width, colour = _terminal()
    projects = [_fit(short_path(r["project"]), 28) for r in rows]
    pw = max(7, *(len(p) for p in projects))
    head = f"{'ID':<12}  {'TOOL':<7}  {'UPDATED':<16}  {'MSGS':>5}  {'PROJECT':<{pw}}  TITLE"
    print(_styled(head, "1", colour))
    room = max(width - (12 + 7 + 16 + 5 + pw + 10), 20)
    for r, project in zip(rows, projects, strict=True):
        line = (
            _styled(r["id"][:12], "36", colour)
            + f"  {r['tool']:<7}  {when(r['updated_at']):<16}  {r['message_count']:>5}  "
            + _styled(f"{project:<{pw}}", "2", colour)
            + "  "
            + _fit(r["title"] or "", room)
        )
        print(line)


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
        snippet = " ".join(hit["snippet"].split())
        if colour:
            snippet = snippet.replace("«", "\x1b[1;33m").replace("»", "\x1b[0m")
        print("  " + snippet)
        print()


def _clip(body: str, full: bool) -> str:
    lines = body.splitlines()
    if full or len(lines) <= RESULT_LINES:
        return body
    return "\n".join(lines[:RESULT_LINES]) + f"\n… {len(lines) - RESULT_LINES} more lines (--full)"


def print_session(doc: dict[str, Any], full: bool = False) -> None:
    from rich.text import Text

    from tether.formats.render import part_blocks

    out = console()
    info = doc["session"]
    out.print(Text(info.get("title") or "Untitled session", style="bold"))
    facts = [
        f"{info['tool']} {info['native_id']}",
        f"id {info['id'][:12]}",
        short_path(info.get("project")),
        info.get("git_branch") or "",
        f"{when(info.get('created_at'))} → {when(info.get('updated_at'))}",
        ", ".join(info.get("models") or []),
    ]
    out.print(Text("  ".join(f for f in facts if f), style="dim"))
    colours = {"user": "blue", "assistant": "green", "tool": "yellow", "system": "magenta"}
    for message in doc["messages"]:
        out.print()
        role = message["role"]
        out.print(Text(f"{role} {when(message.get('timestamp'))}", style=f"bold {colours[role]}"))
        for kind, title, body in part_blocks(message):
            if kind == "text":
                out.print(Text(body))
            elif kind == "reasoning":
                out.print(Text(_clip(body, full), style="italic dim"))
            else:
                out.print(Text(f"▸ {title}", style="bold"))
                out.print(Text(_clip(body, full), style="dim"))


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
    from rich.table import Table

    out = console()
    a = result["archive"]
    out.print(f"[bold]archive[/] {a['path']} ({a['bytes'] / 1e6:.1f} MB)")
    out.print(
        f"  {a['sessions']} sessions, {a['messages']} messages, {a['parts']} parts from"
        f" {a['sources']} files; raw bytes {a['raw_bytes'] / 1e6:.1f} MB kept as"
        f" {a['raw_compressed_bytes'] / 1e6:.1f} MB"
    )
    h = result["health"]
    out.print(f"  database: {h['database']}, search index: {h['search_index']}")
    table = Table(box=None, header_style="bold", pad_edge=False, title_justify="left")
    for column in ("TOOL", "STORE", "FOUND", "FILES", "SESSIONS"):
        table.add_column(column, no_wrap=column != "STORE")
    for s in result["stores"]:
        table.add_row(
            s["tool"],
            short_path(s["root"]),
            "yes" if s["found"] else "no",
            str(s["files"]),
            str(s["sessions"]),
        )
    out.print()
    out.print(table)
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
