"""Reading native files tolerantly: JSON lines from a byte offset, or a whole document.

One bad line never costs a session: it is skipped and counted with its reason. A last line
with no newline that does not parse yet is a file still being written: it is left for the
next read, not counted. Only regular files are opened (a FIFO would block the read forever).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from tether.files import MAX_DOCUMENT, FileTooLarge, open_regular
from tether.tools.base import FormatError, Source

BLOCK = 1 << 20
MAX_REASONS = 20


def open_native(path: Path) -> IO[bytes]:
    """Open a native file for reading, decompressing `.zst` transparently; NotRegularFile
    (an OSError) at once for a FIFO, a device, a socket or a folder."""
    raw = open_regular(path)
    if path.suffix != ".zst":
        return raw
    import zstandard

    return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)


def loads_tolerant(line: bytes) -> tuple[Any, bool]:
    """Decode one JSON value; invalid UTF-8 is replaced (second item True when it was)."""
    try:
        return orjson.loads(line), False
    except orjson.JSONDecodeError:
        text = line.decode("utf-8", errors="replace")
        if "\ufffd" not in text or text.encode() == line:
            raise
        return orjson.loads(text), True


class FileFeed:
    """A `Feed` over one file. `sink` receives every byte consumed, in order (the archive)."""

    def __init__(
        self,
        source: Source,
        start: int = 0,
        stream: IO[bytes] | None = None,
        sink: Callable[[bytes], None] | None = None,
    ) -> None:
        self.source = source
        self.start = start
        self.end = start
        """Offset just past the last byte consumed: where the next incremental read starts."""
        self.skipped = 0
        self.repaired = 0
        self.reasons: list[str] = []
        self._stream = stream
        self._sink = sink

    def _open(self) -> IO[bytes]:
        if self._stream is not None:
            return self._stream
        fh = open_native(self.source.path)
        if self.start:
            fh.seek(self.start)
        return fh

    def skip(self, reason: str) -> None:
        self.skipped += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(reason)

    def _consume(self, data: bytes) -> None:
        self.end += len(data)
        if self._sink is not None:
            self._sink(data)

    def records(self) -> Iterator[dict[str, Any]]:
        fh = self._open()
        try:
            yield from self._records(fh)
        finally:
            if fh is not self._stream:
                fh.close()

    def _records(self, fh: IO[bytes]) -> Iterator[dict[str, Any]]:
        pending = b""
        while True:
            block = fh.read(BLOCK)
            if not block:
                break
            data = pending + block if pending else block
            lines = data.split(b"\n")
            pending = lines.pop()
            consumed = 0
            for line in lines:
                consumed += len(line) + 1
                obj = self._decode(line, self.end + consumed - len(line) - 1)
                if obj is not None:
                    yield obj
            self._consume(data[:consumed])
        if pending:
            obj = self._decode(pending, self.end, last=True)
            if obj is not None or not pending.strip():
                self._consume(pending)
                if obj is not None:
                    yield obj

    def _decode(self, line: bytes, offset: int, last: bool = False) -> dict[str, Any] | None:
        if not line.strip():
            return None
        try:
            obj, repaired = loads_tolerant(line)
        except orjson.JSONDecodeError:
            if not last:
                self.skip(f"invalid JSON line at byte {offset}")
            return None
        if repaired:
            self.repaired += 1
            if len(self.reasons) < MAX_REASONS:
                self.reasons.append(f"invalid UTF-8 replaced in line at byte {offset}")
        if not isinstance(obj, dict):
            self.skip(f"line at byte {offset} is a JSON {type(obj).__name__}, not an object")
            return None
        return obj

    def _read_all(self) -> bytes:
        fh = self._open()
        try:
            data = fh.read(MAX_DOCUMENT + 1)
        finally:
            if fh is not self._stream:
                fh.close()
        if len(data) > MAX_DOCUMENT:
            raise FileTooLarge(self.source.path, MAX_DOCUMENT)
        self._consume(data)
        return data

    def document(self) -> Any:
        data = self._read_all()
        if not data.strip():
            raise FormatError("the file is empty")
        try:
            obj, repaired = loads_tolerant(data)
        except orjson.JSONDecodeError as exc:
            raise FormatError(f"not valid JSON: {exc}") from None
        if repaired:
            self.repaired += 1
            self.reasons.append("invalid UTF-8 replaced")
        return obj

    def text(self) -> str:
        data = self._read_all()
        text = data.decode("utf-8", errors="replace")
        if "\ufffd" in text and text.encode() != data:
            self.repaired += 1
            self.reasons.append("invalid UTF-8 replaced")
        return text


def feed_from_bytes(source: Source, data: bytes, start: int = 0) -> FileFeed:
    """A feed over bytes in memory: for reindexing archived bytes, and for reader tests."""
    return FileFeed(source, start=start, stream=io.BytesIO(data))
