"""Smoke check (not collected by pytest): a tiny recorded ppo.train per env x backend, each in its
own subprocess, then read back: train rows, episodes, one snapshot per policy_params_fn call.

    MUJOCO_GL=egl .venv/bin/python tests/recorder/smoke_envs.py [env:backend ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

COMBOS = [f"{e}:{b}" for e in ("inverted_pendulum", "reacher", "hopper", "ant") for b in ("generalized", "spring", "mjx")]

CHILD = r"""
import json, sys, time
import numpy as np
from brax import envs
from brax.training.agents.ppo import train as ppo
import braxscope
name, backend, path = sys.argv[1], sys.argv[2], sys.argv[3]
env = envs.get_environment(name, backend=backend)
t = time.time()
with braxscope.Recorder(path, env, track=[0, 1], snapshot_steps=50) as rec:
    ppo.train(environment=env, num_timesteps=2 * 8 * 5 * 2, num_envs=8, batch_size=8, num_minibatches=2, unroll_length=5,
              num_evals=3, episode_length=30, run_evals=False, num_updates_per_batch=1, seed=0, **rec.ppo_hooks())
r = braxscope.open_store(path)
w = r.writers()[0]
rows = r.train_rows(w.writer_id, 0, w.rows["train"])
eps = r.episodes()
snaps = [e for e in eps if e.source == "snapshot"]
m = r.model()
ok = (w.rows["train"] == 20 and len(snaps) == 3 and rows["qpos"].shape[2] == m.nq and np.isfinite(rows["qpos"]).all()
      and rows["action"].shape[2] == m.nu and all(len(r.frames(e)) == e.length for e in eps))
print(json.dumps({"ok": bool(ok), "rows": w.rows["train"], "episodes": len(eps), "snapshots": len(snaps),
                  "seconds": round(time.time() - t, 1), "snapshot_s": [round(s, 3) for s in rec.stats.snapshot_seconds]}))
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
            print(f"{c:30s} {'ok  ' if res.get('ok') else 'FAIL'} {time.time() - t:6.0f} s  {json.dumps(res)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
