"""Finished episodes to and from HDF5, in the robomimic or the Minari layout.

``docs/EXPORT.md`` documents both layouts exactly; this module is the code for it. h5py and
numpy only (plus the store's own reader and writer).

Row semantics, the same in both layouts: braxscope records the state *after* each step, so a
stored row ``t`` holds the action taken at step ``t``, the state it led to, its reward and its
done flag. The reset state before the first action is not recorded. Hence:

- robomimic ``states[t]`` is the state after ``actions[t]`` (file attribute
  ``braxscope_state_timing = "after_action"``);
- Minari ``observations`` has ``L + 1`` rows as Minari requires, and row 0 (the reset
  observation) is NaN; ``observations[t + 1]`` is the state after ``actions[t]``.

Round trip: export, import, export again gives the same datasets bit for bit, and the imported
store's frames (qpos, qvel, action, reward, done, env_step, iteration, wall_time) and catalog
(source, env, slot, device, iteration, env_step, length, return, complete) equal the original's.
Only the gap bit of ``flags`` is the new store's own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import h5py
import mujoco
import numpy as np

from .episode_id import EpisodeId
from .errors import BraxscopeError, StoreNotFoundError
from .model_blob import model_from_bytes, sha256
from .reader import EpisodeInfo, StoreReader, open_store
from .writer import StoreWriter

LAYOUTS = ("robomimic", "minari")
FORMAT_VERSION = 1  # of the braxscope_* extensions below; bump when they change

MODEL_DATASET = "model_mjb"  # root dataset: the MuJoCo model as MJB bytes (1-D uint8)
EXTRA_GROUP = "braxscope"  # per-episode group: per-row env_step, iteration, wall_time
STATE_TIMING = "after_action"

# Lossless and built into every HDF5 build (readable by any h5py without plugins).
_COMPRESSION = dict(compression="gzip", compression_opts=4, shuffle=True)
_COMMIT_EVERY = 64  # episodes per store commit while importing


class Hdf5Error(BraxscopeError):
    """Base of the HDF5 export/import errors."""


class NotHdf5Error(Hdf5Error):
    """The input file is not HDF5."""


class Hdf5LayoutError(Hdf5Error):
    """The file is HDF5 but not in a layout braxscope can import, or its shapes disagree."""


class Hdf5ModelError(Hdf5Error):
    """The file holds no MuJoCo model, or one that does not load."""


class DamagedHdf5Error(Hdf5Error):
    """The file is HDF5 but some of it cannot be read (truncated or corrupted)."""


class OutputExistsError(Hdf5Error):
    """The output path exists already."""


class NoEpisodesError(Hdf5Error):
    """Nothing to export or import."""


@dataclass
class EpisodeData:
    """One episode in layout-neutral form. Shapes: qpos [L,nq], qvel [L,nv], action [L,nu],
    reward [L] float32, done [L] uint8, env_step [L] int64, iteration [L] int32, wall_time [L] s."""

    qpos: np.ndarray
    qvel: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    done: np.ndarray
    env_step: np.ndarray
    iteration: np.ndarray
    wall_time: np.ndarray
    meta: dict = field(default_factory=dict)  # the braxscope_* provenance, without the prefix

    def __len__(self) -> int:
        return int(self.reward.shape[0])


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


# ------------------------------------------------------------------ export


def export_hdf5(
    store: str | os.PathLike | StoreReader,
    out: str | os.PathLike,
    *,
    episodes: Sequence[str] | None = None,
    layout: str = "robomimic",
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write finished episodes of a store to ``out`` in ``layout`` ("robomimic" or "minari").

    ``episodes``: ids ("W:R" or "R"); default every complete episode. The file is written to a
    temporary name and renamed into place, so a crash never leaves a half-written ``out``.
    ``progress(done, total)`` is called after each episode.
    """
    if layout not in LAYOUTS:
        raise Hdf5LayoutError(f"unknown layout {layout!r}: choose robomimic or minari")
    reader = store if isinstance(store, StoreReader) else open_store(store)
    out = Path(out)
    if out.exists() and not overwrite:
        raise OutputExistsError(f"{out} exists: choose another path or pass --force to replace it")
    if out.is_dir():
        raise OutputExistsError(f"{out} is a directory: give a file name such as {out / 'episodes.h5'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    infos = _select(reader, episodes)
    model_blob = np.frombuffer(reader.model_bytes(), dtype=np.uint8)
    run = _run_attrs(reader.info.attrs)

    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.partial")
    steps = 0
    try:
        with h5py.File(tmp, "w", track_order=True) as f:
            _write_common(f, layout, run, model_blob, reader.path)
            parent = f.create_group("data", track_order=True) if layout == "robomimic" else f
            for i, ep in enumerate(infos):
                data = _episode_data(reader, ep)
                steps += len(data)
                if layout == "robomimic":
                    _write_robomimic_demo(parent, i, data)
                else:
                    _write_minari_episode(parent, i, data)
                if progress:
                    progress(i + 1, len(infos))
            if layout == "robomimic":
                parent.attrs["total"] = steps
                parent.attrs["env_args"] = json.dumps(_env_args(run))
            else:
                f.attrs["total_episodes"] = len(infos)
                f.attrs["total_steps"] = steps
                f.attrs["data_format"] = "hdf5"
                f.attrs["observation_space"] = json.dumps(_box(run["nq"] + run["nv"]))
                f.attrs["action_space"] = json.dumps(_action_box(reader.model(), run["nu"]))
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return ExportResult(out, layout, len(infos), steps)


def _select(reader: StoreReader, ids: Sequence[str] | None) -> list[EpisodeInfo]:
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


def _run_attrs(attrs: dict) -> dict:
    keys = ("env_name", "backend", "dt", "nq", "nv", "nu", "joint_names", "actuator_names", "run_id",
            "config", "mujoco_version", "model_sha256", "schema_version")
    return {k: attrs.get(k) for k in keys}


def _env_args(run: dict) -> dict:
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
        "model_mjb": "/" + MODEL_DATASET,
    }


