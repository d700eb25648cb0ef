"""Integrity check of a store: ``verify(path) -> Report``. Read-only; never writes or locks.

Checks, in order: root metadata and schema version; the model blob (checksum, loads, sizes);
each writer group (attributes, commit record, lock); each array's metadata against the model
(dtype, trailing shape, capacity covers the committed rows); every chunk inside the committed
range exists and decodes; sentinel columns hold no fill value inside the committed range;
catalog rows point inside the committed range of their stream.

A finding is ``damage`` (verify exits 1) or ``info`` (a stale lock, orphaned temp files, a
writer group whose creation was interrupted: harmless, reported so a user knows).
Input that is not a store at all raises a :class:`BraxscopeError` (the CLI exits 2).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import zarr
from . import layout
from ._chunks import ChunkDecodeError, ChunkedColumn, UnsupportedLayout
from .errors import BraxscopeError, CorruptStoreError
from .lease import lock_is_stale, read_lock
from .root import check_location, root_attrs
from .storage import Storage, open_storage
from .model_blob import model_from_bytes, sha256

DAMAGE = "damage"
INFO = "info"


@dataclass(frozen=True)
class Finding:
    level: str  # DAMAGE | INFO
    where: str  # a path inside the store, e.g. "writers/p0-.../train/qpos"
    what: str  # one line: what is wrong, with rows and chunk where it applies

    def line(self) -> str:
        return f"{'DAMAGED' if self.level == DAMAGE else 'info'}: {self.where}: {self.what}"


@dataclass
class Report:
    path: Path
    findings: list[Finding] = field(default_factory=list)
    writers: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # stream -> committed rows, all writers
    chunks_checked: int = 0

    @property
    def damaged(self) -> bool:
        return any(f.level == DAMAGE for f in self.findings)

    def damage(self, where: str, what: str) -> None:
        self.findings.append(Finding(DAMAGE, where, what))

    def info(self, where: str, what: str) -> None:
        self.findings.append(Finding(INFO, where, what))


def _json(st: Storage, key: str) -> tuple[dict | None, str | None]:
    """(document, None) or (None, why it is unusable)."""
    try:
        raw = st.get(key)
    except OSError as e:
        return None, f"zarr.json cannot be read ({e.strerror})"
    if raw is None:
        return None, "zarr.json is missing"
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        return None, (f"zarr.json is not valid JSON "
                      f"({e.__class__.__name__} at byte {getattr(e, 'pos', getattr(e, 'start', '?'))})")
    if not isinstance(doc, dict):
        return None, "zarr.json is not a JSON object"
    return doc, None


def verify(location) -> Report:
    """Check the store at ``location`` (a path, s3:// or gs:// URL, or a Storage). Raises
    StoreNotFoundError / NotAStoreError / NewerSchemaError for input that is not a store this
    version can check; returns a Report otherwise."""
    st = open_storage(location, read_only=True)
    report = Report(st.url if st.remote else Path(st.url))
    try:
        check_location(st)
    except CorruptStoreError:
        # Our parts without their root metadata: a damaged store (anything else is not a store).
        report.damage("zarr.json", "zarr.json is missing: the run's metadata (model sizes, names, dt) is lost; "
                                   "restore it from a backup")
        return report
    root, why = _json(st, "zarr.json")
    if root is None:
        report.damage("zarr.json",
                      f"{why}: the run's metadata (model sizes, names, dt) is lost; restore it from a backup")
        return report
    try:
        attrs = root_attrs(root, st.url)  # the reader's own checks: not a store, newer, damaged
    except CorruptStoreError as e:
        report.damage("zarr.json", str(e))
        return report
    if "model_sha256" not in attrs:
        report.damage("zarr.json", "root attributes lack model_sha256: the root metadata is damaged")
        return report
    sizes = layout.sizes_of(attrs)
    _check_model(st, attrs, sizes, report)
    _check_writers(st, sizes, report)
    partials = st.partials()
    if partials:
        report.info(partials[0],
                    f"{len(partials)} orphaned temp file(s) from a killed writer; the next resume removes them")
    return report


def _check_model(st: Storage, attrs: dict, sizes: dict, report: Report) -> None:
    where = layout.MODEL_ARRAY
    try:
        arr = zarr.open_array(store=st.zarr_store, path=layout.MODEL_ARRAY, mode="r")
        blob = np.asarray(arr[:], dtype=np.uint8).tobytes()
    except Exception as e:
        report.damage(where, f"the embedded model cannot be read ({_short(e)})")
        return
    if sha256(blob) != attrs.get("model_sha256"):
        report.damage(where, f"checksum mismatch ({len(blob)} bytes): the embedded model is corrupt")
        return
    try:
        model = model_from_bytes(blob, saved_with=attrs.get("mujoco_version"))
    except BraxscopeError as e:
        report.damage(where, str(e))
        return
    got = {"nq": model.nq, "nv": model.nv, "nu": model.nu, "nmocap": model.nmocap}
    if "nmocap" not in attrs:
        got["nmocap"] = 0  # written before nmocap was recorded: no mocap columns to check
    if got != sizes:
        report.damage(where, f"the model has sizes {got} but the root attributes say {sizes}")


def _check_writers(st: Storage, sizes: dict, report: Report) -> None:
    doc, why = _json(st, f"{layout.WRITERS_GROUP}/zarr.json")
    names = st.list_dir(layout.WRITERS_GROUP)
    if doc is None:
        report.damage(layout.WRITERS_GROUP, why)
    for name in names:
        _check_writer(st, name, sizes, report)


def _check_writer(p: Storage, name: str, sizes: dict, report: Report) -> None:
    where = f"{layout.WRITERS_GROUP}/{name}"
    doc, why = _json(p, f"{where}/zarr.json")
    if doc is None:
        report.damage(where, f"{why}: this writer's commit record is lost")
        return
    attrs = doc.get("attributes", {}) if isinstance(doc.get("attributes"), dict) else {}
    static, commit = attrs.get(layout.WRITER_ATTR), attrs.get(layout.COMMIT_ATTR)
    if not isinstance(static, dict):
        report.damage(where, "no writer attributes: not a braxscope writer group")
        return
    if not isinstance(commit, dict):
        report.info(where, "no commit record: its creation was interrupted; readers ignore it")
        return
    report.writers += 1
    _check_lock(p, where, commit, report)
    rows = commit.get("rows", {})
    slots = int(static.get("train_slots", 0))
    gen = int(commit.get("generation", 0) or 0)
    _check_generations(p, where, gen, report)
    base = f"{where}/{layout.generation_dir(gen)}" if gen else where
    for stream in layout.ALL_STREAMS:
        n = int(rows.get(stream, 0))
        report.rows[stream] = report.rows.get(stream, 0) + n
        n_slots = slots if stream == layout.TRAIN else (1 if stream == layout.SNAPSHOTS else 0)
        for col in layout.columns_of(stream, sizes):
            _check_column(p, f"{base}/{stream}/{col.name}", col, col.trailing(n_slots, sizes), n, stream, report,
                          compacted=gen > 0)
        if stream == layout.METRICS:
            _check_metric_values(p, f"{base}/{stream}/values", n, len(commit.get("metric_names", [])), report)
    _check_catalog(p, base, rows, slots, report)


def _check_generations(p: Storage, where: str, gen: int, report: Report) -> None:
    """Arrays of a generation the commit record does not name: a compaction was stopped."""
    names = p.list_dir(where)
    stale = [s for s in layout.ALL_STREAMS if gen and s in names]
    stale += [n for n in names if n[:1] == "g" and n[1:].isdigit() and int(n[1:]) != gen]
    if stale:
        report.info(f"{where}/{stale[0]}", f"{len(stale)} director(y/ies) of a compaction that was stopped "
                                           f"(the group reads generation {gen}); braxscope compact removes them")


def _check_lock(st: Storage, where: str, commit: dict, report: Report) -> None:
    held = read_lock(st, where)
    if held is None:
        return
    if not held:
        report.info(f"{where}/{layout.LOCK_FILE}", "unreadable writer lock: the next resume replaces it")
        return
    hb = commit.get("heartbeat")
    age = f"{time.time() - float(hb):.0f} s ago" if isinstance(hb, (int, float)) else "never"
    who = f"pid {held.get('pid')} on {held.get('host')}"
    if lock_is_stale(held, hb if isinstance(hb, (int, float)) else None, 120.0):
        report.info(f"{where}/{layout.LOCK_FILE}",
                    f"stale writer lock ({who}, last heartbeat {age}): the next resume takes it over")
    else:
        report.info(f"{where}/{layout.LOCK_FILE}", f"a writer is attached ({who}, last heartbeat {age})")


def _open(p: Storage, rel: str):
    return zarr.open_array(store=p.zarr_store, path=rel, mode="r")


def _check_column(p: Storage, where: str, col: layout.Column, trailing: tuple, n: int, stream: str,
                  report: Report, compacted: bool = False) -> None:
    doc, why = _json(p, f"{where}/zarr.json")
    if doc is None:
        report.damage(where, why)
        return
    try:
        arr = _open(p, where)
    except Exception as e:
        report.damage(where, f"array metadata is invalid ({_short(e)})")
        return
    if np.dtype(arr.dtype) != np.dtype(col.dtype):
        report.damage(where, f"dtype {arr.dtype}, layout v1 says {col.dtype}")
        return
    if tuple(arr.shape[1:]) != trailing:
        report.damage(where, f"rows of shape {tuple(arr.shape[1:])} but the model needs {trailing} "
                             f"(nq={_sz(p, 'nq')}, nv={_sz(p, 'nv')}, nu={_sz(p, 'nu')})")
        return
    if arr.shape[0] < n:
        report.damage(where, f"holds {arr.shape[0]} rows but {n} are committed")
        return
    if compacted:
        _check_sharded(p, where, arr, col, n, stream, report)
        return
    try:
        chunked = ChunkedColumn(p, where, arr)
    except UnsupportedLayout as e:
        report.damage(where, f"not in layout v1 ({e})")
        return
    if chunked.empty or n == 0:
        return
    C = chunked.rows_per_chunk
    is_sentinel = layout.SENTINEL[stream] == col.name
    for c in range(-(-n // C)):
        rows_hi = min(n, (c + 1) * C) - 1
        span = f"chunk {c} (rows {c * C}-{rows_hi})"
        try:
            chunk = chunked.read_chunk(c)
        except ChunkDecodeError as e:
            report.damage(where, f"{span} cannot be decoded: {e.reason}")
            continue
        except OSError as e:
            report.damage(where, f"{span} cannot be read: {e.strerror}")
            continue
        report.chunks_checked += 1
        if chunk is None:
            report.damage(where, f"{span} is missing: committed rows read as fill values")
            continue
        if is_sentinel:
            bad = np.flatnonzero(chunk[: rows_hi - c * C + 1] == layout.fill_of(col))
            if bad.size:
                report.damage(where, f"{span} holds the unwritten marker ({col.fill}) at committed rows "
                                     f"{c * C + bad[0]}-{c * C + bad[-1]} ({bad.size} rows)")


def _check_sharded(p: Storage, where: str, arr, col: layout.Column, n: int, stream: str, report: Report) -> None:
    """A compacted array: every shard of the committed rows exists and decodes (the sharding
    codec checks its index's CRC32C, the inner codecs each chunk's); sentinels hold no fill."""
    S = int((arr.shards or arr.chunks)[0])
    suffix = "".join(".0" for _ in arr.shape[1:])
    is_sentinel = layout.SENTINEL[stream] == col.name
    for i in range(-(-n // S)):
        lo, hi = i * S, min(n, (i + 1) * S)
        span = f"shard {i} (rows {lo}-{hi - 1})"
        if not p.exists(f"{where}/c.{i}{suffix}"):
            report.damage(where, f"{span} is missing: committed rows read as fill values")
            continue
        try:
            rows = np.asarray(arr[lo:hi])
        except Exception as e:
            report.damage(where, f"{span} cannot be decoded ({_short(e)})")
            continue
        report.chunks_checked += 1
        if is_sentinel:
            bad = np.flatnonzero(rows == layout.fill_of(col))
            if bad.size:
                report.damage(where, f"{span} holds the unwritten marker ({col.fill}) at committed rows "
                                     f"{lo + bad[0]}-{lo + bad[-1]} ({bad.size} rows)")


def _check_metric_values(p: Storage, where: str, n: int, n_names: int, report: Report) -> None:
    try:
        arr = _open(p, where)
    except Exception as e:
        report.damage(where, f"array metadata is invalid ({_short(e)})")
        return
    if arr.shape[0] < n or arr.shape[1] < n_names:
        report.damage(where, f"shape {arr.shape} cannot hold {n} committed rows of {n_names} metrics")
        return
    # Chunks of metric columns with no values are legitimately absent (all NaN); decode the rest.
    C = arr.chunks[0]
    for c in range(-(-n // C)):
        try:
            arr[c * C : min(n, (c + 1) * C)]
            report.chunks_checked += 1
        except Exception as e:
            report.damage(where, f"chunk row block {c} (rows {c * C}-{min(n, (c + 1) * C) - 1}) "
                                 f"cannot be decoded ({_short(e)})")


def _check_catalog(p: Storage, where: str, rows: dict, slots: int, report: Report) -> None:
    n = int(rows.get(layout.CATALOG, 0))
    if n == 0:
        return
    cols = {}
    for name in ("start", "length", "source", "slot"):
        try:
            arr = _open(p, f"{where}/{layout.CATALOG}/{name}")
            try:
                cols[name] = ChunkedColumn(p, f"{where}/{layout.CATALOG}/{name}", arr).read(0, n)
            except UnsupportedLayout:
                cols[name] = np.asarray(arr[:n])  # compacted (sharded)
        except Exception:
            return  # already reported by the column checks
    start, length, source = cols["start"], cols["length"], cols["source"]
    ok_rows = start >= 0
    for src, stream in ((layout.SOURCE_TRAIN, layout.TRAIN), (layout.SOURCE_SNAPSHOT, layout.SNAPSHOTS)):
        sel = ok_rows & (source == src)
        limit = int(rows.get(stream, 0))
        bad = np.flatnonzero(sel & ((length <= 0) | (start + length > limit)))
        if bad.size:
            r = int(bad[0])
            report.damage(f"{where}/{layout.CATALOG}",
                          f"{bad.size} {stream} episode(s) point outside the {limit} committed rows "
                          f"(first: catalog row {r}, rows {start[r]}-{start[r] + length[r] - 1})")
    unknown = np.flatnonzero(ok_rows & ~np.isin(source, list(layout.SOURCE_NAMES)))
    if unknown.size:
        report.damage(f"{where}/{layout.CATALOG}",
                      f"{unknown.size} row(s) with an unknown source (first: catalog row {int(unknown[0])})")
    bad_slot = np.flatnonzero(ok_rows & (source == layout.SOURCE_TRAIN)
                              & ((cols["slot"] < 0) | (cols["slot"] >= slots)))
    if bad_slot.size:
        report.damage(f"{where}/{layout.CATALOG}", f"{bad_slot.size} row(s) name a slot outside 0-{slots - 1} "
                                                   f"(first: catalog row {int(bad_slot[0])})")


def _sz(p: Storage, key: str):
    try:
        return json.loads(p.get("zarr.json"))["attributes"][layout.ROOT_ATTR][key]
    except Exception:
        return "?"


from .reader import _short  # noqa: E402  (one wording for decode errors in reader and verify)


__all__ = ["verify", "Report", "Finding", "DAMAGE", "INFO"]
