"""Running a piece of a test where mode bits stop the owner of the files: tests run as root
here and in CI, and root reads and writes past them unless it gives up the capabilities."""

from __future__ import annotations

import ctypes
import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from typing import Any


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_file_capabilities() -> None:
    """capset(2): this process keeps root's uid but no longer passes every permission check
    (CAP_DAC_OVERRIDE = 1, CAP_DAC_READ_SEARCH = 2)."""
    libc = ctypes.CDLL(None, use_errno=True)
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    assert libc.capget(ctypes.byref(header), data) == 0, os.strerror(ctypes.get_errno())
    keep = ~((1 << 1) | (1 << 2)) & 0xFFFFFFFF
    for field in ("effective", "permitted", "inheritable"):
        setattr(data[0], field, getattr(data[0], field) & keep)
    assert libc.capset(ctypes.byref(header), data) == 0, os.strerror(ctypes.get_errno())


def where_modes_stop_root(call: Callable[[], Any], deadline: float = 60.0) -> Any:
    """`call()`'s value; when this is root, computed in a forked child without
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (an exception in it is raised here)."""
    if os.geteuid() != 0:
        return call()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read)
            drop_file_capabilities()
            try:
                result: tuple[str, Any] = ("value", call())
            except BaseException as exc:  # raised again in the parent
                result = ("error", exc)
            with os.fdopen(write, "wb") as out:
                out.write(pickle.dumps(result))
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    end = time.monotonic() + deadline
    with os.fdopen(read, "rb") as got:
        while time.monotonic() < end:
            if select.select([got], [], [], 1.0)[0]:
                chunk = got.read1(1 << 16)
                if not chunk:
                    break
                data += chunk
        else:
            os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert data, "the child ended without a result"
    kind, value = pickle.loads(data)  # our own child's bytes
    if kind == "error":
        raise value
    return value
