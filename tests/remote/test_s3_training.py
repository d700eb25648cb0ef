"""A real training run recorded into S3 (moto on loopback), end to end: `braxscope train --store
s3://...` while this process tails it, SIGKILL of the trainer, a resume of its writer group,
verify, an MP4 export from S3, and the app opened on the S3 URL under Xvfb (first frame)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import imageio.v3 as iio
import numpy as np
import pytest

import braxscope
from braxscope.schema import StoreWriter
from braxscope.schema.verify import verify
from tests.recorder.test_concurrent_trains import SMALL, _Tail
from tests.replay_app.conftest import start_xvfb

pytestmark = pytest.mark.slow


def _cli(args, env, timeout=600):
    return subprocess.run([sys.executable, "-m", "braxscope.cli", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def test_train_into_s3_tail_kill_resume_verify_export_and_view(s3_bucket, tmp_path):
    url = f"s3://{s3_bucket}/runs/ip.zarr"
    env = dict(os.environ, PYTHONPATH=os.getcwd(), MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"))
    tail = _Tail(url)
    tail.start()
    log = tmp_path / "train.log"
    trainer = subprocess.Popen([sys.executable, "-m", "braxscope.cli", "train", "inverted_pendulum", "--store", url,
                                *SMALL], stdout=subprocess.DEVNULL, stderr=open(log, "w"), env=env)
    try:
        deadline = time.time() + 900
        while time.time() < deadline and not any(s.size for s in tail.seen.values()):
            assert trainer.poll() is None, log.read_text()[-3000:]
            time.sleep(0.2)
        assert any(s.size for s in tail.seen.values()), "the tail never saw a committed row"
        time.sleep(1.0)
        os.kill(trainer.pid, signal.SIGKILL)
        trainer.wait(30)
    finally:
        if trainer.poll() is None:
            trainer.kill()
        time.sleep(0.5)
        tail.stop.set()
        tail.join(10)
    assert not tail.errors, tail.errors[:3]
    r = braxscope.open_store(url)
    (ws,) = r.writers()
    assert ws.state == "recording" and ws.locked  # killed mid-run: its lock stays until a resume
    seen = tail.seen[ws.writer_id]
    final = r.train_rows(ws.writer_id, 0, ws.rows["train"])["env_step"]
    assert np.array_equal(seen, final[: seen.size]) and (np.diff(final) > 0).all()

    # Resume the killed writer group: it continues exactly at the committed rows.
    w = StoreWriter.resume(url, ws.writer_id)
    assert w.committed_rows["train"] == ws.rows["train"]
    w.close()
    report = verify(url)
    assert not report.damaged, [f.line() for f in report.findings]
    r.refresh()
    assert r.writers()[0].state == "closed" and r.writers()[0].epoch == 2

    # Export an MP4 straight from S3.
    ep = max((e for e in r.episodes() if e.source == "train"), key=lambda e: e.length)
    out = tmp_path / "ep.mp4"
    p = _cli(["export", url, "--episode", ep.id, "--out", str(out), "--width", "160", "--height", "120"], env)
    assert p.returncode == 0, p.stderr[-2000:]
    frames = iio.imread(out, index=None)
    assert frames.shape[0] == ep.length and frames.std() > 1.0  # drawn, not blank

    # The app on the S3 URL: its first frame, and a screenshot that is not blank.
    proc, display = start_xvfb("1920x1080")
    try:
        shot, stats = tmp_path / "view.png", tmp_path / "view.json"
        p = _cli(["view", url, "--exit-after", "4", "--screenshot", str(shot), "--stats", str(stats)],
                 dict(env, DISPLAY=display), timeout=300)
        assert p.returncode == 0, p.stderr[-2000:]
    finally:
        proc.terminate()
        proc.wait(10)
    st = json.loads(stats.read_text())
    assert st["first_frame_s"] is not None and st["frames_shown"] > 0 and st["errors"] == 0
    assert iio.imread(shot).std() > 1.0
