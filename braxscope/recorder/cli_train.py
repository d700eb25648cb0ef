"""``braxscope train ENV --store PATH``: train a brax or MuJoCo Playground env with PPO and record it.

Shows a progress bar (env steps, steps/s, latest eval reward, rows recorded, rows dropped).
Settings not given on the command line come from :mod:`braxscope.recorder.defaults` (brax envs)
or Playground's own tuned PPO settings (``mujoco_playground.config``), scaled down on a CPU.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from ..schema.errors import BraxscopeError
from . import playground
from .defaults import defaults_for, scaled_for_cpu


class UnknownEnvError(BraxscopeError):
    """The env name is in neither brax's nor MuJoCo Playground's registry."""


# (flag, ppo.train keyword, type, help)
_PPO_FLAGS = (
    ("--steps", "num_timesteps", int, "total env steps"),
    ("--num-envs", "num_envs", int, "parallel training envs"),
    ("--episode-length", "episode_length", int, "env steps per episode"),
    ("--num-evals", "num_evals", int, "evaluations (policy snapshots and curve points) incl. the initial one"),
    ("--num-eval-envs", "num_eval_envs", int, "envs per evaluation"),
    ("--batch-size", "batch_size", int, "PPO batch size"),
    ("--num-minibatches", "num_minibatches", int, "PPO minibatches per batch"),
    ("--unroll-length", "unroll_length", int, "env steps per unroll"),
    ("--updates-per-batch", "num_updates_per_batch", int, "SGD passes per batch"),
    ("--learning-rate", "learning_rate", float, "Adam learning rate"),
    ("--entropy-cost", "entropy_cost", float, "entropy bonus"),
    ("--discounting", "discounting", float, "discount factor"),
    ("--reward-scaling", "reward_scaling", float, "reward scale"),
    ("--action-repeat", "action_repeat", int, "env steps per action"),
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("env", metavar="ENV", help="brax env name (inverted_pendulum, reacher, hopper, ant, ...) or "
                   "MuJoCo Playground env name (CartpoleBalance, CheetahRun, FingerSpin, ...)")
    p.add_argument("--store", required=True, help="store directory to record into (e.g. runs/demo.zarr)")
    p.add_argument("--suite", choices=("auto", "brax", "playground"), default="auto",
                   help="where ENV comes from (default: brax's registry, then Playground's; give it for a name "
                        "that both have)")
    p.add_argument("--backend", default=None, help="brax physics backend: generalized, spring, positional or mjx")
    p.add_argument("--impl", choices=("jax", "warp"), default=None,
                   help="Playground physics implementation (default: jax on a CPU, Playground's default, "
                        "MuJoCo Warp, on a GPU)")
    p.add_argument("--track", default="0,1,2,3", help="env indices to record, per device (default 0,1,2,3)")
    p.add_argument("--snapshot-steps", type=int, default=None,
                   help="length of each policy snapshot (default: one episode)")
    p.add_argument("--no-snapshots", action="store_true", help="do not record policy snapshots")
    p.add_argument("--no-compact", action="store_true",
                   help="leave the store as recorded at the end (default: compact it into sharded arrays)")
    p.add_argument("--flush-every", type=int, default=None,
                   help="env steps per device-to-host transfer (default: automatic)")
    p.add_argument("--video-every", type=int, default=None, help="render a video of every Nth snapshot")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true", help="no progress bar (one line per evaluation instead)")
    for flag, key, typ, help_text in _PPO_FLAGS:
        p.add_argument(flag, dest=key, type=typ, default=None, help=f"{help_text} (default: per env)")


def _parse_track(text: str) -> list[int]:
    try:
        track = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise BraxscopeError(f"--track {text!r}: give comma-separated env indices, like 0,1,2,3") from None
    if not track or min(track) < 0:
        raise BraxscopeError(f"--track {text!r}: give at least one env index >= 0")
    return track


def suite_of(args: argparse.Namespace) -> str:
    """'brax' or 'playground': ``--suite``, else the registry that has the name (brax's first)."""
    if args.suite != "auto":
        return args.suite
    from brax import envs

    if args.env in getattr(envs, "_envs", {}):
        return "brax"
    if args.env in playground.names():
        return "playground"
    names = ", ".join(sorted(getattr(envs, "_envs", {})))
    if not playground.names():
        raise UnknownEnvError(f"no brax env named {args.env!r}: choose one of {names} "
                              f"(for MuJoCo Playground envs: {playground.INSTALL})")
    raise UnknownEnvError(f"no brax env named {args.env!r}, nor a MuJoCo Playground one: choose one of {names}, "
                          f"or a Playground env ({', '.join(playground.names()[:6])}, ...)")


def playground_impl(args: argparse.Namespace) -> str | None:
    """--impl, else 'jax' on a CPU (MuJoCo Warp needs a GPU), else Playground's default (None)."""
    if args.impl:
        return args.impl
    import jax

    return "jax" if jax.default_backend() == "cpu" else None


def ppo_settings(args: argparse.Namespace, suite: str = "brax") -> dict:
    """The ppo.train keyword arguments: per-env defaults overridden by the flags given."""
    if suite == "playground":
        import jax

        try:
            cfg = playground.ppo_config(args.env, playground_impl(args))
        except KeyError:
            raise UnknownEnvError(f"no MuJoCo Playground env named {args.env!r}") from None
        if jax.default_backend() == "cpu":
            cfg = scaled_for_cpu(cfg)
    else:
        cfg = defaults_for(args.env)
    for _, key, _, _ in _PPO_FLAGS:
        v = getattr(args, key, None)
        if v is not None:
            cfg[key] = v
    if args.backend and suite == "brax":
        cfg["backend"] = args.backend
    cfg["seed"] = args.seed
    # brax asserts batch_size * num_minibatches % num_envs == 0; say so before compiling.
    if (cfg["batch_size"] * cfg["num_minibatches"]) % cfg["num_envs"]:
        raise BraxscopeError(
            f"batch size {cfg['batch_size']} x minibatches {cfg['num_minibatches']} must be a multiple of "
            f"--num-envs {cfg['num_envs']}: change one of them"
        )
    return cfg


class _Progress:
    """A tqdm bar fed from the recorder's live counters (a small polling thread)."""

    def __init__(self, rec, total: int, enabled: bool):
        self.rec = rec
        self.reward = float("nan")
        self._stop = threading.Event()
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="step", unit_scale=True, dynamic_ncols=True, desc="train",
                            smoothing=0.3, file=sys.stderr)
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()

    def _loop(self):
        while not self._stop.wait(0.5):
            self.refresh()

    def refresh(self, step: int | None = None):
        if self.bar is None:
            return
        s = self.rec.stats
        n = max(step or 0, s.last_env_step)
        if n > self.bar.n:
            self.bar.update(min(n, self.bar.total) - self.bar.n)
        self.bar.set_postfix(reward=f"{self.reward:.1f}", rows=s.rows_recorded, dropped=s.rows_dropped, refresh=True)

    def on_progress(self, step, metrics):
        if "eval/episode_reward" in metrics:
            self.reward = float(metrics["eval/episode_reward"])
        if self.bar is None:
            s = self.rec.stats
            print(f"step {step:>10,}  eval reward {self.reward:8.2f}  rows {s.rows_recorded:,}  "
                  f"dropped {s.rows_dropped:,}", flush=True)
        else:
            self.refresh(step)

    def close(self):
        self._stop.set()
        if self.bar is not None:
            self.refresh()
            self.bar.close()


