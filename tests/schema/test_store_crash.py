"""SIGKILL the writer at random moments: the store always opens and verifies, committed rows are
intact, and resume appends without loss or duplication. 4 lanes x 13 cycles = 52 kills."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import time

import numpy as np
import pytest

from braxscope.schema import StoreWriter, open_store
from braxscope.schema.verify import verify

from . import _procs
from .conftest import toy_model, train_block

LANES = 4
CYCLES = 13


def _check_store(path, wid, model, at_least: int) -> int:
    report = verify(path)
    assert not report.damaged, [f.line() for f in report.findings]
    r = open_store(path)
    n = r.writers()[0].rows["train"]
    assert n >= at_least, f"committed rows went back from {at_least} to {n}"
    rows = r.train_rows(wid, 0, n)
    assert np.array_equal(rows["env_step"], np.arange(n)), "lost or duplicated rows"
    want = train_block(model, 0, n, 2)
    assert rows["qpos"].tobytes() == want["qpos"].tobytes() and rows["reward"].tobytes() == want["reward"].tobytes()
    eps = r.episodes()
    for ep in eps[-8:] + random.Random(n).sample(eps, min(8, len(eps))):  # catalogued episodes read back whole
        assert len(r.frames(ep)) == ep.length
    return n


def _writer_child(path: str, wid: str, seed: int, conn) -> None:
    args = argparse.Namespace(store=path, writer=wid, seconds=0.0, seed=seed)
    _procs.write(args, ready=conn.send)


@pytest.mark.slow
def test_sigkill_at_random_moments_never_loses_committed_rows(tmp_path):
    model = toy_model()
    rnd = random.Random(1234)
    lanes = []
    for i in range(LANES):
        path = tmp_path / f"lane{i}.zarr"
        w = StoreWriter.create(path, model, env_name="toy", dt=0.01, train_slots=2)
        w.close()
        lanes.append({"path": path, "wid": w.writer_id, "rows": 0, "kills": 0})
    ctx = multiprocessing.get_context("fork")  # a forked writer starts in milliseconds
    for cycle in range(CYCLES):
        procs, pipes = [], []
        for i, lane in enumerate(lanes):
            recv, send = ctx.Pipe(duplex=False)
            p = ctx.Process(target=_writer_child, args=(str(lane["path"]), lane["wid"], cycle * 10 + i, send),
                            daemon=True)
            p.start()
            procs.append(p)
            pipes.append(recv)
        for recv, lane in zip(pipes, lanes):
            assert recv.poll(60), "writer did not start"
            assert recv.recv() == lane["rows"]  # resume starts exactly at the committed length
        # Kill each at a random moment while it appends (writes chunks, renames, publishes).
        for p in procs:
            time.sleep(rnd.uniform(0.0, 0.25))
            os.kill(p.pid, signal.SIGKILL)
        for p, lane in zip(procs, lanes):
            p.join(timeout=30)  # reaped, so its pid is really gone and the lock reads as stale
            assert p.exitcode == -signal.SIGKILL
            lane["kills"] += 1
            lane["rows"] = _check_store(lane["path"], lane["wid"], model, lane["rows"])
    assert sum(lane["kills"] for lane in lanes) >= 50
    assert all(lane["rows"] > 0 for lane in lanes)
    # A last resume after all the kills appends cleanly and closes.
    for lane in lanes:
        w = StoreWriter.resume(lane["path"], lane["wid"])
        n = w.committed_rows["train"]
        w.append_train(**train_block(model, n, 10, 2))
        w.close()
        assert _check_store(lane["path"], lane["wid"], model, n + 10) == n + 10
        assert not list(lane["path"].rglob("*.partial")) \
            and not (lane["path"] / "writers" / lane["wid"] / "writer.lock").exists()
