"""Notices of long work (the first redaction, an archive upgrade) reach a person at a
terminal and nothing else: never a pipe a script reads."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

SAY = "from tether.terminal import say; say('tether: compacting, once')"


def test_a_notice_reaches_a_terminal() -> None:
    main, child = pty.openpty()
    try:
        subprocess.run([sys.executable, "-c", SAY], stderr=child, check=True, timeout=60)
        said = os.read(main, 1024)
    finally:
        os.close(main)
        os.close(child)
    assert b"tether: compacting, once" in said


def test_a_notice_never_reaches_a_pipe() -> None:
    done = subprocess.run([sys.executable, "-c", SAY], check=True, capture_output=True, timeout=60)
    assert done.returncode == 0 and done.stderr == b"" and done.stdout == b""
