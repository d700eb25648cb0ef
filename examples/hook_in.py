"""The three lines: record envs 0-3 of a brax PPO run, a policy snapshot per evaluation and the
training curve into runs/hook_in.zarr. Then: braxscope view runs/hook_in.zarr"""

from brax import envs
from brax.training.agents.ppo import train as ppo

import braxscope

env = envs.get_environment("inverted_pendulum")
rec = braxscope.Recorder("runs/hook_in.zarr", env, track=[0, 1, 2, 3])  # 1
make_policy, params, metrics = ppo.train(
    environment=env, num_timesteps=100_000, num_envs=128, batch_size=256, num_minibatches=8, unroll_length=10,
    num_evals=3, episode_length=1000, learning_rate=1e-3, reward_scaling=10.0, normalize_observations=True,
    **rec.ppo_hooks(),  # 2
)
rec.close()  # 3
print(rec.stats)
