"""The server stays an extra and the sync client stays out of the CLI's way: nothing but
`tether server …` imports the server, nothing but the sync commands imports the client,
`tether --help` and the read commands load neither, and a missing extra is one line that
says how to install it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run
from tests.test_layout import graph

HEAVY = ("fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn", "obstore", "httpx")


def importers(prefix: str) -> set[str]:
    return {
        name
        for name, targets in graph().items()
        if not name.startswith(prefix) and any(t.startswith(prefix) for t in targets)
    }


def test_only_the_server_command_imports_the_server() -> None:
    assert importers("tether.server") == {"tether.commands.server"}


def test_only_sync_commands_and_the_server_import_the_sync_client() -> None:
    users = importers("tether.sync")
    assert users <= {"tether.commands.sync", "tether.commands.convert", "tether.commands.watch"} | {
        name for name in users if name.startswith("tether.server")
    }
    server_uses = {
        target
        for name, targets in graph().items()
        if name.startswith("tether.server")
        for target in targets
        if target.startswith("tether.sync.")  # `from tether.sync import wire` names the package
    }
    assert server_uses == {"tether.sync.wire"}


@pytest.mark.parametrize("argv", [["--help"], ["list", "--no-scan", "--json"]])
def test_help_and_reading_load_no_server_or_client(argv: list[str], tmp_path: Path) -> None:
    probe = (
        "import sys; sys.argv = ['tether', *sys.argv[1:]]\n"
        "from tether.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"loaded = [m for m in sys.modules if m.split('.')[0] in {HEAVY!r}"
        " or m.startswith(('tether.server', 'tether.sync'))]\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *argv],
        capture_output=True,
        text=True,
        check=False,
        env={"TETHER_HOME": str(tmp_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert "LOADED []" in done.stderr, done.stderr[-2000:]


def test_a_missing_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "fastapi" else real(name, *a),
    )
    result = run("server", "user", "list", ok=False)
    assert result.exit_code == 1
    assert "pip install 'tether[server]'" in result.stderr and "fastapi" in result.stderr