def _box(n: int, low: Iterable[float] | None = None, high: Iterable[float] | None = None) -> dict:
    """A Box space serialised the way Minari's serialize_space does (JSON; inf as Infinity)."""
    lo = [float(v) for v in low] if low is not None else [-np.inf] * n
    hi = [float(v) for v in high] if high is not None else [np.inf] * n
    return {"type": "Box", "dtype": "float32", "shape": [n], "low": lo, "high": hi}


def _action_box(model: mujoco.MjModel, nu: int) -> dict:
    limited = model.actuator_ctrllimited.astype(bool)
    lo = np.where(limited, model.actuator_ctrlrange[:, 0], -np.inf)
    hi = np.where(limited, model.actuator_ctrlrange[:, 1], np.inf)
    return _box(nu, lo, hi)


def _write_common(f: h5py.File, layout: str, run: dict, blob: np.ndarray, source: Path) -> None:
    f.attrs["braxscope_layout"] = layout
    f.attrs["braxscope_format_version"] = FORMAT_VERSION
    f.attrs["braxscope_state_timing"] = STATE_TIMING
    f.attrs["braxscope_source_store"] = str(source)
    f.attrs["braxscope_run"] = json.dumps(run)
    d = f.create_dataset(MODEL_DATASET, data=blob, **_COMPRESSION)
    d.attrs["sha256"] = sha256(blob)
    d.attrs["mujoco_version"] = str(run.get("mujoco_version") or mujoco.__version__)


def _episode_data(reader: StoreReader, ep: EpisodeInfo) -> EpisodeData:
    fr = reader.frames(ep)
    meta = {
        "episode_id": ep.id, "writer": ep.writer, "source": ep.source, "slot": ep.slot, "env_id": ep.env_id,
        "device": ep.device, "iteration": ep.iteration, "env_step": ep.env_step, "return": ep.ret,
        "complete": ep.complete, "wall_time": ep.wall_time,
    }
    return EpisodeData(
        qpos=fr.qpos, qvel=fr.qvel, action=fr.action, reward=fr.reward, done=fr.done.astype(np.uint8),
        env_step=fr.env_step, iteration=fr.iteration, wall_time=fr.wall_time, meta=meta,
    )


