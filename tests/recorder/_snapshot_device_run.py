"""Run in a subprocess with XLA_FLAGS=--xla_force_host_platform_device_count=2 and JAX's default
device set to the second one (standing in for a GPU that trains): a policy snapshot with
snapshot_device 'cpu' must run on the first CPU device, with 'default' on the default one, and
both must give the same rollout. Writes a JSON summary to argv[1]."""

import json
import sys
from pathlib import Path

import jax
import numpy as np
from brax import envs
from brax.training.acme import running_statistics, specs
from brax.training.agents.ppo import networks as ppo_networks

from braxscope.recorder.snapshot import SnapshotRunner

trainer = jax.devices()[1]
jax.config.update("jax_default_device", trainer)
env = envs.get_environment("inverted_pendulum")
nets = ppo_networks.make_ppo_networks(env.observation_size, env.action_size)
make_policy = ppo_networks.make_inference_fn(nets)
key = jax.random.PRNGKey(1)
params = jax.device_put((running_statistics.init_state(specs.Array((env.observation_size,), np.float32)),
                         nets.policy_network.init(key), nets.value_network.init(key)), trainer)
summary = {"cpu": str(jax.devices("cpu")[0]), "trainer": str(trainer)}
rollouts = {}
for name in ("cpu", "default"):
    runner = SnapshotRunner(env, 60, device=name)
    pending = runner.start(make_policy, params)
    summary[f"{name}_ran_on"] = sorted({str(d) for x in pending._outs for d in x.devices()})
    rollouts[name] = pending.result()
    runner.run(make_policy, params)  # new parameters are an argument: no second compile
    summary[f"{name}_compiles"] = runner.compiled_count
summary["same_rollout"] = bool(np.allclose(rollouts["cpu"]["qpos"], rollouts["default"]["qpos"], atol=1e-5))
summary["rows"] = len(rollouts["cpu"]["qpos"])
Path(sys.argv[1]).write_text(json.dumps(summary))
