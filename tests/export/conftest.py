"""Stores for the export tests, written with the real StoreWriter from a real MuJoCo model."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

from pathlib import Path

import mujoco
import numpy as np
import pytest

import braxscope  # noqa: F401  (chooses the GL backend before mujoco renders)
from braxscope.schema import StoreWriter

# A free-floating torso with one hinged, actuated leg: nq=8, nv=7, nu=1 (qpos and qvel differ
# in width, so a states layout that mixed them up would be caught).
XML = """
<mujoco model="leg">
  <option timestep="0.01"/>
  <visual><headlight ambient="0.4 0.4 0.4"/></visual>
  <asset>
    <texture name="grid" type="2d" builtin="checker" rgb1=".2 .3 .4" rgb2=".1 .15 .2" width="256" height="256"/>
    <material name="grid" texture="grid" texrepeat="8 8"/>
  </asset>
  <worldbody>
    <light pos="0 0 4" dir="0 0 -1"/>
    <geom name="floor" type="plane" size="20 20 0.1" material="grid"/>
    <body name="torso" pos="0 0 1">
      <freejoint/>
      <geom type="box" size="0.3 0.15 0.1" rgba="0.9 0.5 0.1 1"/>
      <body name="leg" pos="0.3 0 0">
        <joint name="hip" type="hinge" axis="0 1 0" range="-90 90"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.06" rgba="0.2 0.7 0.9 1"/>
      </body>
    </body>
  </worldbody>
  <actuator><motor name="hip_motor" joint="hip" ctrlrange="-1 1" ctrllimited="true"/></actuator>
