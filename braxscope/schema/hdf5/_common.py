"""What every layout shares: episodes out of a store, checks on episodes read back, the model, and
writing read-back episodes into a new store.

Row semantics, the same in every layout: braxscope records the state *after* each step, so a
stored row ``t`` holds the action taken at step ``t``, the state it led to, its reward and its
done flag. The reset state before the first action is not recorded.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import h5py
import mujoco
import numpy as np

from .. import atomic
from ..episode_id import EpisodeId
from ..errors import BraxscopeError
from ..frames import Frames
from ..model_blob import model_from_bytes
from ..reader import EpisodeInfo, StoreReader
from ..writer import StoreWriter
from .errors import Hdf5LayoutError, Hdf5ModelError, NoEpisodesError, OutputExistsError

FORMAT_VERSION = 1  # of the braxscope_* extensions; bump when they change
STATE_TIMING = "after_action"
META_PREFIX = "braxscope_"  # per-episode provenance attributes: braxscope_source, braxscope_iteration, ...
RUN_KEYS = ("env_name", "backend", "dt", "nq", "nv", "nu", "joint_names", "actuator_names", "run_id",
            "config", "mujoco_version", "model_sha256", "schema_version")
MOCAP = ("mocap_pos", "mocap_quat")  # per-row extras of models with mocap bodies
_COMMIT_EVERY = 64  # episodes per store commit while importing


@dataclass
class Episode:
    """One episode out of (or on its way into) a store: its rows and its provenance.

    ``meta`` holds the braxscope_* attributes without the prefix (episode_id, writer, source,
    slot, env_id, device, iteration, env_step, return, complete, wall_time); empty for an episode
    written by another program."""

    frames: Frames
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frames)


@dataclass
class ExportResult:
    path: Path
    layout: str
    episodes: int
    steps: int


@dataclass
class ImportResult:
    path: Path
    layout: str
    episodes: int
    steps: int
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ out of a store


def select(reader: StoreReader, ids: Sequence[str] | None) -> list[EpisodeInfo]:
    """The episodes named by ``ids`` ("W:R" or "R"), or every complete one."""
    if not ids:
        chosen = [e for e in reader.episodes() if e.complete]
        if not chosen:
            raise NoEpisodesError(f"{reader.path} has no complete episodes yet: name cut ones with --episodes ID")
        return chosen
    chosen = []
    for eid in ids:
        if EpisodeId.parse(eid).is_open:
            raise NoEpisodesError(f"episode {eid} is still in progress: only finished episodes can be exported")
        chosen.append(reader.get_episode(str(eid)))
    return chosen


def run_attrs(attrs: dict) -> dict:
    return {k: attrs.get(k) for k in RUN_KEYS}


def from_store(reader: StoreReader, ep: EpisodeInfo) -> Episode:
    meta = {
        "episode_id": ep.id, "writer": ep.writer, "source": ep.source, "slot": ep.slot, "env_id": ep.env_id,
        "device": ep.device, "iteration": ep.iteration, "env_step": ep.env_step, "return": ep.ret,
        "complete": ep.complete, "wall_time": ep.wall_time,
    }
    return Episode(reader.frames(ep), meta)


def meta_attrs(meta: dict) -> dict:
    """The episode's provenance as HDF5 attributes (braxscope_source, ...)."""
    return {f"{META_PREFIX}{k}": v for k, v in meta.items()}


def out_path_free(out: Path, overwrite: bool) -> None:
    if out.exists() and not overwrite:
        raise OutputExistsError(f"{out} exists: choose another path or pass --force to replace it")
    if out.is_dir():
        raise OutputExistsError(f"{out} is a directory: give a file name such as {out / 'episodes.h5'}")


# ------------------------------------------------------------------ read back


def plain(v):
    """An HDF5 attribute value as plain Python (str, int, float, bool)."""
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.generic):
        return v.item()
    return v


def meta_of(attrs) -> dict:
    return {k[len(META_PREFIX):]: plain(v) for k, v in attrs.items() if k.startswith(META_PREFIX)}


def attr_str(obj, key: str) -> str | None:
    v = obj.attrs.get(key)
    if v is None:
        return None
    return v.decode() if isinstance(v, bytes) else str(v)


def json_attr(obj, key: str) -> dict:
    """A JSON object attribute ({} when absent or not an object)."""
    text = attr_str(obj, key)
    if not text:
        return {}
    try:
        doc = json.loads(text)
    except ValueError:
        raise Hdf5LayoutError(f"attribute {key!r} of {obj.name} is not valid JSON") from None
    return doc if isinstance(doc, dict) else {}


