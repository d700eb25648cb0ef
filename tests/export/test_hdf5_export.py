"""HDF5 export and import: exact round trips, the documented robomimic layout, foreign files (robomimic
and Minari's episode_N layout), errors. Minari datasets: test_minari_export.py."""

from __future__ import annotations

import json
import subprocess
import sys

import h5py
import mujoco
import numpy as np
import pytest

from braxscope.schema import open_store
from braxscope.schema.hdf5 import (
    Hdf5LayoutError,
    Hdf5ModelError,
    NotHdf5Error,
    OutputExistsError,
    export_hdf5,
    import_hdf5,
)

from .conftest import XML, assert_same_episodes, bits, make_model, motion, write_mocap_store

def test_store_to_hdf5_to_store_is_bit_exact_for_every_episode(store, tmp_path):
    src = open_store(store)
    every = [e.id for e in src.episodes()]  # complete and cut, train and snapshot
    assert any(not e.complete for e in src.episodes()) and any(e.source == "snapshot" for e in src.episodes())
    h5 = export_hdf5(store, tmp_path / "x.h5", episodes=every).path
    back = import_hdf5(h5, tmp_path / "back.zarr").path
    dst = open_store(back)
    assert_same_episodes(src, dst, every)
    assert dst.model_bytes() == src.model_bytes()
    for k in ("env_name", "backend", "dt", "nq", "nv", "nu", "joint_names", "actuator_names", "config"):
        assert dst.info.attrs[k] == src.info.attrs[k], k


def test_mocap_columns_round_trip_through_robomimic(tmp_path):
    store = write_mocap_store(tmp_path / "mocap.zarr")
    src = open_store(store)
    every = [e.id for e in src.episodes()]
    h5 = export_hdf5(store, tmp_path / "m.h5", episodes=every).path
    with h5py.File(h5) as f:
        assert f["data/demo_0/braxscope/mocap_pos"].shape[1:] == (1, 3)
    dst = open_store(import_hdf5(h5, tmp_path / "back.zarr").path)
    assert all(dst.frames(e).mocap_pos is not None for e in dst.episodes())
    assert_same_episodes(src, dst, every)


def _datasets(path) -> dict[str, bytes]:
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name] = (obj.dtype.str, obj.shape, bits(obj[()]))

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return out


def test_export_import_export_gives_identical_datasets(store, tmp_path):
    first = export_hdf5(store, tmp_path / "a.h5").path  # default: complete episodes
    back = import_hdf5(first, tmp_path / "back.zarr").path
    second = export_hdf5(back, tmp_path / "b.h5").path
    a, b = _datasets(first), _datasets(second)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k], k
    with h5py.File(first) as fa, h5py.File(second) as fb:
        for name in fa["data"]:
            for key in ("braxscope_source", "braxscope_iteration", "braxscope_env_step", "braxscope_return",
                        "braxscope_complete", "braxscope_env_id"):
                assert fa["data"][name].attrs[key] == fb["data"][name].attrs[key], (name, key)


def test_default_export_takes_complete_episodes_only(store, tmp_path):
    src = open_store(store)
    r = export_hdf5(store, tmp_path / "x.h5")
    complete = [e for e in src.episodes() if e.complete]
    assert r.episodes == len(complete) and r.steps == sum(e.length for e in complete)


