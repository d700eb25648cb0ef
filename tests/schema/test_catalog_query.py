"""Catalog queries (array operations over the columns) give what a plain Python filter and sort of
the same episodes give, on a store of a million episodes written by StoreWriter (cached: see
bigstore.py). Their speed is measured in benchmarks/scale.py, not here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from braxscope.schema import StoreWriter, open_store

from .bigstore import million_episode_store
from .conftest import train_block


@pytest.fixture(scope="module")
def big():
    r = open_store(million_episode_store())
    return r, r.episodes()  # the brute-force side: one EpisodeInfo per episode, built the old way


def _brute(eps, *, source=None, env=None, writer=None, iteration=None, ret=None, complete=None):
    out = []
    for e in eps:
        if source is not None and e.source != source:
            continue
        if env is not None and e.env_id not in env:
            continue
        if writer is not None and not e.id.startswith(f"{writer}:"):
            continue
        if iteration is not None and not ((iteration[0] is None or e.iteration >= iteration[0])
                                          and (iteration[1] is None or e.iteration <= iteration[1])):
            continue
        if ret is not None and not ((ret[0] is None or e.ret >= ret[0]) and (ret[1] is None or e.ret <= ret[1])):
            continue
        if complete is not None and e.complete != complete:
            continue
        out.append(e)
    return out


def _finite_or_low(x):
    return x if math.isfinite(x) else -math.inf


SORTS = {
    "id": None,
    "return": lambda e: _finite_or_low(e.ret),
    "env": lambda e: (e.source, e.env_id),
    "iteration": lambda e: e.iteration,
    "length": lambda e: e.length,
}


def test_the_generated_store_has_a_million_episodes_of_both_sources(big):
    r, eps = big
    cat = r.catalog()
    assert len(cat) == len(eps) >= 1_000_000
    assert {e.source for e in eps} == {"train", "snapshot"}
    assert len(r.writer_ids) == 2


@pytest.mark.parametrize("conditions,sort,descending", [
    (dict(source="train", iteration=(10, 20), ret=(-3.0, 3.0)), "id", False),
    (dict(env=[1, 5], writer=1, complete=True), "return", True),
    (dict(source="snapshot"), "iteration", True),
    (dict(ret=(4.0, None)), "env", False),
    (dict(iteration=(None, 2), env=[7]), "length", False),
    (dict(source="train", complete=False), "return", False),
    (dict(iteration=(30, 10)), "id", False),  # an empty range
])
def test_query_matches_a_brute_force_filter_and_sort(big, conditions, sort, descending):
    r, eps = big
    sel = r.query(**conditions, sort=sort, descending=descending)
    expect = _brute(eps, **conditions)
    if SORTS[sort] is not None:
        expect = sorted(expect, key=SORTS[sort], reverse=descending)
    elif descending:
        expect = expect[::-1]
    assert len(sel) == len(expect)
    assert sel.ids() == [e.id for e in expect]
    if expect:
        for i in (0, len(expect) // 2, len(expect) - 1):
            assert sel[i] == expect[i]
        assert np.array_equal(sel.column("iteration"), [e.iteration for e in expect])


def test_rows_are_built_only_when_asked_and_equal_get_episode(big):
    r, eps = big
    sel = r.query(source="train", writer=0)
    picks = [0, 12345, len(sel) - 1]
    for i in picks:
        assert sel[i] == r.get_episode(sel[i].id) == eps[r.catalog().position(sel[i].id)]
    assert sel.index_of(sel[12345].id) == 12345
    assert r.query(writer="no-such-writer").ids() == []
    with pytest.raises(ValueError, match="source must be one of"):
        r.query(source="trian")


def _small_store(path, model, rows: int):
    w = StoreWriter.create(path, model, env_name="toy", dt=0.01, train_slots=2)
    w.append_train(**train_block(model, 0, rows, 2, done_every=10))
    w.commit()
    return w, open_store(path)


def test_a_catalog_is_a_snapshot_and_refresh_adds_only_new_rows(tmp_path, model):
    w, r = _small_store(tmp_path / "s.zarr", model, 100)
    before = r.catalog()
    n = len(before.query())  # catalog rows (len(before) counts the open episodes too)
    assert r.catalog() is before  # nothing new: the same snapshot
    w.append_train(**train_block(model, 100, 100, 2, done_every=10, iteration=1))
    w.commit()
    assert r.refresh()
    after = r.catalog()
    assert len(before.query()) == n and len(after.query()) > n  # the old snapshot keeps its rows
    assert after.query().ids()[:n] == before.query().ids()
    new = after.query(iteration=(1, 1)).ids()
    assert new and all(int(i.split(":")[1]) >= n for i in new)
    w.close()


def test_open_episodes_are_rows_only_when_asked(tmp_path, model):
    w, r = _small_store(tmp_path / "s.zarr", model, 25)
    done = r.query()
    live = r.query(in_progress=True)
    assert len(live) == len(done) + 2
    assert live.ids()[-2:] == ["0:open-0", "0:open-1"]
    assert [e.id for e in r.episodes(in_progress=True)] == live.ids()
    opened = live[-1]
    assert opened.in_progress and opened == r.get_episode("0:open-1")
    assert not live.column("complete")[-1] and live.column("in_progress")[-1]
    w.close()
