"""Run in a subprocess with XLA_FLAGS=--xla_force_host_platform_device_count=2: ppo.train on two
fake CPU devices with recording, and the store's train directory sabotaged after epoch 1 (a
storage failure mid-training). Writes a JSON summary to argv[2]."""

import json
import logging
import sys
import time
from pathlib import Path

import jax
from brax import envs
from brax.training.agents.ppo import train as ppo

import braxscope

store, out = Path(sys.argv[1]), Path(sys.argv[2])
errors = []


class _Catch(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.ERROR:
            errors.append(record.getMessage())


logging.getLogger("braxscope").addHandler(_Catch())
env = envs.get_environment("inverted_pendulum")
rec = braxscope.Recorder(store, env, track=[0, 1])
calls = []
sabotaged = {}


def params_fn(step, make_policy, params):
    calls.append(step)
    if len(calls) == 2:
        # Let the writer commit epoch 1, then take the train stream away (a permission or disk
        # failure: writes below it fail; being root here, chmod would not stop them).
        deadline = time.time() + 10
        while rec.stats.rows_recorded < 2 * 2 * 80 * 2 and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(1.2)
        train = store / "writers" / rec.writer_id / "train"
        train.rename(train.with_name("train.saved"))
        train.write_text("sabotaged")
        sabotaged["rows_committed_before"] = rec.stats.rows_recorded


result = ppo.train(environment=env, num_timesteps=3 * 64 * 80 * 2, num_envs=64, batch_size=64, num_minibatches=8,
                   unroll_length=10, num_evals=4, episode_length=100, run_evals=False, num_updates_per_batch=1,
                   seed=1, **rec.ppo_hooks(policy_params_fn=params_fn))
try:
    rec.close()
    close_error = None
except braxscope.BraxscopeError as e:  # RecordingFailedError: the sabotage stopped recording
    close_error = f"{type(e).__name__}: {e}"
out.write_text(json.dumps({
    "devices": jax.local_device_count(), "trained": result is not None, "calls": calls, "errors": errors,
    "stats_error": rec.stats.error, "writer_id": rec.writer_id, "callbacks": rec.stats.callbacks,
    "rows_recorded": rec.stats.rows_recorded, "close_error": close_error, **sabotaged,
}))
