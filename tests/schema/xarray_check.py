"""One check shared by the xarray tests: every stream of every writer, opened by xarray itself
(no braxscope code), holds the reader's values in its committed rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from braxscope.schema import layout


def _equal(a, b) -> bool:
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=np.asarray(b).dtype.kind == "f")


def assert_streams_match(reader) -> None:
    """Asserts, for each writer: train/snapshots/catalog/metrics open with ``xarray.open_zarr``,
    dims are the documented names, and ``isel(row=slice(0, rows))`` equals the reader."""
    metric_steps, metric_values = [], {}
    for wid in reader.writer_ids:
        w = reader._writers[wid]
        for stream in layout.ALL_STREAMS:
            # A compacted group keeps its streams under g<N>/ (the reader knows where).
            ds = xr.open_zarr(Path(reader.path) / w.stream_path(stream), consolidated=False)
            n = w.rows(stream)
            assert ds.sizes["row"] >= n, (stream, dict(ds.sizes))
            got = ds.isel(row=slice(0, n)).load()
            if stream in layout.TRAJECTORY_STREAMS:
                want = reader.train_rows(wid, 0, n, stream)
                assert set(got.data_vars) == set(want), stream
                columns = {c.name: c for c in layout.columns_of(stream, reader.sizes)}
                for name, values in want.items():
                    assert got[name].dims == columns[name].dimension_names, (stream, name)
                    assert _equal(got[name].values, values), (stream, name)
            elif stream == layout.CATALOG:
                eps = [e for e in reader.episodes() if e.writer == wid]
                assert len(eps) == n
                assert _equal(got["start"].values, [e.start for e in eps])
                assert _equal(got["length"].values, [e.length for e in eps])
                assert _equal(got["return"].values, [e.ret for e in eps])
                assert _equal(got["iteration"].values, [e.iteration for e in eps])
            else:
                assert got["values"].dims == ("row", "metric")
                metric_steps.append(got["env_step"].values)
                for j, name in enumerate(w.commit.get("metric_names", [])):
                    metric_values.setdefault(name, []).append(got["values"].values[:, j])
    m = reader.metrics()
    assert _equal(np.concatenate(metric_steps), m.env_step)
    if len(reader.writer_ids) == 1:
        for name, cols in metric_values.items():
            assert _equal(cols[0], m.values[name]), name
