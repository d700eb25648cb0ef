"""The Minari layout: a Minari dataset directory, written and read through Minari's own API.

Written with ``minari.create_dataset_from_buffers`` (one ``EpisodeBuffer`` per episode), so
``minari.load_dataset(id)``, ``minari list local``, ``iterate_episodes`` and ``sample_episodes``
work on it. A dataset is ``<root>/<id>/data/{metadata.json, main_data.hdf5}``, where the root is
``MINARI_DATASETS_PATH`` (default ``~/.minari/datasets``). Per episode (Minari's conventions):

- ``observations`` [L+1, nq+nv] float32: row 0 the reset observation, which braxscope does not
  record (NaN); row t+1 the state (qpos then qvel) after ``actions[t]``;
- ``actions`` [L, nu], ``rewards`` [L] float32, ``terminations`` [L] (the store's done flag),
  ``truncations`` [L] (true only on the last step of an episode that stopped without done);
- ``infos``: ``env_step``, ``iteration``, ``wall_time`` [L+1] aligned with ``observations``
  (row 0: -1, -1, NaN), and ``mocap_pos``, ``mocap_quat`` [L+1, nmocap, 3|4] for a model with
  mocap bodies (row 0: NaN);
- episode metadata (``storage.get_episode_metadata``): the braxscope_* provenance attributes.

The dataset metadata (``metadata.json``, JSON only) carries the run (``braxscope_run``) and the
MuJoCo model as base64 MJB bytes (``braxscope_model_mjb``, with its SHA-256).

Minari is the extra ``braxscope[minari]``, imported only here and only when used. Episodes in
Minari's layout inside a plain HDF5 file (``main_data.hdf5`` of any Minari dataset) are read
with h5py alone (``read_episode``), for ``braxscope import-hdf5``.
"""

from __future__ import annotations

import base64
import contextlib
import os
import warnings
from pathlib import Path
from typing import Callable

import h5py
import mujoco
import numpy as np

from .. import atomic
from ..model_blob import model_from_bytes, sha256
from ..reader import StoreReader
from ._common import (
    FORMAT_VERSION,
    MOCAP,
    STATE_TIMING,
    Episode,
    ExportResult,
    dataset,
    episode_from_arrays,
    meta_attrs,
    meta_of,
    natural_order,
    plain,
)
from .errors import DamagedHdf5Error, Hdf5LayoutError, Hdf5ModelError, MinariError, NoEpisodesError, OutputExistsError

NAME = "minari"
EPISODE = "episode_"
INFO_KEYS = ("env_step", "iteration", "wall_time")
_INFO_FILL = {"env_step": -1, "iteration": -1, "wall_time": np.nan}
MODEL_KEY = "braxscope_model_mjb"  # metadata.json: the model as base64 MJB


def _minari():
    try:
        import minari
    except ImportError:
        raise MinariError("Minari is not installed: pip install 'braxscope[minari]'") from None
    return minari


def datasets_root(datasets_path: str | os.PathLike | None = None) -> Path:
    """Where Minari keeps datasets: ``datasets_path``, else MINARI_DATASETS_PATH, else ~/.minari/datasets."""
    if datasets_path is not None:
        return Path(datasets_path)
    env = os.environ.get("MINARI_DATASETS_PATH")
    return Path(env) if env else Path.home() / ".minari" / "datasets"


@contextlib.contextmanager
def _datasets_path(root: Path):
    # Minari takes its root only from this variable, read at each call.
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = old


# ------------------------------------------------------------------ write


def spaces(model: mujoco.MjModel):
    """(observation Box [nq+nv], action Box [nu]: the actuators' ctrlrange where limited, else unbounded)."""
    from gymnasium.spaces import Box

    n = model.nq + model.nv
    obs = Box(low=np.full(n, -np.inf, np.float32), high=np.full(n, np.inf, np.float32), dtype=np.float32)
    limited = model.actuator_ctrllimited.astype(bool)
    lo = np.where(limited, model.actuator_ctrlrange[:, 0], -np.inf).astype(np.float32)
    hi = np.where(limited, model.actuator_ctrlrange[:, 1], np.inf).astype(np.float32)
    return obs, Box(low=lo, high=hi, dtype=np.float32)


