"""Pause and resume recording while PPO trains, from Python (the viewer does the same through the
store's control.json). While paused the device sends no rows, only a scalar flag probe every
flush, and nothing recompiles.

Here: record epoch 1, pause for epoch 2, resume for epoch 3. Your own hooks still run.
"""

from brax import envs
from brax.training.agents.ppo import train as ppo

import braxscope

env = envs.get_environment("inverted_pendulum")
with braxscope.Recorder("runs/pause_resume.zarr", env, track=[0, 1]) as rec:
    calls = []

    def my_policy_params_fn(step, make_policy, params):
        calls.append(step)
        if len(calls) == 2:
            rec.pause()
            print(f"step {step}: paused ({rec.stats.callbacks} flushes so far)")
        elif len(calls) == 3:
            rec.resume()
            print(f"step {step}: resumed ({rec.stats.callbacks} flushes, {rec.stats.probes} probes while paused)")

    ppo.train(
        environment=env, num_timesteps=150_000, num_envs=128, batch_size=256, num_minibatches=8, unroll_length=10,
        num_evals=4, episode_length=1000, learning_rate=1e-3, reward_scaling=10.0, normalize_observations=True,
        **rec.ppo_hooks(policy_params_fn=my_policy_params_fn),
    )
print(rec.stats)
# From a shell or another process, the same toggle:
#   python -c "from braxscope.schema import write_control; write_control('runs/pause_resume.zarr', recording=False)"
