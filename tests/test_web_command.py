"""`tether web` as a user runs it: a real server process on 127.0.0.1, the link it prints,
the browser opened through a private file, Ctrl-C; and `tether --help` none the slower."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.stores import place_claude

LINK = re.compile(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{20,})")


@pytest.fixture
def served(isolated_home: Path, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`tether web --port 0` over a home with one Claude session; the browser it opens is a
    script that writes down what it was given."""
    place_claude(isolated_home)
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    browser.chmod(0o755)
    env = {**os.environ, "BROWSER": str(browser)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tether", "web", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    line = ""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not LINK.search(line):
        line = process.stderr.readline()
        assert line or process.poll() is None, "tether web ended before printing its link"
    found = LINK.search(line)
    assert found, line
    try:
        yield found.group(0), process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)


def test_the_link_opens_the_pages_and_nothing_else_does(
    served: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    link, process = served
    base = link.split("/?", 1)[0]
    with httpx.Client(base_url=base, timeout=120) as client:  # a new HOME: rules load first
        assert client.get("/sessions").status_code == 403
        assert client.get("/sessions", headers={"host": "evil.example"}).status_code == 421
        answer = client.get(link, follow_redirects=True)
        assert answer.status_code == 200 and "Sessions" in answer.text
        assert str(answer.url) == f"{base}/sessions"  # the token has left the address bar
        assert "claude" in client.get("/sessions.json").text
    # The browser was given a private file, not the link: argv shows in `ps`.
    opened = ""
    for _ in range(100):
        if (tmp_path / "opened.txt").exists():
            opened = (tmp_path / "opened.txt").read_text().strip()
            break
        time.sleep(0.1)
    assert opened.startswith("file://") and "token" not in opened
    launch = Path(opened.removeprefix("file://"))
    assert link in launch.read_text().replace("&amp;", "&")
    assert launch.stat().st_mode & 0o077 == 0
    process.send_signal(signal.SIGINT)
    assert process.wait(30) == 0
    assert not launch.exists()


def test_help_imports_nothing_of_the_web() -> None:
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom tether.cli import main\n"
        "CliRunner().invoke(main, ['--help'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'starlette', 'jinja2',"
        " 'uvicorn', 'markupsafe', 'anyio'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_a_port_in_use_is_a_conflict(isolated_home: Path) -> None:
    import socket

    from tests.conftest import run

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run("web", "--port", str(port), "--no-open", ok=False)
    assert result.exit_code == 3
    assert f"port {port} is in use" in result.stderr