def run(args: argparse.Namespace) -> int:
    from brax import envs
    from brax.training.agents.ppo import train as ppo

    from .recorder import Recorder, RecordingFailedError

    track = _parse_track(args.track)
    suite = suite_of(args)
    cfg = ppo_settings(args, suite)
    if suite == "playground":
        impl = playground_impl(args)
        env = playground.load(args.env, impl)
        physics = f"MuJoCo Playground, impl {playground.impl_of(env)}"
        if isinstance(cfg.get("network_factory"), dict):
            import functools

            from brax.training.agents.ppo import networks as ppo_networks

            cfg["network_factory"] = functools.partial(ppo_networks.make_ppo_networks, **cfg["network_factory"])
    else:
        physics = backend = cfg.pop("backend")
        try:
            env = envs.get_environment(args.env, backend=backend)
        except KeyError:
            names = ", ".join(sorted(getattr(envs, "_envs", {})))
            raise UnknownEnvError(f"no brax env named {args.env!r}: choose one of {names}") from None

    rec = Recorder(args.store, env, track=track, snapshot_steps=args.snapshot_steps, snapshots=not args.no_snapshots,
                   compact=not args.no_compact,
                   flush_every=args.flush_every, video_every=args.video_every, env_name=args.env)
    print(f"braxscope: training {args.env} ({physics}) for {cfg['num_timesteps']:,} steps with {cfg['num_envs']} "
          f"envs, recording envs {track} into {args.store} (the first minute or so is compilation)",
          file=sys.stderr, flush=True)
    progress = _Progress(rec, cfg["num_timesteps"], enabled=not args.no_progress)
    t0 = time.time()
    failure = None
    try:
        ppo.train(environment=env, **cfg, **rec.ppo_hooks(progress_fn=progress.on_progress))
    finally:
        progress.close()
        try:
            rec.close()
        except RecordingFailedError as e:
            failure = e  # reported below; an exception from training itself goes on past this
    if failure is not None:
        # Training finished, but the store does not hold the run: never end as if it did.
        print(f"braxscope: error: training finished in {time.time() - t0:.0f} s, but {failure}", file=sys.stderr)
        return 1
    s = rec.stats
    snap = f", snapshots {s.snapshots} ({sum(s.snapshot_seconds):.1f} s)" if s.snapshots else ""
    print(f"braxscope: done in {time.time() - t0:.0f} s: {s.rows_recorded:,} env-rows recorded, "
          f"{s.rows_dropped:,} dropped{snap}; final eval reward {progress.reward:.1f}", file=sys.stderr)
    return 0


__all__ = ["add_arguments", "run", "ppo_settings"]