def _write_meta(g: h5py.Group, meta: dict) -> None:
    for k, v in meta.items():
        g.attrs[f"braxscope_{k}"] = v


def _write_extra(g: h5py.Group, d: EpisodeData) -> None:
    x = g.create_group(EXTRA_GROUP)
    x.create_dataset("env_step", data=d.env_step, **_COMPRESSION)
    x.create_dataset("iteration", data=d.iteration, **_COMPRESSION)
    x.create_dataset("wall_time", data=d.wall_time, **_COMPRESSION)


def _write_robomimic_demo(data: h5py.Group, i: int, d: EpisodeData) -> None:
    g = data.create_group(f"demo_{i}")
    g.attrs["num_samples"] = len(d)
    _write_meta(g, d.meta)
    g.create_dataset("states", data=np.concatenate([d.qpos, d.qvel], axis=1), **_COMPRESSION)
    g.create_dataset("actions", data=d.action, **_COMPRESSION)
    g.create_dataset("rewards", data=d.reward, **_COMPRESSION)
    g.create_dataset("dones", data=d.done, **_COMPRESSION)
    _write_extra(g, d)


def _write_minari_episode(f: h5py.Group, i: int, d: EpisodeData) -> None:
    g = f.create_group(f"episode_{i}")
    g.attrs["id"] = i
    g.attrs["total_steps"] = len(d)
    _write_meta(g, d.meta)
    states = np.concatenate([d.qpos, d.qvel], axis=1)
    obs = np.concatenate([np.full((1, states.shape[1]), np.nan, states.dtype), states], axis=0)
    terminations = d.done.astype(bool)
    truncations = np.zeros(len(d), bool)
    if len(d) and not terminations[-1]:
        truncations[-1] = True  # stopped without done: the rollout's length or a cut
    g.create_dataset("observations", data=obs, **_COMPRESSION)
    g.create_dataset("actions", data=d.action, **_COMPRESSION)
    g.create_dataset("rewards", data=d.reward, **_COMPRESSION)
    g.create_dataset("terminations", data=terminations, **_COMPRESSION)
    g.create_dataset("truncations", data=truncations, **_COMPRESSION)
    _write_extra(g, d)


# ------------------------------------------------------------------ import


def detect_layout(f: h5py.File) -> str:
    """"robomimic" or "minari", from the braxscope attribute or the groups present."""
    declared = f.attrs.get("braxscope_layout")
    if isinstance(declared, bytes):
        declared = declared.decode()
    if declared in LAYOUTS:
        return str(declared)
    if isinstance(f.get("data"), h5py.Group) and any(k.startswith("demo_") for k in f["data"].keys()):
        return "robomimic"
    if any(k.startswith("episode_") and isinstance(f[k], h5py.Group) for k in f.keys()):
        return "minari"
    raise Hdf5LayoutError(
        f"{f.filename} is HDF5 but in neither layout braxscope reads (robomimic data/demo_N or Minari episode_N): "
        f"see docs/EXPORT.md"
    )


def read_hdf5(src: str | os.PathLike, *,
              model_path: str | os.PathLike | None = None) -> tuple[dict, mujoco.MjModel, list[EpisodeData], str]:
    """Read a robomimic or Minari file: (run attrs, model, episodes, layout).

    ``model_path`` (XML or MJB) overrides or supplies the model when the file has none.
    """
    src = Path(src)
    f = _open_h5(src)
    try:
        with f:
            return _read_open_file(f, src, model_path)
    except (OSError, RuntimeError, KeyError) as e:
        # h5py raises these for truncated files and damaged objects.
        raise DamagedHdf5Error(f"{src} is damaged and cannot be read ({str(e).splitlines()[0][:120]})") from None


