"""Fast reads of compacted (sharded) arrays: a shard's index read once, then one ``pread`` and one
decode per inner chunk, as ``ChunkedColumn`` does for chunk files.

Zarr's own sharded read costs about a millisecond of Python per call, so a seek (ten columns)
took ten; this reads the same bytes directly. The layout is the Zarr v3 ``sharding_indexed``
codec with its index at the end: for each inner chunk, little-endian uint64 (offset, nbytes)
(both 2^64-1 for an absent chunk), followed by the index's CRC32C. Shards of a compacted
generation never change, so their indexes are cached for the life of the reader.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import google_crc32c
import numpy as np
import zarr
from zarr.codecs import BytesCodec, Crc32cCodec, ShardingCodec

from ._chunks import ArrayMeta, ChunkDecodeError, ChunkedColumn, UnsupportedLayout, _codecs_of

_ABSENT = 2**64 - 1


class ShardedColumn(ChunkedColumn):
    """Read-only rows of an array ``[rows, *trailing]`` sharded ``(S, *trailing)`` with inner
    chunks ``(C, *trailing)``, the inner codecs braxscope writes (bytes, blosc, crc32c)."""

    def __init__(self, storage, key: str, arr: "zarr.Array | ArrayMeta"):  # not super().__init__: refuses sharding
        from .storage import LocalStorage

        if not isinstance(storage, LocalStorage):
            # Byte ranges of a shard are a local pread here; over object storage zarr reads them.
            raise UnsupportedLayout("sharded array on remote storage")
        codecs = arr.metadata.codecs
        if len(codecs) != 1 or not isinstance(codecs[0], ShardingCodec):
            raise UnsupportedLayout(f"codecs {codecs}")
        sh = codecs[0]
        index = sh.index_codecs
        if (sh.index_location.value != "end" or len(index) != 2 or not isinstance(index[0], BytesCodec)
                or not isinstance(index[1], Crc32cCodec)):
            raise UnsupportedLayout(f"shard index {index} at {sh.index_location}")
        self.storage = storage
        self.key = key.strip("/")
        self.dtype = np.dtype(arr.dtype).newbyteorder("<")
        self.trailing = tuple(int(s) for s in arr.shape[1:])
        shard = tuple(int(s) for s in arr.metadata.chunk_grid.chunk_shape)
        inner = tuple(int(s) for s in sh.chunk_shape)
        full = tuple(max(1, t) for t in self.trailing)
        if shard[1:] != full or inner[1:] != full or shard[0] % inner[0]:
            raise UnsupportedLayout(f"shards {shard} of chunks {inner} for shape {arr.shape}")
        enc = arr.metadata.chunk_key_encoding
        sep = getattr(enc, "separator", "/")
        if sep not in ("/", ".") or getattr(enc, "name", "default") != "default":
            raise UnsupportedLayout(f"chunk keys {enc}")
        self._blosc, self._crc = _codecs_of_inner(sh)
        self.fill = np.asarray(arr.fill_value, dtype=self.dtype)
        self.rows_per_chunk = inner[0]
        self.per_shard = shard[0] // inner[0]
        self.chunk_shape = inner
        self.capacity = int(arr.shape[0])
        self.empty = any(t == 0 for t in self.trailing)
        self._suffix = "".join(sep + "0" for _ in self.trailing)
        self._prefix = f"{storage.path(self.key)}{os.sep}c{sep}"
        self._tail = None
        self._indexes: dict[int, np.ndarray | None] = {}

    def _shard_index(self, s: int, f) -> np.ndarray:
        idx = self._indexes.get(s)
        if idx is None:
            n = self.per_shard * 16 + 4
            size = os.fstat(f.fileno()).st_size
            raw = os.pread(f.fileno(), n, size - n) if size >= n else b""
            if len(raw) != n or google_crc32c.value(raw[:-4]) != int.from_bytes(raw[-4:], "little"):
                raise ChunkDecodeError(s * self.per_shard, f"shard {s} index is truncated or corrupted",
                                       self.rows_per_chunk)
            idx = self._indexes[s] = np.frombuffer(raw[:-4], "<u8").reshape(self.per_shard, 2)
        return idx

    def _fetch(self, span: range) -> list[bytes | None]:
        """Inner chunks ``span``'s encoded bytes (None when absent), each shard opened once."""
        out: list[bytes | None] = []
        files: dict[int, object] = {}
        try:
            for c in span:
                s, j = divmod(c, self.per_shard)
                if s not in files:
                    try:
                        files[s] = open(f"{self._prefix}{s}{self._suffix}", "rb")
                    except FileNotFoundError:
                        files[s] = None
                f = files[s]
                if f is None:
                    out.append(None)
                    continue
                offset, nbytes = (int(x) for x in self._shard_index(s, f)[j])
                out.append(None if offset == _ABSENT else os.pread(f.fileno(), nbytes, offset))
        finally:
            for f in files.values():
                if f is not None:
                    f.close()
        return out

    def read_chunk(self, c: int) -> np.ndarray | None:
        (raw,) = self._fetch(range(c, c + 1))
        return None if raw is None else self.decode(c, raw)


def _codecs_of_inner(sh: ShardingCodec):
    # The same check as for a chunk file's codecs, on the shard's inner chain.
    return _codecs_of(SimpleNamespace(metadata=SimpleNamespace(codecs=sh.codecs)))
