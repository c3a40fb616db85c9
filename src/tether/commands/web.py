"""`tether web`: the archive as web pages on 127.0.0.1, behind a token only you are given."""

from __future__ import annotations

import errno
import os
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tether.commands.common import archive, auto_scan, here_root

if TYPE_CHECKING:
    import uvicorn

DEFAULT_PORT = 8766
HOST = "127.0.0.1"


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help=f"Listen on this port (default {DEFAULT_PORT}, else any free one; 0: any).",
)
@click.option("--no-open", is_flag=True, help="Do not open the browser; just print the link.")
@click.option("--no-scan", is_flag=True, help="Do not look for new sessions first.")
def web(port: int | None, no_open: bool, no_scan: bool) -> None:
    """Browse every session in the browser: list, search, read, continue.

    Serves on 127.0.0.1 only. The link it prints holds a random token (the browser then
    keeps it in a cookie): without it, other users of this machine see nothing. Ctrl-C stops.
    """
    from tether.paths import db_path, tether_home

    with archive() as db:  # made or migrated here: the pages open it read-only
        auto_scan(db, no_scan)
    sock = _listen(port)
    bound = sock.getsockname()[1]
    token, server = _server(db_path(tether_home()), bound)
    url = f"http://{HOST}:{bound}/?token={token}"
    click.echo(f"tether web: serving your sessions at {url}", err=True)
    click.echo("tether web: Ctrl-C stops it", err=True)
    if not no_open:
        threading.Thread(target=_open_when_up, args=(server, url), daemon=True).start()
    from tether.web.serve import warm_up

    warm_up()  # the socket listens already: a browser that comes early waits in its queue
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn stops cleanly on Ctrl-C, then raises it again
        pass
    finally:
        from tether.web.serve import remove_launch_file

        remove_launch_file(os.getpid())


def _listen(port: int | None) -> socket.socket:
    """A socket bound to 127.0.0.1: on `port`, or when none was asked for, on the default
    port if it is free, else on any free one."""
    from tether.errors import ConflictError

    tries = [DEFAULT_PORT, 0] if port is None else [port]
    for attempt in tries:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: a page's headers and body go out at once, not
        # 40 ms apart (Nagle's algorithm meeting the browser's delayed ACK).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((HOST, attempt))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE and attempt != tries[-1]:
                continue
            if exc.errno == errno.EADDRINUSE:
                raise ConflictError(
                    f"port {attempt} is in use: choose another with --port"
                ) from None
            raise
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    raise AssertionError("unreachable: the last try raises")


def _server(path: Path, port: int) -> tuple[str, uvicorn.Server]:
    """A new token, and the server of the pages over the archive at `path` that asks for
    it."""
    import uvicorn

    from tether.web.app import create_app
    from tether.web.auth import TokenAuth, new_token
    from tether.web.local import LocalSource

    token = new_token()
    hosts = frozenset({f"{HOST}:{port}", f"localhost:{port}"})
    source = LocalSource(path, roots=(Path(here_root()),))
    app = create_app(source, TokenAuth(token, hosts, cookie=f"tether_web_{port}"))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    return token, uvicorn.Server(config)


def _open_when_up(server: uvicorn.Server, url: str) -> None:
    """Open the browser once the server answers, through a private file that redirects to
    the link (as Jupyter does): a URL on a command line is visible to every user in `ps`."""
    import time
    import webbrowser

    from tether.web.serve import launch_file

    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    path = launch_file(url, os.getpid())
    webbrowser.open(path.as_uri())
