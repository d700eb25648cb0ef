"""The tap's pure functions under jax.jit on a toy batch (no PPO, no brax env)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from braxscope.recorder.ppo_args import choose_flush_every
from braxscope.recorder.tap import TapConfig, tap_init, tap_step

CFG = TapConfig(flush_every=4, slots=2, nq=3, nv=2, nu=1)
N = 5  # envs in the toy batch


class Host:
    def __init__(self):
        self.flushes, self.probes = [], []
        self.on, self.track = 1, np.array([0, 3], np.int32)

    def flush(self, device, count, track, qpos, qvel, action, reward, done):
        self.flushes.append(dict(count=int(count), track=np.array(track), qpos=np.array(qpos), done=np.array(done)))
        return np.int32(self.on), self.track.copy()

    def probe(self, device, count):
        self.probes.append(int(count))
        return np.int32(self.on), self.track.copy()


def _runner(host):
    def run(ts, t0):
        def body(ts, t):
            # Toy physics: env i's q at step t is (t, i, t*10+i); done every 3rd step for env 3.
            i = jnp.arange(N, dtype=jnp.float32)
            q = jnp.stack([jnp.full(N, t), i, t * 10 + i], axis=1)
            done = jnp.where((jnp.arange(N) == 3) & (t % 3 == 0), 1.0, 0.0)
            ts = tap_step(CFG, ts, q, q[:, :2], q[:, :1], jnp.ones(N), done, jnp.int32(0), host.flush, host.probe)
            return ts, ()
        return jax.lax.scan(body, ts, t0 + jnp.arange(8, dtype=jnp.float32))[0]
    return jax.jit(run)


def test_ring_flushes_every_k_steps_with_rows_in_order():
    host = Host()
    run = _runner(host)
    ts = jax.block_until_ready(run(tap_init(CFG, [0, 3]), 1.0))
    assert [f["count"] for f in host.flushes] == [4, 8] and host.probes == []
    rows = np.concatenate([f["qpos"] for f in host.flushes])  # [8, 2, 3]
    assert np.array_equal(rows[:, 0, 0], np.arange(1, 9))  # step order, no lag, no duplicates
    assert np.array_equal(rows[:, 1, 1], np.full(8, 3))  # slot 1 is env 3
    assert np.array_equal(np.concatenate([f["done"] for f in host.flushes])[:, 1],
                          (np.arange(1, 9) % 3 == 0).astype(np.int8))
    assert int(ts.t) == 0 and int(ts.count) == 8


def test_paused_sends_only_probes_and_resume_and_track_need_no_recompile():
    host = Host()
    run = _runner(host)
    ts = run(tap_init(CFG, [0, 3]), 1.0)
    host.on = 0
    ts = run(ts, 9.0)  # the first flush still carries the ring (the device learns the flag there)
    ts = run(ts, 17.0)
    assert [f["count"] for f in host.flushes] == [4, 8, 12]
    assert host.probes == [16, 20, 24]
    host.on, host.track = 1, np.array([1, -1], np.int32)
    ts = jax.block_until_ready(run(ts, 25.0))
    assert host.probes[-1] == 28 and host.flushes[-1]["count"] == 32
    assert np.array_equal(host.flushes[-1]["track"], [1, -1])
    assert np.array_equal(host.flushes[-1]["qpos"][:, 0, 1], np.ones(4))  # env 1 now
    assert run._cache_size() == 1


def test_flush_period_divides_the_training_step():
    args = dict(unroll_length=10, batch_size=64, num_minibatches=8, num_envs=64)  # 80 steps per training step
    assert choose_flush_every(args) == 80
    args = dict(unroll_length=5, batch_size=1024, num_minibatches=32, num_envs=2048)  # 80
    assert choose_flush_every(args) == 80
    args = dict(unroll_length=10, batch_size=256, num_minibatches=32, num_envs=128)  # 640 -> 80 (<= 128)
    assert 640 % choose_flush_every(args) == 0 and choose_flush_every(args) <= 128
    assert choose_flush_every(None) == 32
