"""Human output: tables and sessions for a terminal (rich). JSON never passes through here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from tether.capture import ScanReport

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


def print_sessions(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    out = console()
    if not rows:
        out.print("no sessions found (try `tether scan`, or widen the filters)")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("ID", style="cyan", no_wrap=True)
    table.add_column("TOOL", no_wrap=True)
    table.add_column("UPDATED", no_wrap=True)
    table.add_column("MSGS", justify="right", no_wrap=True)
    table.add_column("PROJECT", style="dim", no_wrap=True, max_width=40, overflow="ellipsis")
    table.add_column("TITLE", no_wrap=True, overflow="ellipsis")
    for r in rows:
        table.add_row(
            r["id"][:12],
            r["tool"],
            when(r["updated_at"]),
            str(r["message_count"]),
            short_path(r["project"]),
            (r["title"] or "").replace("\n", " "),
        )
    out.print(table)


def print_hits(hits: list[dict[str, Any]]) -> None:
    from rich.text import Text

    out = console()
    if not hits:
        out.print("no matches")
        return
    for hit in hits:
        head = Text()
        head.append(hit["session_id"][:12], style="cyan")
        head.append(f"  {hit['tool']}  {when(hit['timestamp'] or hit['updated_at'])}  ")
        head.append(hit["role"] + (f"/{hit['kind']}" if hit["kind"] != "text" else ""), "bold")
        head.append(f"  {(hit['title'] or '')[:60]}", style="dim")
        out.print(head)
        out.print(highlight(hit["snippet"]))
        out.print()


def highlight(snippet: str) -> Any:
    from rich.text import Text

    text = Text("  ")
    for i, piece in enumerate(snippet.replace("\n", " ").replace("»", "«").split("«")):
        text.append(piece, style="bold yellow" if i % 2 else None)
    return text


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
