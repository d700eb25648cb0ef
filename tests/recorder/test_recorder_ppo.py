"""The recorder on a real ppo.train run (inverted_pendulum, generalized), shared via conftest."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from brax.envs.base import State

from .conftest import PPO_KWARGS, TRACK, TRACK_AFTER

pytestmark = pytest.mark.slow


def _all_train_rows(reader):
    w = reader.writer_ids[0]
    n = reader.writers()[0].rows["train"]
    return reader.train_rows(w, 0, n)


def test_training_completes_and_user_hooks_still_run(recorded_run):
    make_policy, params, metrics = recorded_run.result
    assert metrics  # ppo.train returned normally
    # policy_params_fn: once before training, once per epoch; progress_fn: per epoch (evals are
    # off, so there is no step-0 call).
    assert len(recorded_run.user_params) == 4
    assert [s for s, _ in recorded_run.user_progress] == recorded_run.user_params[1:]


def test_recorded_rows_replay_in_brax(recorded_run):
    """Each row t+1 is what the env produces when stepped from row t's qpos/qvel with row t+1's
    action; the same check with rows lagged by one fails, so shuffled/duplicated/lagged rows would."""
    env = recorded_run.env
    rows = _all_train_rows(recorded_run.reader)
    q, qd, act, done, eid = rows["qpos"], rows["qvel"], rows["action"], rows["done"], rows["env_id"]
    steps = rows["env_step"]
    T, S = done.shape
    # Consecutive rows of the same env, not across a reset (done) or a gap in steps.
    contiguous = (steps[1:] - steps[:-1] == steps[1] - steps[0])[:, None]
    ok = contiguous & (done[:-1] == 0) & (eid[1:] == eid[:-1]) & (eid[:-1] >= 0)
    t_idx, s_idx = np.nonzero(ok)
    assert t_idx.size > 500

    def step_from(qpos, qvel, action):
        ps = env.pipeline_init(qpos, qvel)
        st = State(pipeline_state=ps, obs=jnp.zeros(env.observation_size), reward=jnp.zeros(()),
                   done=jnp.zeros(()), metrics={}, info={})
        n = env.step(st, action).pipeline_state
        return n.q, n.qd

    step_many = jax.jit(jax.vmap(step_from))
    pq, pqd = step_many(q[t_idx, s_idx], qd[t_idx, s_idx], act[t_idx + 1, s_idx])
    err = np.abs(np.asarray(pq) - q[t_idx + 1, s_idx]).max(axis=1)
    assert np.percentile(err, 99) < 1e-4, err.max()
    assert (err < 1e-3).mean() > 0.999
    # Were the rows lagged by one (the state after the step showing up a row late), the prediction
    # would have to match row t+2 instead: it must not.
    t2 = np.minimum(t_idx + 2, T - 1)
    err2 = np.abs(np.asarray(pq) - q[t2, s_idx]).max(axis=1)
    assert (err2 > 1e-3).mean() > 0.9


def test_episode_boundaries_match_done_and_returns_match_rewards(recorded_run):
    r = recorded_run.reader
    train = [e for e in r.episodes() if e.source == "train"]
    complete = [e for e in train if e.complete]
    assert len(complete) > 20
    for ep in train:
        f = r.frames(ep)
        assert len(f) == ep.length
        if ep.complete:
            assert f.done[-1] and not f.done[:-1].any()
        else:
            assert not f.done[:-1].any()
        assert ep.ret == pytest.approx(float(np.sum(f.reward.astype(np.float64))), rel=1e-6)


def test_one_snapshot_per_policy_params_call(recorded_run):
    snaps = [e for e in recorded_run.reader.episodes() if e.source == "snapshot"]
    assert [e.iteration for e in snaps] == list(range(len(recorded_run.user_params)))
    assert [e.env_step for e in snaps] == recorded_run.user_params
    first = [recorded_run.reader.frames(e) for e in snaps]
    assert all(len(f) >= 1 for f in first)
    assert recorded_run.rec._snap.compiled_count == 1  # same start state, compiled once
    assert len(recorded_run.stats.snapshot_seconds) == len(snaps)


def test_metrics_from_progress_fn(recorded_run):
    m = recorded_run.reader.metrics()
    assert list(m.env_step) == [s for s, _ in recorded_run.user_progress]
    assert "training/sps" in m.names


def test_eval_env_is_not_recorded(recorded_run):
    """Only the training batch flushes: the callback count is exactly the training flushes, and
    no recorded env id is outside the tracked ones."""
    K = 80  # unroll_length x batch x minibatches / envs, capped at 128
    per_epoch = PPO_KWARGS["num_timesteps"] // (PPO_KWARGS["num_evals"] - 1) // PPO_KWARGS["num_envs"] // K
    callbacks, probes = recorded_run.stats_before_close
    assert callbacks + probes == per_epoch * (PPO_KWARGS["num_evals"] - 1)
    rows = _all_train_rows(recorded_run.reader)
    assert set(np.unique(rows["env_id"])) <= set(TRACK) | set(TRACK_AFTER)


def test_pause_stops_rows_and_callbacks_resume_restarts_them(recorded_run):
    (s0, c0, p0, _), (s1, c1, p1, _), (s2, c2, p2, _), (s3, c3, p3, _) = recorded_run.at_params
    # Paused during epoch 2: at most the one flush already under way carries data, then probes only.
    assert c2 - c1 <= 1 and p2 - p1 >= 1
    # Resumed for epoch 3: buffers flow again.
    assert c3 - c2 >= 1
    steps = _all_train_rows(recorded_run.reader)["env_step"]
    assert ((steps > s0) & (steps <= s1)).sum() > 0
    assert ((steps > s1) & (steps <= s2)).sum() == 0
    assert ((steps > s2) & (steps <= s3)).sum() > 0


def test_control_file_changes_tracked_envs(recorded_run):
    rows = _all_train_rows(recorded_run.reader)
    s2 = recorded_run.at_params[2][0]
    after = rows["env_step"] > s2
    assert set(np.unique(rows["env_id"][after][:, 1])) == {TRACK_AFTER[1]}
    assert set(np.unique(rows["env_id"][~after][:, 1])) == {TRACK[1]}
    # The writer marked the pause as a gap: episodes open at the pause were cut, not joined.
    assert (rows["flags"][after][0] & 1) == 1


def test_store_committed_and_closed(recorded_run):
    ws = recorded_run.reader.writers()[0]
    assert ws.state == "closed" and not ws.locked
    assert recorded_run.stats.rows_dropped == 0
    assert recorded_run.stats.error is None
    attrs = recorded_run.reader.info.attrs
    assert attrs["env_name"] == "inverted_pendulum" and attrs["backend"] == "generalized"
    assert attrs["config"]["num_envs"] == PPO_KWARGS["num_envs"]
    assert attrs["config"]["braxscope"]["flush_every"] == 80
