"""Realistic stores for the viewer's tests and benchmark, written with ``StoreWriter``.

Frames come from actually stepping MuJoCo (brax's ant or inverted_pendulum XML, copied into
``assets/``) under sinusoidal controls whose amplitude grows with the iteration, so episodes
look like a policy that changes as it learns. No JAX, no recorder.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import braxscope  # noqa: F401  (chooses MUJOCO_GL before mujoco is imported)
import mujoco
import numpy as np

from braxscope.schema.writer import StoreWriter

ASSETS = Path(__file__).parent / "assets"
# brax's env step is n_frames physics steps: ant 5 x 0.01 s, inverted_pendulum 2 x 0.02 s.
N_FRAMES = {"ant": 5, "inverted_pendulum": 2}


def load_model(name: str = "ant") -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_path(str(ASSETS / f"{name}.xml"))


def env_dt(model: mujoco.MjModel, name: str) -> float:
    return float(model.opt.timestep) * N_FRAMES[name]


def _with_floor_contacts(model: mujoco.MjModel) -> mujoco.MjModel:
    m = mujoco.MjModel.from_xml_path(str(ASSETS / "ant.xml"))
    floor = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, "floor")
    m.geom_contype[:] = 1
    m.geom_conaffinity[:] = 0
    m.geom_conaffinity[floor] = 1
    m.geom_contype[floor] = 0
    return m


def simulate(model: mujoco.MjModel, name: str, length: int, *, seed: int, skill: float = 1.0) -> dict:
    """One episode: qpos [L,nq], qvel [L,nv], action [L,nu], reward [L] (forward speed), done [L]."""
    rng = np.random.default_rng(seed)
    if name == "ant":
        # brax's ant.xml turns MuJoCo collisions off (brax does its own contacts): without this the
        # ant would sink through the floor. Ant geoms collide with the floor only.
        model = _with_floor_contacts(model)
    data = mujoco.MjData(model)
    key = model.key_qpos[0] if model.nkey else None
    if key is not None:
        data.qpos[:] = key
    data.qpos[:] += rng.normal(0, 0.02, model.nq)
    mujoco.mj_forward(model, data)
    freq = rng.uniform(1.0, 2.0)
    phase = rng.uniform(0, 2 * np.pi, model.nu)
    out = {k: [] for k in ("qpos", "qvel", "action", "reward")}
    dt = env_dt(model, name)
    for t in range(length):
        a = np.clip(skill * np.sin(2 * np.pi * freq * t * dt + phase) + rng.normal(0, 0.1, model.nu), -1, 1)
        x0 = float(data.qpos[0])
        data.ctrl[:] = a
        for _ in range(N_FRAMES[name]):
            mujoco.mj_step(model, data)
        out["qpos"].append(data.qpos.copy())
        out["qvel"].append(data.qvel.copy())
        out["action"].append(a)
        out["reward"].append((float(data.qpos[0]) - x0) / dt + 1.0)
    ep = {k: np.asarray(v, np.float32) for k, v in out.items()}
    ep["done"] = np.zeros(length, np.uint8)
    ep["done"][-1] = 1
    return ep


def make_store(path: str | os.PathLike, *, name: str = "ant", iterations: int = 3, slots: int = 2,
               episode_len: int = 80, snapshots: bool = True, snapshot_len: int | None = None,
               close: bool = True, writer_id: str | None = None, nan_snapshot: bool = False,
               seed: int | None = None, process_index: int = 0) -> Path:
    """A finished run: ``iterations`` x ``slots`` train episodes, one snapshot per iteration,
    a metrics row per iteration. Episode returns grow with the iteration. ``seed``: recorded in
    the writer's config (as a sweep's seeds are) and varies the episodes and the curve; a
    second call with another seed on the same path adds a writer group (a sweep in one store)."""
    path = Path(path)
    model = load_model(name)
    config = {"num_envs": slots, "episode_length": episode_len}
    if seed is not None:
        config["seed"] = seed
    w = StoreWriter.create(path, model, env_name=name, backend="generalized", dt=env_dt(model, name),
                           train_slots=slots, config=config, writer_id=writer_id, process_index=process_index)
    base = 0 if seed is None else 10000 * (seed + 1)
    step = 0
    for it in range(iterations):
        skill = 0.3 + 0.7 * it / max(1, iterations - 1)
        append_iteration(w, model, name, it, step, slots, episode_len, skill, seed0=base)
        if snapshots:
            snap = simulate(model, name, snapshot_len or episode_len, seed=base + 1000 + it, skill=skill)
            w.append_snapshot(**snap, iteration=it, env_step=step, complete=True)
        step += episode_len * slots
        w.append_metrics(step, {"eval/episode_reward": 10.0 + 30 * skill * (1 + 0.5 * (seed or 0)),
                                "training/sps": 1000.0})
        w.commit()
    if nan_snapshot:
        # Diverged physics: a snapshot whose qpos is NaN for 10 steps in the middle.
        snap = simulate(model, name, snapshot_len or episode_len, seed=999)
        snap["qpos"][20:30] = np.nan
        w.append_snapshot(**snap, iteration=iterations, env_step=step, complete=True)
        w.commit()
    if close:
        w.close()
    return path


def append_iteration(w: StoreWriter, model, name: str, it: int, step0: int, slots: int, episode_len: int,
                     skill: float, block: int = 0, sleep_s: float = 0.0, seed0: int = 0) -> None:
    """One train episode per slot, appended (and committed every ``block`` rows when > 0)."""
    eps = [simulate(model, name, episode_len, seed=seed0 + it * 100 + s, skill=skill) for s in range(slots)]
    stacked = {k: np.stack([e[k] for e in eps], axis=1) for k in eps[0]}
    block = block or episode_len
    for lo in range(0, episode_len, block):
        hi = min(episode_len, lo + block)
        w.append_train(
            qpos=stacked["qpos"][lo:hi], qvel=stacked["qvel"][lo:hi], action=stacked["action"][lo:hi],
            reward=stacked["reward"][lo:hi], done=stacked["done"][lo:hi],
            env_id=np.tile(np.arange(slots, dtype=np.int32), (hi - lo, 1)),
            env_step=step0 + np.arange(lo, hi) * slots, iteration=it,
        )
        if sleep_s:
            w.commit()
            time.sleep(sleep_s)


def live_writer(path: str, name: str, iterations: int, episode_len: int, block: int, sleep_s: float) -> None:
    """Run as a separate process: create a store and append slowly, committing every ``block``
    rows, as a training run would. Used by the live-follow tests."""
    model = load_model(name)
    w = StoreWriter.create(path, model, env_name=name, backend="generalized", dt=env_dt(model, name), train_slots=1)
    step = 0
    for it in range(iterations):
        append_iteration(w, model, name, it, step, 1, episode_len, 0.5 + 0.5 * it / max(1, iterations), block, sleep_s)
        snap = simulate(model, name, episode_len, seed=1000 + it)
        w.append_snapshot(**snap, iteration=it, env_step=step, complete=True)
        step += episode_len
        w.append_metrics(step, {"eval/episode_reward": float(it)})
        w.commit()
    w.close()


if __name__ == "__main__":
    # python storegen.py live PATH NAME ITERATIONS EPISODE_LEN BLOCK SLEEP_S
    if sys.argv[1] == "live":
        live_writer(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]))
    elif sys.argv[1] == "make":
        make_store(sys.argv[2], name=sys.argv[3] if len(sys.argv) > 3 else "ant")
