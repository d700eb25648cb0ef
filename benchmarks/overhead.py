"""What recording costs brax PPO training: env-steps/s of the training phase, side by side.

For each env, the same ppo.train config and seed runs as four variants, alternated
(none, record, record+snapshots, naive, none, record, ...), at least 3 rounds, each run in a
fresh process:

- ``none``: no recording (brax's own wrapper chain);
- ``record``: braxscope.Recorder tracking 4 envs every step, snapshots off;
- ``record+snapshots``: the same with policy snapshots at their default settings (one episode
  per policy_params_fn call), with the snapshot time per iteration (dispatch to result, while
  training goes on beside it) and the part of it the training thread was blocked (dispatch);
- ``naive tap``: one ``jax.debug.callback`` per env step carrying the same 4 envs (the baseline);
- ``record+panel``: ``record+snapshots`` with the notebook's live panel on it
  (``braxscope.notebook.live(rec)``, without a kernel to show it in: its thread polls the store,
  renders each new snapshot to MP4 and draws the curve, as in a notebook). Its cost is read
  against ``record+snapshots`` (the "panel vs recording" line). Not in the default set.

Training phase = from the first progress_fn call after epoch 1 (so compilation is excluded) to
the last one; env steps over that window / its wall time. Evals are off (run_evals=False) so the
window holds training epochs and policy_params_fn calls only. Prints medians and ratios, of
wall-clock env-steps/s and of env steps per CPU-second of this process (the latter is robust to
other processes sharing the machine; wall time is what a user feels on a dedicated one).

    MUJOCO_GL=egl .venv/bin/python benchmarks/overhead.py            # inverted_pendulum, ant, CartpoleBalance
    MUJOCO_GL=egl .venv/bin/python benchmarks/overhead.py --quick    # inverted_pendulum only, shorter

On a GPU the runs use GPU-sized configs (``--scale gpu``, chosen by default when JAX's default
backend is a GPU: 2048 envs, brax's usual batch sizes), since 128 envs leave a GPU idle and would
measure launch latency, not training. ``--deadline S`` starts no run after S seconds and reports
the rounds that finished (rounds go env by env inside each round, so a cut leaves every env with
the same number of runs).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import numpy as np
from brax import envs
from brax.envs.wrappers import training as brax_training
from brax.training.agents.ppo import train as ppo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import braxscope  # noqa: E402

# ant on 'generalized' runs at a few thousand env steps/s on a 2-core CPU: too slow for repeated
# runs; 'spring' is the fastest CPU backend for ant (field notes) and exercises the same code.
CONFIGS = {
    "inverted_pendulum": dict(
        backend="generalized",
        ppo=dict(num_envs=128, batch_size=256, num_minibatches=8, unroll_length=10, num_updates_per_batch=2,
                 episode_length=1000, learning_rate=1e-3, reward_scaling=10.0, normalize_observations=True),
        steps_per_epoch=4 * 256 * 10 * 8, epochs=4,
    ),
    "ant": dict(
        backend="spring",
        ppo=dict(num_envs=128, batch_size=128, num_minibatches=8, unroll_length=5, num_updates_per_batch=2,
                 episode_length=1000, learning_rate=3e-4, reward_scaling=10.0, normalize_observations=True),
        steps_per_epoch=4 * 128 * 5 * 8, epochs=4,
    ),
    # A MuJoCo Playground env (MJX physics; impl jax on a CPU, its default, MuJoCo Warp, on a GPU),
    # trained as Playground does: every variant, "none" included, uses Playground's own chain
    # (wrap_for_brax_training), and the recorder is hooked into it as a Playground user would.
    "CartpoleBalance": dict(
        suite="playground",
        ppo=dict(num_envs=128, batch_size=256, num_minibatches=8, unroll_length=10, num_updates_per_batch=2,
                 episode_length=1000, learning_rate=1e-3, reward_scaling=10.0, discounting=0.995,
                 normalize_observations=True),
        steps_per_epoch=4 * 256 * 10 * 8, epochs=4,
    ),
}


def _gpu_sized(cfg: dict, training_steps_per_epoch: int, **ppo) -> dict:
    """The same env, backend and PPO settings with the sizes overridden; an epoch is a whole
    number of PPO training steps (batch_size x num_minibatches x unroll_length env steps each)."""
    p = dict(cfg["ppo"], **ppo)
    steps = training_steps_per_epoch * p["batch_size"] * p["num_minibatches"] * p["unroll_length"]
    return dict(cfg, ppo=p, steps_per_epoch=steps, epochs=6)


# Sized for a GPU (brax's published PPO settings use 2048-4096 envs).
GPU_CONFIGS = {
    "inverted_pendulum": _gpu_sized(CONFIGS["inverted_pendulum"], 2, num_envs=2048, batch_size=1024,
                                    num_minibatches=16, num_updates_per_batch=4),
    "ant": _gpu_sized(CONFIGS["ant"], 8, num_envs=2048, batch_size=1024, num_minibatches=32, num_updates_per_batch=4),
    "CartpoleBalance": _gpu_sized(CONFIGS["CartpoleBalance"], 2, num_envs=2048, batch_size=1024, num_minibatches=32,
                                  num_updates_per_batch=16),
}
VARIANTS = ("none", "record", "record+snapshots", "naive tap", "record+panel")
DEFAULT_VARIANTS = ("none", "record", "record+snapshots", "naive tap")


class NaiveTap(brax_training.Wrapper):
    """One jax.debug.callback per env step with the first 4 envs' q, action and reward."""

    def __init__(self, env, sink):
        super().__init__(env)
        self.sink = sink

    def step(self, state, action):
        n = self.env.step(state, action)
        q = (n.data.qpos if getattr(n, "pipeline_state", None) is None else n.pipeline_state.q)[:4]

        def host(q, a, r):
            self.sink.append((np.array(q), np.array(a), np.array(r)))

        jax.debug.callback(host, q, action[:4], n.reward[:4])
        return n


