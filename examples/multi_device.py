"""Multi-device training (pmap) with recording. On a CPU this script fakes two devices itself
(unless XLA_FLAGS is already set), before JAX starts:

    MUJOCO_GL=egl python examples/multi_device.py

``track`` indexes each device's batch, so [0, 1] records envs 0 and 1 of both devices (global ids
0, 1 and 64, 65 with 128 envs on 2 devices), each episode labelled with its device.
"""

import os

# Must be set before JAX initialises its backends; a machine with real accelerators ignores it.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

import jax  # noqa: E402
from brax import envs  # noqa: E402
from brax.training.agents.ppo import train as ppo  # noqa: E402

import braxscope  # noqa: E402

print("devices:", jax.local_devices())
env = envs.get_environment("inverted_pendulum")
with braxscope.Recorder("runs/multi_device.zarr", env, track=[0, 1]) as rec:
    ppo.train(
        environment=env, num_timesteps=100_000, num_envs=128, batch_size=256, num_minibatches=8, unroll_length=10,
        num_evals=3, episode_length=1000, learning_rate=1e-3, reward_scaling=10.0, normalize_observations=True,
        **rec.ppo_hooks(),
    )
r = braxscope.open_store("runs/multi_device.zarr")
train = [e for e in r.episodes() if e.source == "train"]
print("recorded (device, env) pairs:", sorted({(e.device, e.env_id) for e in train}))
