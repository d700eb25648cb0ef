"""A live tail over storage that misbehaves like a network filesystem, injected at the storage
seam: files that show late, stale metadata (an older commit record), transient ESTALE and EIO.
While the writer is live these are "not yet": no wrong row is ever returned, and once the faults
stop the tail catches up with everything committed."""

from __future__ import annotations

import errno
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from braxscope.schema import BraxscopeError, StoreWriter, open_store
from braxscope.schema.storage import LocalStorage

from .conftest import toy_model


class FaultyStorage(LocalStorage):
    """LocalStorage whose reads fail now and then, like an NFS client's: ESTALE/EIO, a chunk that is
    not visible yet (reads as absent), and a writer's zarr.json served from an older version."""

    def __init__(self, root, seed=0, rate=1.0):
        super().__init__(root, read_only=True)
        self.rate = rate  # scales every fault's probability (1: a very unreliable share)
        self.on = True
        self.rng = random.Random(seed)
        self.old: dict[str, bytes] = {}  # key -> a previous version (the "cached" one)
        self.faults = {"estale": 0, "eio": 0, "late": 0, "stale": 0}
        self.lock = threading.Lock()

    def get(self, key):
        data = super().get(key)
        if not self.on:
            return data
        with self.lock:
            roll = self.rng.random() / self.rate
            if roll < 0.05:
                self.faults["estale"] += 1
                raise OSError(errno.ESTALE, "Stale file handle", key)
            if roll < 0.08:
                self.faults["eio"] += 1
                raise OSError(errno.EIO, "Input/output error", key)
            if "/c." in key and roll < 0.2:
                self.faults["late"] += 1
                return None  # not visible yet
            if key.endswith("zarr.json") and key.startswith("writers/") and key.count("/") == 2:
                prev, self.old[key] = self.old.get(key), data
                if prev is not None and roll < 0.4:
                    self.faults["stale"] += 1
                    return prev  # an attribute cache that still serves the last version
        return data


def _qpos_of(env_step, nq):
    return (env_step[:, None, None] * 0.001 + np.arange(nq)[None, None, :]).astype(np.float32)


def _writer(path, model, stop, done):
    w = StoreWriter.create(path, model, env_name="toy", dt=0.01, train_slots=1)
    n = 0
    while not stop.is_set():
        k = 7
        steps = np.arange(n, n + k)
        q = _qpos_of(steps, model.nq)
        zeros = np.zeros((k, 1, model.nv), np.float32)
        w.append_train(qpos=q, qvel=zeros, action=np.zeros((k, 1, model.nu), np.float32),
                       reward=np.ones((k, 1), np.float32), done=(steps % 50 == 49)[:, None], env_id=np.zeros((k, 1)),
                       env_step=steps, iteration=0)
        w.commit()
        n += k
        time.sleep(0.1)  # a commit every 0.1 s: about five times the recorder's rate
    done["rows"] = w.committed_rows["train"]
    w.commit()  # still live (not closed): the tail must catch up with a live writer too
    done["writer"] = w


def _tail_through_faults(path, open_reader, faults_seen, faults_off):
    """Tail a live writer through misbehaving storage: no wrong row, then catch up once faults stop."""
    model = toy_model()
    stop, done = threading.Event(), {}
    t = threading.Thread(target=_writer, args=(path, model, stop, done), daemon=True)
    t.start()
    while not (path / "writers").exists() or not open_store(path).writers():
        time.sleep(0.05)
    reader = None
    while reader is None:
        try:
            reader = open_reader()
        except (OSError, BraxscopeError):
            pass  # the faults hit the open itself: try again, as a viewer waiting for a store does
    seen = np.empty(0, np.int64)
    wrong = 0
    t_end, t_cap = time.monotonic() + 3.0, time.monotonic() + 30.0
    # At least 3 s, and until every kind of fault has hit the tail a few times.
    while time.monotonic() < t_end or (min(faults_seen().values()) < 3 and time.monotonic() < t_cap):
        reader.refresh()
        ws = reader.writers()
        if not ws:
            continue
        n = ws[0].rows["train"]
        if n > seen.size:
            try:
                rows = reader.train_rows(ws[0].writer_id, seen.size, n)
            except (OSError, BraxscopeError):
                continue  # not visible yet: asked again at the next poll, nothing shown
            wrong += int((rows["env_step"] != np.arange(seen.size, n)).sum())
            wrong += int((rows["qpos"] != _qpos_of(rows["env_step"], model.nq)).any(axis=(1, 2)).sum())
            seen = np.concatenate([seen, rows["env_step"]])
        time.sleep(0.02)
    stop.set()
    t.join(10)
    assert min(faults_seen().values()) >= 3, faults_seen()
    assert wrong == 0
    assert seen.size > 0
    # The faults stop: the tail catches up with every committed row.
    faults_off()
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and seen.size < done["rows"]:
        try:
            reader.refresh()
            n = reader.writers()[0].rows["train"]
            rows = reader.train_rows(reader.writers()[0].writer_id, seen.size, n)
        except (OSError, BraxscopeError):
            continue  # the last faults still in flight
        seen = np.concatenate([seen, rows["env_step"]])
    assert np.array_equal(seen, np.arange(done["rows"]))
    done["writer"].close()


def test_live_tail_through_injected_faults_returns_no_wrong_row_and_catches_up(tmp_path):
    path = tmp_path / "live.zarr"
    holder = {}

    def open_reader():
        holder["storage"] = holder.get("storage") or FaultyStorage(path)
        return open_store(holder["storage"])

    def faults_off():
        holder["storage"].on = False

    _tail_through_faults(path, open_reader, lambda: holder["storage"].faults if "storage" in holder else
                         {"estale": 0}, faults_off)


def test_live_tail_on_a_fuse_mount_that_injects_faults_at_the_kernel(tmp_path):
    """The same on a real mount: a FUSE filesystem (tests/schema/_faultfs.py) over the store."""
    if not os.path.exists("/dev/fuse") or shutil.which("fusermount") is None:
        pytest.skip("no FUSE here (Debian: fuse3 libfuse2; make test installs them)")
    pytest.importorskip("fuse", reason="fusepy is not installed (the test extra)")
    src, mnt = tmp_path / "live.zarr", tmp_path / "mnt"
    mnt.mkdir()
    src.mkdir()
    log = Path(f"{src}.faults.log")
    fs = subprocess.Popen([sys.executable, "-m", "tests.schema._faultfs", str(src), str(mnt)],
                          env=dict(os.environ, PYTHONPATH=os.getcwd()), stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not os.path.ismount(mnt) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.path.ismount(mnt), "the FUSE filesystem did not mount"

        def seen():
            text = log.read_text().split() if log.exists() else []
            return {k: text.count(k) for k in ("estale", "eio", "late", "stale")}

        _tail_through_faults(src, lambda: open_store(mnt), seen, lambda: Path(f"{src}.faults-off").touch())
    finally:
        subprocess.run(["fusermount", "-u", str(mnt)], capture_output=True)
        fs.wait(20)
