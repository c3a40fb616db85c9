"""`tether login`, `push`, `pull`, `sync`, `remote`, `handoff` and `inbox`: sessions that
travel between machines and teammates through a tether server (tether.sync)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tether.commands.common import archive, auto_scan, emit_json
from tether.errors import UsageError

if TYPE_CHECKING:
    import sqlite3


@click.command()
@click.argument("url")
@click.option("--user", "-u", metavar="NAME", help="Your user name on the server.")
@click.option("--code", metavar="CODE", help="The one-time code `tether server user add` gave.")
@click.option("--device", metavar="NAME", help="This machine's name (default: its host name).")
@click.option("--json", "as_json", is_flag=True, help="Print who is logged in where, as JSON.")
def login(url: str, user: str | None, code: str | None, device: str | None, as_json: bool) -> None:
    """Enrol this machine with the tether server at URL, with a one-time code.

    The device token is kept in $TETHER_HOME/remote.json (mode 0600); the code is used up.

    \b
      tether login http://host:8765 --user alice --code ABCD-EFGH-JKMN-PQRS
    """
    from tether.sync.remote import server_url
    from tether.sync.travel import login as enrol

    server_url(url)
    user = user or _ask("user name", "--user")
    code = code or _ask("enrolment code", "--code", hide=True)
    remote, path = enrol(url, user, code, device)
    result = {"server": remote.url, "user": remote.user, "device": remote.device, "file": path}
    if as_json:
        emit_json(result)
    else:
        click.echo(f"logged in to {remote.url} as {remote.user} from {remote.device} ({path})")


def _ask(what: str, option: str, hide: bool = False) -> str:
    if not sys.stdin.isatty():
        raise UsageError(f"give the {what} with {option} (no terminal to ask on)")
    answer: str = click.prompt(what.capitalize(), hide_input=hide)
    return answer


def _remote() -> Any:
    from tether.sync.remote import load

    return load()


def _pks(db: sqlite3.Connection, idents: tuple[str, ...], project: str | None) -> list[int]:
    from tether.archive.query import find_session

    if idents:
        return [find_session(db, ident)[0] for ident in idents]
    assert project is not None
    folder = str(Path(project).expanduser().absolute()).rstrip("/") or "/"
    from tether.archive.query import like_prefix

    rows = db.execute(
        "SELECT pk FROM sessions WHERE project = ? OR project LIKE ? ESCAPE '\\'",
        (folder, like_prefix(folder.rstrip("/") + "/")),
    )
    return [row[0] for row in rows]


@click.command()
@click.argument("idents", nargs=-1, metavar="[ID]...")
@click.option("--project", "-p", metavar="PATH", help="Every session of this folder and below.")
@click.option("--all", "-a", "everything", is_flag=True, help="Every session of this machine.")
@click.option("--team", metavar="NAME", help="Share them with this team of yours.")
@click.option("--keep-secrets", is_flag=True, help="Send secrets as they are (not redacted).")
@click.option("--no-scan", is_flag=True, help="Do not look for new sessions first.")
@click.option("--json", "as_json", is_flag=True, help="Print what was pushed as JSON.")
def push(
    idents: tuple[str, ...],
    project: str | None,
    everything: bool,
    team: str | None,
    keep_secrets: bool,
    no_scan: bool,
    as_json: bool,
) -> None:
    """Send sessions to the server: only what it lacks (a session that grew sends its new
    lines), redacted as exports are (--keep-secrets sends them as they are).

    \b
      tether push 3f9a2c              one session (any unique prefix of its id)
      tether push --project ~/src/api
      tether push --all --team backend
    """
    from tether.sync.client import Client
    from tether.sync.push import Options
    from tether.sync.push import push as run_push

    if sum((bool(idents), project is not None, everything)) != 1:
        raise UsageError("name sessions (ID ...), --project PATH or --all: one of them")
    remote = _remote()
    with archive() as db:
        auto_scan(db, no_scan)
        pks = None if everything else _pks(db, idents, project)
        with Client.of(remote) as client:
            report = run_push(db, client, remote.url, pks, Options(keep_secrets, team))
    _print_push(report.as_dict(), as_json)


def _print_push(result: dict[str, Any], as_json: bool) -> None:
    """The report; then an error when the server refused some sessions."""
    if as_json:
        emit_json(result)
    else:
        fresh = [p for p in result["pushed"] if not p["unchanged"]]
        click.echo(
            f"pushed {len(fresh)} session(s), {result['unchanged']} unchanged;"
            f" sent {result['bytes_sent'] / 1e6:.2f} MB in {result['chunks_sent']} chunk(s)"
            f" ({result['seconds']:.1f} s)"
        )
    _refused(result["failed"])


def _refused(failed: list[dict[str, str]]) -> None:
    """One error (exit 3) when the server refused some sessions: how many, and why the
    first was refused (the others were pushed)."""
    if failed:
        from tether.errors import ConflictError

        first = failed[0]
        raise ConflictError(
            f"{len(failed)} session(s) not pushed (the others were); {first['id'][:12]}:"
            f" {first['error']}"
        )


@click.command()
@click.argument("idents", nargs=-1, metavar="[ID]...")
@click.option("--all", "-a", "everything", is_flag=True, help="Every session you may see.")
@click.option("--json", "as_json", is_flag=True, help="Print what was pulled as JSON.")
def pull(idents: tuple[str, ...], everything: bool, as_json: bool) -> None:
    """Bring sessions from the server into the archive, with who pushed them from where.

    \b
      tether pull 3f9a2c              one session (its id on the server, or a prefix)
      tether pull --all               yours from other machines, your teams', handed to you
    """
    from tether.sync.client import Client
    from tether.sync.pull import changes, pull_heads, resolve

    if bool(idents) == everything:
        raise UsageError("name sessions (ID ...) or give --all")
    remote = _remote()
    with archive() as db, Client.of(remote) as client:
        heads = resolve(client, list(idents)) if idents else changes(client, 0)[0]
        if everything:
            heads = [h for h in heads if h.get("device") != remote.device or h.get("via") != "own"]
        report = pull_heads(db, client, remote.url, heads)
    _print_pull(report.as_dict(), as_json)


def _print_pull(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(result)
        return
    from tether.commands.render import one_line

    click.echo(
        f"pulled {len(result['pulled'])} session(s), {result['unchanged']} unchanged"
        f" ({result['bytes_received'] / 1e6:.2f} MB)"
    )
    for item in result["pulled"]:
        click.echo(
            one_line(
                f"  {item['id'][:12]}  {item['tool']}  {item['owner']}@{item['device']}"
                f"  {item.get('title') or ''}"
            )
        )
    for skipped in result["skipped"]:
        click.echo(one_line(f"tether: skipped {skipped['id'][:12]}: {skipped['reason']}"), err=True)


@click.command()
@click.argument("setting", nargs=-1, metavar="[auto on|off]")
@click.option("--json", "as_json", is_flag=True, help="Print what was sent and received as JSON.")
def sync(setting: tuple[str, ...], as_json: bool) -> None:
    """Push what changed here, pull what changed there (one request when nothing did).

    Pulls your sessions from your other machines and the sessions handed to you; your
    teams' sessions come with `tether pull --all`. `tether sync auto on` makes the
    watcher (`tether watch`, the daemon) push sessions as it captures them.
    """
    from tether.sync.push import Options
    from tether.sync.travel import sync as run_sync

    if setting:
        _set_auto(setting, as_json)
        return
    remote = _remote()
    with archive() as db:
        auto_scan(db, False)
        pushed, pulled = run_sync(db, remote, Options())
    result: dict[str, Any] = {
        "auto": _auto(),
        "sent": pushed.as_dict(),
        "received": pulled.as_dict(),
    }
    if as_json:
        emit_json(result)
        _refused(result["sent"]["failed"])
        return
    _print_pull(result["received"], False)
    _print_push(result["sent"], False)


def _auto() -> bool:
    from tether.sync.auto import enabled

    return enabled()


def _set_auto(setting: tuple[str, ...], as_json: bool) -> None:
    from tether.sync.auto import set_enabled

    if len(setting) != 2 or setting[0] != "auto" or setting[1] not in ("on", "off"):
        raise UsageError("say `tether sync`, `tether sync auto on` or `tether sync auto off`")
    if setting[1] == "on":
        _remote()  # auto-push needs a server
    set_enabled(setting[1] == "on")
    if as_json:
        emit_json({"auto": setting[1] == "on", "sent": None, "received": None})
    else:
        click.echo(
            f"auto-push is {setting[1]}: the watcher pushes sessions as it captures them"
            if setting[1] == "on"
            else "auto-push is off"
        )


@click.group()
def remote() -> None:
    """What the server holds for you and your teams."""


@remote.command(name="list")
@click.option("--owner", metavar="NAME", help="Only the sessions this user pushed.")
@click.option("--limit", "-n", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def remote_list(owner: str | None, limit: int, as_json: bool) -> None:
    """Sessions on the server you may see, newest push first."""
    from tether.sync.client import Client

    params: dict[str, Any] = {"limit": limit}
    if owner:
        params["owner"] = owner
    with Client.of(_remote()) as client:
        heads: list[dict[str, Any]] = client.get("/api/v1/sessions", **params)
    if as_json:
        emit_json(heads)
    else:
        _print_heads(heads)


@remote.command(name="search")
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", "-n", default=20, show_default=True, type=click.IntRange(1, 200))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def remote_search(query: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Full-text search on the server, over the sessions you may see."""
    from tether.sync.client import Client

    with Client.of(_remote()) as client:
        answer = client.request(
            "GET", "/api/v1/search", params={"q": " ".join(query), "limit": limit}
        )
    hits: list[dict[str, Any]] = answer.json()
    if as_json:
        emit_json(hits)
        return
    _print_heads(hits)
    capped = answer.headers.get("Tether-Search-Capped", "")
    if capped.isdigit():
        click.echo(
            f"(ranked among the newest {int(capped):,} places these words are in:"
            " add a word to rank every match)",
            err=True,
        )