</mujoco>
"""


def make_model() -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(XML)


# The leg with a mocap target (nmocap 1), for the mocap columns' round trips.
MOCAP_XML = XML.replace('<body name="torso"', '<body name="target" mocap="true" pos="1 0 0.2">'
                        '<geom type="sphere" size=".05" contype="0" conaffinity="0"/></body>\n    <body name="torso"')


def write_mocap_store(path: Path) -> Path:
    """A closed store of the mocap leg: train episodes (complete and cut) and a snapshot, every
    row with its own mocap_pos and mocap_quat."""
    model = mujoco.MjModel.from_xml_string(MOCAP_XML)
    assert model.nmocap == 1
    w = StoreWriter.create(path, model, env_name="leg_target", backend="mjx", dt=0.05, train_slots=1)
    k = 30
    q, v, a, r = motion(k, 0.5, seed=3)
    done = np.zeros((k, 1), np.uint8)
    done[11, 0] = 1
    pos = (np.arange(k * 3, dtype=np.float32).reshape(k, 1, 1, 3) * 0.01)
    quat = np.tile(np.array([1, 0, 0, 0], np.float32), (k, 1, 1, 1))
    quat[:, 0, 0, 3] = np.linspace(0, 0.5, k)
    w.append_train(qpos=q[:, None], qvel=v[:, None], action=a[:, None], reward=r[:, None], done=done,
                   env_id=np.zeros((k, 1), np.int32), env_step=np.arange(k), iteration=0,
                   wall_time=100.0 + np.arange(k), mocap_pos=pos, mocap_quat=quat)
    q, v, a, r = motion(12, 0.9, seed=4)
    w.append_snapshot(qpos=q, qvel=v, action=a, reward=r, done=np.zeros(12, np.uint8), iteration=0, env_step=k,
                      complete=True, wall_time=200.0, mocap_pos=pos[:12, 0] + 1, mocap_quat=quat[:12, 0])
    w.close()
    return path


def motion(L: int, amp: float, phase: float = 0.0, nq: int = 8, nv: int = 7, nu: int = 1, seed: int = 0):
    """A smooth trajectory: the torso drifts and turns, the leg swings with amplitude ``amp``."""
    rng = np.random.default_rng(seed)
    t = np.arange(L, dtype=np.float64) * 0.05
    qpos = np.zeros((L, nq), np.float32)
    qpos[:, 0] = 0.2 * t
    qpos[:, 2] = 1.0 + 0.1 * np.sin(2 * t + phase)
    yaw = 0.3 * np.sin(t + phase)
    qpos[:, 3] = np.cos(yaw / 2)
    qpos[:, 6] = np.sin(yaw / 2)
    qpos[:, 7] = amp * np.sin(3 * t + phase)
    qvel = rng.standard_normal((L, nv)).astype(np.float32)
    action = np.clip(rng.standard_normal((L, nu)), -1, 1).astype(np.float32)
    reward = rng.standard_normal(L).astype(np.float32)
    return qpos, qvel, action, reward


def write_store(path: Path, *, snapshots: int = 4, snapshot_len: int = 30, train: bool = True) -> Path:
    """A closed store: 2 train slots with complete and cut episodes, ``snapshots`` snapshot
    rollouts (iteration i swings the leg with amplitude growing with i), and metrics."""
    model = make_model()
    w = StoreWriter.create(path, model, env_name="leg", backend="generalized", dt=0.05, train_slots=2,
                           config={"num_envs": 2, "seed": 0})
    step = 0
    for it in range(snapshots):
        if train:
            k = 40
            qa, va, aa, ra = motion(k, 0.5, 0.0, seed=it)
            qb, vb, ab, rb = motion(k, 0.8, 1.0, seed=100 + it)
            done = np.zeros((k, 2), np.uint8)
            done[12, 0] = done[29, 0] = 1
            done[20, 1] = 1
            w.append_train(
                qpos=np.stack([qa, qb], 1), qvel=np.stack([va, vb], 1), action=np.stack([aa, ab], 1),
                reward=np.stack([ra, rb], 1), done=done, env_id=np.tile(np.array([[0, 5]], np.int32), (k, 1)),
                env_step=step + 2 * np.arange(k), iteration=it, wall_time=1000.0 + step + np.arange(k) * 0.01,
            )
            step += 2 * k
            if it == 1:
                w.mark_gap(7)  # a cut: the open episodes end here, incomplete
        q, v, a, r = motion(snapshot_len + it * 3, 0.2 + 0.5 * it, 0.0, seed=1000 + it)
        d = np.zeros(len(r), np.uint8)
        w.append_snapshot(qpos=q, qvel=v, action=a, reward=r, done=d, iteration=it, env_step=step,
                          complete=True, wall_time=2000.0 + it)
        w.append_metrics(step, {"eval/episode_reward": float(it)})
        w.commit()
    w.close()
    return path


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> Path:
    return write_store(tmp_path_factory.mktemp("stores") / "run.zarr")


FRAME_COLUMNS = ("qpos", "qvel", "action", "reward", "done", "env_step", "iteration", "wall_time", "mocap_pos",
                 "mocap_quat")


def bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


def assert_same_episodes(a, b, ids_a=None):
    """Every episode of store ``a`` (or ids_a) is in ``b`` with identical frames and catalog fields."""
    eps_a = [a.get_episode(i) for i in ids_a] if ids_a else a.episodes()
    by_key = {(e.source, e.env_id, e.env_step): e for e in b.episodes()}
    assert len(b.episodes()) == len(eps_a)
    for ea in eps_a:
        eb = by_key[(ea.source, ea.env_id, ea.env_step)]
        for field in ("source", "env_id", "device", "iteration", "env_step", "length", "complete"):
            assert getattr(ea, field) == getattr(eb, field), (ea.id, field)
        assert bits(np.float64(ea.ret)) == bits(np.float64(eb.ret)), ea.id
        assert np.isnan(ea.wall_time) == np.isnan(eb.wall_time)
        fa, fb = a.frames(ea), b.frames(eb)
        for c in FRAME_COLUMNS:
            x, y = getattr(fa, c), getattr(fb, c)
            if x is None or y is None:
                assert x is None and y is None, (ea.id, c)
                continue
            assert x.dtype == y.dtype and x.shape == y.shape and bits(x) == bits(y), (ea.id, c)
