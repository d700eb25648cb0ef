"""What ``ppo.train`` was called with, read from its frame when it calls our ``wrap_env_fn``.

ppo.train hands its hooks nothing but the env; the run's metadata (the PPO keyword arguments)
and the flush period (a divisor of the steps per training step, so each epoch's last rows reach
the host before the epoch ends) need its arguments. Reading the caller's frame is read-only and
leaves brax unmodified; when it is not found (another trainer, a future brax), the recorder falls
back to what the user passed to ``Recorder(config=...)`` and ``flush_every``.
"""

from __future__ import annotations

import inspect
import sys

# Arguments of interest besides the signature's own (computed locals of ppo.train).
_LOCALS = ("local_devices_to_use", "process_count", "process_id", "device_count")


def find_ppo_train_args(max_depth: int = 12) -> dict | None:
    """The arguments (and a few computed locals) of the ppo.train call on this thread's stack."""
    frame = sys._getframe(1)
    for _ in range(max_depth):
        if frame is None:
            return None
        code = frame.f_code
        if code.co_name == "train" and code.co_filename.replace("\\", "/").endswith("ppo/train.py"):
            info = inspect.getargvalues(frame)
            args = {name: info.locals[name] for name in info.args if name in info.locals}
            if info.keywords and isinstance(info.locals.get(info.keywords), dict):
                args.update(info.locals[info.keywords])
            extra = {k: frame.f_locals[k] for k in _LOCALS if k in frame.f_locals}
            return {"args": args, "locals": extra}
        frame = frame.f_back
    return None


def steps_per_training_step(args: dict) -> int | None:
    """Env steps per env in one PPO training step: unroll_length x (batch x minibatches / envs)."""
    try:
        unroll = int(args["unroll_length"])
        per = int(args["batch_size"]) * int(args["num_minibatches"]) // int(args["num_envs"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    return unroll * per if unroll > 0 and per > 0 else None


def choose_flush_every(args: dict | None, cap: int = 128, fallback: int = 32) -> int:
    """The largest K <= cap that divides the steps per training step and is a multiple of the
    unroll length (every epoch then ends on a flush); the unroll length when that exceeds cap."""
    if not args:
        return fallback
    total = steps_per_training_step(args)
    if total is None:
        return fallback
    unroll = int(args["unroll_length"])
    best = unroll
    for k in range(unroll, min(cap, total) + 1, unroll):
        if total % k == 0:
            best = k
    return best


__all__ = ["find_ppo_train_args", "steps_per_training_step", "choose_flush_every"]
