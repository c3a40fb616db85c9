"""Where chunks' bytes live: a local folder, or any S3-compatible object store.

One small interface (`Storage`): put, get, has. Keys are content hashes, so a put is
idempotent and two app processes writing the same key write the same bytes.
A URL names the store: `file:///path` (or a plain path), or
`s3://bucket?endpoint=http://host:9000&region=us-east-1` with the credentials in
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or `key` and `secret` in the query).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from tether.errors import TetherError, UsageError


class StorageUnavailable(TetherError):
    """The object store cannot be reached or refused a request: the request may be retried."""


class Storage(Protocol):
    description: str

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes:
        """The object's bytes; FileNotFoundError when there is none."""
        ...

    def has(self, key: str) -> bool: ...

    def check(self) -> None:
        """Raise StorageUnavailable when the store cannot be used."""
        ...


def object_key(digest: str) -> str:
    return f"chunks/{digest[:2]}/{digest}"


class FolderStorage:
    """Objects as files under one folder, written to a temp file and renamed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = f"folder {root}"
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".put-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            Path(temp).replace(path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def has(self, key: str) -> bool:
        return self._path(key).is_file()

    def check(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise StorageUnavailable(f"the storage folder {self.root} is not writable")


class S3Storage:
    """Objects in an S3-compatible bucket, through obstore."""

    def __init__(self, bucket: str, prefix: str, options: dict[str, str]) -> None:
        from obstore.store import S3Store

        endpoint = options.get("endpoint")
        client: dict[str, object] = {"timeout": "30s", "connect_timeout": "3s"}
        if endpoint and endpoint.startswith("http://"):
            client["allow_http"] = True
        retry = {
            "max_retries": 2,
            "backoff": {
                "init_backoff": timedelta(milliseconds=100),
                "max_backoff": timedelta(seconds=1),
                "base": 2,
            },
            "retry_timeout": timedelta(seconds=5),
        }
        self.store = S3Store(
            bucket,
            prefix=prefix or None,
            endpoint=endpoint,
            region=options.get("region") or os.environ.get("AWS_REGION") or "us-east-1",
            access_key_id=options.get("key") or os.environ.get("AWS_ACCESS_KEY_ID"),
            secret_access_key=options.get("secret") or os.environ.get("AWS_SECRET_ACCESS_KEY"),
            virtual_hosted_style_request=False,
            client_options=client,  # type: ignore[arg-type]  # obstore's TypedDict
            retry_config=retry,  # type: ignore[arg-type]  # same
        )
        where = f" at {endpoint}" if endpoint else ""
        self.description = f"S3 bucket {bucket}{where}"

    def put(self, key: str, data: bytes) -> None:
        import obstore

        with self._errors():
            obstore.put(self.store, key, data)

    def get(self, key: str) -> bytes:
        import obstore

        with self._errors():
            return bytes(obstore.get(self.store, key).bytes())

    def has(self, key: str) -> bool:
        import obstore

        try:
            with self._errors():
                obstore.head(self.store, key)
        except FileNotFoundError:
            return False
        return True

    def check(self) -> None:
        self.has("healthz")

    def _errors(self) -> AbstractContextManager[None]:
        return _s3_errors(self.description)


@contextmanager
def _s3_errors(description: str) -> Iterator[None]:
    """obstore's errors (other than a missing object) as StorageUnavailable, one line."""
    from obstore.exceptions import BaseError

    try:
        yield
    except FileNotFoundError:
        raise
    except (BaseError, OSError) as exc:
        lines = str(exc).strip().splitlines()
        reason = lines[0] if lines else type(exc).__name__
        raise StorageUnavailable(f"the {description} is unavailable: {reason[:300]}") from exc


def open_storage(url: str) -> Storage:
    """The store a URL names (see the module's docstring)."""
    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
        path = unquote(parts.path) if parts.scheme else url
        return FolderStorage(Path(path).expanduser())
    if parts.scheme == "s3":
        if not parts.netloc:
            raise UsageError(f"{url!r} names no bucket: s3://BUCKET?endpoint=URL")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        return S3Storage(parts.netloc, parts.path.strip("/"), query)
    raise UsageError(f"unknown storage {url!r}: use a folder (file:///path) or s3://BUCKET")
