"""SCHEMA.md documents layout v1 exactly: its tables are checked against a store on disk."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from braxscope.schema import StoreWriter, write_control

from .conftest import mocap_block, train_block

DOC = (Path(__file__).resolve().parents[2] / "braxscope" / "schema" / "SCHEMA.md").read_text()
E = 3


def _section(title: str) -> str:
    start = DOC.index(title)
    nxt = DOC.find("\n## ", start + 1)
    return DOC[start: nxt if nxt > 0 else None]


def _table_keys(section: str) -> list[str]:
    """Every backticked name in the first cell of each table row (a cell may list several)."""
    return [k for cell in re.findall(r"^\| (`[^|]+`) \|", section, flags=re.M) for k in re.findall(r"`([^`]+)`", cell)]


def _write_store(path, model):
    # A model with a mocap body, so the optional mocap arrays are on disk too.
    w = StoreWriter.create(path, model, env_name="toy", backend="generalized", dt=0.01, train_slots=E,
                           config={"lr": 3e-4})
    w.append_train(**train_block(model, 0, 600, E), **mocap_block(600, E))
    w.append_snapshot(qpos=np.zeros((5, model.nq)), qvel=np.zeros((5, model.nv)), action=np.zeros((5, model.nu)),
                      reward=np.ones(5), done=np.arange(5) == 4, iteration=0, env_step=0, complete=True,
                      **mocap_block(5, None))
    w.append_metrics(0, {"reward": 1.0})
    w.commit()
    write_control(path, recording=False)
    return w


def test_every_array_in_the_doc_matches_the_store_and_vice_versa(tmp_path, mocap_model):
    model = mocap_model
    w = _write_store(tmp_path / "s.zarr", model)
    wdir = tmp_path / "s.zarr" / "writers" / w.writer_id
    sizes = {"nq": model.nq, "nv": model.nv, "nu": model.nu, "nmocap": model.nmocap, "E": E, "1": 1, "3": 3, "4": 4,
             "256": 256, "32": 32}
    rows = re.findall(r"^\| `([a-z_/]+)` \| (\w+) \| \[([^\]]*)\] \| \[([^\]]*)\] \| (\S+) \| ([a-z, ]+) \|$",
                      DOC, flags=re.M)
    documented = set()
    for name, dtype, shape, chunks, fill, dims in rows:
        meta_path = tmp_path / "s.zarr" / "model" / "zarr.json" if name == "model" else wdir / name / "zarr.json"
        meta = json.loads(meta_path.read_text())
        documented.add(name)
        assert meta["data_type"] == dtype, name
        assert meta["dimension_names"] == [d.strip() for d in dims.split(",")], name
        want_shape = [s.strip() for s in shape.split(",")]
        assert len(meta["shape"]) == len(want_shape), name
        for got, want in zip(meta["shape"][1:], want_shape[1:]):
            if want != "M":
                assert got == sizes[want], (name, meta["shape"])
        want_chunks = [c.strip() for c in chunks.split(",")]
        got_chunks = meta["chunk_grid"]["configuration"]["chunk_shape"]
        for got, want in zip(got_chunks[1:], want_chunks[1:]):
            assert got == max(1, sizes[want]), (name, meta["chunk_grid"])
        if want_chunks[0] == "C":  # the documented rule, computed here independently of layout.py
            row_bytes = np.dtype(dtype).itemsize * int(np.prod([max(1, sizes[w]) for w in want_chunks[1:]]))
            C = 256
            while C < 4096 and C * row_bytes < 16384:
                C *= 2
            assert got_chunks[0] == C, (name, got_chunks, C)
        elif want_chunks[0] != "B":
            assert got_chunks[0] == sizes[want_chunks[0]], (name, got_chunks)
        fv = meta["fill_value"]
        assert (fv == "NaN" and fill == "NaN") or (fv != "NaN" and float(fv) == float(fill)), (name, fv)
        assert [c["name"] for c in meta["codecs"]] == ["bytes", "blosc", "crc32c"], name
        assert meta["chunk_key_encoding"] == {"name": "default", "configuration": {"separator": "."}}, name
        blosc = meta["codecs"][1]["configuration"]
        assert (blosc["cname"], blosc["clevel"], blosc["shuffle"]) == ("lz4", 5, "shuffle")
    on_disk = {str(p.parent.relative_to(wdir)) for p in wdir.rglob("zarr.json")
               if json.loads(p.read_text())["node_type"] == "array"}
    assert on_disk | {"model"} == documented
    # Capacity grows in whole chunks ahead of the data, alike for every array of a stream (one
    # row dimension); a clean close trims it to the rows.
    for stream in ("train", "snapshots", "catalog", "metrics"):
        caps = {json.loads(p.read_text())["shape"][0] for p in (wdir / stream).glob("*/zarr.json")}
        assert len(caps) == 1, (stream, caps)
    for name in ("qpos", "env_step"):
        meta = json.loads((wdir / "train" / name / "zarr.json").read_text())
        assert meta["shape"][0] % meta["chunk_grid"]["configuration"]["chunk_shape"][0] == 0 and meta["shape"][0] >= 600
    w.close()
    assert json.loads((wdir / "train" / "qpos" / "zarr.json").read_text())["shape"][0] == 600


def test_documented_attributes_lock_and_control_file_match_the_store(tmp_path, mocap_model):
    path = tmp_path / "s.zarr"
    w = _write_store(path, mocap_model)
    root = json.loads((path / "zarr.json").read_text())["attributes"]["braxscope"]
    assert set(root) == set(_table_keys(_section("## Root attributes")))
    attrs = json.loads((path / "writers" / w.writer_id / "zarr.json").read_text())["attributes"]
    section = _section("## Writer group attributes")
    static_keys, commit_keys = section.split("`attributes.braxscope_commit`")
    assert set(attrs["braxscope_writer"]) == set(_table_keys(static_keys))
    assert set(attrs["braxscope_commit"]) == set(_table_keys(commit_keys))
    assert set(attrs["braxscope_commit"]["rows"]) == {"train", "snapshots", "catalog", "metrics"}
    assert re.fullmatch(r"p0-\d{8}T\d{6}-[0-9a-f]{4}", w.writer_id)
    lock = json.loads((path / "writers" / w.writer_id / "writer.lock").read_text())
    assert set(lock) == {"pid", "host", "epoch", "acquired", "token"} \
        and '{"pid": int, "host": str, "epoch": int, "acquired": float, "token": str}' in DOC
    control = json.loads((path / "control.json").read_text())
    assert set(control) == {"recording", "track", "updated"} and control["recording"] is False
    assert math.isfinite(root["dt"]) and root["schema_version"] == 1 and "this document is version **1**" in DOC
    w.close()
