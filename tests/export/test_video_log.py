"""VideoLog: videos of the snapshots of every N-th iteration, rendered by a separate process."""

from __future__ import annotations

import logging
import time

import imageio.v3 as iio
import pytest

from braxscope.recorder.video_log import VideoLog, default_out_dir
from braxscope.schema import open_store


def test_videos_appear_at_the_requested_iterations_and_decode(store, tmp_path):
    out_dir = tmp_path / "videos"
    vlog = VideoLog(store, every=2, out_dir=out_dir, width=96, height=64)
    t0 = time.perf_counter()
    for it in range(4):
        vlog.on_snapshot(it)
    assert time.perf_counter() - t0 < 0.05  # never blocks the recorder's writer thread
    vlog.close(timeout_s=240)
    assert vlog.failed is None
    assert sorted(p.name for p in out_dir.iterdir()) == ["iter_0000.mp4", "iter_0002.mp4"]
    assert vlog.written == [out_dir / "iter_0000.mp4", out_dir / "iter_0002.mp4"]
    reader = open_store(store)
    for it in (0, 2):
        snap = [e for e in reader.episodes() if e.source == "snapshot" and e.iteration == it][-1]
        frames = iio.imread(out_dir / f"iter_{it:04d}.mp4", index=None)
        assert frames.shape[:3] == (snap.length, 64, 96)


def test_default_out_dir_is_next_to_the_store(tmp_path):
    assert default_out_dir(tmp_path / "runs" / "demo.zarr") == tmp_path / "runs" / "demo.zarr.videos"


def test_missing_gl_gives_one_warning_and_stops_launching(store, tmp_path, monkeypatch, caplog):
    # The export process inherits this: a GL backend that needs a display, and no display, as on
    # a bare training node (an invalid MUJOCO_GL would only be warned about and replaced).
    monkeypatch.setenv("MUJOCO_GL", "glfw")
    monkeypatch.delenv("DISPLAY", raising=False)
    vlog = VideoLog(store, every=1, out_dir=tmp_path / "v", width=64, height=48)
    with caplog.at_level(logging.WARNING, logger="braxscope.video_log"):
        vlog.on_snapshot(0)
        deadline = time.time() + 120
        while vlog.failed is None and time.time() < deadline:
            time.sleep(0.05)
        for it in (1, 2, 3):
            vlog.on_snapshot(it)  # ignored after the failure, and still never raises
        vlog.close(timeout_s=60)
    assert vlog.failed is not None and "iteration 0 failed" in vlog.failed
    assert vlog.launched == [0]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert not list((tmp_path / "v").glob("*.mp4"))


def test_iterations_without_a_snapshot_are_skipped_quietly(store, tmp_path):
    vlog = VideoLog(store, every=1, out_dir=tmp_path / "v")
    vlog.on_snapshot(99)
    vlog.close(timeout_s=60)
    assert vlog.failed is None and vlog.launched == [] and vlog.written == []


@pytest.mark.slow
# imageio's decoding below forks ffmpeg from this JAX process (the video log itself uses posix_spawn).
@pytest.mark.filterwarnings("ignore:os.fork")
def test_recorder_video_every_writes_videos_in_a_real_training_run(tmp_path):
    from brax import envs
    from brax.training.agents.ppo import train as ppo

    import braxscope

    path = tmp_path / "ip.zarr"
    env = envs.get_environment("inverted_pendulum")
    rec = braxscope.Recorder(path, env, track=[0], video_every=2, snapshot_steps=60)
    ppo.train(environment=env, num_timesteps=3 * 32 * 40, num_envs=32, batch_size=32, num_minibatches=4,
              unroll_length=10, num_evals=4, episode_length=100, num_eval_envs=8, num_updates_per_batch=1,
              seed=1, **rec.ppo_hooks())
    rec.close()
    reader = open_store(path)
    iterations = sorted({e.iteration for e in reader.episodes() if e.source == "snapshot"})
    want = [it for it in iterations if it % 2 == 0]
    assert want, iterations
    videos = default_out_dir(path)
    assert sorted(p.name for p in videos.glob("*.mp4")) == [f"iter_{it:04d}.mp4" for it in want]
    for it in want:
        snap = [e for e in reader.episodes() if e.source == "snapshot" and e.iteration == it][-1]
        frames = iio.imread(videos / f"iter_{it:04d}.mp4", index=None)
        assert frames.shape[:3] == (snap.length, 240, 320)
