"""Record other envs than the first four, and change which ones between iterations.

``track`` indexes each device's batch. ``set_track`` (or the viewer, through control.json) switches
to other envs from the next flush on; it may list at most as many envs as at creation.
"""

from brax import envs
from brax.training.agents.ppo import train as ppo

import braxscope

env = envs.get_environment("hopper", backend="spring")
rec = braxscope.Recorder("runs/track_envs.zarr", env, track=[10, 50, 100], snapshots=False)
calls = []


def switch(step, make_policy, params):
    calls.append(step)
    if len(calls) == 2:
        rec.set_track([0, 1])  # from now on envs 0 and 1; the third slot stays empty


ppo.train(
    environment=env, num_timesteps=60_000, num_envs=128, batch_size=128, num_minibatches=4, unroll_length=10,
    num_evals=3, episode_length=500, normalize_observations=True,
    **rec.ppo_hooks(policy_params_fn=switch),
)
rec.close()
r = braxscope.open_store("runs/track_envs.zarr")
print(sorted({(e.env_id, e.iteration) for e in r.episodes() if e.source == "train"}))
