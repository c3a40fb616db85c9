"""What the client and the server agree on about chunks: their names, their compression,
the batches they travel in, and the limits on all three.

A chunk is named by the sha256 of its raw bytes and travels zstd-compressed. A batch (the
body of `POST /api/v1/chunks` and the answer of `POST /api/v1/chunks/fetch`) is
`MAGIC` followed by records of 32 bytes of digest, a 4-byte big-endian length and that many
bytes of compressed chunk. Standard library and zstandard only: the server imports this.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Iterator

from tether.errors import TetherError

MAGIC = b"TTC1"
HEADER = struct.Struct(">32sI")
MAX_CHUNK = 8 << 20
"""Largest raw chunk (the chunker cuts at 4 MiB, or after one longer line, up to this)."""
MAX_BATCH = 32 << 20
"""Largest batch body, compressed."""
MAX_HASHES = 10_000
"""Most hashes one request may name."""
MAX_BATCH_RAW = 1 << 30
"""Largest batch once its chunks are decompressed: zstd inflates up to thousands-fold, so
32 MiB of chunks that each inflate to MAX_CHUNK would keep a server worker decompressing
and hashing hundreds of gigabytes."""
MAX_SESSION_RAW = 2 << 30
"""Largest session, its files' bytes together: its manifest may name one chunk any number of
times, and the server reads every byte back for its pages."""
MAX_SESSION_BODY = 16 << 20
"""Largest JSON body of a session push (its manifest and search text)."""
MAX_ANSWER = 64 << 20
"""Largest answer the client reads from a server (a chunk batch is at most MAX_BATCH and a
listing of every session a few MiB): past it a hostile or broken server is refused, not
read into memory."""
HEX64 = re.compile(r"[0-9a-f]{64}")
CONTENT_TYPE = "application/x-tether-chunks"


class BadBatch(TetherError, ValueError):
    """A batch that is not one: the message says what is wrong with it."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_hash(text: object) -> bool:
    return isinstance(text, str) and HEX64.fullmatch(text) is not None


def compress(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor(level=3, write_content_size=True).compress(data)


def decompress(data: bytes, limit: int = MAX_CHUNK) -> bytes:
    """The raw bytes of one compressed chunk, refused past `limit` (a small body that would
    inflate to gigabytes is refused before it does)."""
    import zstandard

    try:
        params = zstandard.get_frame_parameters(data)
    except zstandard.ZstdError as exc:
        raise BadBatch(f"a chunk is not zstd data: {exc}") from None
    if params.content_size in (zstandard.CONTENTSIZE_UNKNOWN, zstandard.CONTENTSIZE_ERROR):
        raise BadBatch("a chunk does not say its size")
    if params.content_size > limit:
        raise BadBatch(f"a chunk of {params.content_size} bytes is over the {limit}-byte limit")
    try:
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=limit)
    except zstandard.ZstdError as exc:
        raise BadBatch(f"a chunk does not decompress: {exc}") from None


def pack(items: list[tuple[str, bytes]]) -> bytes:
    """A batch of (hash, compressed bytes)."""
    out = [MAGIC]
    for name, data in items:
        out.append(HEADER.pack(bytes.fromhex(name), len(data)))
        out.append(data)
    return b"".join(out)


def unpack(body: bytes) -> Iterator[tuple[str, bytes]]:
    """The (hash, compressed bytes) of a batch; BadBatch when it is malformed."""
    if not body.startswith(MAGIC):
        raise BadBatch("the body is not a chunk batch (it does not start with TTC1)")
    at = len(MAGIC)
    while at < len(body):
        if at + HEADER.size > len(body):
            raise BadBatch("the batch ends inside a record header")
        raw, length = HEADER.unpack_from(body, at)
        at += HEADER.size
        if at + length > len(body):
            raise BadBatch("the batch ends inside a chunk")
        yield raw.hex(), body[at : at + length]
        at += length


SourceManifest = tuple[str, str, list[tuple[str, int]]]
"""One source of a session as pushed: its name, its mode, its chunks (hash, raw length)."""


def revision(sources: list[SourceManifest]) -> str:
    """The name of a session's content: the hash of its sources' chunk lists, computed the
    same way by the client (to know what it pushed) and the server (to know what it holds)."""
    import json

    canonical = [[name, mode, [[h, n] for h, n in chunks]] for name, mode, chunks in sources]
    return digest(json.dumps(canonical, separators=(",", ":")).encode())
