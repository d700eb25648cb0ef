"""The training curve's values: ``metrics/values`` [R, M], one float64 column per metric name.

``progress_fn`` reports whatever metrics it likes, and new names may appear at any call, so the
columns grow: a name gets the next column the first time it is seen, and the names (in column
order) are published in the commit record (``metric_names``) with the row counts, so a reader
never sees a column without its name. The rows' ``env_step`` and ``wall_time`` are an ordinary
stream of the writer (``metrics/``); this module holds only the 2-D array beside them.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import zarr

from . import layout

VALUES = "values"


class MetricColumns:
    """Buffers rows of metric values until the writer writes them (one thread owns it)."""

    def __init__(self, array: zarr.Array, names: list[str] | None = None):
        self.array = array
        self.names: list[str] = list(names or [])
        self._rows: list[np.ndarray] = []

    @classmethod
    def create(cls, store, group: str) -> "MetricColumns":
        """``<group>/values`` with no rows and one chunk of columns."""
        return cls(zarr.create_array(
            store=store, name=f"{group}/{VALUES}", shape=(0, layout.METRICS_CHUNK_COLS),
            chunks=(layout.CHUNK_ROWS, layout.METRICS_CHUNK_COLS), dtype="float64", fill_value=float("nan"),
            compressors=layout.COMPRESSORS, chunk_key_encoding=layout.CHUNK_KEY_ENCODING,
            dimension_names=layout.METRICS_VALUES_DIMS,
        ))

    @classmethod
    def open(cls, store, group: str, names: list[str]) -> "MetricColumns":
        return cls(zarr.open_array(store=store, path=f"{group}/{VALUES}", mode="r+"), names)

    def add(self, metrics: Mapping[str, float]) -> None:
        """Buffer one row; non-numeric values (strings) are not part of the curve."""
        row = np.full(max(len(self.names), 1), np.nan)
        for name, value in metrics.items():
            try:
                v = float(np.asarray(value).reshape(-1)[0]) if np.size(value) else np.nan
            except (TypeError, ValueError):
                continue
            if name not in self.names:
                self.names.append(name)
                row = np.concatenate([row, np.full(len(self.names) - row.size, np.nan)])
            row[self.names.index(name)] = v
        self._rows.append(row)

    def write(self, first: int, grow_rows) -> None:
        """Write the buffered rows at rows ``first...`` of the array. ``grow_rows(n)``: the row
        capacity to grow to when ``n`` rows do not fit (the metrics stream's, so the arrays of
        the stream keep one row dimension)."""
        if not self._rows:
            return
        k = len(self._rows)
        cols = max(len(self.names), 1)
        block = np.full((k, cols), np.nan)
        for i, r in enumerate(self._rows):
            block[i, : r.size] = r
        arr = self.array
        need_cols = -(-cols // layout.METRICS_CHUNK_COLS) * layout.METRICS_CHUNK_COLS
        if arr.shape[0] < first + k or arr.shape[1] < need_cols:
            need_rows = grow_rows(first + k) if arr.shape[0] < first + k else arr.shape[0]
            arr.resize((need_rows, max(arr.shape[1], need_cols)))
        arr[first : first + k, :cols] = block
        self._rows = []

    def trim(self, rows: int) -> None:
        """Shrink the row capacity to ``rows`` (the committed rows, on a clean close)."""
        if self.array.shape[0] != rows:
            self.array.resize((rows, self.array.shape[1]))


__all__ = ["MetricColumns"]
