"""Reading native files tolerantly: JSON lines from a byte offset, or a whole document.

One bad line never costs a session: it is skipped and counted with its reason. A last line
with no newline that does not parse yet is a file still being written: it is left for the
next read, not counted. Only regular files are opened, and nothing is held in memory
without bound: a line longer than MAX_LINE is skipped, a document larger than MAX_DOCUMENT
refused.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from tether.archive.store import MAX_DEPTH
from tether.capture.marks import Marks
from tether.files import MAX_DOCUMENT, FileTooLarge, open_regular
from tether.tools.base import FormatError, Op, Source, Tool
from tether.tools.common import failure

BLOCK = 1 << 20
MAX_REASONS = 20
MAX_REASON = 300
CHECKED = 4096
"""Bytes at each end of a line its checksum covers (see first)."""
MAX_LINE = 256 << 20
"""A longer line is skipped (its bytes are still archived): no real record is this long,
and a file with no newline at all (sparse, or a decompression bomb) must not fill memory."""


def open_native(path: Path) -> IO[bytes]:
    """Open a native file for reading, decompressing `.zst` transparently; NotRegularFile
    (an OSError) at once for a FIFO, a device, a socket or a folder."""
    raw = open_regular(path)
    if path.suffix != ".zst":
        return raw
    import zstandard

    return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)


def loads_tolerant(line: bytes | bytearray) -> tuple[Any, bool]:
    """Decode one JSON value; invalid UTF-8 is replaced, and arrays or objects nested deeper
    than orjson reads are cut (second item True when either was)."""
    try:
        return orjson.loads(line), False
    except orjson.JSONDecodeError as exc:
        data = bytes(line)
        if "depth limit" in str(exc):
            data = cut_deep(data)
        text = data.decode("utf-8", errors="replace")
        if data == line and ("\ufffd" not in text or text.encode() == line):
            raise
        return orjson.loads(text), True


JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*+"|[\[\]{}]|"', re.DOTALL)
"""A string, a bracket, or a quote that opens a string never closed (which ends the cut)."""
TOO_DEEP = b'"[nested deeper than %d levels]"' % MAX_DEPTH


def cut_deep(data: bytes) -> bytes:
    """JSON text with every array and object nested deeper than the archive keeps replaced
    by a note: one absurdly deep value (a hundred thousand `[`) costs its field, not the
    line or the document around it. Strings are passed over whole."""
    out: list[bytes] = []
    depth = 0
    kept_to = 0
    cut_from = -1
    for token in JSON_TOKENS.finditer(data):
        first = data[token.start()]
        if token.end() - token.start() == 1 and first == 0x22:
            return data  # not JSON after all: left for orjson to refuse
        if first == 0x22:  # a string
            continue
        if first in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth == MAX_DEPTH + 1:
                cut_from = token.start()
        else:
            if depth == MAX_DEPTH + 1 and cut_from >= 0:
                out += (data[kept_to:cut_from], TOO_DEEP)
                kept_to = token.end()
                cut_from = -1
            depth -= 1
    out.append(data[kept_to:])
    return b"".join(out)


class FileFeed:
    """A `Feed` over one file. `sink` receives every byte consumed, in order (the archive).

    Where the records stand lives on the feed, not in a generator: a reader that failed on
    one record can be run again from the next one (see `read_guarded`).
    """

    def __init__(
        self,
        source: Source,
        start: int = 0,
        stream: IO[bytes] | None = None,
        sink: Callable[[bytes], None] | None = None,
        marks: Marks | None = None,
    ) -> None:
        self.source = source
        self.marks = marks if marks is not None else Marks()
        """The records read so far, to tell a record written twice (see `first`)."""
        self.start = start
        self.end = start
        """Offset just past the last byte consumed: where the next incremental read starts."""
        self.skipped = 0
        self.repaired = 0
        self.reasons: list[str] = []
        self.taken = 0
        """Records handed to the reader so far."""
        self.taken_at = start
        """Offset of the last record handed to the reader."""
        self._stream = stream
        self._sink = sink
        self._fh: IO[bytes] | None = None
        self._buffer = bytearray()
        """Bytes read from `end` on; records are taken from its first `_at` bytes."""
        self._at = 0
        self._searched = 0
        """How far into the buffer no newline was found: a long line is searched once."""
        self._eof = False
        self._overlong: int | None = None
        """Offset of a line longer than MAX_LINE whose rest is being passed over."""
        self._line: bytes | bytearray = b""
        """The line of the record handed out last."""

    def _file(self) -> IO[bytes]:
        if self._fh is None:
            if self._stream is not None:
                self._fh = self._stream
            else:
                self._fh = open_native(self.source.path)
                if self.start:
                    self._fh.seek(self.start)
        return self._fh

    def close(self) -> None:
        if self._fh is not None and self._fh is not self._stream:
            self._fh.close()
        self._fh = None

    def skip(self, reason: str) -> None:
        self.skipped += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(reason[:MAX_REASON])

    def _consume(self, data: bytes) -> None:
        self.end += len(data)
        if self._sink is not None:
            self._sink(data)

    def first(self, record_id: Any) -> bool:
        if isinstance(record_id, int) and not isinstance(record_id, bool):
            record_id = str(record_id)
        if not isinstance(record_id, str) or not record_id:
            return True
        return self.marks.first(f"{record_id}:{_checksum(self._line)}")

    @property
    def position(self) -> int:
        """Offset just past the last record handed to the reader (or passed over)."""
        return self.end + self._at

    def records(self) -> Iterator[dict[str, Any]]:
        """Every JSON-object line from where the last call stopped."""
        while True:
            newline = self._buffer.find(b"\n", max(self._at, self._searched))
            if newline < 0:
                self._searched = len(self._buffer)
                if self._overlong is None and len(self._buffer) - self._at > MAX_LINE:
                    self._overlong = self.position
                    self.skip(f"line at byte {self._overlong} longer than {MAX_LINE} bytes")
                if self._overlong is not None:
                    self._at = len(self._buffer)
                if not self._fill():
                    break
                continue
            line = self._buffer[self._at : newline]
            offset = self.position
            self._at = newline + 1
            if self._overlong is not None:
                self._overlong = None
                continue
            obj = self._decode(line, offset)
            if obj is not None:
                self.taken += 1
                self.taken_at = offset
                self._line = line
                yield obj
        obj = self._last_line()
        if obj is not None:
            yield obj

    def _fill(self) -> bool:
        """Pass what was taken to the sink, then read the next block; False at the end."""
        if self._eof:
            return False
        block = self._file().read(BLOCK)
        self.hand_over()
        if not block:
            self._eof = True
            self.close()
            return False
        self._buffer += block
        return True

    def hand_over(self) -> None:
        """Pass the records taken so far to the sink now, not at the next read: what is
        written from them is compressed against the bytes they came from."""
        if self._at:
            self._consume(bytes(self._buffer[: self._at]))
            del self._buffer[: self._at]
            self._searched = max(self._searched - self._at, 0)
            self._at = 0

    def _last_line(self) -> dict[str, Any] | None:
        """A last line without a newline: taken when complete, else left for the next read."""
        rest = bytes(self._buffer[self._at :])
        self._buffer = bytearray()
        self._at = self._searched = 0
        if not rest:
            return None
        offset = self.end
        obj = self._decode(rest, offset, last=True)
        if obj is not None or not rest.strip():
            self._consume(rest)
        if obj is not None:
            self.taken += 1
            self.taken_at = offset
            self._line = rest
        return obj

    def _decode(
        self, line: bytes | bytearray, offset: int, last: bool = False
    ) -> dict[str, Any] | None:
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
        try:
            data = self._file().read(MAX_DOCUMENT + 1)
        finally:
            self.close()
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


def _checksum(line: bytes | bytearray) -> str:
    """A line by its length and a CRC of its ends: exact for a line up to 8 KB, and cheap
    for one of megabytes (two records that share an id and differ only in the middle of
    such a line, at the same length, would pass for one)."""
    size = len(line)
    if size <= 2 * CHECKED:
        return f"{size}:{zlib.crc32(line):08x}"
    view = memoryview(line)
    return f"{size}:{zlib.crc32(view[-CHECKED:], zlib.crc32(view[:CHECKED])):08x}"


def feed_from_bytes(source: Source, data: bytes, start: int = 0) -> FileFeed:
    """A feed over bytes in memory: for reindexing archived bytes, and for reader tests."""
    return FileFeed(source, start=start, stream=io.BytesIO(data))


def read_guarded(tool: Tool, feed: FileFeed, state: dict[str, Any]) -> Iterator[Op]:
    """The reader's ops over the feed. When the reader fails on a record (a field of a type
    it did not expect, say), that record is skipped and counted with the error, and the
    reader goes on from the next one as an incremental read would: one strange line never
    costs the file, nor freezes it at that line. A failure that no record explains (the
    file cannot be read, a document is not what the reader knows) still fails the file."""
    taken = 0
    while True:
        try:
            yield from tool.read(feed, state)
            return
        except (OSError, MemoryError, FormatError):
            raise
        except Exception as exc:
            if feed.taken == taken:
                raise
            taken = feed.taken
            feed.skip(f"line at byte {feed.taken_at}: {failure(exc)}")
            feed.start = feed.position
