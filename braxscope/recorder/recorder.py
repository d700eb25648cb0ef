"""``braxscope.Recorder``: record a brax ``ppo.train`` run through its public hooks.

    rec = braxscope.Recorder("runs/ant.zarr", env, track=[0, 1, 2, 3])
    make_policy, params, metrics = ppo.train(environment=env, num_timesteps=..., **rec.ppo_hooks())
    rec.close()

Three streams: the tracked training envs (tap wrapper, every step, batched flushes), a policy
snapshot per ``policy_params_fn`` call, and every ``progress_fn`` metric. One background thread
owns the store; the training side only copies and enqueues.
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import time
import weakref
from pathlib import Path
from typing import Callable, Sequence

import jax
import numpy as np

from ..schema import StoreWriter
from ..schema.storage import is_url
from ..schema.errors import BraxscopeError, NotAStoreError
from . import playground
from . import ppo_args as _ppo_args
from .randomization import changed_fields, nominal_model
from .sink import RecorderStats, Shared
from .snapshot import SnapshotRunner, check_snapshot_device
from .tap import TapConfig, TapWrapper
from .wrapping import HookCompositionError, insert_tap, plain_chain, tapped_chain
from .writer_thread import Layout, MetricsItem, PendingSnapshotItem, WriterThread

log = logging.getLogger("braxscope")


class RecorderStateError(BraxscopeError):
    """The recorder was used out of order (closed, or reused for a second run)."""


class RecordingFailedError(BraxscopeError):
    """Recording stopped before the end (storage failed, or the writer thread died); training went on."""


def _env_name(env) -> str:
    if playground.is_playground_env(env):
        return playground.env_name_of(env) or type(getattr(env, "unwrapped", env)).__name__
    from brax import envs as brax_envs

    cls = type(getattr(env, "unwrapped", env))
    for name, c in getattr(brax_envs, "_envs", {}).items():
        if c is cls:
            return name
    return cls.__name__


def _mj_model(env):
    inner = getattr(env, "unwrapped", env)
    model = getattr(inner, "mj_model", None)  # MuJoCo Playground envs
    if model is None:
        model = inner.sys.mj_model
    return model


def _close_at_exit(ref) -> None:
    rec = ref()
    if rec is not None:
        try:
            rec.close()
        except RecordingFailedError as e:  # already logged when it happened; say it once more, no traceback
            log.error("braxscope: %s", e)


class Recorder:
    """Record chosen envs of a brax ``ppo.train`` run into a braxscope store.

    Args:
      path: the store directory (created if absent; an existing store gets a new writer group).
      env: the unwrapped brax env that is trained (its model is embedded in the store).
      track: env indices to record, within each device's batch (with D devices, D x len(track)
        envs are recorded, each labelled with its device).
      snapshot_steps: length of each policy snapshot rollout; default one episode (episode_length).
      snapshots: record a policy snapshot at every ``policy_params_fn`` call.
      flush_every: ring buffer rows (env steps) per device-to-host transfer. Default: the largest
        divisor of a PPO training step's env steps that is <= 128 and a multiple of unroll_length.
      queue_rows: bound of the host queue in env-rows (time rows x tracked envs); beyond it rows are
        dropped, counted and marked as a gap instead of stalling training.
      video_every: render a video of every Nth snapshot (needs braxscope.recorder.video_log).
      env_name: name stored in the run metadata (default: the brax registry name of ``env``).
      config: extra run metadata; the PPO keyword arguments are added automatically.
      process_index: this process's writer group index (default ``jax.process_index()``).
      snapshot_seed: the fixed reset key of the snapshot rollouts.
      snapshot_device: where snapshot rollouts run: 'cpu' (default: the host CPU, so they never
        queue on the accelerator that trains) or 'default' (JAX's default device).
      compact: on a clean close, compact this writer group into sharded arrays (``braxscope
        compact``: a few files instead of one per 256 rows); False leaves it as recorded.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        env,
        track: Sequence[int] = (0, 1, 2, 3),
        *,
        snapshot_steps: int | None = None,
        snapshots: bool = True,
        flush_every: int | None = None,
        queue_rows: int = 65536,
        video_every: int | None = None,
        env_name: str | None = None,
        config: dict | None = None,
        process_index: int | None = None,
        snapshot_seed: int = 0,
        snapshot_device: str = "cpu",
        commit_every_s: float = 0.5,
        compact: bool = True,
    ):
        # A path (local disk or shared filesystem) or an s3:// / gs:// URL (braxscope[remote]).
        self.path = path if is_url(path) else Path(path)
        if not is_url(path) and self.path.exists() and (
                not self.path.is_dir() or (any(self.path.iterdir()) and not (self.path / "zarr.json").exists())):
            raise NotAStoreError(f"{self.path} exists and is not a braxscope store: choose an empty or new path")
        track = [int(i) for i in track]
        if not track or min(track) < 0:
            raise ValueError("track must list at least one env index >= 0")
        self.env = env
        self.track = track
        self.snapshot_steps = snapshot_steps
        self.snapshots = bool(snapshots)
        self.flush_every = flush_every
        self.video_every = video_every
        self.env_name = env_name or _env_name(env)
        self.backend = str(getattr(getattr(env, "unwrapped", env), "backend", "") or "")
        self.suite = "playground" if playground.is_playground_env(env) else "brax"
        self.impl = playground.impl_of(env)
        self.config = dict(config or {})
        # A store that holds a run of another model or env is refused now, before training starts.
        StoreWriter.check_can_join(path, _mj_model(env), env_name=self.env_name, backend=self.backend)
        self.process_index = jax.process_index() if process_index is None else int(process_index)
        self.snapshot_seed = snapshot_seed
        self.compact = bool(compact)
        check_snapshot_device(snapshot_device)  # before anything is created
        self.snapshot_device = snapshot_device
        self.commit_every_s = commit_every_s
        self._shared = Shared(len(track), track, queue_rows)
        self._writer: StoreWriter | None = None
        self._thread: WriterThread | None = None
        self._snap: SnapshotRunner | None = None
        self._param_steps: list[int] = []
        self._wrap_calls = 0
        self._closed = False
        self._started_at = time.time()
        self.tap_config: TapConfig | None = None
        self.layout: Layout | None = None
        self.ppo_args: dict | None = None
        ref = weakref.ref(self)
        atexit.register(_close_at_exit, ref)

    # ------------------------------------------------------------ public API

    def ppo_hooks(
        self,
        progress_fn: Callable | None = None,
        policy_params_fn: Callable | None = None,
        wrap_env_fn: Callable | None = None,
        randomization_fn: Callable | None = None,
    ) -> dict:
        """Keyword arguments for ``ppo.train``. Your own hooks, passed here, still run (yours first);
        your ``wrap_env_fn`` still builds the chain (the tap goes inside its AutoReset wrapper)."""
        if self._closed:
            raise RecorderStateError("this Recorder is closed: create a new one for another run")

        def _wrap(env, episode_length=1000, action_repeat=1, randomization_fn=None):
            return self._wrap_env(env, episode_length, action_repeat, randomization_fn, wrap_env_fn)

        def _params(step, make_policy, params):
            if policy_params_fn is not None:
                policy_params_fn(step, make_policy, params)
            self._on_params(int(step), make_policy, params)

        def _progress(step, metrics):
            if progress_fn is not None:
                progress_fn(step, metrics)
            self._on_progress(int(step), metrics)

        hooks = {"wrap_env_fn": _wrap, "policy_params_fn": _params, "progress_fn": _progress}
        if randomization_fn is not None:
            hooks["randomization_fn"] = randomization_fn
        return hooks

    def pause(self) -> None:
        """Stop recording training rows (within one flush); the device sends only a scalar probe."""
        with self._shared.lock:
            self._shared.recording = False

    def resume(self) -> None:
        with self._shared.lock:
            self._shared.recording = True

    @property
    def recording(self) -> bool:
        return self._shared.active

    def set_track(self, track: Sequence[int]) -> None:
        """Record other envs from the next flush on (at most as many as at creation; no recompile)."""
        track = [int(i) for i in track]
        if len(track) > self._shared.slots or (track and min(track) < 0):
            raise ValueError(f"set_track takes up to {self._shared.slots} env indices >= 0 "
                             f"(the count fixed at creation)")
        with self._shared.lock:
            self._shared.set_track(track)

    @property
    def stats(self) -> RecorderStats:
        """Live counters: rows_recorded, rows_dropped, callbacks, probes, commits, snapshots,
        snapshot_seconds, snapshot_dispatch_seconds, last_env_step, error."""
        return self._shared.stats

    @property
    def writer_id(self) -> str | None:
        return None if self._writer is None else self._writer.writer_id

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, commit, release the store. Safe to call twice.

        Raises :class:`RecordingFailedError` (once) when recording stopped early: the store then
        holds the rows committed before the failure, and its writer group is marked failed."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._thread.stop(timeout)
            if self._thread.is_alive():
                log.error("braxscope: the writer thread did not finish within %.0f s; "
                          "the store is valid up to its last commit", timeout)
            video = self._thread.video
            if video is not None:
                try:
                    video.close(timeout_s=timeout)
                except Exception as e:  # noqa: BLE001
                    log.warning("braxscope: video log close failed: %s", e)
        if self._shared.failed:
            s = self._shared.stats
            raise RecordingFailedError(f"recording stopped early ({s.error}); {s.rows_recorded:,} env-rows were "
                                       f"committed to {self.path} before it (the store is valid up to there)")
        # Compaction rewrites files in place: local stores (and shared filesystems) only.
        if (self.compact and self.writer_id is not None and not is_url(self.path)
                and (self._thread is None or not self._thread.is_alive())):
            self._compact()

    def _compact(self) -> None:
        from ..schema.compact import compact_writer

        try:
            result = compact_writer(self.path, self.writer_id)
            log.info("braxscope: %s", result.line())
        except Exception as e:  # noqa: BLE001  (the recorded rows stay as they are: nothing is lost)
            log.warning("braxscope: compaction of %s failed (%s); the store stays as recorded", self.path, e)

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ hooks

    def _wrap_env(self, env, episode_length, action_repeat, randomization_fn, user_wrap):
        call = self._wrap_calls
        self._wrap_calls += 1
        if call >= 2:
            raise RecorderStateError("a Recorder records one ppo.train run: "
                                     "create a new Recorder (or rec.ppo_hooks() per run)")
        if call == 1:
            # ppo.train wraps the eval env second (batch num_eval_envs, not pmapped): not recorded.
            if user_wrap is not None:
                return user_wrap(env, episode_length=episode_length, action_repeat=action_repeat,
                                 randomization_fn=randomization_fn)
            return plain_chain(env, episode_length, action_repeat, randomization_fn)
        if self.suite == "playground":
            playground.require("recording a MuJoCo Playground env")  # before the store is created
        found = _ppo_args.find_ppo_train_args()
        self._start(found, int(episode_length), int(action_repeat), randomization_fn)
        make_tap = self._make_tap
        if user_wrap is not None:
            chain = user_wrap(env, episode_length=episode_length, action_repeat=action_repeat,
                              randomization_fn=randomization_fn)
            return insert_tap(chain, make_tap)
        return tapped_chain(env, episode_length, action_repeat, randomization_fn, make_tap)

    def _make_tap(self, inner):
        shared = self._shared
        return TapWrapper(inner, self.tap_config, self.track, shared.on_flush, shared.on_probe,
                          initial_on=lambda: 1 if shared.active else 0, on_reset=self._on_tap_reset)

    def _on_tap_reset(self, batch: int) -> None:
        # Trace time: the per-device batch fixes env ids and the global step per tap step.
        lay = self.layout
        lay.envs_per_device = batch
        lay.env_offset = self.process_index * batch * lay.devices
        if max(self.track) >= batch:
            log.warning("braxscope: track %s has indices beyond the %d envs per device; those slots stay empty",
                        self.track, batch)
        self._shared.steps_per_count = batch * lay.devices * self._process_count * self._action_repeat

    def _start(self, found: dict | None, episode_length: int, action_repeat: int, randomization_fn=None) -> None:
        args = found["args"] if found else {}
        local = found["locals"] if found else {}
        devices = int(local.get("local_devices_to_use") or jax.local_device_count())
        self._process_count = int(local.get("process_count") or jax.process_count())
        self._action_repeat = action_repeat
        self.ppo_args = args or None
        k = int(self.flush_every) if self.flush_every else _ppo_args.choose_flush_every(args or None)
        model = _mj_model(self.env)
        self.tap_config = TapConfig(k, len(self.track), model.nq, model.nv, model.nu, model.nmocap)
        self.layout = Layout(devices=devices, slots_per_device=len(self.track), envs_per_device=0, env_offset=0)
        config = {k2: v for k2, v in args.items() if k2 not in ("environment", "eval_env")}
        config.update(self.config)
        config["braxscope"] = {"track": self.track, "flush_every": k, "devices": devices,
                               "snapshots": self.snapshots, "snapshot_steps": self.snapshot_steps or episode_length,
                               "snapshot_device": self.snapshot_device}
        self._writer = StoreWriter.create(
            self.path, model, env_name=self.env_name, backend=self.backend, dt=float(self.env.dt),
            train_slots=len(self.track) * devices, config=config, process_index=self.process_index,
            suite=self.suite, impl=self.impl, randomization=self._randomization(randomization_fn, devices),
        )
        if self.snapshots:
            self._snap = SnapshotRunner(self.env, self.snapshot_steps or episode_length, seed=self.snapshot_seed,
                                        device=self.snapshot_device, nmocap=model.nmocap)
        self._thread = WriterThread(self._shared, self._writer, self.layout, self._param_steps,
                                    commit_every_s=self.commit_every_s, control_since=self._started_at,
                                    video=self._make_video())
        self._thread.start()

    def _randomization(self, randomization_fn, devices: int) -> dict | None:
        """The tracked envs' model changes of a domain-randomized run (every device's batch is
        randomized alike, so the same values for each device's copy of a tracked index)."""
        if randomization_fn is None:
            return None
        batch, fields = changed_fields(randomization_fn, nominal_model(self.env), self.track)
        batch = batch or 1
        offset = self.process_index * batch * devices
        env_ids, rows = [], []
        for d in range(devices):
            for i, t in enumerate(self.track):
                if t < batch:
                    env_ids.append(offset + d * batch + t)
                    rows.append(i)
        return {"env_id": env_ids, "fields": {f: v[rows] for f, v in fields.items()}}

    def _make_video(self):
        if not self.video_every:
            return None
        if importlib.util.find_spec("braxscope.recorder.video_log") is None:
            log.warning("braxscope: video_every needs braxscope.recorder.video_log, which is not installed; no videos")
            return None
        from .video_log import VideoLog

        return VideoLog(str(self.path), every=int(self.video_every))

    def _on_params(self, step: int, make_policy, params) -> None:
        self._param_steps.append(step)
        if self._snap is None or self._closed or self._shared.failed:
            return
        iteration = len(self._param_steps) - 1
        # Dispatched, not awaited: the writer thread fetches the rollout when it is done.
        pending = self._snap.start(make_policy, params)
        with self._shared.lock:
            self._shared.stats.snapshots += 1
        self._shared.put(PendingSnapshotItem(iteration=iteration, env_step=step, steps=self._snap.steps,
                                             pending=pending, wall_time=time.time()))

    def _on_progress(self, step: int, metrics) -> None:
        if self._thread is None or self._closed:
            return
        values = {}
        for name, v in dict(metrics).items():
            try:
                values[name] = float(np.asarray(v).reshape(-1)[0])
            except (TypeError, ValueError, IndexError):
                continue
        # The recorder's own cost and health, on the same curve.
        st = self._shared.stats
        if st.snapshot_seconds:
            values["braxscope/snapshot_s"] = float(st.snapshot_seconds[-1])
        values["braxscope/rows_recorded"] = float(st.rows_recorded)
        values["braxscope/rows_dropped"] = float(st.rows_dropped)
        self._shared.put(MetricsItem(env_step=step, values=values, wall_time=time.time()))


__all__ = ["Recorder", "RecorderStateError", "RecordingFailedError", "HookCompositionError"]