@remote.command(name="web")
@click.option("--no-open", is_flag=True, help="Do not open the browser; just print the link.")
@click.option("--json", "as_json", is_flag=True, help="Print the link as JSON.")
def remote_web(no_open: bool, as_json: bool) -> None:
    """Open the server's web pages in the browser, signed in as you.

    Asks the server for a one-time link (good for five minutes, once) with this machine's
    device token; the page it opens asks you to confirm, then keeps you signed in (a cookie).
    """
    from tether.sync.client import Client

    remote = _remote()
    with Client.of(remote) as client:
        made: dict[str, Any] = client.post("/api/v1/web/sign-in", {})
    link = on_server(remote.url, str(made.get("url") or ""))
    made["url"] = link
    result = {"url": link, "expires_at": made["expires_at"], "opened": False}
    if not no_open:
        import os
        import webbrowser

        from tether.web.serve import launch_file

        # Through a private file (as `tether web` does): a command line shows in `ps`.
        result["opened"] = webbrowser.open(launch_file(made["url"], os.getpid()).as_uri())
    if as_json:
        emit_json(result)
        return
    click.echo(f"sign in at {made['url']} (once, within five minutes)")


def on_server(server: str, url: str) -> str:
    """The sign-in link the server gave, on the server this machine is logged in to: its
    path and query joined to the server's own URL, whatever host the server named (behind a
    proxy it may not know its public name; a hostile one could name any site)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        from tether.sync.client import ServerRefused

        raise ServerRefused(f"the server answered a sign-in link that is not one: {url[:80]!r}")
    if url.startswith(server + "/"):
        return url
    origin = urlsplit(server)
    return f"{origin.scheme}://{origin.netloc}{parts.path}" + (
        f"?{parts.query}" if parts.query else ""
    )


def _print_heads(heads: list[dict[str, Any]]) -> None:
    from tether.commands.render import print_table, when

    if not heads:
        click.echo("nothing on the server (that you may see)")
        return
    rows = [
        [
            h["session_id"][:12],
            h["tool"],
            f"{h['owner']}@{h.get('device') or '?'}",
            when(h.get("updated_at")),
            h.get("team") or ("handed to you" if h.get("via") == "handoff" else ""),
            " ".join(str(h.get("snippet") or h.get("title") or "").split()),
        ]
        for h in heads
    ]
    print_table(["ID", "TOOL", "FROM", "UPDATED", "SHARED", "TITLE"], rows, styles={0: "36"}, fit=5)


@click.command()
@click.argument("ident", metavar="ID")
@click.option("--to", "to", required=True, metavar="USER", help="The teammate to hand it to.")
@click.option("--note", metavar="TEXT", help="What they should know (shown in their inbox).")
@click.option("--no-scan", is_flag=True, help="Do not look for new sessions first.")
@click.option("--json", "as_json", is_flag=True, help="Print the handoff as JSON.")
def handoff(ident: str, to: str, note: str | None, no_scan: bool, as_json: bool) -> None:
    """Hand session ID to a teammate (pushed first if it changed); they find it with
    `tether inbox`, then `tether resume ID --in TOOL`."""
    from tether.archive.query import find_session
    from tether.sync.travel import hand_off

    with archive() as db:
        auto_scan(db, no_scan)
        pk, _ = find_session(db, ident)
        result = hand_off(db, _remote(), pk, to, note)
    if as_json:
        emit_json(result)
    else:
        click.echo(
            f"handed {result['session_id'][:12]} to {result['to']}: they see it with `tether inbox`"
        )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the inbox as JSON.")
def inbox(as_json: bool) -> None:
    """Sessions handed to you: each is pulled into the archive, ready to resume."""
    from tether.sync.travel import inbox as read_inbox

    with archive() as db:
        items = read_inbox(db, _remote())
    if as_json:
        emit_json(items)
        return
    if not items:
        click.echo("your inbox is empty")
        return
    from tether.commands.render import print_table, when

    rows = [
        [
            item["session"]["session_id"][:12],
            item["session"]["tool"],
            item["from"],
            when(item["created_at"]),
            item.get("note") or "",
            item["session"].get("title") or "",
        ]
        for item in items
    ]
    print_table(["ID", "TOOL", "FROM", "HANDED", "NOTE", "TITLE"], rows, styles={0: "36"}, fit=5)
    click.echo("continue one with: tether resume ID --in TOOL")