def _read_open_file(f: h5py.File, src: Path, model_path) -> tuple[dict, mujoco.MjModel, list[EpisodeData], str]:
    layout = detect_layout(f)
    run = _read_run(f, layout)
    model = _read_model(f, layout, src, model_path)
    nq, nv, nu = model.nq, model.nv, model.nu
    for key, have in (("nq", nq), ("nv", nv), ("nu", nu)):
        if run.get(key) is not None and int(run[key]) != have:
            raise Hdf5LayoutError(f"{src} says {key}={run[key]} but its model has {key}={have}: "
                                  f"the file is inconsistent")
    run.update(nq=nq, nv=nv, nu=nu)
    groups = _episode_groups(f, layout)
    if not groups:
        raise NoEpisodesError(f"{src} holds no episodes")
    episodes = [_read_episode(g, layout, nq, nv, nu) for g in groups]
    return run, model, episodes, layout


def _open_h5(src: Path) -> h5py.File:
    if not src.exists():
        raise StoreNotFoundError(f"{src} does not exist: check the path")
    if src.is_dir() or not h5py.is_hdf5(src):
        raise NotHdf5Error(f"{src} is not an HDF5 file: "
                           f"import-hdf5 reads .h5/.hdf5 files in the robomimic or Minari layout")
    try:
        return h5py.File(src, "r")
    except OSError as e:  # it has an HDF5 signature but does not open: truncated or damaged
        raise DamagedHdf5Error(f"{src} is a damaged HDF5 file ({str(e).splitlines()[0][:140]})") from None


def _attr_str(obj, key: str) -> str | None:
    v = obj.attrs.get(key)
    if v is None:
        return None
    return v.decode() if isinstance(v, bytes) else str(v)


def _json_attr(obj, key: str) -> dict:
    text = _attr_str(obj, key)
    if not text:
        return {}
    try:
        doc = json.loads(text)
    except ValueError:
        raise Hdf5LayoutError(f"attribute {key!r} of {obj.name} is not valid JSON") from None
    return doc if isinstance(doc, dict) else {}


def _read_run(f: h5py.File, layout: str) -> dict:
    run = _json_attr(f, "braxscope_run")
    if layout == "robomimic":
        env_args = _json_attr(f["data"], "env_args")
        kwargs = env_args.get("env_kwargs") if isinstance(env_args.get("env_kwargs"), dict) else {}
        run.setdefault("env_name", env_args.get("env_name"))
        run.setdefault("backend", kwargs.get("backend"))
        run.setdefault("dt", kwargs.get("dt"))
        for k in ("nq", "nv", "nu", "joint_names", "actuator_names"):
            if env_args.get(k) is not None:
                run.setdefault(k, env_args[k])
        run["_model_xml"] = env_args.get("model_xml")
    return run


def _read_model(f: h5py.File, layout: str, src: Path, model_path) -> mujoco.MjModel:
    if model_path is not None:
        p = Path(model_path)
        try:
            if p.suffix.lower() == ".mjb":
                return model_from_bytes(p.read_bytes())
            return mujoco.MjModel.from_xml_path(str(p))
        except BraxscopeError:
            raise
        except Exception as e:
            raise Hdf5ModelError(f"the model {p} does not load ({str(e).strip().splitlines()[0][:120]})") from None
    if MODEL_DATASET in f and isinstance(f[MODEL_DATASET], h5py.Dataset):
        d = f[MODEL_DATASET]
        blob = np.asarray(d[()], dtype=np.uint8).tobytes()
        want = _attr_str(d, "sha256")
        if want and sha256(blob) != want:
            raise Hdf5ModelError(f"{src}: /{MODEL_DATASET} is corrupt (checksum mismatch)")
        try:
            return model_from_bytes(blob, saved_with=_attr_str(d, "mujoco_version"))
        except BraxscopeError as e:
            raise Hdf5ModelError(f"{src}: {e}") from None
    xml = None
    if layout == "robomimic":
        xml = _json_attr(f["data"], "env_args").get("model_xml")
        if not xml:
            # robosuite-style datasets keep the MJCF XML on each demo.
            for g in _episode_groups(f, layout)[:1]:
                xml = _attr_str(g, "model_file")
    xml = xml or _attr_str(f, "model_xml")
    if xml:
        try:
            return mujoco.MjModel.from_xml_string(xml)
        except Exception as e:
            raise Hdf5ModelError(f"{src}: its model XML does not compile "
                                 f"({str(e).strip().splitlines()[0][:120]})") from None
    raise Hdf5ModelError(
        f"{src} holds no MuJoCo model (no /{MODEL_DATASET}, no model_xml or model_file attribute): "
        f"pass --model FILE.xml"
    )