def dataset(g: h5py.Group, name: str, required: bool = True) -> np.ndarray | None:
    d = g.get(name)
    if not isinstance(d, h5py.Dataset):
        if required:
            raise Hdf5LayoutError(f"{g.file.filename}: {g.name} has no dataset {name!r}: "
                                  f"see docs/EXPORT.md for the layout")
        return None
    return np.asarray(d[()])


def natural_order(names) -> list[str]:
    """demo_2 before demo_10."""
    def index(name: str) -> int:
        m = re.search(r"(\d+)$", name)
        return int(m.group(1)) if m else -1
    return sorted(names, key=index)


def episode_from_arrays(where: str, *, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray | None,
                        dones: np.ndarray | None, sizes: tuple[int, int, int], meta: dict,
                        env_step: np.ndarray | None = None, iteration: np.ndarray | None = None,
                        wall_time: np.ndarray | None = None, mocap_pos: np.ndarray | None = None,
                        mocap_quat: np.ndarray | None = None) -> Episode:
    """An episode from a layout's arrays, checked: states [L, nq+nv] (qpos then qvel), actions
    [L, nu], rewards and dones [L] (zeros when absent); per-row extras from ``meta`` when absent;
    mocap_pos [L, nmocap, 3] and mocap_quat [L, nmocap, 4] when the file has them."""
    nq, nv, nu = sizes
    if actions.ndim == 1 and nu == 1:
        actions = actions[:, None]
    L = int(actions.shape[0])
    if states.shape[0] != L:
        raise Hdf5LayoutError(f"{where}: states has {states.shape[0]} rows but actions has {L}")
    if states.ndim != 2 or states.shape[1] != nq + nv:
        raise Hdf5LayoutError(
            f"{where}: states have width {states.shape[1:] or 'scalar'} but the model needs nq+nv={nq + nv} "
            "(qpos then qvel): only full MuJoCo states can be imported"
        )
    if actions.ndim != 2 or actions.shape[1] != nu:
        raise Hdf5LayoutError(f"{where}: actions have width {actions.shape[1:]} but the model has nu={nu}")
    for name, arr in (("rewards", rewards), ("dones", dones)):
        if arr is not None and arr.reshape(arr.shape[0], -1).shape != (L, 1):
            raise Hdf5LayoutError(f"{where}: {name} has shape {arr.shape}, expected ({L},)")
    for name, arr, width in (("mocap_pos", mocap_pos, 3), ("mocap_quat", mocap_quat, 4)):
        if arr is not None and (arr.ndim != 3 or arr.shape[0] != L or arr.shape[2] != width):
            raise Hdf5LayoutError(f"{where}: {name} has shape {arr.shape}, expected ({L}, nmocap, {width})")
    frames = Frames(
        qpos=states[:, :nq].astype(np.float32), qvel=states[:, nq:].astype(np.float32),
        action=actions.astype(np.float32),
        reward=np.zeros(L, np.float32) if rewards is None else rewards.reshape(L).astype(np.float32),
        done=np.zeros(L, bool) if dones is None else dones.reshape(L) != 0,
        env_step=(np.full(L, int(meta.get("env_step", 0)), np.int64) if env_step is None
                  else env_step.astype(np.int64)),
        iteration=(np.full(L, int(meta.get("iteration", 0)), np.int32) if iteration is None
                   else iteration.astype(np.int32)),
        wall_time=(np.full(L, float(meta.get("wall_time", np.nan)), np.float64) if wall_time is None
                   else wall_time.astype(np.float64)),
        mocap_pos=None if mocap_pos is None else mocap_pos.astype(np.float32),
        mocap_quat=None if mocap_quat is None else mocap_quat.astype(np.float32),
    )
    return Episode(frames, meta)


def model_from_path(model_path) -> mujoco.MjModel:
    """``--model FILE.xml|FILE.mjb``."""
    p = Path(model_path)
    try:
        if p.suffix.lower() == ".mjb":
            return model_from_bytes(p.read_bytes())
        return mujoco.MjModel.from_xml_path(str(p))
    except BraxscopeError:
        raise
    except Exception as e:
        raise Hdf5ModelError(f"the model {p} does not load ({str(e).strip().splitlines()[0][:120]})") from None


