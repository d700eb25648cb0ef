"""The three lines, for a MuJoCo Playground env (pip install 'braxscope[playground]'): record envs
0 and 2 of a CartpoleBalance PPO run, trained with Playground's own wrapper chain, a policy
snapshot per evaluation and the training curve into runs/playground.zarr. Then:
braxscope view runs/playground.zarr

On a machine without a GPU, Playground's JAX physics (impl="jax"); on a GPU, drop the override
to train with its default, MuJoCo Warp (the store records which one trained).
"""

from brax.training.agents.ppo import train as ppo
from mujoco_playground import registry, wrapper

import braxscope

env = registry.load("CartpoleBalance", config_overrides={"impl": "jax"})
rec = braxscope.Recorder("runs/playground.zarr", env, track=[0, 2], env_name="CartpoleBalance")  # 1
make_policy, params, metrics = ppo.train(
    environment=env, num_timesteps=200_000, num_envs=128, batch_size=256, num_minibatches=8, unroll_length=30,
    num_evals=5, episode_length=1000, learning_rate=1e-3, discounting=0.995, reward_scaling=10.0,
    normalize_observations=True,
    **rec.ppo_hooks(wrap_env_fn=wrapper.wrap_for_brax_training),  # 2
)
rec.close()  # 3
print(rec.stats)