def _natural_index(name: str) -> int:
    m = re.search(r"(\d+)$", name)
    return int(m.group(1)) if m else -1


def _episode_groups(f: h5py.File, layout: str) -> list[h5py.Group]:
    parent, prefix = (f["data"], "demo_") if layout == "robomimic" else (f, "episode_")
    names = [k for k in parent.keys() if k.startswith(prefix) and isinstance(parent[k], h5py.Group)]
    return [parent[k] for k in sorted(names, key=_natural_index)]


def _dataset(g: h5py.Group, name: str, required: bool = True) -> np.ndarray | None:
    d = g.get(name)
    if not isinstance(d, h5py.Dataset):
        if required:
            raise Hdf5LayoutError(f"{g.file.filename}: {g.name} has no dataset {name!r}: "
                                  f"see docs/EXPORT.md for the layout")
        return None
    return np.asarray(d[()])


def _read_episode(g: h5py.Group, layout: str, nq: int, nv: int, nu: int) -> EpisodeData:
    where = f"{g.file.filename}: {g.name}"
    actions = _dataset(g, "actions")
    if actions.ndim == 1 and nu == 1:
        actions = actions[:, None]
    L = int(actions.shape[0])
    if layout == "robomimic":
        states = _dataset(g, "states")
        if states.shape[0] != L:
            raise Hdf5LayoutError(f"{where}: states has {states.shape[0]} rows but actions has {L}")
        rewards = _dataset(g, "rewards", required=False)
        dones = _dataset(g, "dones", required=False)
        terminations = dones
    else:
        obs = _dataset(g, "observations")
        if obs.shape[0] != L + 1:
            raise Hdf5LayoutError(f"{where}: observations has {obs.shape[0]} rows; "
                                  f"Minari needs one more than actions ({L})")
        states = obs[1:]  # row 0 is the reset observation, which a store has no row for
        rewards = _dataset(g, "rewards", required=False)
        terminations = _dataset(g, "terminations", required=False)
    if states.ndim != 2 or states.shape[1] != nq + nv:
        raise Hdf5LayoutError(
            f"{where}: states have width {states.shape[1:] or 'scalar'} but the model needs nq+nv={nq + nv} "
            "(qpos then qvel): only full MuJoCo states can be imported"
        )
    if actions.ndim != 2 or actions.shape[1] != nu:
        raise Hdf5LayoutError(f"{where}: actions have width {actions.shape[1:]} but the model has nu={nu}")
    for name, arr in (("rewards", rewards), ("dones" if layout == "robomimic" else "terminations", terminations)):
        if arr is not None and arr.reshape(arr.shape[0], -1).shape != (L, 1):
            raise Hdf5LayoutError(f"{where}: {name} has shape {arr.shape}, expected ({L},)")
    meta = {k[len("braxscope_"):]: _plain(v) for k, v in g.attrs.items() if k.startswith("braxscope_")}
    extra = g.get(EXTRA_GROUP)
    if isinstance(extra, h5py.Group):
        env_step = _dataset(extra, "env_step").astype(np.int64)
        iteration = _dataset(extra, "iteration").astype(np.int32)
        wall_time = _dataset(extra, "wall_time").astype(np.float64)
    else:
        env_step = np.full(L, int(meta.get("env_step", 0)), np.int64)
        iteration = np.full(L, int(meta.get("iteration", 0)), np.int32)
        wall_time = np.full(L, float(meta.get("wall_time", np.nan)), np.float64)
    return EpisodeData(
        qpos=states[:, :nq].astype(np.float32), qvel=states[:, nq:].astype(np.float32),
        action=actions.astype(np.float32),
        reward=(np.zeros(L, np.float32) if rewards is None else rewards.reshape(L).astype(np.float32)),
        done=(np.zeros(L, np.uint8) if terminations is None else (terminations.reshape(L) != 0).astype(np.uint8)),
        env_step=env_step, iteration=iteration, wall_time=wall_time, meta=meta,
    )


