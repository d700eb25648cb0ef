"""A FUSE filesystem over a store directory that misbehaves like an NFS client, at the kernel
boundary: read-only passthrough that raises ESTALE and EIO now and then, hides chunk files for a
moment after they appear (late visibility), and serves a writer group's zarr.json from its previous
version (stale metadata). Faults stop when the file ``<SRC>.faults-off`` exists.

    python -m tests.schema._faultfs SRC MOUNTPOINT      # until unmounted (fusermount -u MOUNTPOINT)
"""

from __future__ import annotations

import errno
import os
import random
import sys
import threading
import time

from fuse import FUSE, FuseOSError, Operations

LATE_S = 0.05  # a chunk file is invisible this long after it was last written


class FaultFS(Operations):
    def __init__(self, src: str):
        self.src = src
        self.off_flag = src.rstrip("/") + ".faults-off"
        self.rng = random.Random(0)
        self._mutex = threading.Lock()
        self.previous: dict[str, bytes] = {}
        self.handles: dict[int, bytes] = {}
        self.next_fh = 1

    def _faulty(self) -> bool:
        return not os.path.exists(self.off_flag)

    def _count(self, kind: str) -> None:
        # One line per fault, so the test can check that each kind happened.
        with open(self.src.rstrip("/") + ".faults.log", "a") as f:
            f.write(kind + "\n")

    def _real(self, path: str) -> str:
        return os.path.join(self.src, path.lstrip("/"))

    def _roll(self) -> float:
        with self._mutex:
            return self.rng.random()

    def getattr(self, path, fh=None):
        real = self._real(path)
        try:
            st = os.lstat(real)
        except OSError as e:
            raise FuseOSError(e.errno)
        if self._faulty() and "/c." in path and time.time() - st.st_mtime < LATE_S:
            self._count("late")
            raise FuseOSError(errno.ENOENT)  # written, but this client does not see it yet
        return {k: getattr(st, k) for k in ("st_mode", "st_nlink", "st_size", "st_uid", "st_gid", "st_atime",
                                            "st_mtime", "st_ctime")}

    def readdir(self, path, fh):
        return [".", "..", *os.listdir(self._real(path))]

    def open(self, path, flags):
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise FuseOSError(errno.EROFS)
        if self._faulty():
            roll = self._roll()
            if roll < 0.04:
                self._count("estale")
                raise FuseOSError(errno.ESTALE)
            if roll < 0.06:
                self._count("eio")
                raise FuseOSError(errno.EIO)
        try:
            with open(self._real(path), "rb") as f:
                data = f.read()
        except OSError as e:
            raise FuseOSError(e.errno)
        if path.endswith("zarr.json") and path.count("/") == 3 and path.startswith("/writers/"):
            prev = self.previous.get(path)
            self.previous[path] = data
            if prev is not None and self._faulty() and self._roll() < 0.3:
                self._count("stale")
                data = prev  # an attribute cache still serving the last version
        with self._mutex:
            fh = self.next_fh
            self.next_fh += 1
            self.handles[fh] = data
        return fh

    def read(self, path, size, offset, fh):
        return self.handles[fh][offset:offset + size]

    def release(self, path, fh):
        self.handles.pop(fh, None)
        return 0


if __name__ == "__main__":
    src, mnt = sys.argv[1], sys.argv[2]
    # direct_io: reads return what open() chose (old or new bytes), not the kernel's cached size.
    FUSE(FaultFS(src), mnt, foreground=True, ro=True, direct_io=True, nothreads=False, attr_timeout=0,
         entry_timeout=0, negative_timeout=0)