def buffer(ep: Episode):
    """The episode as Minari's EpisodeBuffer (see the module docstring for the rows)."""
    from minari.data_collector import EpisodeBuffer

    fr = ep.frames
    states = np.concatenate([fr.qpos, fr.qvel], axis=1)
    obs = np.concatenate([np.full((1, states.shape[1]), np.nan, states.dtype), states], axis=0)
    terminations = fr.done.astype(bool)
    truncations = np.zeros(len(fr), bool)
    if len(fr) and not terminations[-1]:
        truncations[-1] = True  # stopped without done: the rollout's length or a cut
    infos = {k: np.concatenate([np.full(1, _INFO_FILL[k], getattr(fr, k).dtype), getattr(fr, k)]) for k in INFO_KEYS}
    for k in MOCAP:
        rows = getattr(fr, k)
        if rows is not None:
            infos[k] = np.concatenate([np.full((1, *rows.shape[1:]), np.nan, rows.dtype), rows])
    return EpisodeBuffer(observations=obs, actions=fr.action, rewards=fr.reward, terminations=terminations,
                         truncations=truncations, infos=infos)


def export(reader: StoreReader, dataset_id: str, episodes: list[Episode], run: dict, *,
           datasets_path: str | os.PathLike | None = None, overwrite: bool = False,
           progress: Callable[[int, int], None] | None = None) -> ExportResult:
    """Write ``episodes`` as the Minari dataset ``dataset_id`` under the datasets root.

    Built in a temporary root beside the real one and renamed into place, so a crash never
    leaves a half-written dataset that ``minari list local`` would show."""
    minari = _minari()
    from minari.dataset.minari_dataset import parse_dataset_id

    try:
        parse_dataset_id(dataset_id)
    except ValueError:
        raise MinariError(f"{dataset_id!r} is not a Minari dataset id: use NAMESPACE/NAME-vN, e.g. braxscope/ant-v0") \
            from None
    if not episodes:
        raise NoEpisodesError("no episodes to export")
    root = datasets_root(datasets_path)
    final = root / dataset_id
    if final.exists() and not overwrite:
        raise OutputExistsError(f"Minari dataset {dataset_id} exists in {root}: choose another id or version, "
                                f"or pass --force to replace it")
    root.mkdir(parents=True, exist_ok=True)
    model = reader.model()
    blob = reader.model_bytes()
    obs_space, act_space = spaces(model)
    buffers = []
    for i, ep in enumerate(episodes):
        buffers.append(buffer(ep))
        if progress:
            progress(i + 1, len(episodes))
    # Minari writes <its root>/<id>; the first level of the id that the root lacks (a new
    # namespace moves whole) is built in a temporary root beside it, then renamed into place.
    parts = Path(dataset_id).parts
    k = len(parts) - 1 if final.exists() else next(i for i in range(len(parts))
                                                      if not (root / Path(*parts[: i + 1])).exists())
    level = Path(*parts[: k + 1])
    with atomic.output_dir(root / level, inner=level) as tmp:
        with _datasets_path(tmp), warnings.catch_warnings():
            # Minari warns that no author, gymnasium env spec or eval env is given: a brax env has
            # no gymnasium spec, and the rest is the user's to add (storage.update_metadata).
            warnings.filterwarnings("ignore", category=UserWarning, module=r"minari\.")
            ds = minari.create_dataset_from_buffers(
                dataset_id, buffers, observation_space=obs_space, action_space=act_space,
                algorithm_name="brax PPO, recorded by braxscope",
                description=(f"{run.get('env_name')} ({run.get('backend') or 'brax'}): observations are MuJoCo "
                             f"qpos then qvel after each action; row 0 (the reset) is not recorded (NaN)"),
                requirements=[f"mujoco=={mujoco.__version__}"],
            )
            ds.storage.update_episode_metadata([meta_attrs(ep.meta) for ep in episodes])
            ds.storage.update_metadata({
                "braxscope_format_version": FORMAT_VERSION,
                "braxscope_state_timing": STATE_TIMING,
                "braxscope_source_store": str(reader.path),
                "braxscope_run": run,
                MODEL_KEY: base64.b64encode(blob).decode("ascii"),
                "braxscope_model_sha256": sha256(blob),
                "braxscope_mujoco_version": str(run.get("mujoco_version") or mujoco.__version__),
            })
    return ExportResult(final, NAME, len(episodes), sum(len(e) for e in episodes))


# ------------------------------------------------------------------ read back


def detect(f: h5py.File) -> bool:
    return any(k.startswith(EPISODE) and isinstance(f[k], h5py.Group) for k in f.keys())


def episode_groups(f: h5py.File) -> list[h5py.Group]:
    names = [k for k in f.keys() if k.startswith(EPISODE) and isinstance(f[k], h5py.Group)]
    return [f[k] for k in natural_order(names)]


def model_xml(f: h5py.File) -> str | None:
    return None  # Minari's layout has no place for a model; braxscope's is in metadata.json


