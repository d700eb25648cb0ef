"""A corpus of damaged stores: one per kind of bad input the store issue names.

``build_corpus(root)`` writes a healthy base store, then one copy per case with that damage
applied, and returns ``{case: path}``. Used by the corpus tests (and handy by hand).
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import socket
from pathlib import Path

import numpy as np
import zarr

from braxscope.schema import StoreWriter

from .conftest import toy_model, train_block

CASES = (
    "healthy", "missing_path", "plain_dir", "a_file", "foreign_zarr", "newer_version", "missing_root_json",
    "missing_array_json", "garbled_root_json", "garbled_writer_json", "truncated_chunk", "corrupted_chunk",
    "truncated_catalog_chunk", "shape_mismatch", "corrupt_model", "catalog_out_of_range", "sentinel_hole",
    "short_array", "stale_lock",
)


def build_base(path: Path) -> str:
    model = toy_model()
    w = StoreWriter.create(path, model, env_name="toy", backend="generalized", dt=0.01, train_slots=2,
                           config={"seed": 0})
    for i in range(6):
        w.append_train(**train_block(model, i * 100, 100, 2, iteration=i))
        w.append_snapshot(qpos=np.zeros((20, model.nq)), qvel=np.zeros((20, model.nv)), action=np.zeros((20, model.nu)),
                          reward=np.ones(20), done=np.arange(20) == 19, iteration=i, env_step=i * 100, complete=True)
        w.append_metrics(i * 100, {"reward": float(i)})
        w.commit()
    w.close()
    return w.writer_id


def _edit_json(path: Path, fn) -> None:
    doc = json.loads(path.read_text())
    fn(doc)
    path.write_text(json.dumps(doc, indent=2))


def _flip(path: Path, at: float = 0.5) -> None:
    raw = bytearray(path.read_bytes())
    i = int(len(raw) * at)
    raw[i : i + 8] = bytes(b ^ 0x5A for b in raw[i : i + 8])
    path.write_bytes(bytes(raw))


def build_corpus(root: Path) -> dict[str, Path]:
    root = Path(root)
    base = root / "base.zarr"
    wid = build_base(base)
    w = f"writers/{wid}"
    cases: dict[str, Path] = {}

    def copy(name: str) -> Path:
        dst = root / f"{name}.zarr"
        shutil.copytree(base, dst)
        cases[name] = dst
        return dst

    copy("healthy")
    cases["missing_path"] = root / "nowhere.zarr"
    (root / "plain_dir").mkdir()
    cases["plain_dir"] = root / "plain_dir"
    (root / "a_file.zarr").write_text("not a store\n")
    cases["a_file"] = root / "a_file.zarr"
    g = zarr.open_group(str(root / "foreign.zarr"), mode="w")
    g.create_array("x", shape=(4,), dtype="f4")
    cases["foreign_zarr"] = root / "foreign.zarr"
    _edit_json(copy("newer_version") / "zarr.json", lambda d: d["attributes"]["braxscope"].update(schema_version=2))
    (copy("missing_root_json") / "zarr.json").unlink()
    (copy("missing_array_json") / w / "train" / "qpos" / "zarr.json").unlink()
    (copy("garbled_root_json") / "zarr.json").write_text('{"attributes": {"braxscope": {"schema_ver')
    (copy("garbled_writer_json") / w / "zarr.json").write_text('{"attributes": {"braxscope_writer"')
    chunk = copy("truncated_chunk") / w / "train" / "qpos" / "c.1.0.0"
    chunk.write_bytes(chunk.read_bytes()[: chunk.stat().st_size // 2])
    _flip(copy("corrupted_chunk") / w / "train" / "action" / "c.0.0.0")
    chunk = copy("truncated_catalog_chunk") / w / "catalog" / "return" / "c.0"
    chunk.write_bytes(chunk.read_bytes()[:10])
    _edit_json(copy("shape_mismatch") / w / "train" / "qvel" / "zarr.json", lambda d: d["shape"].__setitem__(2, 9))
    _flip(copy("corrupt_model") / "model" / "c.0", 0.3)
    # Valid chunks (checksums fine) with values the protocol never writes:
    zarr.open_array(str(copy("catalog_out_of_range") / w / "catalog" / "length"), mode="r+")[0] = 10**6
    zarr.open_array(str(copy("sentinel_hole") / w / "train" / "env_step"), mode="r+")[5] = -1
    _edit_json(copy("short_array") / w / "train" / "reward" / "zarr.json", lambda d: d["shape"].__setitem__(0, 100))
    # Harmless leftovers of a killed writer: its lock (pid gone) and a temp file.
    dead = multiprocessing.get_context("fork").Process(target=lambda: None)
    dead.start()
    dead.join()
    lock = copy("stale_lock") / w / "writer.lock"
    lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "epoch": 1, "acquired": 0.0}))
    (lock.parent / "train" / "qpos" / "c.0.0.0.0123abcd.partial").write_bytes(b"half a chunk")
    return cases
