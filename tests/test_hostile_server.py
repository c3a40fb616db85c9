"""A server tether did not write: whatever it answers, the client reads a bounded amount and
says so in one line (a compromised or mistyped remote must not fill the user's memory)."""

from __future__ import annotations

import contextlib
import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tether.sync import wire
from tether.sync.client import Client, ServerRefused

BOMB = gzip.compress(b"\0" * (wire.MAX_ANSWER + (1 << 20)), compresslevel=1)


class Hostile(BaseHTTPRequestHandler):
    sent: ClassVar[list[int]] = []

    def log_message(self, *_args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if self.path.startswith("/endless"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()  # no length: HTTP/1.0, the body runs until the socket closes
            block = b" " * (1 << 20)
            try:
                for _ in range(4 * (wire.MAX_ANSWER >> 20)):
                    self.wfile.write(block)
                    Hostile.sent.append(len(block))
            except OSError:
                pass  # the client hung up: what the test wants
        elif self.path.startswith("/declared"):
            self.send_response(200)
            self.send_header("Content-Length", str(wire.MAX_ANSWER * 4))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(b"{" * 1024)
        elif self.path.startswith("/bomb"):
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(BOMB)))
            self.end_headers()
            self.wfile.write(BOMB)
        else:
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("path", ["/endless", "/declared", "/bomb"])
def test_an_answer_past_the_limit_is_refused_not_read(server: str, path: str) -> None:
    Hostile.sent.clear()
    with Client(server) as client, pytest.raises(ServerRefused) as refused:
        client.get(path)
    assert f"over {wire.MAX_ANSWER >> 20} MiB" in str(refused.value)
    assert "\n" not in str(refused.value)
    # The client stopped reading: the server could not send much past the limit.
    assert sum(Hostile.sent) <= wire.MAX_ANSWER + (8 << 20)


def test_an_ordinary_answer_is_read_as_before(server: str) -> None:
    with Client(server) as client:
        assert client.get("/fine") == {"ok": True}
        assert client.post("/fine", {"a": 1}) == {"ok": True}
