"""StoreWriter: the one way rows get into a store (used by the recorder, tests and importers).

Append calls buffer rows in memory; ``commit()`` is the append/commit protocol:
1. grow each array's capacity a whole chunk at a time (readers ignore capacity);
2. write the buffered rows;
3. publish the committed row counts, atomically, in the writer group's attributes.
A crash at any point loses at most the rows appended since the last commit.

The writer holds the row buffering and the commit; each other concept has its own module, which
it uses: store creation and the run check (``creation``), episode cutting (``segment``), the
lock, take-over and fencing (``lease``), the training curve's metric columns (``metric_columns``).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import mujoco
import numpy as np
import zarr

from . import layout, model_variant
from .errors import (
    BraxscopeError,
    CorruptStoreError,
    NotAStoreError,
    ShapeMismatchError,
)
from ._chunks import ChunkDecodeError, ChunkedColumn, write_files
from .creation import (
    RunMismatchError,
    check_store_accepts,
    create_store,
    ensure_writers_group,
    json_safe,
    run_attrs,
    software_versions,
)
from .frames import Frames
from .lease import Lease
from .metric_columns import MetricColumns
from .model_blob import model_to_bytes, sha256
from .segment import ClosedEpisode, Segments, cut, segment
from .storage import Storage, open_storage

# Rows buffered beyond this are written (not published) early, to bound memory between commits.
_MAX_BUFFERED_ROWS = 8192
# Capacity headroom, in rows (rounded up to whole chunks), added each time an array must grow.
_GROW_ROWS = 15 * layout.CHUNK_ROWS


class _Stream:
    """One group of equal-length columns; buffers rows until the writer commits."""

    def __init__(self, storage: Storage, group: str, columns: tuple[layout.Column, ...], slots: int, sizes: dict):
        self.group = group
        self.columns = columns
        self.slots = slots
        self.sizes = sizes
        self.storage = storage
        self.arrays: dict[str, zarr.Array] = {}
        self.chunked: dict[str, ChunkedColumn] = {}
        self.committed = 0  # rows published
        self.written = 0  # rows on disk (>= committed)
        self.pending: dict[str, list[np.ndarray]] = {c.name: [] for c in columns}
        self.pending_rows = 0
        self._store = storage.zarr_store
        # The sentinel column is written last: once its chunk is visible, the others are too
        # (on a filesystem that keeps the order of renames), so the reader's check covers them.
        sentinel = layout.SENTINEL.get(group.rsplit("/", 1)[-1])
        self._order = [c for c in columns if c.name != sentinel] + [c for c in columns if c.name == sentinel]

    def create(self) -> None:
        for c in self.columns:
            trailing = c.trailing(self.slots, self.sizes)
            self.arrays[c.name] = zarr.create_array(
                store=self._store,
                name=f"{self.group}/{c.name}",
                shape=(0, *trailing),
                chunks=(layout.chunk_rows(c.dtype, trailing), *(max(1, t) for t in trailing)),
                dtype=c.dtype,
                fill_value=layout.fill_of(c),
                compressors=layout.COMPRESSORS,
                chunk_key_encoding=layout.CHUNK_KEY_ENCODING,
                dimension_names=c.dimension_names,
            )
            self.chunked[c.name] = ChunkedColumn(self.storage, f"{self.group}/{c.name}", self.arrays[c.name])

    def open(self, committed: int) -> None:
        for c in self.columns:
            self.arrays[c.name] = zarr.open_array(store=self._store, path=f"{self.group}/{c.name}", mode="r+")
            self.chunked[c.name] = ChunkedColumn(self.storage, f"{self.group}/{c.name}", self.arrays[c.name])
            self.chunked[c.name].start_writing(committed)
        self.committed = self.written = committed

    def push(self, rows: dict[str, np.ndarray]) -> int:
        """Buffer rows; returns the index of the first of them in the stream."""
        k = None
        checked = []
        for c in self.columns:
            # A copy: rows stay buffered until commit, and callers may reuse their arrays.
            a = np.array(rows[c.name], dtype=c.dtype, copy=True)
            expected = c.trailing(self.slots, self.sizes)
            if a.shape[1:] != expected:
                raise ShapeMismatchError(
                    f"{self.group}/{c.name}: rows of shape {a.shape[1:]} do not fit the store's {expected}"
                )
            if k is None:
                k = a.shape[0]
            elif a.shape[0] != k:
                raise ShapeMismatchError(f"{self.group}: columns have different row counts ({k} and {a.shape[0]})")
            checked.append(a)
        # Buffered only once every column fits: a refused append leaves the columns aligned.
        for c, a in zip(self.columns, checked):
            self.pending[c.name].append(a)
        first = self.written + self.pending_rows
        self.pending_rows += k or 0
        return first

    def capacity_for(self, rows: int) -> int:
        """The capacity an array of this stream grows to when it must hold ``rows``.

        Whole chunks with headroom (one metadata write per column per few thousand rows, not one
        per chunk), and the same for every array of the stream, so they share one row dimension
        (xarray refuses a dimension with two lengths): a multiple of the largest chunk, which
        every other chunk size (powers of two) divides."""
        C = max([col.rows_per_chunk for col in self.chunked.values()] + [layout.CHUNK_ROWS])
        return -(-(rows + _GROW_ROWS) // C) * C

    def end(self) -> int:
        """Row count once everything pushed so far is written."""
        return self.written + self.pending_rows

    def write_pending(self, pool=None) -> None:
        if not self.pending_rows:
            return
        n, k = self.written, self.pending_rows
        files, last = [], []
        grow_to = self.capacity_for(n + k)
        for c in self._order:
            col = self.chunked[c.name]
            if col.capacity < n + k:
                col.set_capacity(grow_to)
            data = (self.pending[c.name][0] if len(self.pending[c.name]) == 1
                    else np.concatenate(self.pending[c.name], axis=0))
            (last if c is self._order[-1] else files).extend(col.encode_rows(n, data, self.committed))
            self.pending[c.name] = []
        write_files(files, pool)
        write_files(last, pool)
        self.written = n + k
        self.pending_rows = 0

    def trim(self) -> None:
        """Shrink capacity to the committed length (on a clean close)."""
        for col in self.chunked.values():
            if col.capacity != self.committed:
                col.set_capacity(self.committed)


@dataclass
class WriterStats:
    rows_written: int = 0
    rows_dropped: int = 0
    commits: int = 0
    episodes: int = 0
    last_commit_s: float = 0.0
    extra: dict = field(default_factory=dict)


class StoreWriter:
    """Appends to one writer group of a store. Not thread-safe: one thread owns a writer.

    Create with :meth:`create` (new writer group, and the store itself if absent) or
    :meth:`resume` (continue a writer group exactly at its committed length).
    """

    def __init__(self, storage: Storage, writer_id: str, static: dict, commit: dict, root_attrs: dict,
                 lease: Lease):
        self.storage = storage
        # What the user named: a Path for a local store (as before), the URL for a remote one.
        self.path = storage.url if storage.remote else Path(storage.url)
        self.writer_id = writer_id
        self._group_key = f"{layout.WRITERS_GROUP}/{writer_id}"
        self._lease = lease
        self._static = static
        self.sizes = layout.sizes_of(root_attrs)
        self.train_slots = int(static["train_slots"])
        self.epoch = int(commit.get("epoch", 0)) + 1
        self.stats = WriterStats(rows_dropped=int(commit.get("dropped_rows", 0)))
        self.state = "recording"
        # The train stream's episodes still open (a new writer starts at training's own reset).
        self._segments = Segments.new(self.train_slots)
        self._gap_next = False
        self._closed = False
        self._failure = ""
        self._streams = {
            s: _Stream(storage, f"{self._group_key}/{s}", layout.columns_of(s, self.sizes), slots, self.sizes)
            for s, slots in ((layout.TRAIN, self.train_slots), (layout.SNAPSHOTS, 1), (layout.CATALOG, 0),
                             (layout.METRICS, 0))
        }
        self._metrics: MetricColumns | None = None  # metrics/values: made or opened by create/resume
        self._last_env_step = int(commit.get("last_env_step", -1))
        # Chunk files of different columns are encoded and written in parallel.
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="braxscope-store")

    # ---------------------------------------------------------------- lifetime

    @classmethod
    def create(
        cls,
        path: str | os.PathLike,
        model: mujoco.MjModel,
        *,
        env_name: str,
        backend: str = "",
        dt: float,
        train_slots: int,
        config: Mapping | None = None,
        process_index: int = 0,
        envs_per_device: int | None = None,
        run_id: str | None = None,
        writer_id: str | None = None,
        suite: str = "brax",
        impl: str = "",
        randomization: Mapping | None = None,
    ) -> "StoreWriter":
        """Start a new writer group, creating the store when it does not exist yet.

        Several processes (a sweep, or multi-host training) may each create a writer group in the
        same store; they must record the same model. ``suite``: where the env comes from
        ('brax' or 'playground'); ``impl``: the physics implementation that trained ('jax',
        'warp'; '' when the env does not say). ``randomization``: a domain-randomized run's
        per-env model changes, ``{"env_id": [M], "fields": {field path: values [M, ...]}}``
        (written once, here; see SCHEMA.md).
        """
        blob = model_to_bytes(model)
        root_attrs = run_attrs(model, env_name=env_name, backend=backend, dt=dt, config=config, run_id=run_id,
                               blob=blob, suite=suite, impl=impl)
        storage = open_storage(path, read_only=False)
        root_attrs = create_store(storage, root_attrs, blob)
        store = storage.zarr_store

        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        writer_id = writer_id or f"p{process_index}-{stamp}-{uuid.uuid4().hex[:4]}"
        static = {
            "writer_id": writer_id,
            "process_index": int(process_index),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": time.time(),
            "train_slots": int(train_slots),
            "envs_per_device": int(envs_per_device or 0),
            "config": json_safe(dict(config or {})),
            "randomization": None if randomization is None else {
                "envs": int(len(randomization["env_id"])),
                "fields": [{"field": f, "array": model_variant.array_name(f),
                            "applies": model_variant.applies(model, f, np.shape(v)[1:])}
                           for f, v in randomization["fields"].items()],
            },
        }
        group_key = f"{layout.WRITERS_GROUP}/{writer_id}"
        ensure_writers_group(storage)  # the root's creator may be a moment behind
        zarr.open_group(store=store, path=group_key, mode="w-", attributes={layout.WRITER_ATTR: static})
        lease = Lease.create(storage, group_key, writer_id)
        w = cls(storage, writer_id, static, {}, root_attrs, lease)
        for s in w._streams.values():
            s.create()
        if randomization is not None:
            # Written whole before the group's first commit record, which is what makes a group
            # visible to readers: they never see part of it.
            base = f"{layout.WRITERS_GROUP}/{writer_id}/{layout.RANDOMIZATION}"
            arrays = {"env_id": np.asarray(randomization["env_id"], np.int32)}
            arrays.update({model_variant.array_name(f): np.asarray(v) for f, v in randomization["fields"].items()})
            for name, data in arrays.items():
                zarr.create_array(store=store, name=f"{base}/{name}", data=data,
                                  chunks=tuple(max(1, n) for n in data.shape), compressors=layout.COMPRESSORS,
                                  chunk_key_encoding=layout.CHUNK_KEY_ENCODING,
                                  dimension_names=layout.randomization_dims(name, data.ndim))
        w._metrics = MetricColumns.create(store, f"{group_key}/{layout.METRICS}")
        w._publish()
        return w

    @classmethod
    def resume(cls, path: str | os.PathLike, writer_id: str, *, stale_after_s: float = 120.0) -> "StoreWriter":
        """Continue a writer group after a crash or a restart, exactly at its committed length.

        Takes over the lock when its holder is gone, removes ``*.partial`` orphans, and closes
        the episodes that were open at the crash as cut (incomplete).
        """
        from .reader import open_store

        storage = open_storage(path, read_only=False)
        reader = open_store(storage)
        if writer_id not in reader.writer_ids:
            raise NotAStoreError(f"{storage.url} has no writer group {writer_id!r}; "
                                 f"writers: {', '.join(reader.writer_ids) or 'none'}")
        group_key = f"{layout.WRITERS_GROUP}/{writer_id}"
        doc = json.loads(storage.get(f"{group_key}/zarr.json"))
        attrs = doc.get("attributes", {})
        static, commit = attrs[layout.WRITER_ATTR], attrs.get(layout.COMMIT_ATTR, {})
        if commit.get("generation"):
            raise CorruptStoreError(f"writer group {writer_id} is compacted (finished, its rows are final): "
                                    "it cannot be resumed; record into a new writer group")
        lease = Lease.take(storage, group_key, writer_id, int(commit.get("epoch", 0)) + 1, commit.get("heartbeat"),
                           stale_after_s)
        storage.remove_partials(group_key)
        w = cls(storage, writer_id, static, commit, reader.info.attrs, lease)
        rows = commit.get("rows", {})
        try:
            for name, s in w._streams.items():
                s.open(int(rows.get(name, 0)))
        except ChunkDecodeError as e:
            w._pool.shutdown(wait=False)
            lease.release()  # release the lock this resume took
            raise CorruptStoreError(
                f"writer group {writer_id}: its last chunk cannot be decoded (chunk {e.chunk}: {e.reason}); "
                "it cannot be resumed: run braxscope verify, and record into a new writer group"
            ) from None
        w._metrics = MetricColumns.open(storage.zarr_store, f"{group_key}/{layout.METRICS}",
                                          commit.get("metric_names", []))
        # Episodes open at the crash end here: cut, and their rows stay in the train stream.
        w._segments = Segments.from_record(commit.get("open_episodes"), w.train_slots)
        w._cut_open(w._streams[layout.TRAIN].committed)
        w._gap_next = True
        w.commit()
        return w

    def close(self) -> None:
        """Cut open episodes, commit, shrink capacity to the committed length, release the lock."""
        if self._closed:
            return
        self._cut_open(self._streams[layout.TRAIN].end())
        self.state = "closed"
        self.commit()
        for s in self._streams.values():
            s.trim()
        self._metrics.trim(self._streams[layout.METRICS].committed)
        self._lease.release()
        self._pool.shutdown(wait=True)
        self._closed = True

    @staticmethod
    def check_can_join(path, model: mujoco.MjModel, *, env_name: str, backend: str = "") -> None:
        """Raise :class:`RunMismatchError` now (before training) when :meth:`create` would refuse
        the store at ``path`` because it holds a run of another model or env."""
        check_store_accepts(open_storage(path, read_only=True),
                            {"env_name": env_name, "backend": backend, "nq": int(model.nq), "nv": int(model.nv),
                             "nu": int(model.nu), "model_sha256": sha256(model_to_bytes(model))})

    def fail(self, reason: str) -> None:
        """Recording died (``reason``: one line): publish state ``failed`` with the committed rows
        as they are (nothing buffered is written), then release the lock. A viewer shows the
        writer as failed instead of recording; :meth:`resume` can continue the group later."""
        if self._closed:
            return
        self._closed = True
        self.state = "failed"
        self._failure = str(reason)
        try:
            self._check_fence()  # a writer that was taken over publishes nothing
            self._publish()
        finally:
            self._lease.release()
            self._pool.shutdown(wait=False)

    def __enter__(self) -> "StoreWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------- appends

    def append_train(
        self,
        *,
        qpos: np.ndarray,
        qvel: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        env_id: np.ndarray,
        env_step: np.ndarray,
        iteration: np.ndarray | int,
        wall_time: np.ndarray | float | None = None,
        devices: np.ndarray | None = None,
        mocap_pos: np.ndarray | None = None,
        mocap_quat: np.ndarray | None = None,
    ) -> int:
        """Append k time rows of the tracked training envs. Shapes: qpos [k,E,nq], qvel [k,E,nv],
        action [k,E,nu], reward/done/env_id [k,E], env_step [k] (global env step, >= 0);
        mocap_pos [k,E,nmocap,3] and mocap_quat [k,E,nmocap,4] when the model has mocap bodies.

        Episodes are cut at ``done`` (the row holding done=1 is the episode's terminal frame) and
        entered into the catalog with their return. Returns the first row's index.
        """
        k = int(np.shape(env_step)[0])
        if k == 0:
            return self._streams[layout.TRAIN].end()
        env_step = np.asarray(env_step, dtype=np.int64)
        if (env_step < 0).any():
            raise ValueError("env_step must be >= 0 (negative values are the store's 'not written' sentinel)")
        iteration = np.broadcast_to(np.asarray(iteration, dtype=np.int32), (k,))
        wall = np.broadcast_to(np.asarray(time.time() if wall_time is None else wall_time, dtype=np.float64), (k,))
        flags = np.zeros(k, np.uint8)
        if self._gap_next:
            flags[0] |= layout.FLAG_GAP_BEFORE
        reward = np.asarray(reward, np.float32)
        done = np.asarray(done).astype(np.uint8)
        env_id = np.asarray(env_id, np.int32)
        rows = dict(qpos=qpos, qvel=qvel, action=action, reward=reward, done=done, env_id=env_id,
                    env_step=env_step, iteration=iteration, wall_time=wall, flags=flags)
        self._add_mocap(rows, k, self.train_slots, mocap_pos, mocap_quat)
        first = self._streams[layout.TRAIN].push(rows)
        closed, self._segments = segment(self._segments, first=first, reward=reward, done=done, env_id=env_id,
                                         env_step=env_step, iteration=iteration, wall_time=wall, devices=devices,
                                         envs_per_device=int(self._static.get("envs_per_device") or 0))
        self._catalog_train(closed)
        self._gap_next = False
        self._last_env_step = max(self._last_env_step, int(env_step[-1]))
        self.stats.rows_written += k * self.train_slots
        self._maybe_spill()
        return first

    def mark_gap(self, rows_dropped: int) -> None:
        """Rows were lost before the next append (dropped under back-pressure, or paused):
        open episodes end here as cut, and the next row carries the gap flag."""
        self._cut_open(self._streams[layout.TRAIN].end())
        self._gap_next = True
        self.stats.rows_dropped += int(rows_dropped)

    def append_frames(self, frames: Frames, *, complete: bool) -> int:
        """Append the rows of one episode, a :class:`Frames` (what ``StoreReader.frames`` returns
        and HDF5 import reads), to the snapshot stream as one catalog episode; returns its catalog
        row. Every column is stored as given, per row (env_step, iteration, wall_time, flags,
        and the mocap columns: NaN when the model has mocap bodies and ``frames`` has none). The
        catalog entry's iteration, env step and wall time are its first row's (SCHEMA.md)."""
        L = len(frames)
        if L == 0:
            raise ValueError("an episode needs at least one row (the catalog has no empty episodes)")
        env_steps = np.asarray(frames.env_step, np.int64)
        if (env_steps < 0).any():
            raise ValueError("env_step must be >= 0 (negative values are the store's 'not written' sentinel)")
        rows = dict(
            qpos=frames.qpos[:, None], qvel=frames.qvel[:, None], action=frames.action[:, None],
            reward=frames.reward[:, None], done=frames.done[:, None], env_id=np.zeros((L, 1), np.int32),
            env_step=env_steps, iteration=frames.iteration, wall_time=frames.wall_time, flags=frames.flags,
        )
        self._add_mocap(rows, L, None, *(None if m is None else m[:, None]
                                         for m in (frames.mocap_pos, frames.mocap_quat)))
        start = self._streams[layout.SNAPSHOTS].push(rows)
        ret = float(np.sum(np.asarray(frames.reward, np.float64)))
        row = self._add_catalog(start, L, layout.SOURCE_SNAPSHOT, 0, 0, 0, int(frames.iteration[0]),
                                int(env_steps[0]), ret, complete, float(frames.wall_time[0]))
        self._maybe_spill()
        return row

    def append_snapshot(
        self,
        *,
        qpos: np.ndarray,
        qvel: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        iteration: int,
        env_step: int,
        complete: bool,
        wall_time: float | None = None,
        mocap_pos: np.ndarray | None = None,
        mocap_quat: np.ndarray | None = None,
    ) -> int:
        """Append one policy-snapshot rollout (qpos [L,nq], qvel [L,nv], action [L,nu],
        reward/done [L]; mocap_pos [L,nmocap,3], mocap_quat [L,nmocap,4] when the model has mocap
        bodies) as one catalog episode, every row tagged with ``iteration``, ``env_step`` and
        ``wall_time`` (default: now): :meth:`append_frames` of those rows. Returns its catalog row."""
        L = int(np.shape(reward)[0])
        wall = time.time() if wall_time is None else float(wall_time)
        frames = Frames(qpos=np.asarray(qpos), qvel=np.asarray(qvel), action=np.asarray(action),
                        reward=np.asarray(reward, np.float32), done=np.asarray(done),
                        env_step=np.full(L, env_step, np.int64), iteration=np.full(L, iteration, np.int32),
                        wall_time=np.full(L, wall), mocap_pos=None if mocap_pos is None else np.asarray(mocap_pos),
                        mocap_quat=None if mocap_quat is None else np.asarray(mocap_quat))
        return self.append_frames(frames, complete=complete)

    def append_metrics(self, env_step: int, metrics: Mapping[str, float], wall_time: float | None = None) -> None:
        """One row of the training curve. New metric names add columns (published atomically)."""
        self._metrics.add(metrics)
        self._streams[layout.METRICS].push(
            {"env_step": np.asarray([env_step], np.int64),
             "wall_time": np.asarray([time.time() if wall_time is None else wall_time])}
        )

    @property
    def metric_names(self) -> list[str]:
        """The training curve's metric names, in column order."""
        return self._metrics.names

    def set_state(self, state: str) -> None:
        """What the viewer shows about the recorder: 'recording' or 'paused'."""
        self.state = state

    # ---------------------------------------------------------------- commit

    def commit(self) -> None:
        """Write every buffered row, then publish the new committed lengths atomically."""
        t0 = time.perf_counter()
        self._check_fence()
        self._write_metric_values()
        for s in self._streams.values():
            s.write_pending(self._pool)
        # Checked again just before publishing: a writer that was taken over while it wrote
        # must not publish over the new holder's commit.
        self._check_fence()
        for s in self._streams.values():
            s.committed = s.written
        self._publish()
        self.stats.commits += 1
        self.stats.last_commit_s = time.perf_counter() - t0

    @property
    def committed_rows(self) -> dict[str, int]:
        return {name: s.committed for name, s in self._streams.items()}

    # ---------------------------------------------------------------- internals

    def _add_mocap(self, rows: dict, k: int, slots: int | None, mocap_pos, mocap_quat) -> None:
        """The mocap columns of a model with mocap bodies: the given rows, else fill (NaN: not
        recorded, so a viewer draws the model's default mocap pose)."""
        n = self.sizes["nmocap"]
        if n == 0:
            return
        lead = (k, 1 if slots is None else slots)
        for name, given, width in (("mocap_pos", mocap_pos, 3), ("mocap_quat", mocap_quat, 4)):
            rows[name] = np.full((*lead, n, width), np.nan, np.float32) if given is None else given

    def _maybe_spill(self) -> None:
        if any(s.pending_rows > _MAX_BUFFERED_ROWS for s in self._streams.values()):
            self._write_metric_values()
            for s in self._streams.values():
                s.write_pending(self._pool)

    def _write_metric_values(self) -> None:
        stream = self._streams[layout.METRICS]
        self._metrics.write(stream.written, stream.capacity_for)

    def _cut_open(self, end: int) -> None:
        """End the open train episodes at row ``end`` as cut (a gap, a close, a resume)."""
        closed, self._segments = cut(self._segments, end)
        self._catalog_train(closed)

    def _catalog_train(self, episodes: list[ClosedEpisode]) -> None:
        for ep in episodes:
            self._add_catalog(ep.start, ep.length, layout.SOURCE_TRAIN, ep.slot, ep.env_id, ep.device, ep.iteration,
                              ep.env_step, ep.ret, ep.complete, ep.wall_time)

    def _add_catalog(self, start, length, source, slot, env_id, device, iteration, env_step, ret, complete,
                     wall) -> int:
        self.stats.episodes += 1
        return self._streams[layout.CATALOG].push(
            {
                "start": np.asarray([start], np.int64), "length": np.asarray([length], np.int64),
                "source": np.asarray([source], np.uint8), "slot": np.asarray([slot], np.int32),
                "env_id": np.asarray([env_id], np.int32), "device": np.asarray([device], np.int32),
                "iteration": np.asarray([iteration], np.int32), "env_step": np.asarray([env_step], np.int64),
                "return": np.asarray([ret], np.float64), "complete": np.asarray([bool(complete)], np.uint8),
                "wall_time": np.asarray([wall], np.float64),
            }
        )

    def _check_fence(self) -> None:
        self._lease.check(self.writer_id)

    def _publish(self) -> None:
        commit = {
            "epoch": self.epoch,
            "heartbeat": time.time(),
            "state": self.state,
            "rows": {name: s.committed for name, s in self._streams.items()},
            "metric_names": list(self.metric_names),
            "open_episodes": self._segments.to_record(),
            "dropped_rows": self.stats.rows_dropped,
            "last_env_step": self._last_env_step,
            "error": self._failure,
        }
        key = f"{self._group_key}/zarr.json"
        if not hasattr(self, "_group_doc"):
            self._group_doc = json.loads(self.storage.get(key))
        doc = self._group_doc
        doc.setdefault("attributes", {})[layout.COMMIT_ATTR] = commit
        # Replacing the group's zarr.json whole (a rename locally, one PUT on object storage) is
        # the atomic publish: any Zarr client sees the commit in the group attributes.
        self.storage.put(key, json.dumps(doc, indent=1, allow_nan=False).encode())


__all__ = ["StoreWriter", "BraxscopeError", "RunMismatchError", "check_store_accepts", "run_attrs", "software_versions"]
