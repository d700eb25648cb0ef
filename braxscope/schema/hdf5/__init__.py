"""Finished episodes to and from the community's formats: robomimic (one HDF5 file) and Minari
(a dataset directory, through Minari's own API).

``docs/EXPORT.md`` documents both layouts exactly. One module per layout (``robomimic``,
``minari``: group names, writing an episode, finishing, reading back) over shared code
(``_common``: episodes out of a store, checks, writing into a store); ``export`` and
``importer`` are the entry points. An episode travels as ``Episode(frames, meta)``: the store's
own :class:`~braxscope.schema.frames.Frames` and its provenance.

Round trip: export, import, export again gives the same datasets bit for bit, and the imported
store's frames (qpos, qvel, action, reward, done, env_step, iteration, wall_time) and catalog
(source, env, slot, device, iteration, env_step, length, return, complete) equal the original's.
Only the gap bit of ``flags`` is the new store's own.
"""

from __future__ import annotations

from ._common import Episode, ExportResult, ImportResult
from .errors import (
    DamagedHdf5Error,
    Hdf5Error,
    Hdf5LayoutError,
    Hdf5ModelError,
    MinariError,
    NoEpisodesError,
    NotHdf5Error,
    OutputExistsError,
)
from .export import FILE_LAYOUTS, export_hdf5, export_minari
from .importer import detect_layout, import_hdf5, import_minari, read_hdf5

LAYOUTS = tuple(FILE_LAYOUTS)  # the layouts of export-hdf5

__all__ = [
    "LAYOUTS", "export_hdf5", "export_minari", "import_hdf5", "import_minari", "read_hdf5", "detect_layout",
    "Episode", "ExportResult", "ImportResult", "Hdf5Error", "NotHdf5Error", "DamagedHdf5Error", "Hdf5LayoutError",
    "Hdf5ModelError", "MinariError", "OutputExistsError", "NoEpisodesError",
]
