"""Talking to a tether server: JSON and chunk batches over HTTP (httpx), every failure one
line a user can act on (a server that is down, a token it refused, what it said no to).

Every request the client makes is safe to repeat (chunks are named by their hash, a push
names the revision it builds on), so any failure is followed by the same command, run again.
"""

from __future__ import annotations

from typing import Any

import httpx

from tether.errors import BusyError, ConflictError, NotFoundError, TetherError, UsageError
from tether.sync import wire
from tether.sync.remote import NotLoggedIn, Remote

TIMEOUT = httpx.Timeout(60.0, connect=5.0)
AGAIN = "nothing is lost: run it again"


class ServerUnreachable(TetherError):
    """The server did not answer (down, restarting, wrong address)."""


class ServerRefused(TetherError):
    """The server said no; the message is the server's own reason."""


class Client:
    """One connection (kept alive) to the server a Remote names, with its token."""

    def __init__(self, url: str, token: str | None = None) -> None:
        headers = {"User-Agent": "tether-sync"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = url
        self.http = httpx.Client(base_url=url, headers=headers, timeout=TIMEOUT)

    @classmethod
    def of(cls, remote: Remote) -> Client:
        return cls(remote.url, remote.token)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.send(self.http.build_request(method, path, **kwargs), stream=True)
            try:
                body = self._read(response)
            finally:
                response.close()
        except httpx.TimeoutException:
            raise ServerUnreachable(
                f"the tether server at {self.url} did not answer in time; {AGAIN}"
            ) from None
        except httpx.TransportError as exc:
            reason = str(exc).strip() or type(exc).__name__
            raise ServerUnreachable(
                f"cannot reach the tether server at {self.url} ({reason}); {AGAIN}"
            ) from None
        response._content = body  # read under a limit, as httpx's own read() would store it
        if response.status_code >= 400:
            raise self._error(response)
        return response

    def _read(self, response: httpx.Response) -> bytes:
        """The answer's body, decoded, refused past wire.MAX_ANSWER (counted as it arrives:
        a server that says nothing of its length, or compresses a bomb, is stopped too)."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > wire.MAX_ANSWER:
            raise self._too_big()
        pieces: list[bytes] = []
        total = 0
        for piece in response.iter_bytes():
            total += len(piece)
            if total > wire.MAX_ANSWER:
                raise self._too_big()
            pieces.append(piece)
        return b"".join(pieces)

    def _too_big(self) -> ServerRefused:
        return ServerRefused(
            f"the server at {self.url} sent an answer over {wire.MAX_ANSWER >> 20} MiB;"
            " tether reads no more of it (is it a tether server?)"
        )

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params).json()

    def post(self, path: str, body: Any) -> Any:
        response = self.request("POST", path, json=body)
        return response.json() if response.content else None

    def post_compressed(self, path: str, body: Any) -> Any:
        """POST JSON compressed with zstd (the server takes it for batches of sessions,
        whose search text is most of their weight); the bytes sent, and the answer."""
        import orjson

        data = wire.compress(orjson.dumps(body))
        headers = {"Content-Type": "application/json", "Content-Encoding": "zstd"}
        answer = self.request("POST", path, content=data, headers=headers).json()
        return len(data), answer

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json=body).json()

    def upload(self, items: list[tuple[str, bytes]]) -> Any:
        """Send a batch of (hash, compressed bytes)."""
        body = wire.pack(items)
        headers = {"Content-Type": wire.CONTENT_TYPE}
        return self.request("POST", "/api/v1/chunks", content=body, headers=headers).json()

    def download(self, names: list[str]) -> dict[str, bytes]:
        """The raw bytes of these chunks, each checked against its name."""
        response = self.request("POST", "/api/v1/chunks/fetch", json={"hashes": names})
        out: dict[str, bytes] = {}
        try:
            for name, data in wire.unpack(response.content):
                raw = wire.decompress(data)
                if wire.digest(raw) != name:
                    raise wire.BadBatch(f"chunk {name[:12]}… does not match its bytes")
                out[name] = raw
        except wire.BadBatch as exc:
            raise ServerRefused(f"the server sent a bad chunk batch ({exc}); {AGAIN}") from None
        if set(out) != set(names):
            raise ServerRefused(f"the server did not send every chunk asked for; {AGAIN}")
        return out

    def _error(self, response: httpx.Response) -> TetherError:
        try:
            body = response.json()
            message = str(body.get("error") or response.reason_phrase)
        except (ValueError, AttributeError):
            message = response.reason_phrase or f"HTTP {response.status_code}"
        message = " ".join(message.split())[:500]
        status = response.status_code
        said = f"the server at {self.url} says: {message}"
        if status == 401:
            return NotLoggedIn(f"{said} (`tether login {self.url}` enrols this machine again)")
        if status == 404:
            return NotFoundError(said)
        if status == 409:
            return ConflictError(said)
        if status == 413:
            return UsageError(f"{said} (the request was too large)")
        if status in (502, 503, 504):
            return BusyError(f"{said}; {AGAIN}")
        if status in {400, 422}:
            return ServerRefused(said)
        return ServerRefused(f"{said} (HTTP {status}); {AGAIN}")
