"""A store of a million episodes, written once with the real StoreWriter and cached outside git.

Two writer groups of 8 tracked slots (toy model, nq 9), episodes of 4-6 steps (the early
training or fast-terminating envs the issue describes), iterations 0-49 per writer, and a policy
snapshot every 4th iteration: 1,000,002 catalog rows. Writing it takes about a minute; the cache
(``$BRAXSCOPE_TEST_CACHE``, default ``/tmp/braxscope-test-cache``) is keyed by the sources that
decide its bytes, so a change to the writer or the layout writes a fresh one.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import time
from pathlib import Path

import numpy as np

from braxscope.schema import StoreWriter

from .conftest import toy_model, train_block, value_of

HERE = Path(__file__).parent
SCHEMA = HERE.parent.parent / "braxscope" / "schema"
WRITERS, SLOTS, ROWS, BLOCK = 2, 8, 312_500, 6250  # per writer: 50 iterations of 6250 time rows


def _key() -> str:
    h = hashlib.sha256()
    for f in (Path(__file__), HERE / "conftest.py", SCHEMA / "writer.py", SCHEMA / "layout.py", SCHEMA / "_chunks.py"):
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def cache_dir() -> Path:
    return Path(os.environ.get("BRAXSCOPE_TEST_CACHE", "/tmp/braxscope-test-cache"))


def million_episode_store() -> Path:
    """The path of the cached store (written first when absent). Treat it as read-only."""
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"million-{_key()}.zarr"
    if path.exists():
        return path
    with open(root / "million.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be writing it right now
        if not path.exists():
            tmp = root / f"{path.name}.{os.getpid()}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            write(tmp)
            os.rename(tmp, path)  # whole or not at all
            for old in root.glob("million-*.zarr"):
                # Written by other sources; another checkout may still read one, so only old ones go.
                if old != path and time.time() - old.stat().st_mtime > 86400:
                    shutil.rmtree(old, ignore_errors=True)
    return path


def write(path: Path) -> None:
    model = toy_model()
    for wi in range(WRITERS):
        w = StoreWriter.create(path, model, env_name="toy", backend="generalized", dt=0.01, train_slots=SLOTS,
                               writer_id=f"p{wi}-20261201T000000-000{wi}")
        for it, step in enumerate(range(0, ROWS, BLOCK)):
            # Episode lengths 4, 5 or 6 by iteration; env_step differs per writer (a sweep).
            w.append_train(**train_block(model, step + wi * 10**7, BLOCK, SLOTS, done_every=4 + it % 3, iteration=it))
            if it % 4 == 0:
                L = 40
                t = np.arange(L)
                w.append_snapshot(qpos=value_of(t, 0, model.nq)[:, 0], qvel=value_of(t, 0, model.nv, 1.0)[:, 0],
                                  action=value_of(t, 0, model.nu, 2.0)[:, 0], reward=np.full(L, 0.1 * it),
                                  done=t == L - 1, iteration=it, env_step=step, complete=True)
            w.commit()
        w.close()
