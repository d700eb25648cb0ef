"""What is appended is what is read, bit for bit (real Zarr on disk)."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from braxscope.schema import EpisodeNotFoundError, StoreWriter, open_store

from .conftest import train_block

SLOTS = 3


def _write_train(path, model, sizes, *, commit_every=3, nan_rows=()):
    """Append blocks of the given sizes; returns the concatenated source rows."""
    w = StoreWriter.create(path, model, env_name="toy", backend="generalized", dt=0.01, train_slots=SLOTS,
                           config={"seed": 1})
    blocks, step = [], 0
    for i, k in enumerate(sizes):
        b = train_block(model, step, k, SLOTS)
        for r in nan_rows:
            if step <= r < step + k:
                b["qpos"][r - step, 1, :3] = [np.nan, np.inf, -np.inf]
        w.append_train(**b)
        blocks.append(b)
        step += k
        if i % commit_every == commit_every - 1:
            w.commit()
    w.close()
    src = {k: np.concatenate([b[k] for b in blocks])
           for k in ("qpos", "qvel", "action", "reward", "done", "env_id", "env_step", "wall_time")}
    return w, src


def test_train_rows_round_trip_bit_for_bit_across_chunk_boundaries(tmp_path, model):
    rng = np.random.default_rng(0)
    sizes = [int(x) for x in rng.integers(1, 300, 25)] + [1, 255, 256, 257, 1]  # ~4000 rows, 16 chunks
    w, src = _write_train(tmp_path / "s.zarr", model, sizes)
    r = open_store(tmp_path / "s.zarr")
    n = sum(sizes)
    assert r.writers()[0].rows["train"] == n
    got = r.train_rows(w.writer_id, 0, n)
    for k in ("qpos", "qvel", "action", "reward", "env_id", "env_step", "wall_time"):
        assert got[k].dtype == np.dtype(got[k].dtype.name) \
            and got[k].tobytes() == src[k].astype(got[k].dtype).tobytes(), k
    assert np.array_equal(got["done"].astype(bool), src["done"])
    assert (got["iteration"] == 0).all()
    # Any Zarr v3 client reads the same bytes (the writer's fast path writes what zarr would).
    z = zarr.open_array(str(tmp_path / "s.zarr" / "writers" / w.writer_id / "train" / "qpos"), mode="r")
    assert z.shape == (n, SLOTS, model.nq)  # a clean close trims capacity to the committed rows
    assert z[:].tobytes() == src["qpos"].tobytes()
    # Random ranges through frames() of real episodes, across chunk boundaries.
    eps = [e for e in r.episodes() if e.source == "train"]
    for ep in rng.choice(eps, 20):
        lo = int(rng.integers(0, ep.length))
        hi = int(rng.integers(lo + 1, ep.length + 1))
        f = r.frames(ep, lo, hi)
        rows = slice(ep.start + lo, ep.start + hi)
        assert f.qpos.tobytes() == src["qpos"][rows, ep.slot].tobytes()
        assert f.action.tobytes() == src["action"][rows, ep.slot].tobytes()
        assert f.reward.tobytes() == src["reward"][rows, ep.slot].tobytes()
        assert np.array_equal(f.env_step, src["env_step"][rows])


def test_nan_and_inf_in_qpos_are_data_not_unwritten_rows(tmp_path, model):
    w, src = _write_train(tmp_path / "s.zarr", model, [100, 300, 100], nan_rows=(5, 256, 257, 499))
    r = open_store(tmp_path / "s.zarr")
    got = r.train_rows(w.writer_id, 0, 500)["qpos"]
    assert got.tobytes() == src["qpos"].tobytes()
    assert np.isnan(got[256, 1, 0]) and np.isposinf(got[256, 1, 1]) and np.isneginf(got[256, 1, 2])
    ep = next(e for e in r.episodes() if e.slot == 1 and e.start <= 257 < e.start + e.length)
    f = r.frames(ep)
    assert np.isnan(f.qpos[257 - ep.start, 0])


def test_catalog_cuts_episodes_at_done_with_their_returns(tmp_path, model):
    w, src = _write_train(tmp_path / "s.zarr", model, [50] * 20)
    r = open_store(tmp_path / "s.zarr")
    eps = r.episodes()
    for slot in range(SLOTS):
        mine = [e for e in eps if e.slot == slot]
        done_rows = np.flatnonzero(src["done"][:, slot])
        # Every done row ends exactly one episode; episodes tile the slot's rows in order.
        assert [e.start + e.length - 1 for e in mine if e.complete] == list(done_rows)
        assert mine[0].start == 0 and all(a.start + a.length == b.start for a, b in zip(mine, mine[1:]))
        assert mine[-1].start + mine[-1].length == 1000 and not mine[-1].complete  # cut by close()
        for e in mine:
            assert e.ret == pytest.approx(
                float(src["reward"][e.start : e.start + e.length, slot].astype(np.float64).sum()), rel=1e-9, abs=1e-9)
            assert e.env_step == src["env_step"][e.start] and e.env_id == slot


def test_snapshots_round_trip_as_catalog_episodes(tmp_path, model):
    rng = np.random.default_rng(1)
    w = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=1)
    sent = []
    for it, L in enumerate([10, 250, 7, 300, 1, 256]):
        d = dict(qpos=rng.normal(size=(L, model.nq)).astype(np.float32),
                 qvel=rng.normal(size=(L, model.nv)).astype(np.float32),
                 action=rng.normal(size=(L, model.nu)).astype(np.float32), reward=rng.normal(size=L).astype(np.float32),
                 done=np.arange(L) == L - 1)
        d["qpos"][0, 0] = np.nan
        row = w.append_snapshot(**d, iteration=it, env_step=1000 * it, complete=it % 2 == 0)
        sent.append((row, d))
        if it % 2:
            w.commit()
    w.commit()
    r = open_store(tmp_path / "s.zarr")
    for (row, d), it in zip(sent, range(6)):
        ep = r.get_episode(f"0:{row}")
        assert (ep.source, ep.iteration, ep.env_step, ep.length, ep.complete) == ("snapshot", it, 1000 * it,
                                                                                  len(d["reward"]), it % 2 == 0)
        f = r.episode(ep.id)
        for k in ("qpos", "qvel", "action", "reward"):
            assert getattr(f, k).tobytes() == d[k].tobytes(), k
        assert np.array_equal(f.done, d["done"]) and (f.iteration == it).all()
        assert ep.ret == pytest.approx(float(d["reward"].astype(np.float64).sum()))
    w.close()


def test_metrics_with_names_appearing_later_round_trip(tmp_path, model):
    w = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=1)
    expect: dict[str, list[float]] = {}
    for i in range(300):  # more rows than one chunk, more names than one column chunk (32)
        names = [f"m{j}" for j in range(min(40, 1 + i // 5))]
        row = {name: i * 100.0 + j for j, name in enumerate(names)}
        row["eval/episode_reward"] = np.float32(i) / 3
        w.append_metrics(i * 10, row, wall_time=1000.0 + i)
        for name in set(expect) | set(row):
            expect.setdefault(name, [np.nan] * i).append(float(row[name]) if name in row else np.nan)
        if i % 7 == 0:
            w.commit()
            r = open_store(tmp_path / "s.zarr")
            assert r.metrics().env_step.shape == (i + 1,)
    w.close()
    m = open_store(tmp_path / "s.zarr").metrics()
    assert m.names[0] == "m0" and len(m.names) == 41 and set(m.names) == set(expect)
    assert np.array_equal(m.env_step, np.arange(300) * 10) and np.array_equal(m.wall_time, 1000.0 + np.arange(300))
    for name, vals in expect.items():
        assert np.array_equal(m.values[name], np.asarray(vals), equal_nan=True), name


def test_refresh_shows_new_commits_and_in_progress_episodes(tmp_path, model):
    w = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=2)
    r = open_store(tmp_path / "s.zarr")
    assert r.episodes() == [] and not r.refresh()
    w.append_train(**train_block(model, 0, 30, 2, done_every=1000))
    assert not r.refresh()  # appended, not committed: invisible
    w.commit()
    assert r.refresh()
    open_eps = r.episodes(in_progress=True)
    assert [e.id for e in open_eps] == ["0:open-0", "0:open-1"] and open_eps[0].length == 30
    assert r.frames(r.get_episode("0:open-1")).qpos.shape == (30, model.nq)
    w.append_train(**train_block(model, 30, 1000, 2, done_every=1000))
    w.commit()
    assert r.refresh() and len(r.episodes()) == 2  # both slots hit done at step 999 / 988
    assert r.get_episode("0") == r.get_episode("0:0")  # a bare row number means writer 0
    with pytest.raises(EpisodeNotFoundError):
        r.get_episode("0:99")
    w.close()


def test_resume_continues_exactly_at_the_committed_length(tmp_path, model):
    w = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=2)
    w.append_train(**train_block(model, 0, 300, 2))
    w.commit()
    w.append_train(**train_block(model, 300, 50, 2))  # never committed: lost, as documented
    wid = w.writer_id
    (tmp_path / "s.zarr" / "writers" / wid / "writer.lock").unlink()  # the process "died"
    w2 = StoreWriter.resume(tmp_path / "s.zarr", wid)
    assert w2.committed_rows["train"] == 300 and w2.epoch == w.epoch + 1
    w2.append_train(**train_block(model, 300, 100, 2))
    w2.close()
    rows = open_store(tmp_path / "s.zarr").train_rows(wid, 0, 400)
    assert np.array_equal(rows["env_step"], np.arange(400))
    assert rows["qpos"].tobytes() == train_block(model, 0, 400, 2)["qpos"].tobytes()
    assert rows["flags"][300] == 1 and rows["flags"].sum() == 1  # the gap after the crash is marked


def test_two_writers_in_one_store_get_stable_ordinals(tmp_path, model):
    a = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=1, process_index=0)
    a.append_train(**train_block(model, 0, 40, 1, done_every=20))
    a.commit()
    r = open_store(tmp_path / "s.zarr")
    first = r.episodes()
    b = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=1, process_index=1)
    b.append_train(**train_block(model, 0, 60, 1, done_every=20))
    b.commit()
    r.refresh()
    assert r.episodes()[: len(first)] == first
    assert [w.process_index for w in r.writers()] == [0, 1]
    assert {e.id.split(":")[0] for e in r.episodes()} == {"0", "1"} and len(r.episodes()) == 5
    a.close()
    b.close()


def test_caller_may_reuse_its_arrays_before_the_commit(tmp_path, model):
    w = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=2)
    block = train_block(model, 0, 256, 2)
    want = block["qpos"].copy()
    w.append_train(**block)
    block["qpos"][:] = 0  # a recorder refilling its host buffer
    w.commit()
    assert open_store(tmp_path / "s.zarr").train_rows(w.writer_id, 0, 256)["qpos"].tobytes() == want.tobytes()
    w.close()


def test_a_long_lived_reader_sees_metric_columns_added_later(tmp_path, model):
    w = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=1)
    w.append_metrics(0, {f"a{j}": float(j) for j in range(3)})
    w.commit()
    r = open_store(tmp_path / "s.zarr")
    assert r.metrics().names == ["a0", "a1", "a2"]
    w.append_metrics(1, {f"b{j}": float(j) for j in range(40)})  # widens values past one column chunk
    w.commit()
    r.refresh()
    m = r.metrics()
    assert len(m.names) == 43 and m.values["b39"][1] == 39.0 and np.isnan(m.values["b39"][0]) \
        and m.values["a2"][0] == 2.0
    w.close()


def test_mocap_rows_of_a_model_with_mocap_bodies_read_back_exactly_and_verify(tmp_path, mocap_model):
    from braxscope.schema.verify import verify

    from .conftest import mocap_block

    path = tmp_path / "m.zarr"
    w = StoreWriter.create(path, mocap_model, env_name="toy", dt=0.01, train_slots=2)
    block, mocap = train_block(mocap_model, 0, 50, 2, done_every=20), mocap_block(50, 2)
    w.append_train(**block, **mocap)
    snap = mocap_block(7, None)
    w.append_snapshot(qpos=np.zeros((7, mocap_model.nq)), qvel=np.zeros((7, mocap_model.nv)),
                      action=np.zeros((7, mocap_model.nu)), reward=np.ones(7), done=np.arange(7) == 6,
                      iteration=0, env_step=0, complete=True, **snap)
    w.close()
    r = open_store(path)
    assert r.info.attrs["nmocap"] == 1
    ep = next(e for e in r.episodes() if e.source == "train" and e.slot == 1)
    fr = r.frames(ep)
    np.testing.assert_array_equal(fr.mocap_pos, mocap["mocap_pos"][ep.start:ep.start + ep.length, 1])
    np.testing.assert_array_equal(fr.mocap_quat, mocap["mocap_quat"][ep.start:ep.start + ep.length, 1])
    snap_ep = next(e for e in r.episodes() if e.source == "snapshot")
    np.testing.assert_array_equal(r.frames(snap_ep).mocap_pos, snap["mocap_pos"])
    assert not verify(path).damaged


def test_a_store_of_a_model_without_mocap_bodies_has_no_mocap_arrays(tmp_path, model):
    path = tmp_path / "n.zarr"
    w = StoreWriter.create(path, model, env_name="toy", dt=0.01, train_slots=2)
    w.append_train(**train_block(model, 0, 40, 2, done_every=20))
    w.close()
    assert not (path / "writers" / w.writer_id / "train" / "mocap_pos").exists()
    r = open_store(path)
    assert r.frames(r.episodes()[0]).mocap_pos is None


def test_a_randomized_runs_env_is_drawn_with_its_recorded_model_and_an_unrecorded_one_says_nominal(tmp_path, model):
    path = tmp_path / "dr.zarr"
    sizes = np.repeat(model.geom_size[None], 2, axis=0)
    sizes[:, 1, 0] = [0.3, 0.4]  # the torso box, per recorded env
    rand = {"env_id": [0, 2], "fields": {"geom_size": sizes, "opt.gravity": np.array([[0, 0, -5.0], [0, 0, -7.0]])}}
    w = StoreWriter.create(path, model, env_name="toy", dt=0.01, train_slots=3, randomization=rand)
    w.append_train(**train_block(model, 0, 40, 3, done_every=20))
    w.close()
    r = open_store(path)
    by_env = {e.env_id: e for e in r.episodes() if e.source == "train"}
    two = r.env_model(by_env[2])
    assert two.own and two.note == "" and two.model.geom_size[1, 0] == pytest.approx(0.4)
    assert two.model.opt.gravity[2] == pytest.approx(-7.0)
    assert r.model().geom_size[1, 0] == pytest.approx(model.geom_size[1, 0])  # the nominal one is untouched
    one = r.env_model(by_env[1])
    assert not one.own and "nominal model" in one.note and one.model.geom_size[1, 0] == model.geom_size[1, 0]
    assert np.asarray(zarr.open_array(str(path / "writers" / w.writer_id / "randomization" / "opt__gravity"))).shape \
        == (2, 3)


def test_a_randomized_field_mujoco_has_no_counterpart_for_is_named_and_kept_nominal(tmp_path, model):
    path = tmp_path / "dr2.zarr"
    rand = {"env_id": [0], "fields": {"_impl.o_margin": np.ones((1, 4)), "geom_rgba": model.geom_rgba[None] * 0.5}}
    w = StoreWriter.create(path, model, env_name="toy", dt=0.01, train_slots=1, randomization=rand)
    w.append_train(**train_block(model, 0, 30, 1, done_every=20))
    w.close()
    r = open_store(path)
    em = r.env_model(r.episodes()[0])
    assert not em.own and "_impl.o_margin" in em.note and "nominal" in em.note
    np.testing.assert_allclose(em.model.geom_rgba, model.geom_rgba * 0.5)
