"""The store format: layout v1, the append/commit protocol, the read API, validation.

Imports numpy, zarr, numcodecs, h5py and mujoco only: never jax, brax or dearpygui.
"""

from .control import read_control, write_control
from .errors import (
    BraxscopeError,
    CorruptStoreError,
    EpisodeNotFoundError,
    ModelError,
    NewerSchemaError,
    NotAStoreError,
    NotYetVisibleError,
    ShapeMismatchError,
    StoreNotFoundError,
    WriterFencedError,
    WriterLockedError,
)
from .episode_id import EpisodeId, EpisodeIdError
from .frames import Frames
from .layout import SCHEMA_VERSION
from .catalog import Catalog, Selection
from .reader import EpisodeInfo, Metrics, RunInfo, StoreReader, WriterStatus, open_store
from .writer import StoreWriter

__all__ = [
    "SCHEMA_VERSION", "open_store", "StoreReader", "StoreWriter", "Catalog", "Selection", "EpisodeInfo", "EpisodeId",
    "EpisodeIdError", "Frames", "Metrics", "RunInfo",
    "WriterStatus", "read_control", "write_control", "BraxscopeError", "CorruptStoreError", "EpisodeNotFoundError",
    "ModelError", "NewerSchemaError", "NotAStoreError", "NotYetVisibleError", "ShapeMismatchError",
    "StoreNotFoundError", "WriterFencedError", "WriterLockedError",
]
