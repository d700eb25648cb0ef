"""Many iterations: the recorder's memory does not grow with the run, and nothing recompiles."""

from __future__ import annotations

import tracemalloc

import pytest

pytestmark = pytest.mark.slow

ITERATIONS = 30


def test_memory_flat_and_compile_once_over_many_iterations(tmp_path):
    from brax import envs
    from brax.training.agents.ppo import train as ppo

    import braxscope

    env = envs.get_environment("inverted_pendulum")
    rec = braxscope.Recorder(tmp_path / "long.zarr", env, track=[0, 1, 2, 3])
    traced: list[int] = []  # bytes held by Python and numpy allocations, at each iteration

    calls = []

    def at_params(step, make_policy, params):
        calls.append(step)
        if len(calls) == 2:
            # Traced from the second iteration on: by then the training epoch and the snapshot
            # rollout are compiled (tracing JAX under tracemalloc is several times slower).
            tracemalloc.start()
        if tracemalloc.is_tracing():
            traced.append(tracemalloc.get_traced_memory()[0])

    # Tiny epochs (2 training steps of 16 envs x 5 steps x 2 minibatches), many of them: what grows
    # per iteration shows, and each iteration still records rows, a snapshot and metrics.
    try:
        ppo.train(environment=env, num_timesteps=(ITERATIONS - 1) * 2 * 160, num_envs=16, batch_size=16,
                  num_minibatches=2, unroll_length=5, num_evals=ITERATIONS, episode_length=100, run_evals=False,
                  num_updates_per_batch=1, seed=0, learning_rate=3e-4,
                  **rec.ppo_hooks(policy_params_fn=at_params))
        rec.close()
    finally:
        tracemalloc.stop()

    s = rec.stats
    assert len(calls) == ITERATIONS and len(traced) == ITERATIONS - 1
    assert s.snapshots == ITERATIONS and s.rows_recorded > 0
    assert rec._snap.compiled_count == 1  # the snapshot rollout compiled once for all iterations
    # Each iteration records 160 steps x 4 envs of rows plus a 100-step snapshot (~60 KB of float32):
    # holding on to them would add ~1.5 MB over the second half of the run. Allow a fraction of it.
    half = ITERATIONS // 2
    growth = traced[-1] - traced[half - 1]  # traced[i] is iteration i + 1
    assert growth < 300_000, f"Python/numpy memory grew {growth} bytes over {ITERATIONS - 1 - half} iterations"
    r = braxscope.open_store(rec.path)
    assert sum(e.source == "snapshot" for e in r.episodes()) == ITERATIONS
