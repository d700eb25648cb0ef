"""The writer lock: one writer per writer group; a dead holder's lock is taken over; a writer
whose lock was taken over (a zombie) is fenced off by the epoch and cannot publish."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import time

import numpy as np
import pytest

from braxscope.schema import StoreWriter, WriterFencedError, WriterLockedError, open_store

from .conftest import train_block


def _lock(path, wid):
    return path / "writers" / wid / "writer.lock"


def test_second_writer_on_a_live_group_is_refused(tmp_path, model):
    w = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=1)
    with pytest.raises(WriterLockedError) as e:
        StoreWriter.resume(tmp_path / "s.zarr", w.writer_id)
    assert str(e.value) == (f"writer group {w.writer_id} is held by pid {os.getpid()} on {socket.gethostname()}: "
                            f"stop it first")
    w.close()
    StoreWriter.resume(tmp_path / "s.zarr", w.writer_id).close()  # released on close


def _hold_and_wait(path, wid, conn):
    w = StoreWriter.resume(path, wid)
    w.append_train(**train_block(__import__("tests.schema.conftest", fromlist=["toy_model"]).toy_model(), 100, 50, 1))
    w.commit()
    conn.send(w.epoch)
    time.sleep(600)


def test_lock_of_a_killed_writer_is_taken_over(tmp_path, model):
    path = tmp_path / "s.zarr"
    w = StoreWriter.create(path, model, env_name="toy", dt=0.01, train_slots=1)
    w.append_train(**train_block(model, 0, 100, 1))
    w.close()
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_hold_and_wait, args=(str(path), w.writer_id, send), daemon=True)
    p.start()
    assert recv.poll(60)
    held_epoch = recv.recv()
    with pytest.raises(WriterLockedError):
        StoreWriter.resume(path, w.writer_id)  # alive: refused
    os.kill(p.pid, signal.SIGKILL)
    p.join(30)
    w2 = StoreWriter.resume(path, w.writer_id)  # dead: taken over
    assert w2.epoch == held_epoch + 1 and w2.committed_rows["train"] == 150
    assert json.loads(_lock(path, w.writer_id).read_text())["pid"] == os.getpid()
    w2.close()


def test_lock_from_another_host_is_stale_only_after_its_heartbeat_ages(tmp_path, model):
    path = tmp_path / "s.zarr"
    w = StoreWriter.create(path, model, env_name="toy", dt=0.01, train_slots=1)
    w.close()
    _lock(path, w.writer_id).write_text(json.dumps({"pid": 1, "host": "elsewhere", "epoch": 1,
                                                    "acquired": time.time()}))
    with pytest.raises(WriterLockedError):
        StoreWriter.resume(path, w.writer_id, stale_after_s=60)  # heartbeat fresh (just closed)
    time.sleep(0.3)
    StoreWriter.resume(path, w.writer_id, stale_after_s=0.2).close()


def test_zombie_writer_is_fenced_after_a_takeover(tmp_path, model):
    path = tmp_path / "s.zarr"
    zombie = StoreWriter.create(path, model, env_name="toy", dt=0.01, train_slots=1)
    zombie.append_train(**train_block(model, 0, 100, 1))
    zombie.commit()
    # The zombie's process "looks dead" to the next writer: its lock names a pid that is gone
    # (as after a pause longer than the takeover, or a partition between hosts).
    dead = multiprocessing.get_context("fork").Process(target=lambda: None)
    dead.start()
    dead.join()
    doc = json.loads(_lock(path, zombie.writer_id).read_text())
    _lock(path, zombie.writer_id).write_text(json.dumps({**doc, "pid": dead.pid}))
    heir = StoreWriter.resume(path, zombie.writer_id)
    zombie.append_train(**train_block(model, 100, 50, 1))
    with pytest.raises(WriterFencedError):
        zombie.commit()
    heir.append_train(**train_block(model, 100, 30, 1))
    heir.close()
    r = open_store(path)
    assert r.writers()[0].rows["train"] == 130 and r.writers()[0].epoch == 2
    assert np.array_equal(r.train_rows(zombie.writer_id, 0, 130)["env_step"], np.arange(130))
