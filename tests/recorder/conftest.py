"""One real ppo.train run on inverted_pendulum, shared by the recorder tests (compiling PPO is the
slow part on CPU). The run pauses after epoch 1, resumes through control.json after epoch 2 with
a changed track list, and records epoch 3 again, so one compile covers every behaviour."""

from __future__ import annotations

import time

import pytest

from braxscope.schema.control import write_control

# Small but real: 64 envs, 3 epochs; K = unroll 10 x (64 x 8 / 64) = 80 rows per flush.
PPO_KWARGS = dict(
    num_timesteps=3 * 64 * 80 * 3, num_envs=64, batch_size=64, num_minibatches=8, unroll_length=10,
    num_evals=4, episode_length=200, run_evals=False, num_updates_per_batch=1, seed=0,
    learning_rate=3e-4, normalize_observations=True,
)
TRACK = [0, 1, 2, 3]
TRACK_AFTER = [0, 5, 2, 3]


class Run:
    """What the shared run produced (the store, hook call logs, counters at each iteration)."""


@pytest.fixture(scope="session")
def recorded_run(tmp_path_factory):
    from brax import envs
    from brax.training.agents.ppo import train as ppo

    import braxscope

    path = tmp_path_factory.mktemp("rec") / "ip.zarr"
    env = envs.get_environment("inverted_pendulum")
    run = Run()
    run.path = path
    run.env = env
    run.user_progress = []
    run.user_params = []
    run.at_params = []  # (step, callbacks, probes, rows_recorded) at each policy_params_fn call
    rec = braxscope.Recorder(path, env, track=TRACK)

    def user_params(step, make_policy, params):
        run.user_params.append(step)
        s = rec.stats
        run.at_params.append((step, s.callbacks, s.probes, s.rows_recorded))
        n = len(run.user_params)
        if n == 2:
            rec.pause()
        elif n == 3:
            # The viewer's way: control.json, read by the writer thread between its iterations.
            write_control(path, recording=True, track=TRACK_AFTER)
            deadline = time.time() + 10
            while not rec.recording and time.time() < deadline:
                time.sleep(0.05)

    t0 = time.time()
    run.result = ppo.train(environment=env, **PPO_KWARGS,
                           **rec.ppo_hooks(progress_fn=lambda s, m: run.user_progress.append((s, dict(m))),
                                           policy_params_fn=user_params))
    run.train_s = time.time() - t0
    run.stats_before_close = (rec.stats.callbacks, rec.stats.probes)
    rec.close()
    run.rec = rec
    run.stats = rec.stats
    run.reader = braxscope.open_store(path)
    return run
