"""The server this machine is enrolled with: its URL, the user, this device's name and its
token, kept in `$TETHER_HOME/remote.json`, mode 0600 (the token is a password)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tether.errors import TetherError, UsageError
from tether.paths import tether_home

FILE = "remote.json"
TOKEN = re.compile(r"tt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")


class NotLoggedIn(TetherError):
    """This machine is enrolled with no server: `tether login URL` first."""


@dataclass(frozen=True)
class Remote:
    url: str
    user: str
    device: str
    token: str


def remote_file() -> Path:
    return tether_home() / FILE


def server_url(url: str) -> str:
    """A server's base URL as given (`http://host:8765`), checked: http(s), a host, no
    query; no trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{url!r} is not a server URL: give http://HOST:PORT or https://HOST")
    if parts.query or parts.fragment or parts.username:
        raise UsageError(f"{url!r}: give the server's URL alone (no user, query or fragment)")
    return url.strip().rstrip("/")


def load() -> Remote:
    """The remote this machine is enrolled with; NotLoggedIn when none."""
    from tether.files import read_regular

    path = remote_file()
    try:
        data = read_regular(str(path), 65536)
    except FileNotFoundError:
        raise NotLoggedIn(
            "this machine is not logged in to a tether server: run `tether login URL`"
        ) from None
    except OSError as exc:
        raise NotLoggedIn(f"cannot read {path} ({exc.strerror}): run `tether login URL`") from None
    try:
        fields = json.loads(data)
        remote = Remote(
            url=server_url(str(fields["url"])),
            user=str(fields["user"]),
            device=str(fields["device"]),
            token=str(fields["token"]),
        )
    except (ValueError, KeyError, TypeError, UsageError):
        raise NotLoggedIn(f"{path} is damaged: run `tether login URL` again") from None
    if not TOKEN.fullmatch(remote.token):
        raise NotLoggedIn(f"{path} holds no valid token: run `tether login URL` again")
    return remote


def save(remote: Remote) -> Path:
    """Keep the remote, readable by this user only (written whole, then renamed)."""
    path = remote_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{FILE}.{os.getpid()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(asdict(remote), fh)
            fh.write("\n")
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


NAME = re.compile(r"[a-z][a-z0-9._-]{0,63}")


def device_name(hostname: str) -> str | None:
    """A device name from a host name (`Alice-Laptop.local` -> `alice-laptop`), or None."""
    name = re.sub(r"[^a-z0-9._-]", "-", hostname.split(".", maxsplit=1)[0].lower()).strip("-._")
    name = name[:64]
    return name if NAME.fullmatch(name) else None