def _plain(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.generic):
        return v.item()
    return v


def import_hdf5(
    src: str | os.PathLike,
    out: str | os.PathLike,
    *,
    model_path: str | os.PathLike | None = None,
    env_name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Read a robomimic or Minari file into a new store at ``out`` through :class:`StoreWriter`.

    Episodes exported from a braxscope train stream go back into a train stream with one slot
    (their env id, device, per-row env steps and iterations kept); snapshots go back as
    snapshots. Episodes written by another program (no ``braxscope_source`` attribute) become
    snapshot episodes: one catalog entry per demo, whatever its dones, complete when its last
    step is done. ``out`` must not exist; on failure nothing is left there.
    """
    out = Path(out)
    if out.exists():
        raise OutputExistsError(f"{out} exists: import-hdf5 writes a new store; choose another path")
    run, model, episodes, layout = read_hdf5(src, model_path=model_path)
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
    todo = sorted(range(len(episodes)), key=lambda i: (_is_cut_train(episodes[i]), i))
    steps = 0
    writer = StoreWriter.create(out, model, env_name=str(name), backend=str(run.get("backend") or ""), dt=float(dt),
                                train_slots=1, config=config)
    try:
        todo = [episodes[i] for i in todo]
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
        writer.close()
    except BaseException:
        try:
            writer.close()
        except Exception:
            pass
        shutil.rmtree(out, ignore_errors=True)
        raise
    foreign = sum(1 for e in episodes if "source" not in e.meta)
    if foreign:
        notes.append(f"{foreign} episode(s) written by another program were imported as snapshot episodes")
    return ImportResult(out, layout, len(episodes), steps, notes)


def _is_cut_train(e: EpisodeData) -> bool:
    return e.meta.get("source") == "train" and not e.meta.get("complete", True)


def _import_train(w: StoreWriter, e: EpisodeData) -> None:
    L = len(e)
    if _is_cut_train(e):
        # It began after a gap in the source store: start it after one here too, so that it is
        # catalogued as cut even when it ends at done. The next gap mark (or close) ends it.
        w.mark_gap(0)
    env_id = int(e.meta.get("env_id", 0))
    w.append_train(
        qpos=e.qpos[:, None], qvel=e.qvel[:, None], action=e.action[:, None], reward=e.reward[:, None],
        done=e.done[:, None], env_id=np.full((L, 1), env_id, np.int32), env_step=e.env_step,
        iteration=e.iteration, wall_time=e.wall_time, devices=np.asarray([int(e.meta.get("device", 0))]),
    )


def _import_snapshot(w: StoreWriter, e: EpisodeData) -> None:
    braxscope = "source" in e.meta
    complete = bool(e.meta["complete"]) if braxscope else bool(len(e) and e.done[-1])
    w.append_snapshot(
        qpos=e.qpos, qvel=e.qvel, action=e.action, reward=e.reward, done=e.done,
        iteration=int(e.meta.get("iteration", e.iteration[0] if len(e) else 0)),
        env_step=int(e.meta.get("env_step", e.env_step[0] if len(e) else 0)),
        complete=complete,
        wall_time=float(e.meta.get("wall_time", e.wall_time[0] if len(e) else np.nan)),
    )


__all__ = [
    "LAYOUTS", "export_hdf5", "import_hdf5", "read_hdf5", "detect_layout", "EpisodeData", "ExportResult",
    "ImportResult", "Hdf5Error", "NotHdf5Error", "DamagedHdf5Error", "Hdf5LayoutError", "Hdf5ModelError",
    "OutputExistsError", "NoEpisodesError",
]
