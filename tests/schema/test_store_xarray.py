"""xarray (a real client, no braxscope code) opens every stream of a store as a Dataset."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from braxscope.schema import StoreWriter, open_store
from braxscope.schema.verify import verify

from .conftest import mocap_block, train_block
from .xarray_check import assert_streams_match

E = 3


def _live_store(path, model):
    w = StoreWriter.create(path, model, env_name="toy", backend="generalized", dt=0.01, train_slots=E)
    mocap = model.nmocap > 0
    w.append_train(**train_block(model, 0, 700, E), **(mocap_block(700, E) if mocap else {}))
    w.append_snapshot(qpos=np.zeros((9, model.nq)), qvel=np.ones((9, model.nv)), action=np.ones((9, model.nu)),
                      reward=np.arange(9), done=np.arange(9) == 8, iteration=0, env_step=0, complete=True,
                      **(mocap_block(9, None) if mocap else {}))
    w.append_metrics(0, {"reward": 1.0, "loss": 2.0})
    w.append_metrics(10, {"reward": 3.0})
    w.commit()
    return w


def test_a_live_store_opens_in_xarray_and_committed_rows_equal_the_readers(tmp_path, model):
    w = _live_store(tmp_path / "s.zarr", model)
    train = xr.open_zarr(tmp_path / "s.zarr" / "writers" / w.writer_id / "train", consolidated=False)
    # While recording, capacity runs ahead of the data: xarray shows it, filled.
    assert train.sizes["row"] > 700 and dict(train.sizes) == {"row": train.sizes["row"], "slot": E,
                                                              "nq": model.nq, "nv": model.nv, "nu": model.nu}
    assert int(train["env_step"][700]) == -1
    assert_streams_match(open_store(tmp_path / "s.zarr"))
    w.append_train(**train_block(model, 700, 5000, E))  # grows capacity again, every array alike
    w.commit()
    assert_streams_match(open_store(tmp_path / "s.zarr"))
    w.close()
    train = xr.open_zarr(tmp_path / "s.zarr" / "writers" / w.writer_id / "train", consolidated=False)
    assert train.sizes["row"] == 5700  # a clean close trims capacity to the committed rows
    assert_streams_match(open_store(tmp_path / "s.zarr"))


def test_a_store_without_dimension_names_still_reads_and_verifies(tmp_path, model):
    # Stores written before dimension names existed: the reader must not require them.
    w = _live_store(tmp_path / "s.zarr", model)
    w.close()
    for meta in (tmp_path / "s.zarr").rglob("zarr.json"):
        doc = json.loads(meta.read_text())
        if doc["node_type"] == "array":
            doc.pop("dimension_names", None)
            meta.write_text(json.dumps(doc))
    r = open_store(tmp_path / "s.zarr")
    assert len(r.frames(r.episodes()[0])) >= 1 and r.metrics().values["loss"][0] == 2.0
    assert not verify(tmp_path / "s.zarr").damaged


def test_mocap_arrays_open_in_xarray_with_named_axes(tmp_path, mocap_model):
    w = _live_store(tmp_path / "s.zarr", mocap_model)
    train = xr.open_zarr(tmp_path / "s.zarr" / "writers" / w.writer_id / "train", consolidated=False)
    assert train["mocap_pos"].dims == ("row", "slot", "nmocap", "xyz")
    assert train["mocap_quat"].dims == ("row", "slot", "nmocap", "wxyz")
    assert_streams_match(open_store(tmp_path / "s.zarr"))
    w.close()
