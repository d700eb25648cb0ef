"""Layout v1 of a braxscope store: names, dtypes, fill values, chunking, codecs.

SCHEMA.md documents the same facts for people; this module is the single source for code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from zarr.codecs import BloscCodec, Crc32cCodec

SCHEMA_VERSION = 1
ROOT_ATTR = "braxscope"  # root group attrs: run metadata
WRITER_ATTR = "braxscope_writer"  # writer group attrs: static facts of the writer
COMMIT_ATTR = "braxscope_commit"  # writer group attrs: the commit record (rewritten atomically)

MODEL_ARRAY = "model"
WRITERS_GROUP = "writers"
CONTROL_FILE = "control.json"
LOCK_FILE = "writer.lock"

# Small time chunks keep write amplification low while the run grows (field notes: 6.7x at 256
# rows vs 25-30x at 1024 for 16-row appends). CHUNK_ROWS is the chunk of the wide arrays (qpos,
# qvel, action); narrow ones (env_step, flags, done, ...) double it while a chunk would hold less
# than MIN_CHUNK_BYTES, up to MAX_CHUNK_ROWS: creating a file costs the same whatever its size
# (about 0.2-0.7 ms of kernel time here), so 2-8 KiB chunks made most of a writer's cost.
CHUNK_ROWS = 256
MIN_CHUNK_BYTES = 16384
MAX_CHUNK_ROWS = 4096
METRICS_CHUNK_COLS = 32

# Lossless; float32 physics compresses about 1.2x. No Delta filter: it is lossy on floats.
# Then a CRC32C of the compressed bytes (4 bytes per chunk): Blosc has no checksum and decodes
# flipped bytes into wrong numbers silently; with it, verify and readers name the chunk.
COMPRESSORS = (BloscCodec(cname="lz4", clevel=5, shuffle="shuffle"), Crc32cCodec())

# Chunk files named "c.<i>.0.0" side by side in the array's directory. Zarr's default "/" makes a
# directory per chunk index ("c/<i>/0/0"): two mkdirs per chunk, which doubled the kernel time
# of a writer (measured: 1.37 s vs 0.48 s of sys time for 5000 chunk files).
CHUNK_KEY_ENCODING = {"name": "default", "separator": "."}

RANDOMIZATION = "randomization"  # writer group: per-env model changes of a domain-randomized run

# Compacted writer groups (``braxscope compact``): a finished group's rows rewritten into sharded
# arrays, so a long run is a few files per array instead of one per 256 rows. Rows no longer
# change, so they can be compressed harder (zstd) in bigger inner chunks; the CRC32C stays on
# every inner chunk (the sharding codec checksums its index too). ``generation`` in the commit
# record says where a group's streams are: 0 (absent) at ``<stream>/``, N at ``g<N>/<stream>/``.
COMPACT_COMPRESSORS = (BloscCodec(cname="zstd", clevel=5, shuffle="shuffle"), Crc32cCodec())
COMPACT_CHUNK_BYTES = 64 * 1024  # an inner chunk: what a seek decodes per column
COMPACT_SHARD_BYTES = 64 * 2**20  # a shard file (uncompressed); the last one holds the rest
COMPACT_MAX_CHUNK_ROWS = 65536


def generation_dir(generation: int) -> str:
    """The directory of a writer group's streams for a compaction generation ("" for 0)."""
    return f"g{int(generation)}" if generation else ""


