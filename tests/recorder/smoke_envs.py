"""Smoke check (not collected by pytest) per env x backend, each in its own subprocess: the
recorder's hooks driven directly (the tapped training chain with random actions, and two policy
snapshots with a real PPO policy network), then read back: rows, shapes, episodes cut at the
episode length, snapshots, one compile. (ppo.train itself is exercised on inverted_pendulum by
the slow tests; its plumbing does not depend on the env or backend.)

    MUJOCO_GL=egl .venv/bin/python tests/recorder/smoke_envs.py [env:backend ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

COMBOS = [f"{e}:{b}" for e in ("inverted_pendulum", "reacher", "hopper", "ant")
          for b in ("generalized", "spring", "mjx")]

CHILD = r"""
import json, sys, time
import jax
import numpy as np
from brax import envs
from brax.training.agents.ppo import networks as ppo_networks
import braxscope
name, backend, path = sys.argv[1], sys.argv[2], sys.argv[3]
env = envs.get_environment(name, backend=backend)
t = time.time()
n, steps = 8, 24
with braxscope.Recorder(path, env, track=[0, 1], snapshot_steps=30, flush_every=8) as rec:
    hooks = rec.ppo_hooks()
    # The recorder's side of ppo.train, driven directly: the tapped training chain (reset, a scan of
    # steps with random actions) and a policy snapshot with a real PPO policy network.
    chain = hooks["wrap_env_fn"](env, episode_length=10, action_repeat=1, randomization_fn=None)

    @jax.jit
    def run(key):
        state = chain.reset(jax.random.split(key, n))
        def body(s, k):
            return chain.step(s, jax.random.uniform(k, (n, env.action_size), minval=-1, maxval=1)), ()
        return jax.lax.scan(body, state, jax.random.split(key, steps))[0]

    jax.block_until_ready(run(jax.random.PRNGKey(0)))
    nets = ppo_networks.make_ppo_networks(env.observation_size, env.action_size)
    make_policy = ppo_networks.make_inference_fn(nets)
    from brax.training.acme import running_statistics, specs
    norm = running_statistics.init_state(specs.Array((env.observation_size,), np.dtype("float32")))
    params = (norm, nets.policy_network.init(jax.random.PRNGKey(1)), nets.value_network.init(jax.random.PRNGKey(2)))
    for step in (0, 192):
        hooks["policy_params_fn"](step, make_policy, params)
r = braxscope.open_store(path)
w = r.writers()[0]
rows = r.train_rows(w.writer_id, 0, w.rows["train"])
eps = r.episodes()
snaps = [e for e in eps if e.source == "snapshot"]
m = r.model()
ok = (w.rows["train"] == steps and len(snaps) == 2 and rows["qpos"].shape[2] == m.nq and rows["qvel"].shape[2] == m.nv
      and np.isfinite(rows["qpos"]).all() and rows["action"].shape[2] == m.nu
      # Episodes end at done: termination, or truncation at the episode length (10).
      and all(e.length <= 10 and bool(r.frames(e).done[-1]) == e.complete for e in eps if e.source == "train")
      and all(len(r.frames(e)) == e.length for e in eps) and rec._snap.compiled_count == 1)
print(json.dumps({"ok": bool(ok), "rows": w.rows["train"], "episodes": len(eps), "snapshots": len(snaps),
                  "nq": m.nq, "seconds": round(time.time() - t, 1),
                  "snapshot_s": [round(s, 3) for s in rec.stats.snapshot_seconds]}))
"""


def main(argv: list[str]) -> int:
    combos = argv or COMBOS
    failed = 0
    with tempfile.TemporaryDirectory() as d:
        for c in combos:
            name, backend = c.split(":")
            t = time.time()
            p = subprocess.run([sys.executable, "-c", CHILD, name, backend, os.path.join(d, f"{name}-{backend}.zarr")],
                               capture_output=True, text=True)
            try:
                res = json.loads(p.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                res = {"ok": False, "error": (p.stderr.strip().splitlines() or ["?"])[-1][:200]}
            failed += not res.get("ok")
            print(f"{c:30s} {'ok  ' if res.get('ok') else 'FAIL'} {time.time() - t:6.0f} s  {json.dumps(res)}",
                  flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
