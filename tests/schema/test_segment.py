"""The episode segmenter as a pure function of rows: no store, no writer, no disk.

Checked against a brute-force segmentation (row by row, slot by slot, the rules of
braxscope/schema/segment.py's docstring written out plainly), and for the properties a catalog
relies on: per slot the episodes lie back to back, each return is the sum of its rows'
rewards, and how the rows were split into appends does not matter.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from braxscope.schema.segment import ClosedEpisode, OpenEpisode, Segments, cut, segment


def rows(done, env_id, reward=None, env_step0: int = 0):
    """The keyword rows of ``segment`` from done and env_id [k,E] (reward: 1.0 per row)."""
    done = np.asarray(done, np.uint8)
    env_id = np.asarray(env_id, np.int32)
    k = done.shape[0]
    return dict(reward=np.ones(done.shape, np.float32) if reward is None else np.asarray(reward, np.float32),
                done=done, env_id=env_id, env_step=np.arange(env_step0, env_step0 + k, dtype=np.int64),
                iteration=np.zeros(k, np.int32), wall_time=np.full(k, 5.0))


def run_appends(chunks: list[dict], slots: int, state: Segments | None = None):
    """``segment`` over consecutive appends; (all closed episodes, the last state)."""
    state = Segments.new(slots) if state is None else state
    first, out = 0, []
    for r in chunks:
        closed, state = segment(state, first=first, **r)
        out += closed
        first += r["done"].shape[0]
    return out, state


def brute_force(done, env_id, reward, env_step):
    """The rules, one row at a time: (closed episodes as tuples, open ones per slot)."""
    k, E = done.shape
    closed, open_ = [], []
    for s in range(E):
        ep, clean = None, True  # ep: [start, env, ret, clean, env_step]
        for t in range(k):
            e = int(env_id[t, s])
            if ep is not None and e != ep[1]:
                closed.append((s, ep[0], t - ep[0], ep[1], ep[2], False, ep[4]))
                ep, clean = None, False
            if e < 0:
                continue
            if ep is None:
                ep = [t, e, 0.0, clean, int(env_step[t])]
            ep[2] += float(reward[t, s])
            if done[t, s]:
                closed.append((s, ep[0], t + 1 - ep[0], ep[1], ep[2], ep[3], ep[4]))
                ep, clean = None, True
        open_.append(None if ep is None else (ep[0], ep[1], ep[2], ep[3]))
    return closed, open_


def as_tuple(ep: ClosedEpisode):
    return (ep.slot, ep.start, ep.length, ep.env_id, ep.ret, ep.complete, ep.env_step)


def test_an_episode_ends_at_its_done_row_and_the_next_begins_after_it():
    closed, state = segment(Segments.new(1), first=0, **rows([[0], [0], [1], [0], [1]], [[3]] * 5))
    assert [(e.start, e.length, e.complete, e.env_id) for e in closed] == [(0, 3, True, 3), (3, 2, True, 3)]
    assert [e.ret for e in closed] == [3.0, 2.0]
    assert state.open == (None,) and state.clean == (True,)


def test_done_on_the_first_and_the_last_row():
    closed, state = segment(Segments.new(1), first=10, **rows([[1], [0], [0], [1]], [[0]] * 4))
    assert [(e.start, e.length, e.complete) for e in closed] == [(10, 1, True), (11, 3, True)]
    assert state.open == (None,)


def test_an_episode_spans_many_appends_and_keeps_its_first_rows_values():
    state = Segments.new(1)
    first = 0
    for n in range(20):
        closed, state = segment(state, first=first, **rows([[0]] * 7, [[2]] * 7, env_step0=100 + first))
        assert closed == []
        first += 7
    assert state.open[0].start == 0 and state.open[0].env_step == 100 and state.open[0].ret == 140.0
    closed, state = segment(state, first=first, **rows([[0], [1]], [[2]] * 2, env_step0=100 + first))
    assert [(e.start, e.length, e.complete, e.ret, e.env_step) for e in closed] == [(0, 142, True, 142.0, 100)]


def test_a_change_of_env_in_a_slot_cuts_the_episode_and_the_next_is_not_complete():
    # Slot 0 records env 4, then env 9 (the recorder was told to track another env).
    closed, state = segment(Segments.new(1), first=0, **rows([[0], [0], [0], [1], [0]], [[4], [4], [9], [9], [9]]))
    assert [(e.env_id, e.start, e.length, e.complete) for e in closed] == [(4, 0, 2, False), (9, 2, 2, False)]
    # The episode after that done began at a done: it will be complete.
    assert state.open[0].clean and state.open[0].start == 4


def test_an_unused_row_cuts_the_episode_and_adds_nothing():
    closed, state = segment(Segments.new(1), first=0,
                            **rows([[0], [0], [0], [0]], [[1], [-1], [-1], [1]], reward=[[1], [50], [50], [2]]))
    assert [(e.start, e.length, e.ret, e.complete) for e in closed] == [(0, 1, 1.0, False)]
    assert state.open[0].start == 3 and state.open[0].ret == 2.0 and not state.open[0].clean


def test_a_nan_reward_makes_the_return_nan_not_a_skip():
    closed, _ = segment(Segments.new(1), first=0, **rows([[0], [0], [1]], [[0]] * 3, reward=[[1], [np.nan], [1]]))
    assert math.isnan(closed[0].ret)


def test_device_comes_from_the_slot_or_from_envs_per_device():
    r = rows([[1, 1]], [[5, 12]])
    closed, _ = segment(Segments.new(2), first=0, **r, envs_per_device=4)
    assert [e.device for e in closed] == [1, 3]
    closed, _ = segment(Segments.new(2), first=0, **r, devices=np.array([7, 8]))
    assert [e.device for e in closed] == [7, 8]


def test_segment_does_not_change_the_state_it_is_given():
    state = Segments.new(2)
    _, after = segment(state, first=0, **rows([[0, 0]], [[0, 1]]))
    _, again = segment(after, first=1, **rows([[1, 0]], [[0, 1]]))
    assert state == Segments.new(2)
    assert after.open[0].ret == 1.0 and again.open[0] is None and again.open[1].ret == 2.0


def test_cut_ends_every_open_episode_as_cut_and_the_next_ones_are_not_clean():
    _, state = segment(Segments.new(3), first=0, **rows([[0, 1, 0]], [[0, 1, -1]]))
    closed, after = cut(state, 1)
    assert [(e.slot, e.start, e.length, e.complete) for e in closed] == [(0, 0, 1, False)]
    assert after.open == (None,) * 3 and after.clean == (False,) * 3
    # A done ending an episode that began after the cut: cut too (it was not seen from its start).
    closed, _ = segment(after, first=1, **rows([[1, 1, 1]], [[0, 1, 2]]))
    assert [e.complete for e in closed] == [False, False, False]


def test_cut_drops_an_open_episode_with_no_row_before_the_end():
    state = Segments((OpenEpisode(start=8, env_id=0, iteration=0, env_step=0, wall_time=0.0, clean=True),), (True,))
    assert cut(state, 8)[0] == []


def test_the_commit_record_round_trips_and_comes_back_not_clean():
    _, state = segment(Segments.new(3), first=0, **rows([[0, 1, 0]], [[4, 1, 6]], reward=[[1, 1, np.nan]]))
    record = state.to_record()
    assert record[1] is None and record[2]["ret"] is None  # JSON has no NaN
    back = Segments.from_record(record, 3)
    assert back.open[0] == state.open[0]
    assert math.isnan(back.open[2].ret)
    assert back.clean == (False, False, False)


# ---------------------------------------------------------------- properties


@st.composite
def recordings(draw):
    """Rows of 1-3 slots: envs change now and then, slots are sometimes unused, dones anywhere;
    rewards are multiples of 1/4, so every sum is exact whatever its order. Then where the rows
    are split into appends."""
    E = draw(st.integers(1, 3))
    k = draw(st.integers(1, 60))
    done = np.array(draw(st.lists(st.booleans(), min_size=k * E, max_size=k * E))).reshape(k, E)
    reward = np.array(draw(st.lists(st.integers(-8, 8), min_size=k * E, max_size=k * E)), np.float32).reshape(k, E) / 4
    env_id = np.repeat(np.array(draw(st.lists(st.integers(-1, 3), min_size=E, max_size=E)), np.int32)[None], k, 0)
    for t, s, e in draw(st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, E - 1), st.integers(-1, 3)),
                                 max_size=6)):
        env_id[t:, s] = e  # from row t on, slot s records env e (-1: unused)
    cuts = sorted(set(draw(st.lists(st.integers(1, k - 1), max_size=5)))) if k > 1 else []
    return done, env_id, reward, cuts


def split(done, env_id, reward, cuts) -> list[dict]:
    k = done.shape[0]
    bounds = [0, *cuts, k]
    out = []
    for a, b in zip(bounds, bounds[1:]):
        r = rows(done[a:b], env_id[a:b], reward[a:b], env_step0=a)
        out.append(r)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recordings())
def test_segmentation_equals_brute_force_however_the_rows_are_split(rec):
    done, env_id, reward, cuts = rec
    E = done.shape[1]
    closed, state = run_appends(split(done, env_id, reward, cuts), E)
    want_closed, want_open = brute_force(done, env_id, reward, np.arange(done.shape[0]))
    # Order per slot is row order; across slots the segmenter goes slot by slot per append.
    assert sorted(map(as_tuple, closed)) == sorted(want_closed)
    for s in range(E):
        got = state.open[s]
        assert (None if got is None else (got.start, got.env_id, got.ret, got.clean)) == want_open[s]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recordings())
def test_episodes_lie_back_to_back_and_returns_are_reward_sums(rec):
    done, env_id, reward, cuts = rec
    k, E = done.shape
    closed, state = run_appends(split(done, env_id, reward, cuts), E)
    for s in range(E):
        eps = [e for e in closed if e.slot == s]
        assert [e.start for e in eps] == sorted(e.start for e in eps)
        covered = np.zeros(k, bool)
        for e in eps:
            assert e.length >= 1
            assert not covered[e.start:e.start + e.length].any()  # no row in two episodes
            covered[e.start:e.start + e.length] = True
            assert (env_id[e.start:e.start + e.length, s] == e.env_id).all()  # one env per episode
            assert e.ret == float(reward[e.start:e.start + e.length, s].astype(np.float64).sum())
            assert e.complete <= bool(done[e.start + e.length - 1, s])  # complete ones end at done
            assert not done[e.start:e.start + e.length - 1, s].any()  # a done is always an episode's last row
        ep = state.open[s]
        if ep is not None:
            covered[ep.start:] = True
            assert ep.ret == float(reward[ep.start:, s].astype(np.float64).sum())
        # Back to back: every used row of the slot is in exactly one episode (closed or open).
        assert (covered == (env_id[:, s] >= 0)).all()


@pytest.mark.parametrize("slots", [1, 4])
def test_one_append_of_a_long_recording_equals_row_by_row_appends(slots):
    rng = np.random.default_rng(0)
    k = 400
    done = rng.random((k, slots)) < 0.05
    env_id = np.repeat(np.arange(slots)[None], k, 0).astype(np.int32)
    env_id[150:170, 0] = -1
    reward = rng.integers(-4, 5, (k, slots)).astype(np.float32)
    whole, s1 = run_appends([rows(done, env_id, reward)], slots)
    one_by_one, s2 = run_appends([rows(done[t:t + 1], env_id[t:t + 1], reward[t:t + 1], t) for t in range(k)], slots)
    assert sorted(whole, key=as_tuple) == sorted(one_by_one, key=as_tuple)
    assert s1 == s2
