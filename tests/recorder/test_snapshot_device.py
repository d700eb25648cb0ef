"""Policy snapshots run on the host CPU by default, not on the device that trains."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import braxscope

HERE = Path(__file__).parent


def test_snapshots_run_on_the_host_cpu_not_the_training_device(tmp_path):
    out = tmp_path / "out.json"
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", MUJOCO_GL="egl")
    proc = subprocess.run([sys.executable, str(HERE / "_snapshot_device_run.py"), str(out)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = json.loads(out.read_text())
    assert s["cpu"] != s["trainer"]
    assert s["cpu_ran_on"] == [s["cpu"]]
    assert s["default_ran_on"] == [s["trainer"]]
    assert s["cpu_compiles"] == 1 and s["default_compiles"] == 1
    assert s["rows"] > 1 and s["same_rollout"]


def test_unknown_snapshot_device_is_refused(tmp_path):
    from brax import envs

    with pytest.raises(ValueError, match="snapshot_device"):
        braxscope.Recorder(tmp_path / "r.zarr", envs.get_environment("inverted_pendulum"), snapshot_device="tpu")
    assert not (tmp_path / "r.zarr").exists()
