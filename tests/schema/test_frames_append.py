"""Frames in, Frames out: the writer appends the schema's one type for an episode's rows, and the
reader gives back the same Frames, column for column, bit for bit (real Zarr on disk)."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from braxscope.schema import Frames, ShapeMismatchError, StoreWriter, open_store
from braxscope.schema.layout import FLAG_GAP_BEFORE

from .conftest import mocap_block


def episode(model, L: int, seed: int, *, mocap: bool = False) -> Frames:
    """An episode whose every column differs per row (NaN and inf in qpos: physics that diverged)."""
    rng = np.random.default_rng(seed)
    qpos = rng.standard_normal((L, model.nq)).astype(np.float32)
    qpos[L // 2, :2] = [np.nan, np.inf]
    flags = np.zeros(L, np.uint8)
    flags[0] = FLAG_GAP_BEFORE
    m = mocap_block(L, None) if mocap else {}
    return Frames(qpos=qpos, qvel=rng.standard_normal((L, model.nv)).astype(np.float32),
                  action=rng.standard_normal((L, model.nu)).astype(np.float32),
                  reward=rng.standard_normal(L).astype(np.float32), done=np.arange(L) == L - 1,
                  env_step=np.arange(1000, 1000 + 4 * L, 4, dtype=np.int64), iteration=np.full(L, 7, np.int32),
                  wall_time=1.7e9 + np.arange(L) * 0.25, flags=flags, **m)


def assert_same(a: Frames, b: Frames) -> None:
    for f in fields(Frames):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert (x is None) == (y is None), f.name
        if x is not None:
            assert x.dtype == y.dtype and x.shape == y.shape, f.name
            assert x.tobytes() == y.tobytes(), f.name


def test_frames_appended_read_back_equal_with_their_catalog_entry(tmp_path, model):
    w = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=1)
    eps = [episode(model, L, seed) for seed, L in enumerate((5, 300, 1))]  # 300: across a chunk boundary
    rows = [w.append_frames(fr, complete=i != 1) for i, fr in enumerate(eps)]
    w.close()
    r = open_store(tmp_path / "s.zarr")
    infos = r.episodes()
    assert [i.id for i in infos] == [f"0:{row}" for row in rows]
    for info, fr, complete in zip(infos, eps, (True, False, True)):
        assert_same(r.frames(info), fr)
        assert (info.source, info.length, info.complete) == ("snapshot", len(fr), complete)
        assert (info.iteration, info.env_step, info.wall_time) == (7, int(fr.env_step[0]), float(fr.wall_time[0]))
        assert info.ret == float(np.sum(fr.reward.astype(np.float64)))


def test_frames_read_from_one_store_append_to_another_unchanged(tmp_path, mocap_model):
    src = StoreWriter.create(tmp_path / "a.zarr", mocap_model, env_name="toy", dt=0.01, train_slots=1)
    src.append_frames(episode(mocap_model, 40, 3, mocap=True), complete=True)
    src.close()
    a = open_store(tmp_path / "a.zarr")
    fr = a.frames(a.episodes()[0])
    dst = StoreWriter.create(tmp_path / "b.zarr", mocap_model, env_name="toy", dt=0.01, train_slots=1)
    dst.append_frames(fr, complete=True)
    dst.close()
    b = open_store(tmp_path / "b.zarr")
    assert_same(b.frames(b.episodes()[0]), fr)


def test_an_episode_without_rows_is_refused(tmp_path, model):
    # The catalog has no empty episodes (verify calls length 0 damage), so none is written.
    fr = episode(model, 3, 0)
    empty = Frames(**{f.name: getattr(fr, f.name)[:0] for f in fields(Frames) if getattr(fr, f.name) is not None})
    w = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=1)
    with pytest.raises(ValueError, match="at least one row"):
        w.append_frames(empty, complete=True)
    w.close()
    assert open_store(tmp_path / "s.zarr").episodes() == []


def test_append_snapshot_is_append_frames_of_constant_tagged_rows(tmp_path, model):
    w = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=1)
    fr = episode(model, 9, 2)
    w.append_snapshot(qpos=fr.qpos, qvel=fr.qvel, action=fr.action, reward=fr.reward, done=fr.done, iteration=4,
                      env_step=64, complete=True, wall_time=12.5)
    w.close()
    r = open_store(tmp_path / "s.zarr")
    got = r.frames(r.episodes()[0])
    assert (got.env_step == 64).all() and (got.iteration == 4).all() and (got.wall_time == 12.5).all()
    assert (got.flags == 0).all()
    assert got.qpos.tobytes() == fr.qpos.tobytes() and got.reward.tobytes() == fr.reward.tobytes()


def test_frames_that_do_not_fit_the_store_are_refused_and_buffer_nothing(tmp_path, model):
    w = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=1)
    fr = episode(model, 4, 0)
    other = episode(model, 4, 1)
    columns = {f.name: getattr(other, f.name) for f in fields(Frames)}
    # action comes after qpos and qvel: they fit, and must not stay buffered when action does not.
    with pytest.raises(ShapeMismatchError, match="action: rows of shape .* do not fit the store"):
        w.append_frames(Frames(**{**columns, "action": np.zeros((4, model.nu + 1), np.float32)}), complete=True)
    with pytest.raises(ValueError, match="env_step must be >= 0"):
        w.append_frames(Frames(**{**columns, "env_step": np.array([0, 1, -1, 3], np.int64)}), complete=True)
    w.append_frames(fr, complete=True)
    w.close()
    r = open_store(tmp_path / "s.zarr")
    assert [(e.start, e.length) for e in r.episodes()] == [(0, 4)]
    assert_same(r.frames(r.episodes()[0]), fr)
