"""The robomimic layout: one HDF5 file, ``data/demo_N`` groups (docs/EXPORT.md).

robomimic's ``SequenceDataset`` reads observations from ``data/demo_N/obs/<key>`` (and
``next_obs/<key>``), the other keys from ``data/demo_N/<key>``, and a split from
``mask/<filter key>``. Observations follow robomimic's meaning: ``obs[t]`` is what the policy
saw before ``actions[t]``, ``next_obs[t]`` the state after it. braxscope records the state
after each action, so ``next_obs[t]`` is row ``t`` and ``obs[t]`` row ``t - 1``; the reset state
before the first action is not recorded, and ``obs[0]`` is the model's initial state (``qpos0``,
zero velocity: where a brax env resets to, before its reset noise). ``states`` keeps the
recorded rows unchanged (the state after ``actions[t]``).
"""

from __future__ import annotations

import json

import h5py
import mujoco
import numpy as np

from ._common import (
    MOCAP,
    Episode,
    attr_str,
    dataset,
    episode_from_arrays,
    json_attr,
    meta_attrs,
    meta_of,
    natural_order,
)

NAME = "robomimic"
DATA = "data"
DEMO = "demo_"
MASK = "mask"
EXTRA_GROUP = "braxscope"  # per demo: per-row env_step, iteration, wall_time (and mocap_pos, mocap_quat)
OBS_KEYS = ("qpos", "qvel")
VALID_EVERY = 10  # every 10th demo goes to mask/valid, the rest to mask/train

# Lossless and built into every HDF5 build (readable by any h5py without plugins).
COMPRESSION = dict(compression="gzip", compression_opts=4, shuffle=True)


def start(f: h5py.File) -> h5py.Group:
    """The group episodes are written into."""
    return f.create_group(DATA, track_order=True)


def write_episode(data: h5py.Group, i: int, ep: Episode, model: mujoco.MjModel) -> None:
    fr = ep.frames
    g = data.create_group(f"{DEMO}{i}")
    g.attrs["num_samples"] = len(fr)
    g.attrs.update(meta_attrs(ep.meta))
    g.create_dataset("states", data=np.concatenate([fr.qpos, fr.qvel], axis=1), **COMPRESSION)
    g.create_dataset("actions", data=fr.action, **COMPRESSION)
    g.create_dataset("rewards", data=fr.reward, **COMPRESSION)
    g.create_dataset("dones", data=fr.done.astype(np.uint8), **COMPRESSION)
    first = {"qpos": model.qpos0.astype(np.float32)[None], "qvel": np.zeros((1, model.nv), np.float32)}
    for key in OBS_KEYS:
        after = getattr(fr, key)
        g.create_dataset(f"next_obs/{key}", data=after, **COMPRESSION)
        g.create_dataset(f"obs/{key}", data=np.concatenate([first[key], after[:-1]]), **COMPRESSION)
    x = g.create_group(EXTRA_GROUP)
    x.create_dataset("env_step", data=fr.env_step, **COMPRESSION)
    x.create_dataset("iteration", data=fr.iteration, **COMPRESSION)
    x.create_dataset("wall_time", data=fr.wall_time, **COMPRESSION)
    for key in MOCAP:
        if getattr(fr, key) is not None:
            x.create_dataset(key, data=getattr(fr, key), **COMPRESSION)


def finish(f: h5py.File, data: h5py.Group, run: dict, episodes: int, steps: int) -> None:
    data.attrs["total"] = steps
    data.attrs["env_args"] = json.dumps(env_args(run))
    names = [f"{DEMO}{i}" for i in range(episodes)]
    valid = split_valid(episodes)
    mask = f.create_group(MASK)
    mask.create_dataset("train", data=np.array([n for i, n in enumerate(names) if i not in valid], dtype="S"))
    mask.create_dataset("valid", data=np.array([names[i] for i in sorted(valid)], dtype="S"))


def split_valid(n: int) -> set[int]:
    """Indices of the demos in mask/valid: every VALID_EVERY-th (demo_9, demo_19, ...), or the
    last one when there are 2 to 9; none of a single demo."""
    valid = {i for i in range(n) if (i + 1) % VALID_EVERY == 0}
    if not valid and n >= 2:
        valid = {n - 1}
    return valid


def env_args(run: dict) -> dict:
    # robomimic's own readers use the keys env_name, type and env_kwargs. No robomimic env type
    # can rebuild a brax env, so "type" names brax instead of one of robomimic's integers.
    return {
        "env_name": run["env_name"],
        "type": "brax",
        "env_kwargs": {"backend": run["backend"], "dt": run["dt"]},
        "nq": run["nq"],
        "nv": run["nv"],
        "nu": run["nu"],
        "joint_names": run["joint_names"],
        "actuator_names": run["actuator_names"],
        # The store keeps the compiled model (MJB); MuJoCo cannot turn that back into XML.
        "model_xml": None,
        "model_mjb": "/model_mjb",
    }


# ------------------------------------------------------------------ read back


def detect(f: h5py.File) -> bool:
    return isinstance(f.get(DATA), h5py.Group) and any(k.startswith(DEMO) for k in f[DATA].keys())


def episode_groups(f: h5py.File) -> list[h5py.Group]:
    parent = f[DATA]
    names = [k for k in parent.keys() if k.startswith(DEMO) and isinstance(parent[k], h5py.Group)]
    return [parent[k] for k in natural_order(names)]


def _env_args(f: h5py.File) -> dict:
    return json_attr(f[DATA], "env_args")


def read_run(f: h5py.File, run: dict) -> dict:
    """Fill in what the file's ``env_args`` says (env name, backend, dt, sizes, names)."""
    env_args = _env_args(f)
    kwargs = env_args.get("env_kwargs") if isinstance(env_args.get("env_kwargs"), dict) else {}
    run.setdefault("env_name", env_args.get("env_name"))
    run.setdefault("backend", kwargs.get("backend"))
    run.setdefault("dt", kwargs.get("dt"))
    for k in ("nq", "nv", "nu", "joint_names", "actuator_names"):
        if env_args.get(k) is not None:
            run.setdefault(k, env_args[k])
    return run


def model_xml(f: h5py.File) -> str | None:
    """MJCF XML the file carries: ``env_args["model_xml"]``, else robosuite's ``model_file`` on a demo."""
    xml = _env_args(f).get("model_xml")
    if not xml:
        for g in episode_groups(f)[:1]:
            xml = attr_str(g, "model_file")
    return xml or None


def read_episode(g: h5py.Group, sizes: tuple[int, int, int]) -> Episode:
    extra = g.get(EXTRA_GROUP)
    extras = {}
    if isinstance(extra, h5py.Group):
        extras = {k: dataset(extra, k) for k in ("env_step", "iteration", "wall_time")}
        extras.update({k: dataset(extra, k) for k in MOCAP if k in extra})
    return episode_from_arrays(
        f"{g.file.filename}: {g.name}", states=dataset(g, "states"), actions=dataset(g, "actions"),
        rewards=dataset(g, "rewards", required=False), dones=dataset(g, "dones", required=False),
        sizes=sizes, meta=meta_of(g.attrs), **extras,
    )
