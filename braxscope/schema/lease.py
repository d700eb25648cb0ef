"""The writer lease of one writer group: the lock, its take-over, and fencing.

``writers/<id>/writer.lock`` is JSON ``{"pid", "host", "epoch", "acquired", "token"}``. It is
created exclusively by the writer that creates or resumes the group and deleted by ``close()``;
its liveness signal is the group's commit-record heartbeat.

- Local and shared POSIX filesystems: the exclusive create is a hard link of a fully written
  temporary file (atomic on local disks and on NFS servers), so no one reads a half-written lock.
- Object storage: a conditional PUT (S3 ``If-None-Match: *``, GCS ``ifGenerationMatch=0``)
  through Zarr's ``ObjectStore.set_if_not_exists``. A take-over of a stale lock there is a plain
  PUT: two resumers racing for the same stale group can both believe they hold it for a moment;
  fencing (below) then stops all but the last one before it publishes anything. S3-compatible
  stores without conditional writes give no exclusivity at creation either: run one writer per
  writer group there (the default: every recording process creates its own group).
- Fencing: before writing and again before publishing, a writer re-reads the lock; if its
  ``token`` is not the writer's own, another writer took over: :class:`WriterFencedError`.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid

from . import layout
from .errors import WriterFencedError, WriterLockedError
from .storage import Storage


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_is_stale(lock: dict, heartbeat: float | None, stale_after_s: float) -> bool:
    """A lock is stale when its process is gone (same host) or its heartbeat is old (other host)."""
    if lock.get("host") == socket.gethostname():
        return not _pid_alive(int(lock.get("pid", -1)))
    return heartbeat is None or time.time() - heartbeat > stale_after_s


def lock_key(group_key: str) -> str:
    return f"{group_key}/{layout.LOCK_FILE}"


def read_lock(storage: Storage, group_key: str) -> dict | None:
    """The lock document, None when there is none; ``{}`` when it cannot be parsed."""
    raw = storage.get(lock_key(group_key))
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}


class Lease:
    """This process's hold on one writer group (see the module docstring)."""

    def __init__(self, storage: Storage, group_key: str, epoch: int):
        self.storage = storage
        self.group_key = group_key
        self.epoch = int(epoch)
        self.doc = {"pid": os.getpid(), "host": socket.gethostname(), "epoch": self.epoch, "acquired": time.time(),
                    "token": uuid.uuid4().hex}
        self._bytes = json.dumps(self.doc).encode()

    @property
    def key(self) -> str:
        return lock_key(self.group_key)

    @classmethod
    def create(cls, storage: Storage, group_key: str, writer_id: str) -> "Lease":
        """The first lease of a new group (epoch 1)."""
        lease = cls(storage, group_key, 1)
        if not storage.create(lease.key, lease._bytes):
            raise WriterLockedError(f"writer group {writer_id} is already locked")
        return lease

    @classmethod
    def take(cls, storage: Storage, group_key: str, writer_id: str, epoch: int, heartbeat: float | None,
             stale_after_s: float) -> "Lease":
        """Resume: take the lock, or take it over when its holder is gone (stale)."""
        lease = cls(storage, group_key, epoch)
        if not storage.create(lease.key, lease._bytes):
            held = read_lock(storage, group_key)
            if held and not lock_is_stale(held, heartbeat, stale_after_s):
                raise WriterLockedError(
                    f"writer group {writer_id} is held by pid {held.get('pid')} on {held.get('host')}: stop it first"
                )
            storage.put(lease.key, lease._bytes)  # replaced whole: the stale holder is fenced from now on
        return lease

    def check(self, writer_id: str) -> None:
        """Fencing: raise :class:`WriterFencedError` when the lock is no longer this lease's."""
        held = read_lock(self.storage, self.group_key)
        if not held or held.get("token") != self.doc["token"]:
            raise WriterFencedError(
                f"writer group {writer_id} was taken over by another writer "
                f"(epoch {held.get('epoch') if held else None}); this writer stops"
            )

    def release(self) -> None:
        try:
            self.storage.delete(self.key)
        except OSError:
            pass  # best effort: the store may be gone; the heartbeat then goes stale


__all__ = ["Lease", "lock_is_stale", "read_lock", "lock_key"]
