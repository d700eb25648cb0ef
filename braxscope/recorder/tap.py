"""The training tap: a device-side ring buffer of the tracked envs, handed to the host in batches.

The JAX side is a pair of pure functions over an explicit :class:`TapState` (``tap_init``,
``tap_step``) plus :class:`TapWrapper`, the brax wrapper that carries that state in
``state.info`` and sits between ``EpisodeWrapper`` and ``AutoResetWrapper`` (inside AutoReset so
it sees terminal frames; outside the vmap so the flush predicate is one scalar per device).

Every ``K`` steps the ring is full and one ``io_callback`` runs (outside the vmap, so once per
device): when the host said "recording", it carries the ring; when paused, only a scalar probe.
Either way the callback returns the host's current flag and track list, which the state carries
until the next flush. So a paused run transfers nothing but the probe, and pause/track changes
never recompile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from brax.envs.base import State, Wrapper
from jax.experimental import io_callback

# brax's pmap axis (brax/training/agents/ppo/train.py `_PMAP_AXIS_NAME`); private, so looked up
# with a fallback rather than hard-coded alone.
try:  # pragma: no cover - depends on the brax version
    from brax.training.agents.ppo.train import _PMAP_AXIS_NAME as PMAP_AXIS
except Exception:  # noqa: BLE001
    PMAP_AXIS = "i"

INFO_KEY = "braxscope_tap"

# What the host callback returns: (recording flag, track indices).
RECORDING_OFF, RECORDING_ON = 0, 1


@dataclass(frozen=True)
class TapConfig:
    """Static sizes of the ring: K time rows of E tracked envs (nq, nv, nu, nmocap from the model)."""

    flush_every: int  # K
    slots: int  # E, tracked envs per device
    nq: int
    nv: int
    nu: int
    nmocap: int = 0  # mocap bodies: their poses are recorded too (not part of qpos)


class TapState(NamedTuple):
    """Carried per device, unbatched. Shapes: ring qpos [K,E,nq], qvel [K,E,nv], action [K,E,nu],
    reward [K,E] float32, done [K,E] int8; ``t`` ring position; ``count`` steps since reset;
    ``on`` the host's recording flag; ``track`` [E] local env indices (-1: unused slot);
    mocap_pos [K,E,nmocap,3], mocap_quat [K,E,nmocap,4] (size 0 without mocap bodies)."""

    qpos: jax.Array
    qvel: jax.Array
    action: jax.Array
    reward: jax.Array
    done: jax.Array
    t: jax.Array
    count: jax.Array
    on: jax.Array
    track: jax.Array
    mocap_pos: jax.Array
    mocap_quat: jax.Array


def tap_init(cfg: TapConfig, track, on: int = RECORDING_ON) -> TapState:
    """An empty ring. ``track``: up to E local env indices (padded with -1)."""
    K, E = cfg.flush_every, cfg.slots
    tr = np.full(E, -1, np.int32)
    tr[: len(track)] = np.asarray(track, np.int32)[:E]
    return TapState(
        qpos=jnp.zeros((K, E, cfg.nq), jnp.float32),
        qvel=jnp.zeros((K, E, cfg.nv), jnp.float32),
        action=jnp.zeros((K, E, cfg.nu), jnp.float32),
        reward=jnp.zeros((K, E), jnp.float32),
        done=jnp.zeros((K, E), jnp.int8),
        t=jnp.zeros((), jnp.int32),
        count=jnp.zeros((), jnp.int32),
        on=jnp.asarray(on, jnp.int32),
        track=jnp.asarray(tr),
        mocap_pos=jnp.zeros((K, E, cfg.nmocap, 3), jnp.float32),
        mocap_quat=jnp.zeros((K, E, cfg.nmocap, 4), jnp.float32),
    )


# host_flush(device, count, track, qpos, qvel, action, reward, done[, mocap_pos, mocap_quat]) -> (on, track)
# (the mocap arguments only when the model has mocap bodies)
# host_probe(device, count) -> (on, track)
HostFlush = Callable[..., tuple]
HostProbe = Callable[..., tuple]


def tap_step(
    cfg: TapConfig,
    ts: TapState,
    q: jax.Array,
    qd: jax.Array,
    action: jax.Array,
    reward: jax.Array,
    done: jax.Array,
    device: jax.Array,
    host_flush: HostFlush,
    host_probe: HostProbe,
    mocap: tuple[jax.Array, jax.Array] | None = None,
) -> TapState:
    """Write one step of the batch (q [n,nq], qd [n,nv], action [n,nu], reward/done [n]; with
    mocap bodies ``mocap`` = (mocap_pos [n,nmocap,3], mocap_quat [n,nmocap,4])) for the tracked
    envs into the ring; when the ring is full, hand it to the host (or probe when paused)."""
    idx = jnp.clip(ts.track, 0, q.shape[0] - 1)
    t = ts.t
    if cfg.nmocap:
        ts = ts._replace(mocap_pos=ts.mocap_pos.at[t].set(mocap[0][idx].astype(jnp.float32)),
                         mocap_quat=ts.mocap_quat.at[t].set(mocap[1][idx].astype(jnp.float32)))
    ts = ts._replace(
        qpos=ts.qpos.at[t].set(q[idx].astype(jnp.float32)),
        qvel=ts.qvel.at[t].set(qd[idx].astype(jnp.float32)),
        action=ts.action.at[t].set(action[idx].astype(jnp.float32)),
        reward=ts.reward.at[t].set(reward[idx].astype(jnp.float32)),
        done=ts.done.at[t].set(done[idx].astype(jnp.int8)),
        t=t + 1,
        count=ts.count + 1,
    )
    result_shape = (
        jax.ShapeDtypeStruct((), jnp.int32),
        jax.ShapeDtypeStruct((cfg.slots,), jnp.int32),
    )
    device = jnp.asarray(device, jnp.int32)

    def keep(s: TapState) -> TapState:
        return s

    def send(s: TapState) -> TapState:
        extra = (s.mocap_pos, s.mocap_quat) if cfg.nmocap else ()
        on, track = io_callback(
            host_flush, result_shape, device, s.count, s.track, s.qpos, s.qvel, s.action, s.reward, s.done, *extra,
            ordered=False,
        )
        return s._replace(t=jnp.zeros_like(s.t), on=on, track=track)

    def probe(s: TapState) -> TapState:
        on, track = io_callback(host_probe, result_shape, device, s.count, ordered=False)
        return s._replace(t=jnp.zeros_like(s.t), on=on, track=track)

    full = ts.t >= cfg.flush_every
    # 0: ring not full; 1: full and paused (probe); 2: full and recording (send the ring).
    branch = jnp.where(full, jnp.where(ts.on > 0, 2, 1), 0)
    return jax.lax.switch(branch, (keep, probe, send), ts)


def device_index() -> jax.Array:
    """This device's index inside brax's pmap; 0 outside a pmap (trace-time check)."""
    try:
        return jax.lax.axis_index(PMAP_AXIS)
    except (NameError, ValueError, KeyError):
        return jnp.zeros((), jnp.int32)


def physics(state):
    """The physics state of an env state: brax's ``pipeline_state``, or MuJoCo Playground's
    ``data`` (an mjx.Data)."""
    ps = getattr(state, "pipeline_state", None)
    return state.data if ps is None else ps


def positions(pipeline_state) -> tuple[jax.Array, jax.Array]:
    """(qpos, qvel) of a batched pipeline state, for every brax backend (and mjx.Data-like)."""
    if hasattr(pipeline_state, "q"):
        return pipeline_state.q, pipeline_state.qd
    return pipeline_state.qpos, pipeline_state.qvel


def mocap_poses(pipeline_state) -> tuple[jax.Array, jax.Array] | None:
    """(mocap_pos [...,nmocap,3], mocap_quat [...,nmocap,4]) of an mjx.Data-like physics state,
    None when it has none (brax's generalized, spring and positional backends)."""
    pos = getattr(pipeline_state, "mocap_pos", None)
    quat = getattr(pipeline_state, "mocap_quat", None)
    return None if pos is None or quat is None else (pos, quat)


class TapWrapper(Wrapper):
    """Records the tracked envs of a batched, episode-wrapped env. Place it inside AutoReset.

    ``on_reset(batch)`` is called at trace time with the per-device batch size.
    """

    def __init__(self, env, cfg: TapConfig, track, host_flush: HostFlush, host_probe: HostProbe,
                 initial_on: Callable[[], int] = lambda: RECORDING_ON, on_reset: Callable[[int], None] | None = None):
        super().__init__(env)
        self.cfg = cfg
        self.track = list(track)
        self.host_flush = host_flush
        self.host_probe = host_probe
        self._initial_on = initial_on
        self._on_reset = on_reset

    def reset(self, rng: jax.Array) -> State:
        state = self.env.reset(rng)
        if self._on_reset is not None:
            self._on_reset(int(state.done.shape[0]))
        info = dict(state.info)
        info[INFO_KEY] = tap_init(self.cfg, self.track, on=self._initial_on())
        return state.replace(info=info)

    def step(self, state: State, action: jax.Array) -> State:
        # Our state is unbatched: take it out before the inner (vmapped) step sees the info.
        info = dict(state.info)
        ts = info.pop(INFO_KEY)
        nstate = self.env.step(state.replace(info=info), action)
        ps = physics(nstate)
        q, qd = positions(ps)
        ts = tap_step(self.cfg, ts, q, qd, action, nstate.reward, nstate.done, device_index(),
                      self.host_flush, self.host_probe, mocap_poses(ps) if self.cfg.nmocap else None)
        info = dict(nstate.info)
        info[INFO_KEY] = ts
        return nstate.replace(info=info)


__all__ = ["TapConfig", "TapState", "TapWrapper", "tap_init", "tap_step", "device_index", "physics", "positions",
           "mocap_poses", "INFO_KEY"]
