"""The host side without training: callbacks never block, drops are counted and marked as a gap,
the writer thread heartbeats while idle, and the viewer's control file pauses recording."""

from __future__ import annotations

import time

import mujoco
import numpy as np

import braxscope
from braxscope.recorder.sink import Shared
from braxscope.recorder.writer_thread import Layout, WriterThread
from braxscope.schema import StoreWriter
from braxscope.schema.control import write_control

XML = """<mujoco><worldbody><body><joint name="a" type="slide"/><joint name="b" type="hinge"/>\
<geom size=".1"/></body></worldbody>
<actuator><motor joint="a"/></actuator></mujoco>"""
K, E = 4, 2


def _block(shared, count):
    qpos = np.full((K, E, 2), count, np.float32)
    return shared.on_flush(0, count, shared.track.copy(), qpos, qpos, qpos[..., :1], np.ones((K, E), np.float32),
                           np.zeros((K, E), np.int8))


def _setup(tmp_path, queue_rows):
    model = mujoco.MjModel.from_xml_string(XML)
    writer = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=E)
    shared = Shared(E, [0, 1], queue_rows=queue_rows)
    shared.steps_per_count = 10
    thread = WriterThread(shared, writer, Layout(devices=1, slots_per_device=E, envs_per_device=5, env_offset=0), [0],
                          control_since=time.time() - 1)
    return shared, writer, thread


def test_full_queue_drops_counts_and_marks_a_gap(tmp_path):
    shared, writer, thread = _setup(tmp_path, queue_rows=2 * K * E)
    t0 = time.perf_counter()
    for c in (4, 8, 12, 16):  # nothing consumes yet: the last two do not fit
        on, _ = _block(shared, c)
        assert on == 1
    assert time.perf_counter() - t0 < 0.5  # never waits for storage
    assert shared.stats.rows_dropped == 2 * K * E
    thread.start()
    _block(shared, 20)
    thread.stop(10)
    r = braxscope.open_store(writer.path)
    ws = r.writers()[0]
    rows = r.train_rows(ws.writer_id, 0, ws.rows["train"])
    assert list(rows["env_step"]) == [10 * c for c in (*range(1, 9), *range(17, 21))]
    assert ws.dropped_rows == 2 * K * E
    assert rows["flags"][8] & 1 and not rows["flags"][:8].any()
    assert shared.stats.rows_recorded == 12 * E


def test_heartbeat_while_idle_and_control_file_pauses(tmp_path):
    shared, writer, thread = _setup(tmp_path, queue_rows=1000)
    thread.start()
    time.sleep(2.3)
    assert shared.stats.commits >= 2  # at least once per second with nothing to write
    write_control(writer.path, recording=False, track=[4])
    deadline = time.time() + 5
    while shared.recording and time.time() < deadline:
        time.sleep(0.05)
    on, track = _block(shared, 4)
    assert on == 0 and list(track) == [4, -1]
    time.sleep(1.2)
    assert braxscope.open_store(writer.path).writers()[0].state == "paused"
    thread.stop(10)
    assert braxscope.open_store(writer.path).writers()[0].rows["train"] == 0


class _VideoProbe:
    """Stands in for VideoLog's interface; records what the store held when it was called."""

    def __init__(self, path):
        self.path, self.seen = path, []

    def on_snapshot(self, iteration):
        snaps = [e.iteration for e in braxscope.open_store(self.path).episodes() if e.source == "snapshot"]
        self.seen.append((iteration, iteration in snaps))


def test_video_log_is_told_only_after_the_snapshot_is_committed(tmp_path):
    from braxscope.recorder.writer_thread import SnapshotItem

    shared, writer, thread = _setup(tmp_path, queue_rows=1000)
    thread.video = _VideoProbe(writer.path)
    thread.start()
    for it in range(3):
        z = np.zeros((5, 2), np.float32)
        shared.put(SnapshotItem(iteration=it, env_step=100 * it, qpos=z, qvel=z, action=z[:, :1], reward=z[:, 0],
                                done=np.zeros(5, np.uint8), complete=True, wall_time=time.time()))
    thread.stop(10)
    assert thread.video.seen == [(0, True), (1, True), (2, True)]
