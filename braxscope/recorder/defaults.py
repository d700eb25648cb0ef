"""PPO settings per env for ``braxscope train``: small enough to show learning on a CPU.

inverted_pendulum is the quick one (about 2 minutes on 2 CPU cores, eval reward rising from under
10 to well above 50). The others are brax's usual hyper-parameters scaled down to 128 envs; they
need far more steps (and a GPU) to learn well.
"""

from __future__ import annotations

_COMMON = dict(
    num_timesteps=1_000_000, num_envs=128, batch_size=256, num_minibatches=8, unroll_length=10,
    num_updates_per_batch=4, learning_rate=3e-4, entropy_cost=1e-2, discounting=0.97, reward_scaling=1.0,
    episode_length=1000, normalize_observations=True, action_repeat=1, num_evals=10, num_eval_envs=64,
    backend="generalized",
)

PER_ENV = {
    "inverted_pendulum": dict(num_timesteps=200_000, num_evals=5, learning_rate=1e-3, reward_scaling=10.0),
    "inverted_double_pendulum": dict(num_timesteps=1_000_000, learning_rate=1e-3, reward_scaling=10.0),
    "reacher": dict(num_timesteps=1_000_000, unroll_length=10, discounting=0.95, reward_scaling=5.0, backend="spring"),
    "hopper": dict(num_timesteps=1_000_000, reward_scaling=10.0, backend="spring"),
    "ant": dict(num_timesteps=1_000_000, reward_scaling=10.0, unroll_length=5, backend="spring"),
    "halfcheetah": dict(num_timesteps=1_000_000, unroll_length=20, discounting=0.95, reward_scaling=1.0,
                        backend="spring"),
}


# MuJoCo Playground's own settings are tuned for a GPU (2048-8192 envs, tens of millions of
# steps): on a CPU they are capped to sizes that run in minutes, keeping everything else (its
# discounting, learning rate, reward scaling, unroll length, episode length, networks).
CPU_CAPS = dict(num_timesteps=1_000_000, num_envs=128, batch_size=256, num_minibatches=8, num_updates_per_batch=4,
                num_evals=10, num_eval_envs=64)


def defaults_for(env_name: str) -> dict:
    out = dict(_COMMON)
    out.update(PER_ENV.get(env_name, {}))
    return out


def scaled_for_cpu(cfg: dict) -> dict:
    """``cfg`` with its sizes capped by :data:`CPU_CAPS`, kept valid for ppo.train (batch size x
    minibatches a multiple of the env count)."""
    out = dict(cfg)
    for key, cap in CPU_CAPS.items():
        out[key] = min(int(out.get(key, cap)), cap)
    envs = out["num_envs"]
    while (out["batch_size"] * out["num_minibatches"]) % envs:
        envs //= 2
    out["num_envs"] = max(1, envs)
    return out


__all__ = ["defaults_for", "scaled_for_cpu", "PER_ENV", "CPU_CAPS"]
