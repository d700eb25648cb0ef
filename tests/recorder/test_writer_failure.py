"""The writer thread never dies silently: a malformed control.json is ignored with one warning
(recording goes on), and any failure (storage or a bug, inside or outside a storage call) ends in
one logged error, the writer group marked ``failed`` for viewers, and the lock released."""

from __future__ import annotations

import logging
import time

import mujoco
import numpy as np

import braxscope
from braxscope.recorder.sink import Shared
from braxscope.recorder.writer_thread import Layout, WriterThread
from braxscope.replay_app.session import ReplaySession
from braxscope.schema import StoreWriter
from braxscope.schema.control import write_control
from braxscope.schema.verify import verify

XML = """<mujoco><worldbody><body><joint name="a" type="slide"/><joint name="b" type="hinge"/><geom size=".1"/>
</body></worldbody><actuator><motor joint="a"/></actuator></mujoco>"""
K, E = 4, 2


def _setup(tmp_path):
    model = mujoco.MjModel.from_xml_string(XML)
    writer = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=E)
    shared = Shared(E, [0, 1], queue_rows=10_000)
    shared.steps_per_count = 10
    thread = WriterThread(shared, writer, Layout(devices=1, slots_per_device=E, envs_per_device=5, env_offset=0), [0],
                          control_since=time.time() - 1, control_poll_s=0.05)
    return shared, writer, thread


def _block(shared, count):
    q = np.full((K, E, 2), count, np.float32)
    return shared.on_flush(0, count, shared.track.copy(), q, q, q[..., :1], np.ones((K, E), np.float32),
                           np.zeros((K, E), np.int8))


def _committed_train_rows(path) -> int:
    return braxscope.open_store(path).writers()[0].rows["train"]


def _wait(cond, timeout=10.0):
    deadline = time.time() + timeout
    while not cond() and time.time() < deadline:
        time.sleep(0.05)
    return cond()


def _records(caplog, level):
    return [r for r in caplog.records if r.name == "braxscope" and r.levelno == level]


def test_malformed_control_file_is_ignored_with_one_warning_and_recording_goes_on(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="braxscope")
    shared, writer, thread = _setup(tmp_path)
    thread.start()
    (writer.path / "control.json").write_text('{"recording": "yes", "track": ["a"], "updated": "soon"}')
    assert _wait(lambda: _records(caplog, logging.WARNING))
    for c in (4, 8, 12):
        on, _ = _block(shared, c)
        assert on == 1
    assert _wait(lambda: _committed_train_rows(writer.path) == 3 * K)
    time.sleep(0.3)  # several more polls of the same bad file: still one warning
    warnings = _records(caplog, logging.WARNING)
    assert len(warnings) == 1 and "ignoring control.json" in warnings[0].getMessage()
    # A good request afterwards is still obeyed.
    write_control(writer.path, recording=False)
    assert _wait(lambda: not shared.recording)
    thread.stop(10)
    assert thread.is_alive() is False and shared.stats.error is None and not _records(caplog, logging.ERROR)
    assert braxscope.open_store(writer.path).writers()[0].state == "closed"


def _assert_failed_cleanly(writer, shared, thread, caplog, rows_before):
    assert _wait(lambda: shared.failed)
    on, _ = _block(shared, 400)
    assert on == 0  # the device is told to stop sending
    thread.stop(10)
    assert not thread.is_alive()
    errors = _records(caplog, logging.ERROR)
    assert len(errors) == 1 and "recording stopped" in errors[0].getMessage()
    ws = braxscope.open_store(writer.path).writers()[0]
    assert ws.state == "failed" and "boom" in ws.error
    assert not ws.locked  # a resume need not wait for a stale lock
    assert ws.rows["train"] == rows_before  # nothing half-written was published
    assert not verify(writer.path).damaged
    status = ReplaySession(braxscope.open_store(writer.path)).recorder_status()
    assert status.state == "failed" and "boom" in status.text


def test_a_storage_error_marks_the_writer_group_failed(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="braxscope")
    shared, writer, thread = _setup(tmp_path)
    thread.start()
    _block(shared, 4)
    assert _wait(lambda: _committed_train_rows(writer.path) == K)

    def broken(*a, **k):
        raise OSError(5, "boom: input/output error")

    writer.append_train = broken
    _block(shared, 8)
    _assert_failed_cleanly(writer, shared, thread, caplog, K)


def test_an_error_outside_any_storage_call_still_ends_in_a_failed_writer_group(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="braxscope")
    shared, writer, thread = _setup(tmp_path)

    def bug():
        raise RuntimeError("boom: a bug in the loop itself")

    thread._sync_state = bug  # runs unguarded on every iteration of the loop
    thread.start()
    _assert_failed_cleanly(writer, shared, thread, caplog, 0)


def test_recorder_close_raises_when_recording_failed(tmp_path, caplog):
    import pytest
    from brax import envs

    from braxscope.recorder import RecordingFailedError

    caplog.set_level(logging.WARNING, logger="braxscope")
    env = envs.get_environment("inverted_pendulum")
    rec = braxscope.Recorder(tmp_path / "r.zarr", env, track=[0], snapshots=False, flush_every=4)
    # Building the tapped chain starts the writer (no training, no compile needed for this).
    rec.ppo_hooks()["wrap_env_fn"](env, episode_length=50, action_repeat=1, randomization_fn=None)

    def broken(*a, **k):
        raise OSError(28, "boom: no space left on device")

    rec._writer.append_metrics = broken
    rec.ppo_hooks()["progress_fn"](0, {"eval/episode_reward": 1.0})
    with pytest.raises(RecordingFailedError, match="recording stopped early .*boom") as e:
        rec.close()
    assert "\n" not in str(e.value)
    rec.close()  # once: a second close (or the one at exit) does not raise again
    assert braxscope.open_store(rec.path).writers()[0].state == "failed"
