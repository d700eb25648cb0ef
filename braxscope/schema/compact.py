"""Compaction: rewrite a finished writer group's rows into sharded arrays (a few files per array).

A writer group is compacted once, when it is closed. Its streams live at ``<stream>/`` (chunk
files of 256-4096 rows, one file each) and move to ``g1/<stream>/`` (zarr's sharding codec: a
shard file of up to 64 MiB holds many inner chunks and their index). The switch-over is
crash-safe at every moment, in this order:

1. take the group's writer lock (``O_EXCL``), so no writer resumes the group meanwhile;
2. write every array of generation 1 under ``g1/`` (nothing refers to it yet: a reader never
   looks there, and a killed compaction leaves only a directory that the next one removes),
   reading each piece back to check it is bit-identical to the rows it copies;
3. publish: rewrite the group's ``zarr.json`` (temporary file, fsync, rename) with
   ``generation: 1`` in the commit record. Before this rename readers read generation 0, after
   it generation 1; both are whole;
4. remove generation 0, each stream's sentinel column first: a reader that still reads the old
   files reads the sentinel last, so it sees a missing chunk (and re-reads the commit record,
   which sends it to generation 1) rather than fill values;
5. release the lock.

A compaction killed after step 3 leaves parts of generation 0 behind; they are never read, and
the next ``compact`` removes them. Uses zarr's own ``create_array(shards=...)``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zarr

from . import atomic, layout
from ._chunks import ChunkedColumn, UnsupportedLayout
from .errors import CorruptStoreError, NotAStoreError, WriterLockedError
from .lease import Lease
from .reader import open_store
from .root import load_json
from .storage import LocalStorage, open_storage

GENERATION_KEY = "generation"  # in the commit record; absent means 0


@dataclass
class WriterResult:
    """What compaction did to one writer group."""

    writer_id: str
    action: str  # "compacted" | "already compacted" | "skipped"
    why: str = ""
    files_before: int = 0
    files_after: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        if self.action == "skipped":
            return f"{self.writer_id}: skipped ({self.why})"
        if self.action != "compacted":
            return f"{self.writer_id}: {self.action}" + (f" ({self.why})" if self.why else "")
        return (f"{self.writer_id}: compacted {self.files_before} files, {self.bytes_before / 1e6:.1f} MB -> "
                f"{self.files_after} files, {self.bytes_after / 1e6:.1f} MB in {self.seconds:.1f} s")


def generation_of(commit: dict) -> int:
    return int(commit.get(GENERATION_KEY, 0) or 0)


def compact(path: str | os.PathLike, *, writers: list[str] | None = None) -> list[WriterResult]:
    """Compact every closed writer group of a store (or those named). Groups that are still
    recording, failed, or locked by a live writer are skipped and say why."""
    reader = open_store(path)  # validates the store; errors are one line (NotAStoreError, ...)
    if not isinstance(reader.storage, LocalStorage):
        raise NotAStoreError(f"{reader.path}: compaction works on local stores (and shared filesystems) only; "
                             "compact before uploading")
    ids = reader.writer_ids if writers is None else writers
    unknown = [w for w in ids if w not in reader.writer_ids]
    if unknown:
        raise NotAStoreError(f"{reader.path} has no writer group {unknown[0]!r}; "
                             f"writers: {', '.join(reader.writer_ids) or 'none'}")
    return [compact_writer(reader.path, wid) for wid in ids]


def compact_writer(path: str | os.PathLike, writer_id: str) -> WriterResult:
    """Compact one writer group of a local store (see the module docstring for the steps)."""
    storage = open_storage(path, read_only=False)
    if not isinstance(storage, LocalStorage):
        raise NotAStoreError(f"{path}: compaction works on local stores (and shared filesystems) only")
    gkey = f"{layout.WRITERS_GROUP}/{writer_id}"
    gdir = storage.path(gkey)
    t0 = time.perf_counter()
    doc = load_json(storage, f"{gkey}/zarr.json", f"writer {writer_id}")
    commit = doc.get("attributes", {}).get(layout.COMMIT_ATTR)
    if not isinstance(commit, dict):
        return WriterResult(writer_id, "skipped", "no commit record")
    if commit.get("state") != "closed":
        return WriterResult(writer_id, "skipped", f"state is {commit.get('state')!r}, not closed: "
                                                  "only finished writer groups are compacted")
    try:
        # The writer lock: no writer resumes the group meanwhile; a killed compaction's stale
        # lock (its pid is gone) is taken over by the next one.
        lease = Lease.take(storage, gkey, writer_id, int(commit.get("epoch", 0)), commit.get("heartbeat"), 120.0)
    except WriterLockedError:
        return WriterResult(writer_id, "skipped", "a writer or another compaction holds its lock")
    try:
        gen = generation_of(commit)
        _remove_other_generations(gdir, gen)  # leftovers of a killed compaction
        if gen:
            return WriterResult(writer_id, "already compacted", f"generation {gen}")
        before = _files_and_bytes(gdir)
        new = gen + 1
        _remove_tree(gdir / layout.generation_dir(new))  # an unpublished try of an earlier, killed run
        rows = commit.get("rows", {})
        for stream in layout.ALL_STREAMS:
            src = f"{gkey}/{stream}"
            dst = f"{gkey}/{layout.generation_dir(new)}/{stream}"
            for name in _array_names(gdir / stream):
                _copy_array(storage, storage.zarr_store, f"{src}/{name}", f"{dst}/{name}", int(rows.get(stream, 0)))
        # Publish: the commit record names the new generation. Re-read first: the lock kept
        # writers out, so only this key changes.
        doc = load_json(storage, f"{gkey}/zarr.json", f"writer {writer_id}")
        doc["attributes"][layout.COMMIT_ATTR][GENERATION_KEY] = new
        # The publishing rename, with the data flushed first: this one file decides the generation.
        atomic.write_bytes(storage.path(f"{gkey}/zarr.json"), json.dumps(doc, indent=1, allow_nan=False).encode(),
                           sync=True)
        _remove_generation(gdir, gen)
        after = _files_and_bytes(gdir)
        return WriterResult(writer_id, "compacted", "", before[0], after[0], before[1], after[1],
                            time.perf_counter() - t0)
    finally:
        lease.release()


def _array_names(stream_dir: Path) -> list[str]:
    """The arrays of a stream group, sentinel-independent order (a compaction tool may list)."""
    if not stream_dir.is_dir():
        return []
    return sorted(d.name for d in stream_dir.iterdir() if (d / "zarr.json").is_file())


def _copy_array(storage: LocalStorage, store, src: str, dst: str, n: int) -> None:
    old = zarr.open_array(store=store, path=src, mode="r")
    if old.shape[0] < n:
        raise CorruptStoreError(f"{src} holds {old.shape[0]} rows but {n} are committed: run braxscope verify")
    trailing = tuple(int(t) for t in old.shape[1:])
    tchunks = tuple(int(c) for c in old.chunks[1:])
    row_bytes = int(np.dtype(old.dtype).itemsize * int(np.prod(tchunks, dtype=np.int64)))
    inner, shard = layout.compact_rows(row_bytes, n)
    new = zarr.create_array(
        store=store, name=dst, shape=(n, *trailing), chunks=(inner, *tchunks), shards=(shard, *tchunks),
        dtype=old.dtype, fill_value=old.fill_value, compressors=layout.COMPACT_COMPRESSORS,
        chunk_key_encoding=layout.CHUNK_KEY_ENCODING, dimension_names=old.metadata.dimension_names,
        attributes=dict(old.attrs),
        # Every inner chunk is stored, fill values or not, so verify can tell a lost shard.
        config={"write_empty_chunks": True},
    )
    try:
        fast = ChunkedColumn(storage, src, old)  # strict: a missing or undecodable chunk raises
    except UnsupportedLayout:
        fast = None  # metrics/values (its chunks of all-NaN metrics may be absent): zarr reads it
    for lo in range(0, n, shard):
        hi = min(n, lo + shard)
        data = fast.read(lo, hi, strict=True) if fast is not None else np.asarray(old[lo:hi])
        new[lo:hi] = data
        back = np.asarray(new[lo:hi])
        # Bit for bit (NaN is data in physics columns, and NaN != NaN).
        if back.shape != data.shape or back.tobytes() != np.ascontiguousarray(data).tobytes():
            raise CorruptStoreError(f"{dst} rows {lo}-{hi - 1} read back different from what was written: "
                                    "compaction stopped; the store is unchanged")


def _stream_dirs(gdir: Path, gen: int) -> list[Path]:
    base = gdir / layout.generation_dir(gen) if gen else gdir
    return [base / s for s in layout.ALL_STREAMS]


def _remove_generation(gdir: Path, gen: int) -> None:
    for sdir in _stream_dirs(gdir, gen):
        sentinel = layout.SENTINEL[sdir.name]
        _remove_tree(sdir / sentinel)  # first: see the module docstring, step 4
        _remove_tree(sdir)
    if gen:
        _remove_tree(gdir / layout.generation_dir(gen))


def _remove_other_generations(gdir: Path, keep: int) -> None:
    if keep:
        _remove_generation(gdir, 0)
    for d in gdir.iterdir():
        if d.is_dir() and d.name[:1] == "g" and d.name[1:].isdigit() and int(d.name[1:]) != keep:
            _remove_tree(d)


def _remove_tree(p: Path) -> None:
    shutil.rmtree(p, ignore_errors=True)


def _files_and_bytes(d: Path) -> tuple[int, int]:
    n = b = 0
    for f in d.rglob("*"):
        if f.is_file():
            n += 1
            b += f.stat().st_size
    return n, b


__all__ = ["compact", "compact_writer", "WriterResult", "generation_of", "GENERATION_KEY"]