def naive_wrap(sink, playground: bool = False):
    def wrap(env, episode_length=1000, action_repeat=1, randomization_fn=None, _calls=[0]):
        _calls[0] += 1
        inner = brax_training.VmapWrapper(env)
        inner = brax_training.EpisodeWrapper(inner, episode_length, action_repeat)
        if _calls[0] == 1:  # the training env only (the eval env is wrapped second)
            inner = NaiveTap(inner, sink)
        if playground:
            from mujoco_playground import wrapper

            return wrapper.BraxAutoResetWrapper(inner)
        return brax_training.AutoResetWrapper(inner)
    return wrap


def make_env(env_name: str, cfg: dict):
    """(env, wrap_env_fn of the env's own training chain: None for brax's default)."""
    if cfg.get("suite") == "playground":
        from mujoco_playground import registry, wrapper

        impl = {"impl": "jax"} if jax.default_backend() == "cpu" else None
        return registry.load(env_name, config_overrides=impl), wrapper.wrap_for_brax_training
    return envs.get_environment(env_name, backend=cfg["backend"]), None


def run_once(env_name: str, cfg: dict, variant: str, epochs: int, seed: int, tmp: Path) -> dict:
    env, own_wrap = make_env(env_name, cfg)
    marks: list[tuple[int, float]] = []

    def progress(step, metrics):
        marks.append((int(step), time.perf_counter(), time.process_time()))

    kwargs = dict(cfg["ppo"], num_timesteps=cfg["steps_per_epoch"] * epochs, num_evals=epochs + 1, run_evals=False,
                  seed=seed)
    rec = None
    sink: list = []
    if variant == "none":
        hooks = {"progress_fn": progress} if own_wrap is None else {"progress_fn": progress, "wrap_env_fn": own_wrap}
    elif variant == "naive tap":
        hooks = {"progress_fn": progress, "wrap_env_fn": naive_wrap(sink, own_wrap is not None)}
    else:
        store = tmp / f"{env_name}-{variant}-{time.time_ns()}.zarr"
        rec = braxscope.Recorder(store, env, track=[0, 1, 2, 3], snapshots=variant in ("record+snapshots",
                                                                                      "record+panel"))
        hooks = rec.ppo_hooks(progress_fn=progress, wrap_env_fn=own_wrap)
        if variant == "record+panel":
            import braxscope.notebook as bn

            panel = bn.live(rec, display=False)
    t0 = time.perf_counter()
    ppo.train(environment=env, **kwargs, **hooks)
    total = time.perf_counter() - t0
    dev = jax.devices()[0]
    out = {"total_s": total,
           "device": f"{dev.platform} ({dev.device_kind}) x{jax.local_device_count()}, jax {jax.__version__}"}
    if rec is not None:
        rec.close()
        if variant == "record+panel":
            panel.join(timeout=300).stop()
            out.update(panel_updates=panel.updates, panel_render_s=panel.render_seconds, panel_error=panel.error)
        s = rec.stats
        out.update(rows=s.rows_recorded, dropped=s.rows_dropped, callbacks=s.callbacks,
                   snapshot_s=s.snapshot_seconds[1:],  # the first includes its compilation
                   snapshot_wait_s=s.snapshot_dispatch_seconds[1:])
        shutil.rmtree(rec.path, ignore_errors=True)
    if variant == "naive tap":
        out["callbacks"] = len(sink)
    # marks: step 0 (before training), then one per epoch. Window: end of epoch 1 .. last epoch.
    (s1, t1, c1), (sn, tn, cn) = marks[1], marks[-1]
    out["sps"] = (sn - s1) / (tn - t1)
    # CPU time of this process (all its threads: XLA, callbacks, the writer) over the same window:
    # far less sensitive than wall time to other processes competing for a shared machine.
    out["cpu_sps"] = (sn - s1) / (cn - c1)
    out["window_s"] = tn - t1
    return out


