"""Where tether keeps its own data: $TETHER_HOME, else the platform's user data dir."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # pathlib is loaded where a Path is made: the quick answers take strings
    from collections.abc import Mapping
    from pathlib import Path


def tether_home(env: Mapping[str, str] | None = None) -> Path:
    from pathlib import Path

    env = os.environ if env is None else env
    if env.get("TETHER_HOME"):
        return Path(env["TETHER_HOME"]).expanduser()
    if env.get("TETHER_TESTING"):
        raise RuntimeError("tests must set TETHER_HOME: the real data dir is off limits")
    import platformdirs

    return Path(platformdirs.user_data_dir("tether", appauthor=False))


def data_dir(env: Mapping[str, str] | None = None) -> str:
    """tether_home() as a string, without importing pathlib (the quick answers' path)."""
    env = os.environ if env is None else env
    if env.get("TETHER_HOME"):
        return os.path.expanduser(env["TETHER_HOME"])
    return str(tether_home(env))


def user_home_str(env: Mapping[str, str] | None = None) -> str:
    """user_home() as a string, without importing pathlib."""
    env = os.environ if env is None else env
    return env.get("HOME") or os.path.expanduser("~")


def user_home(env: Mapping[str, str] | None = None) -> Path:
    """The home whose tool stores are scanned (HOME, as the tools themselves use it)."""
    from pathlib import Path

    env = os.environ if env is None else env
    return Path(env.get("HOME") or Path.home())


def db_path(home: Path) -> Path:
    return home / "tether.db"


def shim_dir(home: Path) -> Path:
    """Where the auto-resume shims are installed."""
    return home / "shims"
