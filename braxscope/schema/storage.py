"""The storage seam: every byte the writer and the reader move goes through a :class:`Storage`.

A store is a set of keys (``writers/p0-.../train/qpos/c.3.0.0``, ``zarr.json``, ...) on one of:

- a local disk or a shared POSIX filesystem (NFS, Lustre): :class:`LocalStorage`. The files are
  exactly those of zarr's ``LocalStore`` (which Zarr itself uses on the same directory for array
  creation), read and written directly: a call through Zarr's asyncio store costs about 0.5 ms
  here against 6 us for the read itself, and a one-frame seek reads a dozen keys.
- object storage (``s3://``, ``gs://``): :class:`ZarrStoreStorage` over Zarr's own
  ``zarr.storage.ObjectStore`` (obstore underneath; the ``braxscope[remote]`` extra). No
  hand-written S3 or GCS client.

Both publish with the same rule: a key a reader may be reading is replaced whole (a rename on
POSIX; a PUT is atomic per object), so a reader sees the old or the new bytes, never a torn mix.
Readers find every key from metadata and the commit record; only the list of writer groups is
listed (rarely, on object storage). Chunk encoding stays Zarr's: this module moves bytes only.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import os
from pathlib import Path
from typing import Iterable

from . import atomic
from .atomic import PARTIAL_SUFFIX
from .errors import BraxscopeError, NotAStoreError



class StorageUnavailableError(BraxscopeError):
    """Remote storage cannot be reached or refuses access (bucket, credentials, endpoint)."""


class RemoteSupportMissingError(BraxscopeError):
    """A URL was given but the remote-store libraries are not installed."""


class Storage:
    """Where a store's bytes live. Keys are ``/``-separated and relative to the store root.

    ``get`` returns None for a key that does not exist; every other failure raises (``OSError``
    locally, :class:`StorageUnavailableError` remotely), so "not there" is never confused with
    "could not ask".
    """

    url: str  # what the user named: a path or s3://bucket/prefix
    remote: bool  # object storage: no renames, no partial files, listing is a request
    zarr_store: object  # zarr.abc.store.Store over the same keys (array creation and odd layouts)

    def get(self, key: str) -> bytes | None:
        raise NotImplementedError

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        return [self.get(k) for k in keys]

    def put(self, key: str, data: bytes, *, replace: bool = True) -> None:
        """Write ``key``. ``replace``: a reader may read it now, so it must change whole; else it is
        read by no one before the next commit names it and may be written in place."""
        raise NotImplementedError

    def put_many(self, items: Iterable[tuple[str, bytes, bool]]) -> None:
        for key, data, replace in items:
            self.put(key, data, replace=replace)

    def create(self, key: str, data: bytes) -> bool:
        """Create ``key`` only if it does not exist (the writer lock). True when this call made it."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        return self.get(key) is not None

    def list_dir(self, prefix: str) -> list[str]:
        """Names of the groups (sub-directories, common prefixes) directly under ``prefix``."""
        raise NotImplementedError

    def partials(self, prefix: str = "") -> list[str]:
        """Keys of orphaned partial files under ``prefix`` (none on object storage)."""
        return []

    def remove_partials(self, prefix: str = "") -> int:
        n = 0
        for key in self.partials(prefix):
            self.delete(key)
            n += 1
        return n

    def describe(self, key: str = "") -> str:
        """``key`` as a user would name it (a path, or a URL)."""
        return f"{self.url.rstrip('/')}/{key}" if key else self.url

    def is_empty(self) -> bool:
        """True when nothing is stored (a new store may be created here)."""
        raise NotImplementedError

    def writable(self) -> "Storage":
        """The same storage, open for writing (the viewer's one write: control.json)."""
        raise NotImplementedError


# ---------------------------------------------------------------------------- local and shared POSIX