def run_in_child(env_name: str, variant: str, epochs: int, seed: int, tmp: Path, cold: bool = False,
                 scale: str = "cpu") -> dict:
    """One run in a fresh process: no variant inherits threads, heap or caches from the one before
    (in one long process the recorded variants measured ~10% slower than alone)."""
    out = tmp / f"result-{time.time_ns()}.json"
    subprocess.run([sys.executable, __file__, "_one", env_name, variant, str(epochs), str(seed), str(tmp), str(out),
                    "cold" if cold else "cache", scale], check=True)
    return json.loads(out.read_text())


class _Deadline(Exception):
    pass


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="inverted_pendulum only, 3 epochs per run")
    p.add_argument("--rounds", type=int, default=3, help="alternated rounds (pairs) per variant (>= 3)")
    p.add_argument("--epochs", type=int, default=None, help="epochs per run (the window is epochs - 1)")
    p.add_argument("--envs", default=None, help="comma-separated subset of: " + ",".join(CONFIGS))
    p.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                   help="comma-separated subset of: " + ",".join(VARIANTS) + " (none first)")
    p.add_argument("--cold", action="store_true",
                   help="no persistent compile cache: every run compiles, as runs with host callbacks always do")
    p.add_argument("--scale", choices=("auto", "cpu", "gpu"), default="auto",
                   help="config sizes: cpu (128 envs) or gpu (2048 envs); auto: gpu when JAX's default backend is one")
    p.add_argument("--deadline", type=float, default=None,
                   help="start no run after this many seconds; report the rounds that finished")
    args = p.parse_args(argv)
    logging.getLogger("braxscope").setLevel(logging.ERROR)
    names = args.envs.split(",") if args.envs else (["inverted_pendulum"] if args.quick else list(CONFIGS))
    rounds = max(3, args.rounds)
    variants = [v for v in VARIANTS if v in args.variants.split(",")]
    if "none" not in variants:
        p.error("--variants must include none (the ratios are against it)")
    scale = args.scale
    if scale == "auto":
        # Asked of a child: initialising a GPU backend here would hold GPU memory the runs need.
        probe = subprocess.run([sys.executable, "-c", "import jax; print(jax.default_backend())"],
                               capture_output=True, text=True, check=True)
        scale = "gpu" if probe.stdout.strip() in ("gpu", "cuda", "rocm") else "cpu"
    configs = GPU_CONFIGS if scale == "gpu" else CONFIGS
    tmp = Path(tempfile.mkdtemp(prefix="braxscope-bench-"))
    print(f"configs: {scale}; rounds {rounds}", flush=True)
    results = {}
    started = time.perf_counter()
    complete = 0
    try:
        for r in range(rounds):
            for name in names:
                cfg = configs[name]
                # window = epochs - 1 (epoch 1 holds the compile)
                epochs = args.epochs or (3 if args.quick else cfg["epochs"])
                for v in variants:
                    if args.deadline is not None and time.perf_counter() - started > args.deadline:
                        raise _Deadline
                    o = run_in_child(name, v, epochs, seed=0, tmp=tmp, cold=args.cold, scale=scale)
                    if r == 0 and name == names[0] and v == variants[0]:
                        print(f"device: {o['device']}", flush=True)
                    results.setdefault((name, v), []).append(o)
                    print(f"  {name:18s} round {r + 1} {v:17s} {o['sps']:10.0f} env-steps/s "
                          f"{o['cpu_sps']:10.0f} per CPU-s "
                          f"(window {o['window_s']:.1f} s, run {o['total_s']:.0f} s)", flush=True)
            complete += 1
    except _Deadline:
        print(f"  deadline ({args.deadline:.0f} s) reached after {complete} complete rounds", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if complete < 3:
        print(f"\nonly {complete} complete rounds: fewer than the 3 the comparison needs; read these as indicative")

    print()
    print(f"{'env (backend)':32s} {'variant':17s} {'median steps/s':>14s} {'ratio':>7s} {'cost':>7s} "
          f"{'steps/CPU-s':>11s} {'ratio':>7s} "
          f"{'callbacks/run':>13s} {'rows/run':>9s} {'dropped':>7s} {'snapshot s/iter':>15s} {'blocked s/it':>12s}")
    for name in names:
        if (name, "none") not in results:
            continue
        nones = results[(name, "none")][:max(complete, 1)]  # whole rounds only, as for the others
        base = statistics.median(o["sps"] for o in nones)
        cbase = statistics.median(o["cpu_sps"] for o in nones)
        for v in variants:
            runs = results.get((name, v), [])[:max(complete, 1)]  # whole rounds only: each variant the same count
            if not runs:
                continue
            med = statistics.median(o["sps"] for o in runs)
            cmed = statistics.median(o["cpu_sps"] for o in runs)
            snap = [s for o in runs for s in o.get("snapshot_s", [])]
            wait = [s for o in runs for s in o.get("snapshot_wait_s", [])]
            label = f"{name} ({configs[name].get('backend', 'playground')})"
            print(f"{label:32s} {v:17s} {med:14.0f} {med / base:7.3f} "
                  f"{(1 - med / base) * 100:6.1f}% {cmed:11.0f} {cmed / cbase:7.3f} "
                  f"{statistics.median(o.get('callbacks', 0) for o in runs):13.0f} "
                  f"{statistics.median(o.get('rows', 0) for o in runs):9.0f} "
                  f"{sum(o.get('dropped', 0) for o in runs):7d} "
                  f"{(statistics.median(snap) if snap else float('nan')):15.3f} "
                  f"{(statistics.median(wait) if wait else float('nan')):12.4f}")
        panel, recorded = results.get((name, "record+panel"), []), results.get((name, "record+snapshots"), [])
        if panel and recorded:
            n = max(complete, 1)
            ratio = statistics.median(o["sps"] for o in panel[:n]) / statistics.median(o["sps"] for o in recorded[:n])
            renders = [s for o in panel[:n] for s in o.get("panel_render_s", [])]
            print(f"{'':32s} live panel vs record+snapshots: {ratio:.3f} ({(1 - ratio) * 100:+.1f}% cost); "
                  f"{statistics.median(o['panel_updates'] for o in panel[:n]):.0f} snapshot videos per run, "
                  f"{(statistics.median(renders) if renders else float('nan')):.1f} s each to render")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_one":
        name, variant, epochs, seed, tmp, out, cache, scale = sys.argv[2:10]
        logging.getLogger("braxscope").setLevel(logging.ERROR)
        if cache == "cache":
            # Identical programs (the 'none' variant of each round) compile once across the runs;
            # compile time is outside the measured window anyway, this only shortens the benchmark.
            jax.config.update("jax_compilation_cache_dir", str(Path(tmp) / "jax-cache"))
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        cfg = (GPU_CONFIGS if scale == "gpu" else CONFIGS)[name]
        Path(out).write_text(json.dumps(run_once(name, cfg, variant, int(epochs), int(seed), Path(tmp))))
        sys.exit(0)
    sys.exit(main())
