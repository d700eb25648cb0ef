"""Policy snapshots: a jitted deterministic rollout of the current policy from a fixed reset key.

The same start state every iteration, so snapshot n and snapshot m compare like with like.
Compiled once per ``make_policy`` (ppo.train hands the same one to every policy_params_fn call);
the parameters are an argument, so new parameters never recompile.

By default the rollout runs on the host CPU, whatever device trains. On a GPU a single-env rollout
is a thousand sequential steps of tiny kernels: measured on an H200 (ant), its launches held the
training thread for 0.59 s per iteration and its kernels queued with training's, costing 35% of
training env-steps/s. On the CPU backend JAX dispatch returns at once and the rollout runs on
host cores that GPU training leaves idle.
"""

from __future__ import annotations

import time

import jax
import numpy as np

from .tap import mocap_poses, physics, positions


class SnapshotRunner:
    """``run(make_policy, params) -> dict`` of numpy arrays: qpos [L,nq], qvel [L,nv],
    action [L,nu], reward [L], done [L] (rows up to and including the first done), with mocap
    bodies mocap_pos [L,nmocap,3] and mocap_quat [L,nmocap,4], plus ``seconds`` (wall time of
    the rollout, compile included on the first call)."""

    def __init__(self, env, steps: int, seed: int = 0, device: str = "cpu", nmocap: int = 0):
        self.env = env
        self.steps = int(steps)
        self.nmocap = int(nmocap)
        self.device = _snapshot_device(device)
        with jax.default_device(self.device):
            self.key = jax.random.PRNGKey(seed)
        self._jitted = None
        self._for = None

    def _build(self, make_policy):
        env, steps, key, nmocap = self.env, self.steps, self.key, self.nmocap

        def rollout(params):
            policy = make_policy(params, deterministic=True)
            state = env.reset(key)

            def body(state, _):
                action, _ = policy(state.obs, key)
                nstate = env.step(state, action)
                ps = physics(nstate)
                q, qd = positions(ps)
                mocap = mocap_poses(ps) if nmocap else ()
                return nstate, (q, qd, action, nstate.reward, nstate.done, *mocap)

            _, out = jax.lax.scan(body, state, (), length=steps)
            return out

        return jax.jit(rollout)

    def start(self, make_policy, params) -> "PendingSnapshot":
        """Dispatch the rollout and return at once; the result is fetched later (by the writer
        thread) with :meth:`PendingSnapshot.result`. JAX dispatch is asynchronous, so training's
        next computations are queued while the rollout runs: the training thread only waits for
        the dispatch (and, the first time, the compile)."""
        t0 = time.perf_counter()
        if self._for is not make_policy:
            self._jitted, self._for = self._build(make_policy), make_policy
        # Host copies: ppo.train's first params (before training) differ in sharding and weak types
        # from later ones, which would compile the rollout a second time. They also make the
        # rollout independent of buffers that the next training step may donate.
        params = jax.device_put(jax.tree_util.tree_map(np.asarray, jax.device_get(params)), self.device)
        # The env's own arrays are closed over, not passed: default_device places them (and the
        # computation) on the snapshot device whatever device they were made on.
        with jax.default_device(self.device):
            outs = self._jitted(params)
        return PendingSnapshot(outs, self.steps, t0, time.perf_counter() - t0)

    def run(self, make_policy, params) -> dict:
        """Dispatch and wait: the rollout as numpy arrays (see the class docstring)."""
        return self.start(make_policy, params).result()

    @property
    def compiled_count(self) -> int:
        """Compilations of the rollout so far (a test checks it stays 1)."""
        return 0 if self._jitted is None else int(self._jitted._cache_size())


def check_snapshot_device(name: str) -> None:
    """Raise ValueError unless ``name`` is a snapshot device: 'cpu' or 'default'."""
    if name not in ("cpu", "default"):
        raise ValueError(f"snapshot_device must be 'cpu' or 'default', not {name!r}")


def _snapshot_device(name: str):
    """'cpu': the host CPU (JAX always has it); 'default': JAX's default device (where training runs)."""
    check_snapshot_device(name)
    if name == "cpu":
        return jax.devices("cpu")[0]
    dev = jax.config.jax_default_device  # a Device, a platform name, or None
    return jax.devices(dev)[0] if isinstance(dev, str) else (dev or jax.devices()[0])


class PendingSnapshot:
    """A dispatched rollout. ``ready()`` never blocks; ``result()`` blocks until it is done."""

    def __init__(self, outs, steps: int, started: float, dispatch_s: float):
        self._outs, self.steps, self.started, self.dispatch_s = outs, steps, started, dispatch_s

    def ready(self) -> bool:
        return all(x.is_ready() for x in self._outs)

    def result(self) -> dict:
        q, qd, action, reward, done, *mocap = jax.device_get(self._outs)
        self._outs = None  # free the device buffers
        done = np.asarray(done) > 0
        # The env keeps stepping after termination; the snapshot ends at its first done.
        end = int(np.argmax(done)) + 1 if done.any() else self.steps
        out = dict(
            qpos=np.asarray(q[:end], np.float32), qvel=np.asarray(qd[:end], np.float32),
            action=np.asarray(action[:end], np.float32), reward=np.asarray(reward[:end], np.float32),
            done=done[:end].astype(np.uint8),
        )
        if mocap:
            out["mocap_pos"], out["mocap_quat"] = (np.asarray(m[:end], np.float32) for m in mocap)
        # Dispatch to result: the rollout's wall time when nothing ran beside it (compile
        # included on the first call); longer when it overlapped training.
        out["seconds"] = time.perf_counter() - self.started
        out["dispatch_seconds"] = self.dispatch_s
        return out


__all__ = ["PendingSnapshot", "SnapshotRunner", "check_snapshot_device"]