class LocalStorage(Storage):
    """A directory on a local disk or a shared POSIX filesystem."""

    remote = False

    def __init__(self, root: str | os.PathLike, *, read_only: bool = False):
        from zarr.storage import LocalStore

        self.root = Path(root)
        self.url = str(root)
        self.read_only = read_only
        # A plain path, never a file:// URL: fsspec writes files in place (readers see half files).
        self.zarr_store = LocalStore(self.root, read_only=read_only)
        self._prefix = f"{self.root}{os.sep}"

    def path(self, key: str) -> Path:
        return self.root / key if key else self.root

    def _str(self, key: str) -> str:
        # Plain strings on the read path: pathlib costs about a quarter of a small chunk read.
        return self._prefix + key

    def get(self, key: str) -> bytes | None:
        # os-level reads: a third less time per small chunk file than open().read() (no buffered
        # file object), which adds up over the thousands a recorded catalog is made of.
        try:
            fd = os.open(self._str(key), os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            parts = []
            while part := os.read(fd, 1 << 22):
                parts.append(part)
            return b"".join(parts) if len(parts) != 1 else parts[0]
        finally:
            os.close(fd)

    def put(self, key: str, data: bytes, *, replace: bool = True) -> None:
        # Same scheme as zarr's LocalStore (see atomic.py): a temporary name, then a rename over
        # the key. A killed writer leaves only a *.partial orphan, which resume removes.
        atomic.write_bytes(self._str(key), data, replace=replace)

    def create(self, key: str, data: bytes) -> bool:
        return atomic.create_bytes(self._str(key), data)

    def delete(self, key: str) -> None:
        try:
            os.unlink(self._str(key))
        except FileNotFoundError:
            pass

    def exists(self, key: str) -> bool:
        return os.path.exists(self._str(key))

    def list_dir(self, prefix: str) -> list[str]:
        try:
            return sorted(e.name for e in os.scandir(self._str(prefix)) if e.is_dir())
        except (FileNotFoundError, NotADirectoryError):
            return []

    def partials(self, prefix: str = "") -> list[str]:
        base = self.path(prefix)
        return sorted(str(p.relative_to(self.root)).replace(os.sep, "/") for p in base.rglob(f"*{PARTIAL_SUFFIX}"))

    def is_empty(self) -> bool:
        return not self.root.exists() or (self.root.is_dir() and not any(self.root.iterdir()))

    def writable(self) -> "LocalStorage":
        return self if not self.read_only else LocalStorage(self.root, read_only=False)


# ---------------------------------------------------------------------------- zarr stores (remote)

# Every remote request is bounded: a wrong endpoint or a dead network is an error within seconds,
# never a hang. obstore retries transient failures itself within these limits.
_CLIENT_OPTIONS = {"connect_timeout": "5s", "timeout": "30s"}
# obstore's default retries for up to 3 minutes; a user waiting on a typo should not.
_RETRY = {"max_retries": 3, "retry_timeout": _dt.timedelta(seconds=15),
          "backoff": {"init_backoff": _dt.timedelta(milliseconds=100), "max_backoff": _dt.timedelta(seconds=2),
                      "base": 2.0}}
_SYNC_TIMEOUT_S = 120.0


class ZarrStoreStorage(Storage):
    """Any ``zarr.abc.store.Store`` (here: Zarr's ``ObjectStore`` over S3 or GCS), driven through
    Zarr's own event loop. Several keys are fetched or written in one round trip (``get_many``,
    ``put_many``), so a commit or a seek costs one request latency, not one per key."""

    remote = True

    def __init__(self, store, url: str):
        self.zarr_store = store
        self.url = url

    def _run(self, coro):
        from zarr.core.sync import sync

        try:
            return sync(coro, timeout=_SYNC_TIMEOUT_S)
        except FileNotFoundError:
            raise
        except BraxscopeError:
            raise
        except Exception as e:  # noqa: BLE001 - obstore's and the network's errors, made one line
            raise StorageUnavailableError(f"{self.url}: {_one_line(e)}") from None

    def _get_many(self, keys):
        from zarr.core.buffer import default_buffer_prototype

        proto = default_buffer_prototype()

        async def one(k):
            buf = await self.zarr_store.get(k, proto)
            return None if buf is None else buf.to_bytes()

        async def many():
            return await asyncio.gather(*(one(k) for k in keys))

        return self._run(many())

    def get(self, key: str) -> bytes | None:
        return self._get_many([key])[0]

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        return self._get_many(list(keys)) if keys else []

    def put(self, key: str, data: bytes, *, replace: bool = True) -> None:
        self.put_many([(key, data, replace)])

    def put_many(self, items) -> None:
        from zarr.core.buffer import default_buffer_prototype

        proto = default_buffer_prototype()
        items = list(items)
        if not items:
            return

        async def many():
            # A PUT replaces an object whole: the same guarantee the rename gives on POSIX.
            await asyncio.gather(*(self.zarr_store.set(k, proto.buffer.from_bytes(d)) for k, d, _ in items))

        self._run(many())

    def create(self, key: str, data: bytes) -> bool:
        from zarr.core.buffer import default_buffer_prototype

        # zarr's ObjectStore makes this a conditional PUT (S3 If-None-Match: *, GCS
        # ifGenerationMatch=0), so of two writers only one creates the key; it does not say
        # which, so read the key back: ours holds our bytes (a lock doc carries pid, host, time).
        self._run(self.zarr_store.set_if_not_exists(key, default_buffer_prototype().buffer.from_bytes(data)))
        return self.get(key) == data

    def delete(self, key: str) -> None:
        self._run(self.zarr_store.delete(key))

    def exists(self, key: str) -> bool:
        return bool(self._run(self.zarr_store.exists(key)))

    def list_dir(self, prefix: str) -> list[str]:
        async def names():
            return [n async for n in self.zarr_store.list_dir(prefix.rstrip("/") + "/")]

        # Group names only: keys directly under the prefix (its zarr.json) are not groups.
        return sorted(n.rstrip("/") for n in self._run(names()) if "." not in n)

    def is_empty(self) -> bool:
        return bool(self._run(self.zarr_store.is_empty("")))

    def writable(self) -> "ZarrStoreStorage":
        if not self.zarr_store.read_only:
            return self
        return ZarrStoreStorage(self.zarr_store.with_read_only(False), self.url)


def _one_line(e: BaseException) -> str:
    """obstore's error as one line, with what to do for the usual causes."""
    text = str(e).strip()
    first = text.splitlines()[0] if text else type(e).__name__
    if "169.254.169.254" in text or "metadata" in text.lower() and "credential" in text.lower():
        return ("no credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE; "
                "for gs://, GOOGLE_APPLICATION_CREDENTIALS)")
    if "NoSuchBucket" in text:
        return "the bucket does not exist (check the URL, or create it first)"
    for marker in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403 Forbidden"):
        if marker in text:
            return f"access denied ({marker}): check the credentials in AWS_* (or GOOGLE_APPLICATION_CREDENTIALS)"
    if "error sending request" in text or "connect" in text.lower() and "error" in text.lower():
        endpoint = os.environ.get("AWS_ENDPOINT_URL") or "the service"
        return f"cannot reach {endpoint} ({first[:120]}): check AWS_ENDPOINT_URL and the network"
    return first[:240]


def _open_remote(url: str, *, read_only: bool) -> Storage:
    scheme, _, rest = url.partition("://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise NotAStoreError(f"{url}: name a bucket and a path, like {scheme}://my-bucket/runs/ant.zarr")
    try:
        from obstore.store import GCSStore, S3Store
        from zarr.storage import ObjectStore
    except ImportError:
        raise RemoteSupportMissingError(f"{url}: stores on {scheme}:// need the remote extra: "
                                        "pip install 'braxscope[remote]'") from None
    options = dict(_CLIENT_OPTIONS)
    try:
        if scheme == "s3":
            endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or ""
            if endpoint.startswith("http://"):
                options["allow_http"] = True  # a local S3 (moto, MinIO) without TLS
            # Credentials, region and endpoint come from the usual AWS_* variables (obstore reads them).
            kwargs = {"endpoint": endpoint} if endpoint else {}
            if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
                kwargs["region"] = "us-east-1"
            raw = S3Store(bucket, prefix=prefix.strip("/") or None, client_options=options, retry_config=_RETRY,
                          **kwargs)
        else:
            # Credentials from GOOGLE_APPLICATION_CREDENTIALS (or GOOGLE_SERVICE_ACCOUNT*).
            raw = GCSStore(bucket, prefix=prefix.strip("/") or None, client_options=options, retry_config=_RETRY)
    except Exception as e:  # noqa: BLE001 - a bad configuration: one line
        raise StorageUnavailableError(f"{url}: cannot configure the {scheme} client ({_one_line(e)})") from None
    return ZarrStoreStorage(ObjectStore(raw, read_only=read_only), url.rstrip("/"))


REMOTE_SCHEMES = ("s3", "gs")


def is_url(location) -> bool:
    return isinstance(location, str) and "://" in location


def open_storage(location: str | os.PathLike | Storage, *, read_only: bool = True) -> Storage:
    """The storage a user named: a path (local or shared filesystem), ``s3://bucket/path`` or
    ``gs://bucket/path``. A :class:`Storage` is passed through (tests wrap one to inject faults)."""
    if isinstance(location, Storage):
        return location
    if is_url(location):
        scheme = location.partition("://")[0].lower()
        if scheme == "file":
            raise NotAStoreError(f"{location}: open local stores by plain path, not a file:// URL "
                                 "(fsspec's file store writes in place, so readers could see half a file)")
        if scheme not in REMOTE_SCHEMES:
            raise NotAStoreError(f"{location}: unsupported URL scheme {scheme}://; use a path, s3:// or gs://")
        return _open_remote(location, read_only=read_only)
    return LocalStorage(location, read_only=read_only)


__all__ = ["Storage", "LocalStorage", "ZarrStoreStorage", "open_storage", "is_url", "StorageUnavailableError",
           "RemoteSupportMissingError", "PARTIAL_SUFFIX"]
