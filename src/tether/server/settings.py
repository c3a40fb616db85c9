"""The server's settings, each resolved in one documented order: flag, then environment
variable, then `$TETHER_HOME/server/server.toml`, then the default.

| setting | flag | environment | default |
| --- | --- | --- | --- |
| database | --database | TETHER_SERVER_DATABASE | sqlite:///$TETHER_HOME/server/server.db |
| storage | --storage | TETHER_SERVER_STORAGE | $TETHER_HOME/server/objects |
| host | --host | TETHER_SERVER_HOST | 127.0.0.1 |
| port | --port | TETHER_SERVER_PORT | 8765 |
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tether.errors import UsageError
from tether.paths import tether_home

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


@dataclass(frozen=True)
class Settings:
    database: str
    storage: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    code_hours: float = 24.0
    """How long a one-time enrolment code is good for."""


def server_home() -> Path:
    return tether_home() / "server"


def config_file() -> Path:
    return server_home() / "server.toml"


def _config() -> dict[str, object]:
    path = config_file()
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None


def resolve(
    database: str | None = None,
    storage: str | None = None,
    host: str | None = None,
    port: int | None = None,
) -> Settings:
    """The settings: each from its flag, else its variable, else the file, else default."""
    config = _config()

    def pick(flag: object, variable: str, key: str, default: str) -> str:
        for value in (flag, os.environ.get(variable), config.get(key)):
            if value not in (None, ""):
                return str(value)
        return default

    home = server_home()
    port_text = pick(port, "TETHER_SERVER_PORT", "port", str(DEFAULT_PORT))
    try:
        port_value = int(port_text)
    except ValueError:
        raise UsageError(f"the server port must be a number, not {port_text!r}") from None
    return Settings(
        database=pick(
            database, "TETHER_SERVER_DATABASE", "database", f"sqlite:///{home}/server.db"
        ),
        storage=pick(storage, "TETHER_SERVER_STORAGE", "storage", str(home / "objects")),
        host=pick(host, "TETHER_SERVER_HOST", "host", DEFAULT_HOST),
        port=port_value,
    )