def test_robomimic_file_has_the_documented_layout_in_plain_h5py(store, tmp_path):
    src = open_store(store)
    ids = ["0:3", "0", "0:7"]  # a snapshot, a complete train episode (short id), a cut one
    path = export_hdf5(store, tmp_path / "r.h5", episodes=ids, layout="robomimic").path
    m = src.model()
    with h5py.File(path, "r") as f:
        assert set(f.keys()) == {"data", "mask", "model_mjb"}
        assert f.attrs["braxscope_layout"] == "robomimic" and f.attrs["braxscope_state_timing"] == "after_action"
        data = f["data"]
        assert list(data.keys()) == ["demo_0", "demo_1", "demo_2"]
        env_args = json.loads(data.attrs["env_args"])
        assert env_args["env_name"] == "leg" and env_args["type"] == "brax"
        assert env_args["env_kwargs"] == {"backend": "generalized", "dt": 0.05}
        assert (env_args["nq"], env_args["nv"], env_args["nu"]) == (m.nq, m.nv, m.nu)
        assert env_args["actuator_names"] == ["hip_motor"] and env_args["model_mjb"] == "/model_mjb"
        assert f["model_mjb"].dtype == np.uint8 and f["model_mjb"][()].tobytes() == src.model_bytes()
        # robomimic filter keys: the last of 2-9 demos validates, the others train.
        assert list(f["mask/train"][()]) == [b"demo_0", b"demo_1"] and list(f["mask/valid"][()]) == [b"demo_2"]
        total = 0
        for i, eid in enumerate(ids):
            ep, fr = src.get_episode(eid), src.frames(eid)
            g = data[f"demo_{i}"]
            assert g.attrs["num_samples"] == ep.length
            total += ep.length
            assert g["states"].shape == (ep.length, m.nq + m.nv) and g["states"].dtype == np.float32
            np.testing.assert_array_equal(g["states"][:, : m.nq], fr.qpos)
            np.testing.assert_array_equal(g["states"][:, m.nq :], fr.qvel)
            # obs[t]: before actions[t] (row t-1; the model's initial state first); next_obs[t]: row t.
            np.testing.assert_array_equal(g["next_obs/qpos"][()], fr.qpos)
            np.testing.assert_array_equal(g["next_obs/qvel"][()], fr.qvel)
            np.testing.assert_array_equal(g["obs/qpos"][1:], fr.qpos[:-1])
            np.testing.assert_array_equal(g["obs/qvel"][1:], fr.qvel[:-1])
            np.testing.assert_array_equal(g["obs/qpos"][0], m.qpos0.astype(np.float32))
            np.testing.assert_array_equal(g["obs/qvel"][0], np.zeros(m.nv, np.float32))
            np.testing.assert_array_equal(g["actions"][()], fr.action)
            np.testing.assert_array_equal(g["rewards"][()], fr.reward)
            assert g["dones"].dtype == np.uint8
            np.testing.assert_array_equal(g["dones"][()], fr.done.astype(np.uint8))
            np.testing.assert_array_equal(g["braxscope/env_step"][()], fr.env_step)
            assert g.attrs["braxscope_episode_id"] == ep.id
            assert g.attrs["braxscope_source"] == ep.source
            assert g.attrs["braxscope_iteration"] == ep.iteration
            assert g.attrs["braxscope_env_step"] == ep.env_step
            assert g.attrs["braxscope_return"] == ep.ret
            assert bool(g.attrs["braxscope_complete"]) == ep.complete
        assert data.attrs["total"] == total


def test_robomimic_valid_split_takes_every_tenth_demo():
    from braxscope.schema.hdf5.robomimic import split_valid

    assert split_valid(1) == set() and split_valid(2) == {1} and split_valid(9) == {8}
    assert split_valid(25) == {9, 19}


def test_hand_written_robomimic_file_imports(tmp_path):
    """A file built here from docs/EXPORT.md with plain h5py, the way another program would:
    no braxscope attributes, the model as MJCF XML on each demo (robosuite's model_file)."""
    model = make_model()
    nq, nv, nu = model.nq, model.nv, model.nu
    demos = []
    for i, L in enumerate((25, 40)):
        q, v, a, r = motion(L, 0.4 + 0.3 * i, seed=50 + i)
        d = np.zeros(L, np.int64)
        d[-1] = 1 if i == 0 else 0
        demos.append((np.concatenate([q, v], 1).astype(np.float64), a.astype(np.float64), r.astype(np.float64), d))
    path = tmp_path / "hand.hdf5"
    with h5py.File(path, "w") as f:
        data = f.create_group("data")
        data.attrs["total"] = sum(len(x[1]) for x in demos)
        data.attrs["env_args"] = json.dumps({"env_name": "HandLeg", "type": 2, "env_kwargs": {"dt": 0.02}})
        for i, (s, a, r, d) in enumerate(demos):
            g = data.create_group(f"demo_{i}")
            g.attrs["num_samples"] = len(a)
            g.attrs["model_file"] = XML
            g.create_dataset("states", data=s)
            g.create_dataset("actions", data=a)
            g.create_dataset("rewards", data=r)
            g.create_dataset("dones", data=d)
        mask = f.create_group("mask")  # robomimic filter keys: ignored by the importer
        mask.create_dataset("train", data=np.array([b"demo_0", b"demo_1"]))
    res = import_hdf5(path, tmp_path / "hand.zarr")
    assert res.layout == "robomimic" and res.episodes == 2
    r = open_store(res.path)
    assert r.info.env_name == "HandLeg" and r.info.dt == 0.02
    eps = r.episodes()
    assert [e.source for e in eps] == ["snapshot", "snapshot"] and [e.length for e in eps] == [25, 40]
    assert [e.complete for e in eps] == [True, False]  # complete when the last step is done
    for e, (s, a, rew, d) in zip(eps, demos):
        fr = r.frames(e)
        np.testing.assert_array_equal(fr.qpos, s[:, :nq].astype(np.float32))
        np.testing.assert_array_equal(fr.qvel, s[:, nq:].astype(np.float32))
        np.testing.assert_array_equal(fr.action, a.astype(np.float32))
        np.testing.assert_array_equal(fr.reward, rew.astype(np.float32))
        np.testing.assert_array_equal(fr.done, d.astype(bool))
        assert e.ret == pytest.approx(float(np.sum(rew.astype(np.float32))), rel=1e-6)
    mr = r.model()
    assert (mr.nq, mr.nv, mr.nu) == (nq, nv, nu)


