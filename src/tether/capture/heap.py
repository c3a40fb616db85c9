"""glibc's malloc, told to hand large blocks back: for the processes of a long scan.

By default glibc serves a request of 128 KB or more with mmap, but raises that threshold
to the size of each such block freed (up to 32 MB), and its trim threshold to twice that.
A scan frees blocks of several MB (a raw chunk, a compressor's context, a long line parsed):
after the first, every later large buffer came from the heap, and up to twice the largest
stayed there once freed. A worker that read a 12 MB session (a line of 787 KB, parsed in a
9 MB block) then peaked 7 MB higher than one whose largest was 4 MB, for no live data.
Fixed, the thresholds stay where they are set.
"""

from __future__ import annotations

import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
THRESHOLD = 768 << 10
"""For both: a block of 768 KB or more is mapped on its own, and given back whole when
freed; the heap is trimmed when 768 KB at its top is free. Lower costs time: each block
parsed or compressed above it is mapped afresh. First scan of the bench corpus (time at 1x
and 10x, peak RSS at 10x; 1x peaks at 39-40 MB whatever the threshold):
128 KB: a quarter slower; 512 KB: 4.9 s, 55.9 s, 47 MB; 768 KB: 50.3 s, 48 MB;
1 MB: 4.6 s, 48.3 s, 49 MB; glibc's own (it moves up): 4.5 s, 56 MB."""


def fix_thresholds() -> bool:
    """Fix glibc's mmap and trim thresholds in this process (and the processes it forks
    after); False where there is no glibc (or it refused)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, THRESHOLD))
