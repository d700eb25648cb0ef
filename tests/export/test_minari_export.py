"""Minari datasets through Minari itself: export-minari writes what minari.load_dataset, `minari
list local`, iterate_episodes and sample_episodes read; import-minari brings it back exactly."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import minari
import numpy as np
import pytest
from gymnasium.spaces import Box

from braxscope.schema import open_store
from braxscope.schema.hdf5 import MinariError, OutputExistsError, export_minari, import_hdf5, import_minari

from .conftest import XML, assert_same_episodes, write_mocap_store

DATASET = "braxscope/leg-v0"


@pytest.fixture(scope="module")
def exported(store, tmp_path_factory):
    """Every episode of the shared store (complete and cut, train and snapshot) as a Minari dataset."""
    root = tmp_path_factory.mktemp("minari")
    ids = [e.id for e in open_store(store).episodes()]
    res = export_minari(store, DATASET, episodes=ids, datasets_path=root)
    return root, ids, res


@pytest.fixture
def minari_root(exported, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(exported[0]))
    return exported[0]


def test_minari_load_dataset_reads_every_episode_as_the_store_has_it(store, exported, minari_root):
    src = open_store(store)
    m = src.model()
    _, ids, res = exported
    ds = minari.load_dataset(DATASET)
    assert ds.total_episodes == len(ids) == res.episodes and ds.total_steps == res.steps
    assert isinstance(ds.observation_space, Box) and ds.observation_space.shape == (m.nq + m.nv,)
    assert isinstance(ds.action_space, Box) and ds.action_space.shape == (m.nu,)
    np.testing.assert_array_equal(ds.action_space.low, [-1.0])  # the actuator's ctrlrange
    np.testing.assert_array_equal(ds.action_space.high, [1.0])
    metas = list(ds.storage.get_episode_metadata(ds.episode_indices))
    for i, ep in enumerate(ds.iterate_episodes()):
        info, fr = src.get_episode(ids[i]), src.frames(ids[i])
        assert ep.observations.shape == (info.length + 1, m.nq + m.nv)
        assert np.isnan(ep.observations[0]).all()  # the reset observation is not recorded
        np.testing.assert_array_equal(ep.observations[1:, : m.nq], fr.qpos)
        np.testing.assert_array_equal(ep.observations[1:, m.nq:], fr.qvel)
        np.testing.assert_array_equal(ep.actions, fr.action)
        np.testing.assert_array_equal(ep.rewards, fr.reward)
        np.testing.assert_array_equal(ep.terminations, fr.done)
        assert ep.truncations[-1] == (not fr.done[-1]) and not ep.truncations[:-1].any()
        np.testing.assert_array_equal(ep.infos["env_step"][1:], fr.env_step)
        meta = metas[i]
        assert meta["braxscope_source"] == info.source and meta["braxscope_iteration"] == info.iteration
        assert meta["braxscope_env_step"] == info.env_step and meta["braxscope_episode_id"] == info.id
        assert meta["braxscope_return"] == info.ret and bool(meta["braxscope_complete"]) == info.complete
    sampled = ds.sample_episodes(3)
    assert len(sampled) == 3 and all(e.actions.shape[1] == m.nu for e in sampled)


def test_the_dataset_carries_the_run_and_the_model_in_json(store, exported, minari_root):
    src = open_store(store)
    meta = minari.load_dataset(DATASET).storage.metadata
    assert base64.b64decode(meta["braxscope_model_mjb"]) == src.model_bytes()
    assert meta["braxscope_run"]["env_name"] == "leg" and meta["braxscope_run"]["nq"] == 8
    assert meta["braxscope_state_timing"] == "after_action"
    assert not list(Path(minari_root).glob(".braxscope-*"))  # the temporary root is gone


def test_minari_list_local_shows_the_dataset(exported, minari_root):
    cli = Path(sys.executable).parent / "minari"
    out = subprocess.run([str(cli), "list", "local"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    assert DATASET in out.stdout


def test_store_to_minari_to_store_is_exact(store, exported, tmp_path):
    root, ids, _ = exported
    src = open_store(store)
    by_dir = import_minari(root / DATASET, tmp_path / "a.zarr")
    by_id = import_minari(DATASET, tmp_path / "b.zarr", datasets_path=root)
    for res in (by_dir, by_id):
        dst = open_store(res.path)
        assert_same_episodes(src, dst, ids)
        assert dst.model_bytes() == src.model_bytes()
        for k in ("env_name", "backend", "dt", "nq", "nv", "nu", "joint_names", "actuator_names", "config"):
            assert dst.info.attrs[k] == src.info.attrs[k], k
    # Exporting the imported store again gives the same arrays, bit for bit (cut train episodes
    # are imported last, so the episodes may come in another order).
    back_ids = [e.id for e in open_store(by_dir.path).episodes()]
    again = export_minari(by_dir.path, "braxscope/again-v0", episodes=back_ids, datasets_path=tmp_path / "again").path
    first, second = _arrays(root / DATASET), _arrays(again)
    assert sorted(first.values()) == sorted(second.values()) and len(first) == len(second)


def _arrays(dataset_dir: Path) -> dict[str, tuple]:
    import h5py

    out = {}
    with h5py.File(dataset_dir / "data" / "main_data.hdf5", "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, (obj.dtype.str, obj.shape, obj[()].tobytes()))
                     if isinstance(obj, h5py.Dataset) else None)
    return out


def test_minaris_main_data_file_imports_with_h5py_alone_given_the_model(store, exported, tmp_path):
    root, ids, _ = exported
    xml = tmp_path / "leg.xml"
    xml.write_text(XML)
    res = import_hdf5(root / DATASET / "data" / "main_data.hdf5", tmp_path / "h.zarr", model_path=xml)
    assert res.layout == "minari" and res.episodes == len(ids)
    src, dst = open_store(store), open_store(res.path)
    assert_same_episodes(src, dst, ids)


def test_export_refuses_a_bad_id_and_an_existing_dataset(store, exported, tmp_path):
    root = exported[0]
    with pytest.raises(MinariError, match="not a Minari dataset id"):
        export_minari(store, "no version", datasets_path=root)
    with pytest.raises(OutputExistsError, match="exists"):
        export_minari(store, DATASET, datasets_path=root)
    with pytest.raises(MinariError, match="neither a Minari dataset directory"):
        import_minari(tmp_path, tmp_path / "x.zarr", datasets_path=root)
    assert not (tmp_path / "x.zarr").exists()


def test_cli_export_and_import_minari_and_their_errors(store, tmp_path):
    def cli(*args):
        env = {**os.environ, "MINARI_DATASETS_PATH": str(tmp_path / "root")}
        return subprocess.run([sys.executable, "-m", "braxscope.cli", *map(str, args)], capture_output=True,
                              text=True, timeout=180, env=env)

    out = cli("export-minari", store, "braxscope/cli-v0", "--episodes", "0:3", "5")
    assert out.returncode == 0, out.stderr
    assert "wrote 2 episodes" in out.stdout and (tmp_path / "root" / "braxscope" / "cli-v0" / "data").is_dir()
    back = cli("import-minari", "braxscope/cli-v0", tmp_path / "c.zarr")
    assert back.returncode == 0, back.stderr
    assert len(open_store(tmp_path / "c.zarr").episodes()) == 2
    for bad in (cli("export-minari", store, "braxscope/cli-v0"),  # exists
                cli("export-minari", store, "bad id"),
                cli("import-minari", tmp_path / "nowhere", tmp_path / "d.zarr"),
                cli("import-hdf5", tmp_path / "root" / "braxscope" / "cli-v0", tmp_path / "e.zarr")):
        assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr, bad.stderr


def test_mocap_columns_round_trip_through_minari(tmp_path):
    store = write_mocap_store(tmp_path / "mocap.zarr")
    src = open_store(store)
    every = [e.id for e in src.episodes()]
    export_minari(store, "braxscope/mocap-v0", episodes=every, datasets_path=tmp_path / "root")
    ds = minari.MinariDataset(tmp_path / "root" / "braxscope" / "mocap-v0" / "data")
    first = next(ds.iterate_episodes())
    assert first.infos["mocap_pos"].shape == (first.actions.shape[0] + 1, 1, 3)
    dst = open_store(import_minari(tmp_path / "root" / "braxscope" / "mocap-v0", tmp_path / "back.zarr").path)
    assert_same_episodes(src, dst, every)


def test_damaged_or_missing_minari_data_is_one_line_errors(exported, store, tmp_path, monkeypatch):
    import shutil

    from braxscope.schema.hdf5 import DamagedHdf5Error

    root = exported[0]
    copy = tmp_path / "copy"
    shutil.copytree(root / DATASET, copy)
    main = copy / "data" / "main_data.hdf5"
    main.write_bytes(main.read_bytes()[: main.stat().st_size // 2])  # a copy that stopped part way
    with pytest.raises((DamagedHdf5Error, MinariError)):
        import_minari(copy, tmp_path / "x.zarr")
    assert not (tmp_path / "x.zarr").exists()
    monkeypatch.setitem(sys.modules, "minari", None)  # as if braxscope[minari] were not installed
    with pytest.raises(MinariError, match=r"pip install 'braxscope\[minari\]'"):
        export_minari(store, "braxscope/none-v0", datasets_path=tmp_path / "r")
