"""Compaction on stores a real ppo.train recorded: the recorder compacts its group on a clean
close; compacting a store recorded with compact=False keeps its catalog and every frame."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from braxscope.schema import open_store
from braxscope.schema.compact import compact
from braxscope.schema.verify import verify

from .conftest import PPO_KWARGS

pytestmark = pytest.mark.slow


def _files(path) -> int:
    return sum(1 for f in path.rglob("*") if f.is_file())


def test_a_clean_close_compacts_the_recorders_writer_group(recorded_run):
    wid = recorded_run.reader.writer_ids[0]
    doc = json.loads((recorded_run.path / "writers" / wid / "zarr.json").read_text())
    assert doc["attributes"]["braxscope_commit"]["generation"] == 1
    assert not (recorded_run.path / "writers" / wid / "train").exists()
    assert not verify(recorded_run.path).findings


@pytest.fixture(scope="module")
def uncompacted(tmp_path_factory):
    from brax import envs
    from brax.training.agents.ppo import train as ppo

    import braxscope

    path = tmp_path_factory.mktemp("rec") / "ip.zarr"
    env = envs.get_environment("inverted_pendulum")
    rec = braxscope.Recorder(path, env, track=[0, 1, 2, 3], compact=False)
    ppo.train(environment=env, **dict(PPO_KWARGS, num_timesteps=2 * 64 * 80 * 3), **rec.ppo_hooks())
    rec.close()
    return path


def test_compacting_a_recorded_store_keeps_its_catalog_and_frames(uncompacted, tmp_path):
    path = tmp_path / "ip.zarr"
    shutil.copytree(uncompacted, path)
    before = open_store(path)
    eps = before.episodes()
    frames = {e.id: before.frames(e) for e in eps}
    metrics = before.metrics()
    n_files = _files(path)
    assert eps and any(e.source == "snapshot" for e in eps)
    (result,) = compact(path)
    assert result.action == "compacted"
    after = open_store(path)
    assert after.episodes() == eps
    for e in eps:
        got, want = after.frames(e), frames[e.id]
        for name in ("qpos", "qvel", "action", "reward", "done", "env_step", "iteration", "wall_time", "flags"):
            assert getattr(got, name).tobytes() == getattr(want, name).tobytes(), (e.id, name)
    m = after.metrics()
    assert m.names == metrics.names and all(np.array_equal(m.values[k], metrics.values[k], equal_nan=True)
                                            for k in m.names)
    # A short run is small: each array was one chunk file already, and stays one shard file.
    wid = after.writer_ids[0]
    arrays = [d for d in (path / "writers" / wid / "g1").glob("*/*") if d.is_dir()]
    assert len(arrays) >= 34 and all(_files(d) == 2 for d in arrays)  # zarr.json and one shard
    assert _files(path) <= n_files + 1  # plus g1/zarr.json
    assert not verify(path).findings