def test_hand_written_minari_file_imports_with_a_model_given_on_the_command_line(tmp_path):
    model = make_model()
    q, v, a, r = motion(20, 0.5, seed=9)
    obs = np.concatenate([np.concatenate([q[:1], v[:1]], 1), np.concatenate([q, v], 1)], 0)  # L+1 rows
    path = tmp_path / "minari.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("episode_0")
        g.attrs["id"] = 0
        g.attrs["total_steps"] = 20
        g.create_dataset("observations", data=obs)
        g.create_dataset("actions", data=a)
        g.create_dataset("rewards", data=r.astype(np.float64))
        g.create_dataset("terminations", data=np.zeros(20, bool))
        g.create_dataset("truncations", data=np.eye(20, dtype=bool)[-1])
    xml = tmp_path / "leg.xml"
    xml.write_text(XML)
    with pytest.raises(Hdf5ModelError, match="pass --model"):
        import_hdf5(path, tmp_path / "no_model.zarr")
    assert not (tmp_path / "no_model.zarr").exists()
    res = import_hdf5(path, tmp_path / "m.zarr", model_path=xml)
    fr = open_store(res.path).frames("0:0")
    np.testing.assert_array_equal(fr.qpos, q)  # observations[1:]: the states after each action
    np.testing.assert_array_equal(fr.action, a)
    assert res.notes and "dt" in res.notes[0]
    assert model.nq == fr.qpos.shape[1]


def test_import_refuses_what_it_cannot_use_with_one_line_errors(store, tmp_path):
    not_h5 = tmp_path / "notes.h5"
    not_h5.write_text("hello")
    with pytest.raises(NotHdf5Error, match="is not an HDF5 file"):
        import_hdf5(not_h5, tmp_path / "a.zarr")
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("images", data=np.zeros(3))
    with pytest.raises(Hdf5LayoutError, match="neither layout"):
        import_hdf5(other, tmp_path / "b.zarr")
    narrow = tmp_path / "narrow.h5"
    with h5py.File(narrow, "w") as f:
        g = f.create_group("data/demo_0")
        g.create_dataset("states", data=np.zeros((5, 3)))
        g.create_dataset("actions", data=np.zeros((5, 1)))
        g.attrs["model_file"] = XML
    with pytest.raises(Hdf5LayoutError, match="nq\\+nv=15"):
        import_hdf5(narrow, tmp_path / "c.zarr")
    good = export_hdf5(store, tmp_path / "good.h5").path
    (tmp_path / "taken.zarr").mkdir()
    with pytest.raises(OutputExistsError):
        import_hdf5(good, tmp_path / "taken.zarr")
    with pytest.raises(OutputExistsError):
        export_hdf5(store, good)
    for p in ("a.zarr", "b.zarr", "c.zarr"):
        assert not (tmp_path / p).exists()


def test_cli_round_trip_and_errors(store, tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "braxscope.cli", *map(str, args)], capture_output=True, text=True,
                              timeout=120)

    out = cli("export-hdf5", store, tmp_path / "c.h5", "--episodes", "0:3", "5")
    assert out.returncode == 0, out.stderr
    assert "wrote 2 episodes" in out.stdout
    back = cli("import-hdf5", tmp_path / "c.h5", tmp_path / "c.zarr")
    assert back.returncode == 0, back.stderr
    assert len(open_store(tmp_path / "c.zarr").episodes()) == 2
    bad = cli("import-hdf5", tmp_path / "c.zarr", tmp_path / "d.zarr")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "not an HDF5 file" in bad.stderr
    missing = cli("export-hdf5", store, tmp_path / "e.h5", "--episodes", "0:999")
    assert missing.returncode == 2 and "no episode" in missing.stderr
    minari = cli("export-hdf5", store, tmp_path / "f.h5", "--layout", "minari")
    assert minari.returncode == 2 and minari.stderr.strip().count("\n") == 0 and "export-minari" in minari.stderr


def test_mjb_model_survives_without_xml(store, tmp_path):
    path = export_hdf5(store, tmp_path / "x.h5").path
    with h5py.File(path) as f:
        blob = f["model_mjb"][()].tobytes()
        assert json.loads(f["data"].attrs["env_args"])["model_xml"] is None
    m = mujoco.MjModel.from_binary_path("m.mjb", {"m.mjb": blob})
    assert m.nq == 8


def test_truncated_file_is_reported_as_damaged(store, tmp_path):
    from braxscope.schema.hdf5 import DamagedHdf5Error

    good = export_hdf5(store, tmp_path / "good.h5").path
    data = good.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) * 2 // 3])  # a copy that stopped part way
    with pytest.raises(DamagedHdf5Error, match="damaged HDF5 file .*truncated"):
        import_hdf5(cut, tmp_path / "cut.zarr")
    assert not (tmp_path / "cut.zarr").exists()
