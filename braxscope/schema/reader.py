"""Read-only access to a store: ``open_store(path)``. Never writes, never locks.

Readers trust only the committed row counts in each writer's commit record, re-open an array
only when the committed length grows past its cached shape, and treat a committed row whose
sentinel column still reads as the fill value as "not visible yet" (retry), never as data.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import mujoco
import numpy as np
import zarr

from . import layout, model_variant
from .errors import (
    BraxscopeError,
    CorruptStoreError,
    EpisodeNotFoundError,
    ModelError,
    NotYetVisibleError,
    ShapeMismatchError,
)
from .root import load_json, parse_json, read_root
from .storage import Storage, open_storage
from ._chunks import ArrayMeta, ChunkDecodeError, ChunkedColumn, ChunkMissingError, UnsupportedLayout
from ._shards import ShardedColumn
from .catalog import Catalog, EpisodeInfo, Selection, _Block, episode_info, episode_infos
from .episode_id import EpisodeId, EpisodeIdError
from .frames import Frames
from .model_blob import model_from_bytes, sha256

# A committed row may lag on a network filesystem; retry this long before calling it missing.
_VISIBILITY_RETRY_S = 2.0

# A writer whose heartbeat is older than this is not live any more (it heartbeats every second).
_LIVE_HEARTBEAT_S = 60.0


def _is_live(commit: dict) -> bool:
    """Whether a writer may still make committed rows visible (recording or paused, heartbeating)."""
    try:
        fresh = time.time() - float(commit.get("heartbeat", 0.0)) < _LIVE_HEARTBEAT_S
    except (TypeError, ValueError):
        fresh = False
    return fresh and commit.get("state") in ("recording", "paused")


# How often a tailing reader (the viewer's live mode) should call ``refresh()``. A refresh that
# finds nothing new costs one small JSON read per writer (about 0.1 ms locally).
POLL_INTERVAL_S = 0.2

# On object storage, how often ``refresh()`` lists the writer groups (to find new writers).
_LIST_EVERY_S = 2.0
# New catalog rows per writer above which several writers' rows are read in parallel (below it a
# thread costs more than it saves: a live tail reads a few rows per refresh).
_PARALLEL_CATALOG_ROWS = 4096


@dataclass(frozen=True)
class RunInfo:
    """The run's metadata (the root attributes)."""

    attrs: dict

    def __getattr__(self, name):
        try:
            return self.attrs[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class Metrics:
    names: list[str]
    env_step: np.ndarray  # [T]
    wall_time: np.ndarray  # [T]
    values: dict[str, np.ndarray] = field(default_factory=dict)  # name -> [T] (NaN where absent)


@dataclass(frozen=True)
class WriterStatus:
    writer_id: str
    ordinal: int
    process_index: int
    host: str
    epoch: int
    state: str  # "recording" | "paused" | "closed" | "failed"
    heartbeat: float
    rows: dict
    dropped_rows: int
    last_env_step: int
    locked: bool  # a writer lock file exists (a writer is, or was until a crash, attached)
    error: str = ""  # state "failed": what stopped the recorder (one line)
    config: dict = field(default_factory=dict)  # the run configuration this writer recorded (its seed...)

    @property
    def heartbeat_age_s(self) -> float:
        return time.time() - self.heartbeat


def _unopenable(path: str, e: Exception) -> CorruptStoreError:
    return CorruptStoreError(f"{path} cannot be opened ({_short(e)}): the store is damaged there")


class _Writer:
    """What a reader knows of one writer group: static facts, the last commit, array handles."""

    def __init__(self, reader: "StoreReader", writer_id: str, ordinal: int, doc: dict):
        self.reader = reader
        self.id = writer_id
        self.ordinal = ordinal
        attrs = doc.get("attributes", {})
        self.static = attrs.get(layout.WRITER_ATTR, {})
        self.commit = attrs.get(layout.COMMIT_ATTR, {})
        self.arrays: dict[tuple[str, str], zarr.Array] = {}
        self.columns: dict[tuple[str, str], ChunkedColumn | None] = {}
        self.catalog: dict[str, np.ndarray] = {c.name: np.empty(0, c.dtype) for c in layout.CATALOG_COLUMNS}
        self.catalog_buf: dict[str, np.ndarray] = {}  # growable storage behind ``catalog``
        self.metrics_cache: tuple | None = None  # ((rows, names), columns) of the last metrics read
        self.catalog_rows = 0  # catalog rows loaded (good ones and damaged placeholders)
        self.catalog_bad: list[tuple[int, int, str]] = []  # (lo, hi, reason) of catalog rows unreadable
        self.placeholders = False  # some loaded catalog rows are damaged rows' placeholders (start -1)
        # EpisodeInfo of the good catalog rows [0, episode_rows), built only when episodes() is asked.
        self.episode_list: list[EpisodeInfo] = []
        self.episode_rows = 0
        self.randomized: dict | None = None  # per-env model changes of a randomized run, read once

    @property
    def key(self) -> str:
        return f"{layout.WRITERS_GROUP}/{self.id}"

    def rows(self, stream: str) -> int:
        return int(self.commit.get("rows", {}).get(stream, 0))

    @property
    def generation(self) -> int:
        """Where the streams are: 0 at ``<stream>/``, N (compacted) at ``g<N>/<stream>/``."""
        return int(self.commit.get("generation", 0) or 0)

    def stream_path(self, stream: str) -> str:
        """The key prefix of a stream's arrays, e.g. ``writers/<id>/train`` or ``writers/<id>/g1/train``."""
        gen = layout.generation_dir(self.generation)
        return f"{self.key}/{gen + '/' if gen else ''}{stream}"

    def set_commit(self, commit: dict) -> None:
        if int(commit.get("generation", 0) or 0) != self.generation:
            self.arrays, self.columns = {}, {}  # compacted: the arrays moved (their old files go)
        self.commit = commit

    def array(self, stream: str, column: str, need_rows: int) -> zarr.Array:
        key = (stream, column)
        arr = self.arrays.get(key)
        # An open Array caches its shape; re-open only when the committed length outgrew it.
        if arr is None or arr.shape[0] < need_rows:
            path = f"{self.stream_path(stream)}/{column}"
            try:
                arr = zarr.open_array(store=self.reader.storage.zarr_store, path=path, mode="r")
            except Exception as e:
                raise _unopenable(path, e) from None
            self.arrays[key] = arr
        return arr

    def _meta(self, stream: str, column: str) -> ArrayMeta:
        path = f"{self.stream_path(stream)}/{column}"
        try:
            doc = load_json(self.reader.storage, f"{path}/zarr.json", path)
            if doc.get("node_type") != "array":
                raise ValueError("not an array")
            return ArrayMeta(doc)
        except CorruptStoreError:
            raise
        except Exception as e:
            raise _unopenable(path, e) from None

    def column(self, stream: str, column: str) -> "ChunkedColumn | None":
        """The fast chunk reader of an array (opened once: it does not depend on the shape), or
        None when the array is not in the one layout it handles (then Zarr reads it)."""
        key = (stream, column)
        if key == (layout.METRICS, "values"):
            return None  # its second axis grows with new metric names: Zarr, re-opened on growth
        if key not in self.columns:
            arr = self._meta(stream, column)
            self.columns[key] = None
            for kind in (ChunkedColumn, ShardedColumn):  # as recorded, or compacted
                try:
                    self.columns[key] = kind(self.reader.storage, f"{self.stream_path(stream)}/{column}", arr)
                    break
                except UnsupportedLayout:
                    pass
        return self.columns[key]


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
    if "checksum do not match" in text:  # zarr's crc32c codec quotes raw bytes; keep the line readable
        return "checksum mismatch: truncated or corrupted"
    return text[:160]


class StoreReader:
    """A read-only view of a store. Call :meth:`refresh` to see newly committed rows.

    One thread may call :meth:`refresh` (a poller) while others read episodes and frames.
    """

    def __init__(self, storage: Storage):
        self.storage = storage
        # What the user named: a Path for a local store (as before), the URL for a remote one.
        self.path = storage.url if storage.remote else Path(storage.url)
        self._refresh_lock = threading.Lock()
        self._writer_names: list[str] = []
        self._locked: dict[str, bool] = {}
        self._listed_at = -float("inf")
        root = read_root(storage)
        self.info = RunInfo(root)
        self.sizes = layout.sizes_of(root)
        self._writers: dict[str, _Writer] = {}
        self.problems: list[str] = []  # damage confined to some writers or episodes
        self._problem_errors: list[BraxscopeError] = []
        self._model: mujoco.MjModel | None = None
        self._catalog: tuple | None = None  # (what it was built from, Catalog): rebuilt when that changes
        self.refresh()
        if not self._writers and self._problem_errors:
            raise self._problem_errors[0]  # nothing usable: the first problem is the store's

    # ------------------------------------------------------------------ open

    def _check_writer_shapes(self, w: _Writer) -> None:
        """Array metadata must agree with the model sizes and the writer's slot count."""
        slots = int(w.static.get("train_slots", 0))
        for stream in layout.TRAJECTORY_STREAMS:
            n_slots = slots if stream == layout.TRAIN else 1
            for c in layout.columns_of(stream, self.sizes):
                meta = load_json(self.storage, f"{w.stream_path(stream)}/{c.name}/zarr.json",
                                 f"{stream}/{c.name} array")
                expected = c.trailing(n_slots, self.sizes)
                got = tuple(meta.get("shape", ()))[1:]
                if got != expected:
                    raise ShapeMismatchError(
                        f"writers/{w.id}/{stream}/{c.name} has rows of shape {got} but the model needs {expected} "
                        f"(nq={self.sizes['nq']}, nv={self.sizes['nv']}, nu={self.sizes['nu']}): "
                        f"the data does not match the model"
                    )

    # --------------------------------------------------------------- tailing

    def refresh(self) -> bool:
        """Re-read every writer's commit record (one small JSON each) and load new catalog rows.
        True when anything grew. Never raises for damage confined to one writer: that goes to
        :attr:`problems` and the writer is left out."""
        with self._refresh_lock:
            return self._refresh()

    def _refresh(self) -> bool:
        grew = False
        now = time.monotonic()
        # Listing is the one request that finds new writers; on object storage it is rate-limited
        # (a joining writer shows within _LIST_EVERY_S), everything else is read by key.
        try:
            if not self.storage.remote or now - self._listed_at >= _LIST_EVERY_S:
                self._writer_names = self.storage.list_dir(layout.WRITERS_GROUP)
                self._listed_at = now
            names = self._writer_names
            keys = [f"{layout.WRITERS_GROUP}/{name}/zarr.json" for name in names]
            raws = self.storage.get_many(keys)
        except OSError:
            return False  # a transient error of a network filesystem (ESTALE, EIO): the next poll asks again
        pending: list[_Writer] = []  # writers whose catalog may have new rows
        for name, key, raw in zip(names, keys, raws):
            w = self._writers.get(name)
            if raw is None and w is None:
                continue  # a writer group being created (its directory is made before its zarr.json)
            try:
                doc = parse_json(raw, self.storage.describe(key), f"writer {name}")
            except CorruptStoreError as e:
                if w is None:
                    self._problem(str(e), e)
                continue
            attrs = doc.get("attributes", {})
            if w is None:
                if layout.WRITER_ATTR not in attrs:
                    self._problem(f"writers/{name} has no writer attributes: skipped (not written by braxscope)", None)
                    continue
                if layout.COMMIT_ATTR not in attrs:
                    continue  # being created right now (its first commit comes after its arrays)
                w = _Writer(self, name, 0, doc)
                try:
                    self._check_writer_shapes(w)
                except BraxscopeError as e:
                    self._problem(str(e), e)
                    continue
                self._writers[name] = w
                self._renumber()
                grew = True
            else:
                old = w.commit.get("rows", {})
                commit = attrs.get(layout.COMMIT_ATTR, {})
                rows = commit.get("rows", {})
                same_generation = int(commit.get("generation", 0) or 0) == w.generation
                if same_generation and any(int(rows.get(k, 0)) < int(n) for k, n in old.items()):
                    continue  # an older commit record (stale metadata cache): committed rows never shrink
                w.set_commit(commit)
                if w.commit.get("rows", {}) != old:
                    grew = True
            pending.append(w)
        blocks = self._read_new_catalogs(pending)
        for w in pending:
            self._load_catalog(w, blocks.get(w.id))
        return grew

    def _read_new_catalogs(self, writers: list[_Writer]) -> dict:
        """The new catalog rows of several compacted writers read at once, one thread each (decoding
        releases the GIL), when there are many: opening a store of a million episodes over 8 writer
        groups is mostly this. A writer whose read fails is left out here and read row by row after."""
        # Only compacted groups: there a column is a few large shards and decoding dominates; a
        # recorded group's catalog is many small chunk files, whose Python per-file work holds the
        # GIL (measured: in threads 200-240 ms, one after another 130 ms, over 8 groups of 131k rows).
        big = [w for w in writers if w.rows(layout.CATALOG) - w.catalog_rows >= _PARALLEL_CATALOG_ROWS
               and w.generation > 0]
        if len(big) < 2:
            return {}
        names = [c.name for c in layout.CATALOG_COLUMNS]

        def read(w):
            try:
                return w.id, self._read_cols(w, layout.CATALOG, names, w.catalog_rows, w.rows(layout.CATALOG))
            except (BraxscopeError, OSError):
                return w.id, None

        with ThreadPoolExecutor(min(len(big), os.cpu_count() or 1, 8)) as pool:
            return {wid: block for wid, block in pool.map(read, big) if block is not None}

    def _problem(self, text: str, error: BraxscopeError | None = None) -> None:
        if text not in self.problems:
            self.problems.append(text)
            self._problem_errors.append(error or CorruptStoreError(text))

    def _renumber(self) -> None:
        # Ordinals by start time: a writer that joins later gets the next number, so ids stay stable.
        order = sorted(self._writers.values(), key=lambda w: (w.static.get("started", 0), w.id))
        for i, w in enumerate(order):
            if w.ordinal != i:
                w.ordinal = i
                w.episode_list, w.episode_rows = [], 0  # their ids carry the old ordinal

    def _load_catalog(self, w: _Writer, block: dict | None = None) -> None:
        """Load the writer's new catalog rows; ``block``: those rows read already, with other
        writers' (see :meth:`_read_new_catalogs`, in the same refresh)."""
        n = w.rows(layout.CATALOG)
        lo = w.catalog_rows
        if n <= lo:
            return
        try:
            if block is None:
                block = self._read_cols(w, layout.CATALOG, [c.name for c in layout.CATALOG_COLUMNS], lo, n)
            self._append_catalog(w, block, lo, n)
            return
        except (CorruptStoreError, NotYetVisibleError):
            pass
        # Something in the new rows is damaged: go chunk by chunk, so it costs only its own rows.
        while lo < n:
            col = w.column(layout.CATALOG, "start")
            C = col.rows_per_chunk if col is not None else int(w.array(layout.CATALOG, "start", 0).chunks[0])
            hi = min(n, (lo // C + 1) * C)
            try:
                block = self._read_cols(w, layout.CATALOG, [c.name for c in layout.CATALOG_COLUMNS], lo, hi)
            except (CorruptStoreError, NotYetVisibleError) as e:
                w.catalog_bad.append((lo, hi, str(e)))
                self._problem(f"catalog rows {lo}-{hi - 1} of writer {w.id} are damaged: those episodes are skipped", e)
                # Keep row numbers aligned with catalog rows: fill the gap with placeholders.
                block = {c.name: np.full(hi - lo, layout.fill_of(c), c.dtype) for c in layout.CATALOG_COLUMNS}
            self._append_catalog(w, block, lo, hi)
            lo = hi

    def _append_catalog(self, w: _Writer, block: dict, lo: int, hi: int) -> None:
        # A catalog row is published in the same commit as its rows, so one that points past the
        # committed rows of its stream is damage: skip it (as a placeholder) and say so.
        limit = np.where(block["source"] == layout.SOURCE_SNAPSHOT, w.rows(layout.SNAPSHOTS), w.rows(layout.TRAIN))
        bad = (block["start"] >= 0) & ((block["length"] <= 0) | (block["start"] + block["length"] > limit))
        if bad.any():
            rows = np.flatnonzero(bad) + lo
            self._problem(f"catalog rows {rows[0]}-{rows[-1]} of writer {w.id} ({rows.size} episode(s)) "
                          "point outside the committed rows: those episodes are skipped; run braxscope verify")
            block = dict(block, start=np.where(bad, -1, block["start"]))
        # Growable buffers (capacity doubles), so tailing a catalog of n rows costs O(new rows)
        # per refresh, not O(n).
        for k, v in block.items():
            buf = w.catalog_buf.get(k)
            if buf is None and lo == 0:
                # The first load (a whole catalog, on open) keeps the block it read: no copy.
                w.catalog_buf[k] = w.catalog[k] = v
                continue
            if buf is None or buf.shape[0] < hi:
                grown = np.empty(max(hi, 2 * (0 if buf is None else buf.shape[0]), 1024), v.dtype)
                if buf is not None:
                    grown[:lo] = buf[:lo]
                w.catalog_buf[k] = buf = grown
            buf[lo:hi] = v
            w.catalog[k] = buf[:hi]
        w.catalog_rows = hi
        if (block["start"] < 0).any():
            w.placeholders = True

    # ----------------------------------------------------------------- reads

    def _read_cols(self, w: _Writer, stream: str, columns: list[str], lo: int, hi: int,
                   slot: int | None = None, per_slot: set[str] | None = None) -> dict[str, np.ndarray]:
        """Committed rows [lo, hi) of several columns of one stream. The sentinel column is read
        once, after the others; a committed row whose sentinel is still the fill value means the
        filesystem has not shown the rows yet: wait and re-read them all, never return them."""
        if hi > w.rows(stream):
            raise BraxscopeError(f"rows {lo}-{hi} of {stream} are not committed yet")
        sentinel = layout.SENTINEL[stream]
        per_slot = per_slot if per_slot is not None else set(columns)
        # Only a live writer's rows can be "not visible yet" (a lagging share, a late object, a
        # transient ESTALE/EIO): retried with backoff. Once the writer is closed, failed or long
        # silent, what is missing now stays missing: damage, reported at once.
        live = _is_live(w.commit)
        deadline = time.monotonic() + (_VISIBILITY_RETRY_S if live else 0.0)
        delay = 0.01
        while True:
            out = {}
            missing = None
            try:
                order = [c for c in columns if c != sentinel] + [sentinel]
                prefetched = None
                if self.storage.remote:
                    # Every column's chunks in one round trip (a request latency each otherwise).
                    keys = [k for name in order if (col := w.column(stream, name)) is not None
                            for k in col.chunk_keys(lo, hi)]
                    prefetched = dict(zip(keys, self.storage.get_many(keys)))
                for name in order:
                    out[name] = self._read_one(w, stream, name, lo, hi, slot if name in per_slot else None,
                                               prefetched)
            except ChunkMissingError as e:
                missing = f"{e.args[0]} in {stream}/{name}"  # a chunk file not visible (yet)
            except OSError as e:
                missing = f"{stream}/{name}: {e.strerror or e}"  # e.g. ESTALE or EIO from a network filesystem
            except CorruptStoreError:
                if self._moved(w):
                    continue  # compacted meanwhile: its old arrays are gone; read the new ones
                raise
            if missing is None and not (out[sentinel] == -1).any():
                if sentinel not in columns:
                    del out[sentinel]
                return out
            if self._moved(w):
                continue
            if time.monotonic() >= deadline:
                if not live:
                    raise CorruptStoreError(
                        f"writers/{w.id}/{stream} rows {lo}-{hi - 1} are committed but read as unwritten"
                        f"{f' ({missing})' if missing else ''}, and their writer is "
                        f"{w.commit.get('state', 'gone')}: the store is damaged there; run braxscope verify"
                    )
                raise NotYetVisibleError(
                    f"writers/{w.id}/{stream} rows {lo}-{hi - 1} are committed but still read as unwritten"
                    f"{f' ({missing})' if missing else ''}: the filesystem lags or a chunk is missing; "
                    f"run braxscope verify"
                )
            time.sleep(delay)
            delay = min(0.2, delay * 2)

    def _moved(self, w: _Writer) -> bool:
        """Whether a compaction moved the writer's arrays since its commit record was read (then
        the record is re-read): a reader that misses a chunk checks this before it waits."""
        try:
            doc = load_json(self.storage, f"{w.key}/zarr.json", f"writer {w.id}")
        except (CorruptStoreError, OSError):  # OSError: a transient error of a network filesystem
            return False
        commit = doc.get("attributes", {}).get(layout.COMMIT_ATTR, {})
        if int(commit.get("generation", 0) or 0) == w.generation:
            return False
        w.set_commit(commit)
        return True

    def _read_one(self, w: _Writer, stream: str, column: str, lo: int, hi: int, slot: int | None,
                  prefetched: dict | None = None) -> np.ndarray:
        try:
            col = w.column(stream, column)
            if col is not None:
                return col.read(lo, hi, slot, strict=True, prefetched=prefetched)
            arr = w.array(stream, column, hi)
            return np.asarray(arr[lo:hi] if slot is None else arr[lo:hi, slot])
        except (ChunkMissingError, OSError):
            raise
        except ChunkDecodeError as e:
            raise CorruptStoreError(
                f"writers/{w.id}/{stream}/{column} chunk {e.chunk} (rows {e.rows[0]}-{e.rows[1]}) "
                f"cannot be decoded ({e.reason}): the store is damaged there; "
                "run braxscope verify"
            ) from None
        except BraxscopeError:
            raise
        except Exception as e:
            raise CorruptStoreError(
                f"writers/{w.id}/{stream}/{column} rows {lo}-{hi - 1} cannot be read ({_short(e)}): "
                "the store is damaged there; run braxscope verify"
            ) from None

    @property
    def writer_ids(self) -> list[str]:
        return [w.id for w in sorted(self._writers.values(), key=lambda w: w.ordinal)]

    def writers(self) -> list[WriterStatus]:
        out = []
        ordered = sorted(self._writers.values(), key=lambda w: w.ordinal)
        try:
            raws = self.storage.get_many([f"{w.key}/{layout.LOCK_FILE}" for w in ordered])
            locks = [raw is not None for raw in raws]
            self._locked = dict(zip([w.id for w in ordered], locks))
        except OSError:  # a transient error of a network filesystem: what was seen last
            locks = [self._locked.get(w.id, _is_live(w.commit)) for w in ordered]
        for w, lock in zip(ordered, locks):
            c = w.commit
            out.append(WriterStatus(
                writer_id=w.id, ordinal=w.ordinal, process_index=int(w.static.get("process_index", 0)),
                host=str(w.static.get("host", "")), epoch=int(c.get("epoch", 0)), state=str(c.get("state", "unknown")),
                heartbeat=float(c.get("heartbeat", 0.0)), rows=dict(c.get("rows", {})),
                dropped_rows=int(c.get("dropped_rows", 0)), last_env_step=int(c.get("last_env_step", -1)),
                locked=lock, error=str(c.get("error", "")),
                config=w.static.get("config") if isinstance(w.static.get("config"), dict) else {},
            ))
        return out

    def catalog(self) -> Catalog:
        """Every episode as numpy columns (a snapshot; :meth:`refresh` does not change it): query
        it with :meth:`Catalog.query`. Cheap: the columns are the reader's own, shared."""
        with self._refresh_lock:
            writers = sorted(self._writers.values(), key=lambda w: w.ordinal)
            key = tuple((w.id, w.ordinal, w.catalog_rows, json.dumps(w.commit.get("open_episodes"))) for w in writers)
            if self._catalog is not None and self._catalog[0] == key:
                return self._catalog[1]
            blocks = []
            for w in writers:
                n = w.catalog_rows
                cols = {k: v[:n] for k, v in w.catalog.items()}
                blocks.append(_Block(w.ordinal, w.id, cols, n, False, cols["start"] >= 0 if w.placeholders else None))
                opened = self._open_episodes(w)
                if opened:
                    ocols = {c.name: np.array([_open_value(ep, c.name) for ep in opened], c.dtype)
                             for c in layout.CATALOG_COLUMNS}
                    blocks.append(_Block(w.ordinal, w.id, ocols, len(opened), True, None))
            cat = Catalog(blocks)
            self._catalog = (key, cat)
            return cat

    def query(self, **conditions) -> Selection:
        """``catalog().query(...)``: episodes by source, env, writer, iteration and return range,
        sorted; a :class:`Selection` that builds an EpisodeInfo only for a row asked for."""
        return self.catalog().query(**conditions)

    def episodes(self, *, in_progress: bool = False) -> list[EpisodeInfo]:
        """Every catalogued episode (all writers), oldest writer first, in commit order.
        With ``in_progress``, also each tracked slot's open episode (rows so far).
        Builds one object per episode the first time (about 2 s per million): on big stores
        use :meth:`query`, which builds only the rows asked for."""
        out: list[EpisodeInfo] = []
        for w in sorted(self._writers.values(), key=lambda w: w.ordinal):
            if w.episode_rows < w.catalog_rows:
                w.episode_list += episode_infos(w.ordinal, w.id, w.catalog, w.episode_rows, w.catalog_rows)
                w.episode_rows = w.catalog_rows
            out += w.episode_list
            if in_progress:
                out += self._open_episodes(w)
        return out

    def _open_episodes(self, w: _Writer) -> list[EpisodeInfo]:
        out = []
        end = w.rows(layout.TRAIN)
        for ep in w.commit.get("open_episodes", []) or []:
            if ep is None or end <= ep["start"]:
                continue
            out.append(EpisodeInfo(
                id=EpisodeId.open_text(w.ordinal, int(ep["slot"])), writer=w.id, source="train", slot=int(ep["slot"]),
                env_id=int(ep["env_id"]), device=int(ep.get("device", 0)), iteration=int(ep["iteration"]),
                env_step=int(ep["env_step"]), start=int(ep["start"]), length=end - int(ep["start"]),
                ret=float("nan") if ep.get("ret") is None else float(ep["ret"]), complete=False,
                wall_time=float(ep.get("wall_time", 0.0)), in_progress=True,
            ))
        return out

    def get_episode(self, episode_id: str) -> EpisodeInfo:
        """The catalog entry of an id ("W:R", "R" for writer 0, or "W:open-S"). O(1)."""
        try:
            eid = EpisodeId.parse(episode_id)
        except EpisodeIdError:
            eid = None
        w = None if eid is None else next((w for w in self._writers.values() if w.ordinal == eid.writer), None)
        if w is not None:
            if eid.is_open:
                for ep in self._open_episodes(w):
                    if ep.slot == eid.slot:
                        return ep
            elif eid.row < w.catalog_rows and w.catalog["start"][eid.row] >= 0:
                return episode_info(w.ordinal, w.id, w.catalog, eid.row)
        raise EpisodeNotFoundError(f"no episode {episode_id!r} in {self.path}: "
                                   f"run 'braxscope info {self.path}' to list them")

    def _writer_of(self, ep: EpisodeInfo) -> _Writer:
        return self._writers[ep.writer]

    def frames(self, episode: str | EpisodeInfo, lo: int = 0, hi: int | None = None) -> Frames:
        """Rows [lo, hi) of an episode (relative to its start); the whole episode by default."""
        ep = episode if isinstance(episode, EpisodeInfo) else self.get_episode(episode)
        hi = ep.length if hi is None else min(hi, ep.length)
        lo = max(0, min(lo, hi))
        w = self._writer_of(ep)
        a, b = ep.start + lo, ep.start + hi
        slot = ep.slot if ep.stream == layout.TRAIN else 0
        columns = layout.columns_of(ep.stream, self.sizes)
        cols = self._read_cols(w, ep.stream, [c.name for c in columns], a, b, slot,
                               per_slot={c.name for c in columns if c.per_slot})
        return Frames(
            qpos=cols["qpos"], qvel=cols["qvel"], action=cols["action"], reward=cols["reward"],
            done=cols["done"].astype(bool), env_step=cols["env_step"], iteration=cols["iteration"],
            wall_time=cols["wall_time"], flags=cols["flags"],
            mocap_pos=cols.get("mocap_pos"), mocap_quat=cols.get("mocap_quat"),
        )

    def episode(self, episode_id: str | EpisodeInfo) -> Frames:
        return self.frames(episode_id)

    def train_rows(self, writer: str, lo: int, hi: int, stream: str = layout.TRAIN) -> dict[str, np.ndarray]:
        """Raw committed rows [lo, hi) of a writer's train (or snapshots) stream, every slot."""
        w = self._writers[writer]
        return self._read_cols(w, stream, [c.name for c in layout.columns_of(stream, self.sizes)], lo, hi)

    def metrics(self, writers: Iterable[str] | None = None) -> Metrics:
        """The training curve of every writer (or of the writer ids ``writers``: one run of a
        sweep), concatenated in writer order."""
        names: list[str] = []
        steps, walls, blocks = [], [], []
        only = None if writers is None else set(writers)
        for w in sorted(self._writers.values(), key=lambda w: w.ordinal):
            if only is not None and w.id not in only:
                continue
            n = w.rows(layout.METRICS)
            wnames = list(w.commit.get("metric_names", []))
            if n == 0:
                continue
            key = (n, len(wnames))
            if w.metrics_cache is not None and w.metrics_cache[0] == key:
                cols = w.metrics_cache[1]  # the viewer asks on every refresh; metrics grow rarely
            else:
                held = w.arrays.get((layout.METRICS, "values"))
                if held is not None and (held.shape[1] < len(wnames) or held.shape[0] < n):
                    del w.arrays[(layout.METRICS, "values")]  # grew past the cached shape: re-open
                cols = self._read_cols(w, layout.METRICS, ["env_step", "wall_time", "values"], 0, n)
                w.metrics_cache = (key, cols)
            steps.append(cols["env_step"])
            walls.append(cols["wall_time"])
            vals = cols["values"][:, : len(wnames)] if wnames else np.zeros((n, 0))
            blocks.append((wnames, vals))
            names += [m for m in wnames if m not in names]
        values = {m: [] for m in names}
        for wnames, vals in blocks:
            for m in names:
                values[m].append(vals[:, wnames.index(m)] if m in wnames else np.full(vals.shape[0], np.nan))
        return Metrics(
            names=names,
            env_step=np.concatenate(steps) if steps else np.empty(0, np.int64),
            wall_time=np.concatenate(walls) if walls else np.empty(0),
            values={m: np.concatenate(v) for m, v in values.items()},
        )

    def model_bytes(self) -> bytes:
        try:
            arr = zarr.open_array(store=self.storage.zarr_store, path=layout.MODEL_ARRAY, mode="r")
            blob = np.asarray(arr[:], dtype=np.uint8).tobytes()
        except Exception as e:
            raise ModelError(f"the store's embedded model cannot be read ({_short(e)}): the store is damaged") from None
        if sha256(blob) != self.info.attrs.get("model_sha256"):
            raise ModelError("the store's embedded model is corrupt (checksum mismatch): the store is damaged there")
        return blob

    def model(self) -> mujoco.MjModel:
        """The run's MuJoCo model, checked against nq/nv/nu."""
        if self._model is None:
            m = model_from_bytes(self.model_bytes(), saved_with=self.info.attrs.get("mujoco_version"))
            got = {"nq": m.nq, "nv": m.nv, "nu": m.nu, "nmocap": m.nmocap if "nmocap" in self.info.attrs else 0}
            if got != self.sizes:
                raise ShapeMismatchError(f"the embedded model has sizes {got} but the data has {self.sizes}: "
                                         f"the store is damaged")
            self._model = m
        return self._model

    def env_model(self, episode: "str | EpisodeInfo") -> model_variant.EnvModel:
        """The model to draw an episode with: in a domain-randomized run, a training env's own
        randomized model (from the recorded per-env changes); the nominal model for a run without
        randomization and for policy snapshots (their rollouts step the nominal env). When the
        env's model was not recorded, the nominal one, with a note that says so."""
        ep = episode if isinstance(episode, EpisodeInfo) else self.get_episode(episode)
        nominal = self.model()
        w = self._writer_of(ep)
        meta = w.static.get("randomization")
        if ep.source == "snapshot" or not meta:
            return model_variant.EnvModel(nominal, True)
        values = self._randomized_values(w, meta)
        row = values["env_id"].get(ep.env_id)
        if row is None:
            return model_variant.EnvModel(nominal, False, model_variant.nominal_note(ep.env_id))
        model, skipped = model_variant.apply(nominal, {f: v[row] for f, v in values["fields"].items()})
        if not skipped:
            return model_variant.EnvModel(model, True)
        return model_variant.EnvModel(model, False, f"env {ep.env_id}'s randomized {', '.join(skipped)} "
                                                    "cannot be set on a MuJoCo model: shown with nominal values")

    def _randomized_values(self, w: _Writer, meta: dict) -> dict:
        """{"env_id": {env id: row}, "fields": {field path: [M, ...]}} of a writer (read once)."""
        cached = w.randomized
        if cached is None:
            base = f"{layout.WRITERS_GROUP}/{w.id}/{layout.RANDOMIZATION}"
            try:
                store = self.storage.zarr_store
                read = {name: np.asarray(zarr.open_array(store=store, path=f"{base}/{name}", mode="r")[...])
                        for name in ["env_id"] + [f["array"] for f in meta["fields"]]}
            except Exception as e:
                raise CorruptStoreError(f"{base} cannot be read ({_short(e)}): the store is damaged there") from None
            cached = {"env_id": {int(e): i for i, e in enumerate(read["env_id"].tolist())},
                      "fields": {f["field"]: read[f["array"]] for f in meta["fields"]}}
            w.randomized = cached
        return cached

    def control(self) -> dict:
        from .control import read_control

        return read_control(self.storage)


def _open_value(ep: EpisodeInfo, column: str):
    """An open episode's value in a catalog column (an open episode is a train episode, not complete)."""
    if column == "source":
        return layout.SOURCE_TRAIN
    return getattr(ep, "ret" if column == "return" else column)


def open_store(location: str | os.PathLike | Storage) -> StoreReader:
    """Open a store read-only: a path (local disk or shared filesystem), ``s3://bucket/path`` or
    ``gs://bucket/path``. Raises a :class:`BraxscopeError` subclass with a one-line message."""
    return StoreReader(open_storage(location, read_only=True))
