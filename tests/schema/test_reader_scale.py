"""The viewer polls refresh() several times a second on big stores: with tens of thousands of
catalog rows, refresh, episodes() and get_episode stay cheap (generous margins: shared CPU)."""

from __future__ import annotations

import time

import numpy as np

from braxscope.schema import StoreWriter, open_store

from .conftest import train_block


def _median_s(fn, n=30) -> float:
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def test_refresh_and_episode_listing_stay_cheap_with_30k_episodes(tmp_path, model):
    w = StoreWriter.create(tmp_path / "s.zarr", model, env_name="toy", dt=0.01, train_slots=8)
    for i in range(0, 7680, 1280):
        w.append_train(**train_block(model, i, 1280, 8, done_every=2))
        w.commit()
    r = open_store(tmp_path / "s.zarr")
    n = len(r.episodes())
    assert n >= 30_000
    assert _median_s(r.refresh) < 0.005  # nothing new: one small JSON per writer
    assert _median_s(r.episodes) < 0.010
    assert _median_s(lambda: r.get_episode(f"0:{n - 7}")) < 0.0001
    w.append_train(**train_block(model, 7680, 64, 8, done_every=2))
    w.commit()
    t = time.perf_counter()
    assert r.refresh()
    assert time.perf_counter() - t < 0.05  # loads only the new catalog rows
    assert len(r.episodes()) == n + 256 and r.get_episode(f"0:{n + 255}").start >= 7680
    w.close()