def check_sizes(src, run: dict, model: mujoco.MjModel) -> None:
    for key in ("nq", "nv", "nu"):
        have = getattr(model, key)
        if run.get(key) is not None and int(run[key]) != have:
            raise Hdf5LayoutError(f"{src} says {key}={run[key]} but its model has {key}={have}: "
                                  f"the file is inconsistent")
    run.update(nq=model.nq, nv=model.nv, nu=model.nu)


# ------------------------------------------------------------------ into a new store


def write_store(out: Path, src, run: dict, model: mujoco.MjModel, episodes: list[Episode], layout: str, *,
                env_name: str | None = None, progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Write read-back episodes into a new store at ``out`` through :class:`StoreWriter`.

    Episodes exported from a braxscope train stream go back into a train stream with one slot
    (their env id, device, per-row env steps and iterations kept); snapshots go back as
    snapshots. Episodes written by another program (no ``source`` in their meta) become
    snapshot episodes: one catalog entry each, whatever its dones, complete when its last step
    is done; episodes without rows are left out (with a note). On failure nothing is left at
    ``out``.
    """
    notes: list[str] = []
    dt = run.get("dt")
    if dt is None:
        dt = float(model.opt.timestep)
        notes.append(f"the file gives no dt; using the model timestep {dt:g} s")
    name = env_name or run.get("env_name") or Path(src).stem
    config = run.get("config") if isinstance(run.get("config"), dict) else {}

    # A cut train episode leaves its slot "not clean", so the next episode there could not be
    # complete: write cut train episodes last, each after a gap mark, and everything else in
    # the file's order. Every episode then keeps its complete flag.
    todo = [episodes[i] for i in sorted(range(len(episodes)), key=lambda i: (_is_cut_train(episodes[i]), i))]
    empty = sum(1 for e in todo if not len(e))
    if empty:  # a store has no episode without rows
        todo = [e for e in todo if len(e)]
        notes.append(f"{empty} episode(s) without rows were left out")
    steps = 0
    # Written in a temporary directory beside ``out`` and renamed into place when closed: a
    # failed or killed import leaves no half store under ``out``.
    with atomic.output_dir(out) as tmp:
        writer = StoreWriter.create(tmp, model, env_name=str(name), backend=str(run.get("backend") or ""),
                                    dt=float(dt), train_slots=1, config=config)
        try:
            for i, e in enumerate(todo):
                if e.meta.get("source") == "train":
                    _import_train(writer, e)
                else:
                    _import_snapshot(writer, e)
                steps += len(e)
                if (i + 1) % _COMMIT_EVERY == 0:
                    writer.commit()
                if progress:
                    progress(i + 1, len(todo))
        except BaseException:
            with contextlib.suppress(Exception):  # the import's own error is the one to report
                writer.close()
            raise
        writer.close()
    foreign = sum(1 for e in episodes if "source" not in e.meta)
    if foreign:
        notes.append(f"{foreign} episode(s) written by another program were imported as snapshot episodes")
    return ImportResult(out, layout, len(episodes), steps, notes)


def _is_cut_train(e: Episode) -> bool:
    return e.meta.get("source") == "train" and not e.meta.get("complete", True)


def _import_train(w: StoreWriter, e: Episode) -> None:
    f, L = e.frames, len(e)
    if _is_cut_train(e):
        # It began after a gap in the source store: start it after one here too, so that it is
        # catalogued as cut even when it ends at done. The next gap mark (or close) ends it.
        w.mark_gap(0)
    env_id = int(e.meta.get("env_id", 0))
    w.append_train(
        qpos=f.qpos[:, None], qvel=f.qvel[:, None], action=f.action[:, None], reward=f.reward[:, None],
        done=f.done[:, None], env_id=np.full((L, 1), env_id, np.int32), env_step=f.env_step,
        iteration=f.iteration, wall_time=f.wall_time, devices=np.asarray([int(e.meta.get("device", 0))]),
        **{k: getattr(f, k)[:, None] for k in MOCAP if getattr(f, k) is not None},
    )


def _import_snapshot(w: StoreWriter, e: Episode) -> None:
    f = e.frames
    braxscope = "source" in e.meta
    complete = bool(e.meta["complete"]) if braxscope else bool(len(e) and f.done[-1])
    # The rows as read: per-row env steps, iterations and wall times are the file's, or its
    # episode attributes' where it has none (episode_from_arrays).
    w.append_frames(f, complete=complete)