def compact_rows(row_bytes: int, rows: int) -> tuple[int, int]:
    """(rows per inner chunk, rows per shard) of a compacted array with ``rows`` rows."""
    inner = 256
    while inner < COMPACT_MAX_CHUNK_ROWS and inner * row_bytes < COMPACT_CHUNK_BYTES:
        inner *= 2
    per_shard = max(1, COMPACT_SHARD_BYTES // max(1, inner * row_bytes))
    shard = inner * min(per_shard, max(1, -(-rows // inner)))  # no bigger than the array needs
    return inner, shard

TRAIN = "train"
SNAPSHOTS = "snapshots"
CATALOG = "catalog"
METRICS = "metrics"
TRAJECTORY_STREAMS = (TRAIN, SNAPSHOTS)
ALL_STREAMS = (TRAIN, SNAPSHOTS, CATALOG, METRICS)

# The sentinel column of each stream: an integer that real rows never hold at its fill value.
# A committed row that still reads as the fill value is "not visible yet" (lagging filesystem).
SENTINEL = {TRAIN: "env_step", SNAPSHOTS: "env_step", CATALOG: "start", METRICS: "env_step"}

SOURCE_TRAIN = 0
SOURCE_SNAPSHOT = 1
SOURCE_NAMES = {SOURCE_TRAIN: "train", SOURCE_SNAPSHOT: "snapshot"}

FLAG_GAP_BEFORE = 1  # train/flags bit: rows were dropped just before this row

# Zarr v3 ``dimension_names`` of every array (xarray needs them to open a stream as a Dataset).
# The row axis of a stream is one dimension shared by its arrays, so the writer keeps their
# capacities (``shape[0]``) equal; the trailing axes are named after the model's sizes. No
# dimension is named like a column: xarray treats a variable named as its dimension as that
# dimension's coordinate, which must be 1-D.
ROW_DIM = "row"
SLOT_DIM = "slot"
METRIC_DIM = "metric"  # metrics/values' second axis (names in commit.metric_names)
MODEL_DIMS = ("byte",)
METRICS_VALUES_DIMS = (ROW_DIM, METRIC_DIM)


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    fill: float | int
    # Trailing shape after the row axis, given (slots, nq, nv, nu, nmocap).
    per_slot: bool
    width: str | None = None  # "nq" | "nv" | "nu" | "nmocap" | None
    tail: tuple[int, ...] = ()  # fixed trailing axes after the width (mocap_pos: 3, mocap_quat: 4)
    tail_dims: tuple[str, ...] = ()  # their dimension names (mocap_pos: "xyz", mocap_quat: "wxyz")

    def trailing(self, slots: int, sizes: dict[str, int]) -> tuple[int, ...]:
        shape: tuple[int, ...] = (slots,) if self.per_slot else ()
        if self.width is not None:
            shape += (sizes[self.width],)
        return shape + self.tail

    @property
    def dimension_names(self) -> tuple[str, ...]:
        """Names of the axes, row first: e.g. ("row", "slot", "nq") for train/qpos."""
        return (ROW_DIM, *((SLOT_DIM,) if self.per_slot else ()), *((self.width,) if self.width else ()),
                *self.tail_dims)


NAN = float("nan")

# Trajectory streams (train and snapshots) have the same columns; snapshots have one slot.
TRAJECTORY_COLUMNS = (
    Column("qpos", "float32", NAN, True, "nq"),
    Column("qvel", "float32", NAN, True, "nv"),
    Column("action", "float32", NAN, True, "nu"),
    Column("reward", "float32", NAN, True),
    Column("done", "uint8", 0, True),
    Column("env_id", "int32", -1, True),
    Column("env_step", "int64", -1, False),
    Column("iteration", "int32", -1, False),
    Column("wall_time", "float64", NAN, False),
    Column("flags", "uint8", 0, False),
)

# Only in stores whose model has mocap bodies (root attribute nmocap > 0): the mocap bodies'
# positions and orientations after the step. The env sets them (a reset may move a target); they
# are not in qpos, so a frame without them draws every mocap body at the model's default pose.
MOCAP_COLUMNS = (
    Column("mocap_pos", "float32", NAN, True, "nmocap", (3,), ("xyz",)),
    Column("mocap_quat", "float32", NAN, True, "nmocap", (4,), ("wxyz",)),
)

CATALOG_COLUMNS = (
    Column("start", "int64", -1, False),
    Column("length", "int64", -1, False),
    Column("source", "uint8", 255, False),
    Column("slot", "int32", -1, False),
    Column("env_id", "int32", -1, False),
    Column("device", "int32", -1, False),
    Column("iteration", "int32", -1, False),
    Column("env_step", "int64", -1, False),
    Column("return", "float64", NAN, False),
    Column("complete", "uint8", 0, False),
    Column("wall_time", "float64", NAN, False),
)

# metrics/values has a second axis that grows by METRICS_CHUNK_COLS as new metric names appear;
# the names (in column order) live in the commit record so they publish atomically with rows.
METRICS_COLUMNS = (
    Column("env_step", "int64", -1, False),
    Column("wall_time", "float64", NAN, False),
)


def randomization_dims(array: str, ndim: int) -> tuple[str, ...]:
    """Dimension names of a ``randomization/`` array: the recorded env, then the field's own axes."""
    return ("variant", *(f"{array}_{i}" for i in range(ndim - 1)))


def sizes_of(attrs: dict) -> dict[str, int]:
    """The model sizes that shape a store's arrays, from its root attributes (nmocap is 0 in
    stores written before it was recorded)."""
    return {"nq": int(attrs["nq"]), "nv": int(attrs["nv"]), "nu": int(attrs["nu"]),
            "nmocap": int(attrs.get("nmocap", 0) or 0)}


def columns_of(stream: str, sizes: dict[str, int] | None = None) -> tuple[Column, ...]:
    """The columns of a stream; with ``sizes``, the mocap columns of a model with mocap bodies too."""
    if stream in TRAJECTORY_STREAMS:
        if sizes is not None and sizes.get("nmocap", 0) > 0:
            return TRAJECTORY_COLUMNS + MOCAP_COLUMNS
        return TRAJECTORY_COLUMNS
    if stream == CATALOG:
        return CATALOG_COLUMNS
    if stream == METRICS:
        return METRICS_COLUMNS
    raise KeyError(stream)


def chunk_rows(dtype: str, trailing: tuple[int, ...]) -> int:
    """Rows per chunk of an array with this dtype and trailing shape (see CHUNK_ROWS)."""
    row_bytes = np.dtype(dtype).itemsize
    for t in trailing:
        row_bytes *= max(1, t)
    rows = CHUNK_ROWS
    while rows < MAX_CHUNK_ROWS and rows * row_bytes < MIN_CHUNK_BYTES:
        rows *= 2
    return rows


def fill_of(col: Column):
    return np.dtype(col.dtype).type(col.fill)
