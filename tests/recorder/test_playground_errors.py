"""One-line errors around MuJoCo Playground: not installed, Menagerie not reachable, bad flags.

"Not installed" runs in a fresh interpreter where ``import mujoco_playground`` fails (a None in
sys.modules is what Python's import system treats as "not importable"), so it holds whether or not
this venv has Playground.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _without_playground(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("MUJOCO_GL", "egl")
    prelude = "import sys\nsys.modules['mujoco_playground'] = None\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, env=env,
                          timeout=300)


def test_a_playground_name_to_braxscope_train_without_playground_says_what_to_install(tmp_path):
    p = _without_playground(f"from braxscope import cli\nsys.exit(cli.main(['train', 'CartpoleBalance', "
                            f"'--store', {str(tmp_path / 'a.zarr')!r}]))")
    err = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(err) == 1, p.stderr
    assert "'CartpoleBalance'" in err[0] and "pip install 'braxscope[playground]'" in err[0]
    p = _without_playground(f"from braxscope import cli\nsys.exit(cli.main(['train', 'CartpoleBalance', '--suite', "
                            f"'playground', '--store', {str(tmp_path / 'b.zarr')!r}]))")
    err = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(err) == 1 and "pip install 'braxscope[playground]'" in err[0], p.stderr
    assert not (tmp_path / "a.zarr").exists() and not (tmp_path / "b.zarr").exists()


def test_recording_a_playground_style_env_without_playground_says_what_to_install(tmp_path):
    # An env built like Playground's (physics in state.data, an mjx_model, no brax sys).
    code = f"""
import braxscope
from braxscope.schema.errors import BraxscopeError

import mujoco

XML = "<mujoco><worldbody><body><freejoint/><geom size='.1'/></body></worldbody></mujoco>"

class Env:
    mjx_model = object()
    mj_model = mujoco.MjModel.from_xml_string(XML)
    dt = 0.01
    @property
    def unwrapped(self):
        return self

rec = braxscope.Recorder({str(tmp_path / 'c.zarr')!r}, Env(), track=[0])
try:
    rec.ppo_hooks()["wrap_env_fn"](Env(), episode_length=10, action_repeat=1)
except BraxscopeError as e:
    print(e)
"""
    p = _without_playground(code)
    out = p.stdout.strip().splitlines()
    assert p.returncode == 0 and len(out) == 1, p.stdout + p.stderr
    assert "MuJoCo Playground" in out[0] and "pip install 'braxscope[playground]'" in out[0]
    assert not (tmp_path / "c.zarr").exists()  # refused before the store was created


def test_an_env_that_needs_menagerie_without_network_fails_in_one_line(tmp_path, monkeypatch, capsys):
    """Locomotion envs clone MuJoCo Menagerie with git at first use: with git failing (as it does
    without network) `braxscope train` says so in one line, without Playground's own output."""
    pytest.importorskip("mujoco_playground")
    from mujoco_playground._src import mjx_env

    from braxscope import cli

    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "git").write_text("#!/bin/sh\necho 'fatal: unable to access github.com' >&2\nexit 128\n")
    (fake / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(mjx_env, "MENAGERIE_PATH", tmp_path / "deps" / "mujoco_menagerie")
    monkeypatch.setattr(mjx_env, "EXTERNAL_DEPS_PATH", tmp_path / "deps")
    assert cli.main(["train", "Go1JoystickFlatTerrain", "--store", str(tmp_path / "d.zarr")]) == 2
    cap = capsys.readouterr()
    err = [line for line in cap.err.strip().splitlines() if not line.startswith("braxscope: Go1")]
    assert len(err) == 1 and "Menagerie" in err[0] and "no network" in err[0], cap.err
    assert "Cloning" not in cap.err + cap.out and not (tmp_path / "d.zarr").exists()


def test_cpu_scaling_keeps_playgrounds_settings_valid_for_ppo():
    from braxscope.recorder.defaults import CPU_CAPS, scaled_for_cpu

    gpu = dict(num_timesteps=60_000_000, num_envs=2048, batch_size=1024, num_minibatches=32, unroll_length=30,
               num_updates_per_batch=16, discounting=0.995, num_evals=10, reward_scaling=10.0)
    cpu = scaled_for_cpu(gpu)
    assert all(cpu[k] <= v for k, v in CPU_CAPS.items())
    assert (cpu["batch_size"] * cpu["num_minibatches"]) % cpu["num_envs"] == 0
    assert cpu["discounting"] == 0.995 and cpu["unroll_length"] == 30 and cpu["reward_scaling"] == 10.0
    odd = scaled_for_cpu(dict(gpu, num_envs=96, batch_size=40, num_minibatches=3))
    assert (odd["batch_size"] * odd["num_minibatches"]) % odd["num_envs"] == 0
