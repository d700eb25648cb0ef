"""Episodes back into a new store: from a robomimic or Minari HDF5 file, or a Minari dataset."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import h5py
import mujoco
import numpy as np

from ..errors import BraxscopeError, StoreNotFoundError
from ..model_blob import model_from_bytes, sha256
from . import minari, robomimic
from ._common import Episode, ImportResult, attr_str, check_sizes, json_attr, model_from_path, write_store
from .errors import DamagedHdf5Error, Hdf5LayoutError, Hdf5ModelError, NoEpisodesError, NotHdf5Error, OutputExistsError
from .export import MODEL_DATASET

READ_LAYOUTS = {robomimic.NAME: robomimic, minari.NAME: minari}


def detect_layout(f: h5py.File) -> str:
    """"robomimic" or "minari", from the braxscope attribute or the groups present."""
    declared = attr_str(f, "braxscope_layout")
    if declared in READ_LAYOUTS:
        return declared
    for name, fmt in READ_LAYOUTS.items():
        if fmt.detect(f):
            return name
    raise Hdf5LayoutError(
        f"{f.filename} is HDF5 but in neither layout braxscope reads (robomimic data/demo_N or Minari episode_N): "
        f"see docs/EXPORT.md"
    )


def read_hdf5(src: str | os.PathLike, *,
              model_path: str | os.PathLike | None = None) -> tuple[dict, mujoco.MjModel, list[Episode], str]:
    """Read a robomimic or Minari HDF5 file: (run attrs, model, episodes, layout).

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


def _read_open_file(f: h5py.File, src: Path, model_path) -> tuple[dict, mujoco.MjModel, list[Episode], str]:
    layout = detect_layout(f)
    fmt = READ_LAYOUTS[layout]
    run = json_attr(f, "braxscope_run")
    if layout == robomimic.NAME:
        robomimic.read_run(f, run)
    model = model_from_path(model_path) if model_path is not None else _file_model(f, src, fmt)
    check_sizes(src, run, model)
    groups = fmt.episode_groups(f)
    if not groups:
        raise NoEpisodesError(f"{src} holds no episodes")
    sizes = (model.nq, model.nv, model.nu)
    return run, model, [fmt.read_episode(g, sizes) for g in groups], layout


def _open_h5(src: Path) -> h5py.File:
    if not src.exists():
        raise StoreNotFoundError(f"{src} does not exist: check the path")
    if src.is_dir() or not h5py.is_hdf5(src):
        hint = " (a Minari dataset directory: use braxscope import-minari)" if (src / "data").is_dir() else ""
        raise NotHdf5Error(f"{src} is not an HDF5 file{hint}: "
                           f"import-hdf5 reads .h5/.hdf5 files in the robomimic or Minari layout")
    try:
        return h5py.File(src, "r")
    except OSError as e:  # it has an HDF5 signature but does not open: truncated or damaged
        raise DamagedHdf5Error(f"{src} is a damaged HDF5 file ({str(e).splitlines()[0][:140]})") from None


def _file_model(f: h5py.File, src: Path, fmt) -> mujoco.MjModel:
    """The model, in this order: /model_mjb; the layout's XML (robomimic env_args, model_file); a root model_xml."""
    if MODEL_DATASET in f and isinstance(f[MODEL_DATASET], h5py.Dataset):
        d = f[MODEL_DATASET]
        blob = np.asarray(d[()], dtype=np.uint8).tobytes()
        want = attr_str(d, "sha256")
        if want and sha256(blob) != want:
            raise Hdf5ModelError(f"{src}: /{MODEL_DATASET} is corrupt (checksum mismatch)")
        try:
            return model_from_bytes(blob, saved_with=attr_str(d, "mujoco_version"))
        except BraxscopeError as e:
            raise Hdf5ModelError(f"{src}: {e}") from None
    xml = fmt.model_xml(f) or attr_str(f, "model_xml")
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


def import_hdf5(
    src: str | os.PathLike,
    out: str | os.PathLike,
    *,
    model_path: str | os.PathLike | None = None,
    env_name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Read a robomimic or Minari HDF5 file into a new store at ``out`` (see _common.write_store).
    ``out`` must not exist; on failure nothing is left there."""
    out = Path(out)
    if out.exists():
        raise OutputExistsError(f"{out} exists: import-hdf5 writes a new store; choose another path")
    run, model, episodes, layout = read_hdf5(src, model_path=model_path)
    return write_store(out, src, run, model, episodes, layout, env_name=env_name, progress=progress)


def import_minari(
    src: str | os.PathLike,
    out: str | os.PathLike,
    *,
    datasets_path: str | os.PathLike | None = None,
    model_path: str | os.PathLike | None = None,
    env_name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Read a Minari dataset (its directory, or its id under ``datasets_path`` / MINARI_DATASETS_PATH)
    through Minari's own reader into a new store at ``out``. Needs ``braxscope[minari]``."""
    out = Path(out)
    if out.exists():
        raise OutputExistsError(f"{out} exists: import-minari writes a new store; choose another path")
    run, model, ds = minari.read_dataset(src, datasets_path=datasets_path,
                                         model=model_from_path(model_path) if model_path is not None else None)
    if model is None:
        raise Hdf5ModelError(f"{src} holds no MuJoCo model (no {minari.MODEL_KEY} in its metadata.json): "
                             f"pass --model FILE.xml")
    check_sizes(src, run, model)
    episodes = minari.episodes_of(ds, (model.nq, model.nv, model.nu))
    if not episodes:
        raise NoEpisodesError(f"{src} holds no episodes")
    return write_store(out, Path(str(src)).name, run, model, episodes, minari.NAME, env_name=env_name,
                       progress=progress)
