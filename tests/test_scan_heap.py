"""tether.capture.heap: a scan's processes keep large blocks out of glibc's heap."""

from __future__ import annotations

import ctypes
import subprocess
import sys

import pytest

PROBE = """
import ctypes, sys
from tether.capture.heap import fix_thresholds

libc = ctypes.CDLL(None)
names = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in names.split()]
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "fixed":
    assert fix_thresholds()
libc.free(libc.malloc(8 << 20))  # freed, it raises glibc's own threshold to 8 MB
before = libc.mallinfo2().hblks
block = libc.malloc(2 << 20)
print(libc.mallinfo2().hblks - before)
libc.free(block)
"""


def _glibc_has_mallinfo2() -> bool:
    try:
        return hasattr(ctypes.CDLL(None), "mallinfo2")
    except OSError:
        return False


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not _glibc_has_mallinfo2(), reason="glibc only"
)
def test_fixed_thresholds_keep_a_large_block_out_of_the_heap_after_a_larger_one_went() -> None:
    def mapped(how: str) -> int:
        out = subprocess.run(
            [sys.executable, "-c", PROBE, how], capture_output=True, text=True, check=True
        )
        return int(out.stdout)

    assert mapped("default") == 0, "glibc's threshold moved up: 2 MB came from the heap"
    assert mapped("fixed") == 1, "mapped on its own, returned whole when freed"
