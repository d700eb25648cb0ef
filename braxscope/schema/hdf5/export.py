"""Finished episodes of a store out: a robomimic HDF5 file, or a Minari dataset directory."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Sequence

import h5py
import mujoco
import numpy as np

from .. import atomic
from ..model_blob import sha256
from ..reader import StoreReader, open_store
from . import minari, robomimic
from ._common import FORMAT_VERSION, STATE_TIMING, ExportResult, from_store, out_path_free, run_attrs, select
from .errors import Hdf5LayoutError

MODEL_DATASET = "model_mjb"  # root dataset of an HDF5 file: the MuJoCo model as MJB bytes (1-D uint8)
FILE_LAYOUTS = {robomimic.NAME: robomimic}


def export_hdf5(
    store: str | os.PathLike | StoreReader,
    out: str | os.PathLike,
    *,
    episodes: Sequence[str] | None = None,
    layout: str = robomimic.NAME,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write finished episodes of a store to the HDF5 file ``out`` in ``layout`` ("robomimic").

    ``episodes``: ids ("W:R" or "R"); default every complete episode. The file is written to a
    temporary name and renamed into place, so a crash never leaves a half-written ``out``.
    ``progress(done, total)`` is called after each episode.
    """
    if layout == minari.NAME:
        raise Hdf5LayoutError("a Minari dataset is a directory, not one HDF5 file: "
                              "use braxscope export-minari PATH DATASET_ID")
    if layout not in FILE_LAYOUTS:
        raise Hdf5LayoutError(f"unknown layout {layout!r}: choose {', '.join(FILE_LAYOUTS)}")
    fmt = FILE_LAYOUTS[layout]
    reader = store if isinstance(store, StoreReader) else open_store(store)
    out = Path(out)
    out_path_free(out, overwrite)
    infos = select(reader, episodes)
    model = reader.model()
    run = run_attrs(reader.info.attrs)

    steps = 0
    with atomic.output_file(out) as tmp, h5py.File(tmp, "w", track_order=True) as f:
        _write_header(f, layout, run, np.frombuffer(reader.model_bytes(), dtype=np.uint8), reader.path)
        parent = fmt.start(f)
        for i, info in enumerate(infos):
            ep = from_store(reader, info)
            steps += len(ep)
            fmt.write_episode(parent, i, ep, model)
            if progress:
                progress(i + 1, len(infos))
        fmt.finish(f, parent, run, len(infos), steps)
    return ExportResult(out, layout, len(infos), steps)


def _write_header(f: h5py.File, layout: str, run: dict, blob: np.ndarray, source: Path) -> None:
    f.attrs["braxscope_layout"] = layout
    f.attrs["braxscope_format_version"] = FORMAT_VERSION
    f.attrs["braxscope_state_timing"] = STATE_TIMING
    f.attrs["braxscope_source_store"] = str(source)
    f.attrs["braxscope_run"] = json.dumps(run)
    d = f.create_dataset(MODEL_DATASET, data=blob, **robomimic.COMPRESSION)
    d.attrs["sha256"] = sha256(blob)
    d.attrs["mujoco_version"] = str(run.get("mujoco_version") or mujoco.__version__)


def export_minari(
    store: str | os.PathLike | StoreReader,
    dataset_id: str,
    *,
    episodes: Sequence[str] | None = None,
    datasets_path: str | os.PathLike | None = None,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write finished episodes of a store as the Minari dataset ``dataset_id`` (e.g.
    "braxscope/ant-v0") under ``datasets_path`` (default MINARI_DATASETS_PATH, else
    ~/.minari/datasets), through Minari's own writer. Needs ``braxscope[minari]``."""
    reader = store if isinstance(store, StoreReader) else open_store(store)
    eps = [from_store(reader, info) for info in select(reader, episodes)]
    return minari.export(reader, dataset_id, eps, run_attrs(reader.info.attrs), datasets_path=datasets_path,
                         overwrite=overwrite, progress=progress)
