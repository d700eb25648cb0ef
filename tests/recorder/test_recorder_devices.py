"""Two fake CPU devices and a storage failure mid-training, in one subprocess run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import braxscope
from braxscope.schema.verify import verify

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def two_device_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("dev2")
    store, out = d / "two.zarr", d / "out.json"
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", MUJOCO_GL="egl")
    proc = subprocess.run([sys.executable, str(HERE / "_two_device_run.py"), str(store), str(out)], env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(out.read_text())
    summary["stderr"] = proc.stderr
    # Undo the sabotage so the store can be checked up to its last commit.
    train = store / "writers" / summary["writer_id"] / "train"
    train.unlink()
    train.with_name("train.saved").rename(train)
    return store, summary


def test_storage_failure_stops_recording_not_training(two_device_run):
    store, s = two_device_run
    assert s["devices"] == 2 and s["trained"] and len(s["calls"]) == 4
    assert s["stats_error"] and len(s["errors"]) == 1  # one logged error
    assert s["close_error"].startswith("RecordingFailedError: recording stopped early")
    report = verify(store)
    assert not report.damaged, [f.line() for f in report.findings] if hasattr(report, "findings") else report
    r = braxscope.open_store(store)
    assert r.writers()[0].state == "failed"
    rows = r.writers()[0].rows["train"]
    assert rows > 0 and rows * 4 == s["rows_recorded"]  # exactly what was committed before the failure
    for ep in r.episodes():
        assert len(r.frames(ep)) == ep.length


def test_both_devices_recorded_and_labelled(two_device_run):
    store, s = two_device_run
    r = braxscope.open_store(store)
    w = r.writer_ids[0]
    rows = r.train_rows(w, 0, r.writers()[0].rows["train"])
    # Track [0, 1] per device; 32 envs per device: global ids 0, 1 (device 0) and 32, 33 (device 1).
    assert rows["env_id"].shape[1] == 4
    assert set(np.unique(rows["env_id"])) == {0, 1, 32, 33}
    train = [e for e in r.episodes() if e.source == "train"]
    assert {e.device for e in train} == {0, 1}
    assert all((e.env_id >= 32) == (e.device == 1) for e in train)
    # The devices step different envs: their recorded trajectories differ.
    assert not np.allclose(rows["qpos"][:, 0], rows["qpos"][:, 2])
