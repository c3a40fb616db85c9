"""Cutting a session's bytes into chunks that stay the same when the session changes.

Cuts fall at line ends only, and where they fall depends on the lines around them, not on
their offsets (content-defined): a line added, changed or removed changes the chunk it is
in and leaves the others as they were, so a session rewritten by its tool still sends only
what changed. A session that only grew keeps every chunk it had: only its new lines are cut
(`cut_after`), and a small last chunk is sent again with them rather than left to pile up.
"""

from __future__ import annotations

import hashlib

MIN_CHUNK = 256 << 10
TARGET = 1 << 20
MAX_CHUNK = 4 << 20
SMALL = 64 << 10
"""A last chunk under this is cut again together with the new lines that follow it."""
WINDOW = 64


def cut(data: bytes, start: int = 0) -> list[tuple[int, int]]:
    """(offset, length) of each chunk of `data[start:]`: each ends at a line end (a line
    longer than MAX_CHUNK alone is cut inside), the last one at the end of the data."""
    out: list[tuple[int, int]] = []
    begin = at = start
    end = len(data)
    while at < end:
        newline = data.find(b"\n", at)
        line_end = end if newline < 0 else newline + 1
        if line_end - begin > MAX_CHUNK:
            if at > begin:  # the chunk is full: it ends before this line
                out.append((begin, at - begin))
                begin = at
            else:  # one line longer than a chunk
                out.append((begin, MAX_CHUNK))
                begin = at = begin + MAX_CHUNK
            continue
        if newline < 0:
            break
        if line_end - begin >= MIN_CHUNK and _boundary(data, line_end, line_end - at):
            out.append((begin, line_end - begin))
            begin = line_end
        at = line_end
    if begin < end:
        out.append((begin, end - begin))
    return out


def _boundary(data: bytes, line_end: int, line_length: int) -> bool:
    """Whether a chunk ends after this line: decided by the bytes before the line end, with
    a chance in proportion to the line's length, so chunks run near TARGET bytes whatever
    the length of the lines."""
    window = data[max(0, line_end - WINDOW) : line_end]
    value = int.from_bytes(hashlib.blake2b(window, digest_size=4).digest(), "big")
    return value < min(line_length * (1 << 32) // TARGET, 1 << 32)


def cut_after(data: bytes, old: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The chunks of `data` when its first bytes were cut as `old` before: those kept, the
    rest cut anew from the end of the last one kept (a small last chunk is cut again)."""
    kept = list(old)
    if kept and kept[-1][1] < SMALL:
        kept.pop()
    start = kept[-1][0] + kept[-1][1] if kept else 0
    return kept + cut(data, start)