def from_minari(where: str, *, observations, actions, rewards, terminations, infos, meta: dict,
                sizes: tuple[int, int, int]) -> Episode:
    """An episode from Minari's arrays: ``observations[1:]`` are the states (row 0, the reset
    observation, has no row in a store); per-row extras from ``infos`` when they are there."""
    observations, actions = np.asarray(observations), np.asarray(actions)
    L = actions.shape[0]
    if observations.shape[0] != L + 1:
        raise Hdf5LayoutError(f"{where}: observations has {observations.shape[0]} rows; "
                              f"Minari needs one more than actions ({L})")
    extras = {}
    if isinstance(infos, dict):
        present = [k for k in (*INFO_KEYS, *MOCAP) if k in infos and np.shape(infos[k])[:1] == (L + 1,)]
        if all(k in present for k in INFO_KEYS):
            extras = {k: np.asarray(infos[k])[1:] for k in present}
    return episode_from_arrays(where, states=observations[1:], actions=actions,
                               rewards=None if rewards is None else np.asarray(rewards),
                               dones=None if terminations is None else np.asarray(terminations),
                               sizes=sizes, meta=meta, **extras)


def read_episode(g: h5py.Group, sizes: tuple[int, int, int]) -> Episode:
    """An ``episode_N`` group of a Minari HDF5 file, with h5py alone."""
    info = g.get("infos")
    infos = ({k: dataset(info, k) for k in (*INFO_KEYS, *MOCAP) if k in info} if isinstance(info, h5py.Group)
             else None)
    return from_minari(f"{g.file.filename}: {g.name}", observations=dataset(g, "observations"),
                       actions=dataset(g, "actions"), rewards=dataset(g, "rewards", required=False),
                       terminations=dataset(g, "terminations", required=False), infos=infos,
                       meta=meta_of(g.attrs), sizes=sizes)


def _data_dir(src: str | os.PathLike, datasets_path) -> Path:
    """A dataset directory, its ``data`` directory, or a dataset id under the datasets root."""
    p = Path(src)
    for cand in (p / "data", p):
        if (cand / "metadata.json").is_file():
            return cand
    by_id = datasets_root(datasets_path) / str(src) / "data"
    if (by_id / "metadata.json").is_file():
        return by_id
    raise MinariError(f"{src} is neither a Minari dataset directory (with data/metadata.json) nor a dataset id "
                      f"in {datasets_root(datasets_path)}: check the path or set MINARI_DATASETS_PATH")


def model_of(metadata: dict, src) -> mujoco.MjModel | None:
    text = metadata.get(MODEL_KEY)
    if not text:
        return None
    try:
        blob = base64.b64decode(text, validate=True)
    except ValueError:
        raise Hdf5ModelError(f"{src}: {MODEL_KEY} in metadata.json is not base64") from None
    want = metadata.get("braxscope_model_sha256")
    if want and sha256(blob) != want:
        raise Hdf5ModelError(f"{src}: the model in metadata.json is corrupt (checksum mismatch)")
    return model_from_bytes(blob, saved_with=metadata.get("braxscope_mujoco_version"))


def read_dataset(src: str | os.PathLike, *, datasets_path=None, model: mujoco.MjModel | None = None):
    """(run attrs, model or None, dataset) of a Minari dataset, opened with Minari's MinariDataset."""
    _minari()
    from minari import MinariDataset

    data = _data_dir(src, datasets_path)
    try:
        ds = MinariDataset(data)
        metadata = ds.storage.metadata
    except (ValueError, KeyError, OSError, AssertionError) as e:
        raise MinariError(f"{src}: Minari cannot open this dataset ({str(e).splitlines()[0][:140]})") from None
    run = metadata.get("braxscope_run") if isinstance(metadata.get("braxscope_run"), dict) else {}
    return dict(run), (model or model_of(metadata, src)), ds


def episodes_of(ds, sizes: tuple[int, int, int]) -> list[Episode]:
    try:
        metas = list(ds.storage.get_episode_metadata(ds.episode_indices))
        out = []
        for ep, attrs in zip(ds.iterate_episodes(), metas):
            meta = {k: plain(v) for k, v in meta_of(attrs).items()}
            out.append(from_minari(f"{ds.id} episode {ep.id}", observations=ep.observations, actions=ep.actions,
                                   rewards=ep.rewards, terminations=ep.terminations, infos=ep.infos, meta=meta,
                                   sizes=sizes))
    except (OSError, KeyError, RuntimeError) as e:
        # h5py raises these for a truncated or damaged main_data.hdf5.
        raise DamagedHdf5Error(f"{ds.id}: its data cannot be read ({str(e).splitlines()[0][:120]})") from None
    return out
