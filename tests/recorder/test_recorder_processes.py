"""Multi-process training: each process (jax.process_index(), injectable) writes its own writer
group into the same store. Driven through the real hooks and the real tapped brax chain, without
PPO (its multi-process mode does not run on CPU here)."""

from __future__ import annotations

import jax
import numpy as np
from brax import envs

import pytest

import braxscope

pytestmark = pytest.mark.slow


def _drive(rec, env, n_envs=6, steps=40, seed=0):
    hooks = rec.ppo_hooks()
    chain = hooks["wrap_env_fn"](env, episode_length=50, action_repeat=1, randomization_fn=None)
    keys = jax.random.split(jax.random.PRNGKey(seed), n_envs)

    @jax.jit
    def run(keys):
        state = chain.reset(keys)

        def body(s, k):
            a = jax.random.uniform(k, (n_envs, env.action_size), minval=-1, maxval=1)
            return chain.step(s, a), ()

        return jax.lax.scan(body, state, jax.random.split(jax.random.PRNGKey(seed + 1), steps))[0]

    jax.block_until_ready(run(keys))
    rec.close()


def test_each_process_writes_its_own_writer_group(tmp_path):
    env = envs.get_environment("inverted_pendulum")
    path = tmp_path / "mp.zarr"
    for p in (0, 1):
        _drive(braxscope.Recorder(path, env, track=[0, 2], process_index=p, flush_every=8, snapshots=False), env,
               seed=p)
    r = braxscope.open_store(path)
    ws = r.writers()
    assert sorted(w.process_index for w in ws) == [0, 1]
    for w in ws:
        rows = r.train_rows(w.writer_id, 0, w.rows["train"])
        assert rows["env_step"].shape[0] == 40  # 5 flushes of 8 rows each
        # Global env ids: process p's batch of 6 starts at 6 * p.
        assert set(np.unique(rows["env_id"])) == {6 * w.process_index, 6 * w.process_index + 2}
        # Global env steps: batch x jax.process_count() (1 here: the index alone is injected).
        assert np.array_equal(rows["env_step"], np.arange(1, 41) * 6)
