"""Fixtures for the store tests: a small MuJoCo model (no brax), synthetic rows, tree hashes."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import mujoco
import numpy as np
import pytest

# A free body with a two-joint arm: nq 9, nv 8, nu 2 (sizes differ, so a mix-up shows).
TOY_XML = """
<mujoco model="toy">
  <option timestep="0.01"/>
  <worldbody>
    <light pos="0 0 3"/>
    <geom name="floor" type="plane" size="2 2 .1"/>
    <body name="torso" pos="0 0 0.5">
      <freejoint name="root"/>
      <geom type="box" size=".1 .1 .05"/>
      <body name="upper" pos="0.1 0 0">
        <joint name="shoulder" type="hinge" axis="0 1 0"/>
        <geom type="capsule" size=".02" fromto="0 0 0 .2 0 0"/>
        <body name="lower" pos="0.2 0 0">
          <joint name="elbow" type="hinge" axis="0 1 0"/>
          <geom type="capsule" size=".02" fromto="0 0 0 .2 0 0"/>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="shoulder_m" joint="shoulder"/>
    <motor name="elbow_m" joint="elbow"/>
  </actuator>
</mujoco>
"""

# The toy with a mocap body (a target the env would place): nmocap 1.
MOCAP_XML = TOY_XML.replace(
    "</worldbody>",
    '<body name="target" mocap="true" pos="0.5 0 0.1"><geom type="sphere" size=".05" contype="0" conaffinity="0"/>'
    "</body></worldbody>",
)

HERE = Path(__file__).parent
REPO = HERE.parent.parent
PYTHON = sys.executable
BRAXSCOPE = str(Path(sys.executable).parent / "braxscope")


def toy_model() -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(TOY_XML)


@pytest.fixture
def model() -> mujoco.MjModel:
    return toy_model()


@pytest.fixture
def mocap_model() -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(MOCAP_XML)


def mocap_block(k: int, envs: int | None) -> dict:
    """mocap_pos [k,(envs,)1,3] and unit mocap_quat [k,(envs,)1,4] that differ per row and env."""
    lead = (k,) if envs is None else (k, envs)
    pos = np.arange(np.prod(lead) * 3, dtype=np.float32).reshape(*lead, 1, 3) * 0.01
    quat = np.zeros((*lead, 1, 4), np.float32)
    quat[..., 0] = 1.0
    return dict(mocap_pos=pos, mocap_quat=quat)


def value_of(env_step: np.ndarray, env: np.ndarray | int, width: int, salt: float = 0.0) -> np.ndarray:
    """Deterministic float32 content of a row: lets a test check any row without keeping it."""
    env_step = np.asarray(env_step, np.float64)[:, None, None]
    env = np.asarray(env, np.float64).reshape(1, -1, 1)
    j = np.arange(width, dtype=np.float64)[None, None, :]
    return (np.sin(env_step * 0.001 + env * 1.3 + j * 0.7 + salt) * 10).astype(np.float32)


def train_block(model, env_step0: int, k: int, envs: int, *, done_every: int = 37, iteration: int = 0) -> dict:
    """k time rows of ``envs`` tracked envs, a pure function of the global env step."""
    steps = np.arange(env_step0, env_step0 + k, dtype=np.int64)
    env_ids = np.arange(envs)
    done = ((steps[:, None] + env_ids[None, :] * 11) % done_every) == done_every - 1
    return dict(
        qpos=value_of(steps, env_ids, model.nq),
        qvel=value_of(steps, env_ids, model.nv, 1.0),
        action=value_of(steps, env_ids, model.nu, 2.0),
        reward=value_of(steps, env_ids, 1, 3.0)[..., 0],
        done=done,
        env_id=np.tile(env_ids, (k, 1)).astype(np.int32),
        env_step=steps,
        iteration=iteration,
        wall_time=steps.astype(np.float64) * 0.5,
    )


def tree_hash(root: str | os.PathLike) -> str:
    """Hash of every path, size, mode and byte under ``root`` (proves nothing was modified)."""
    h = hashlib.sha256()
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            st = p.lstat()
            h.update(f"{p.relative_to(root)}|{st.st_mode}|{st.st_size}|{st.st_mtime_ns}\n".encode())
            if p.is_file():
                h.update(p.read_bytes())
    return h.hexdigest()


def subprocess_env() -> dict:
    env = dict(os.environ)
    env.setdefault("MUJOCO_GL", "egl")
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env
