"""Crash-safety mechanics of the commit protocol: atomic JSON files and the writer lock.

Every file here is written whole to a temporary name in the same directory and renamed over
the target, so a reader (or a crash) sees either the old or the new version, never a torn one.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import time
import uuid
from pathlib import Path


def write_json_atomic(path: Path, doc: dict, *, fsync: bool = False) -> None:
    # Same directory as the target: os.replace is atomic only within one filesystem.
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.partial")
    data = json.dumps(doc, indent=1, allow_nan=False).encode()
    with open(tmp, "wb") as f:
        f.write(data)
        if fsync:
            # The commit record is the one file whose loss loses rows; data chunks written
            # before it are flushed by the same fsync ordering on ext4 (data=ordered).
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> dict:
    with open(path, "rb") as f:
        return json.loads(f.read())


def remove_partials(root: Path) -> int:
    """Delete ``*.partial`` orphans a killed writer left (zarr's LocalStore and ours). Returns count."""
    n = 0
    for p in root.rglob("*.partial"):
        try:
            p.unlink()
            n += 1
        except FileNotFoundError:
            pass
    return n


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


def try_create_lock(path: Path, doc: dict) -> bool:
    """Create the lock file exclusively (O_EXCL). False when it already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as e:
        if e.errno == errno.EEXIST:
            return False
        raise
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f)
    return True


def lock_doc(epoch: int) -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(), "epoch": epoch, "acquired": time.time()}
