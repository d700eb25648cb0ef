"""The background writer: the one thread that owns the StoreWriter.

It joins the devices' blocks of one flush into time rows, appends them, commits at least once per
second (a heartbeat while idle or paused), polls the store's control.json for pause/resume/track
requests from the viewer, and hands committed snapshots to the video log.

Any failure here (storage, or a bug) stops recording and never reaches training: one logged error,
the callbacks then return "off" so the device stops sending, the writer group is marked ``failed``
(so a viewer shows it), and ``Recorder.close()`` raises. A malformed control.json is not a failure:
it is ignored with one warning.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass

import numpy as np

from ..schema import BraxscopeError, StoreWriter, WriterFencedError
from ..schema.control import ControlFileError, parse_control
from ..schema.layout import CONTROL_FILE
from .sink import Shared, TrainBlock

log = logging.getLogger("braxscope")

_STOP = object()


@dataclass
class SnapshotItem:
    """One deterministic rollout: qpos [L,nq], qvel [L,nv], action [L,nu], reward/done [L]."""

    iteration: int
    env_step: int
    qpos: np.ndarray
    qvel: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    done: np.ndarray
    complete: bool
    wall_time: float
    mocap_pos: np.ndarray | None = None  # [L,nmocap,3] when the model has mocap bodies
    mocap_quat: np.ndarray | None = None


@dataclass
class PendingSnapshotItem:
    """A snapshot rollout still running on the device: ``pending.ready()`` (never blocks) and
    ``pending.result()`` (the arrays of :class:`SnapshotItem` plus ``seconds`` and
    ``dispatch_seconds``). The writer fetches it once it is done, so training never waits for it."""

    iteration: int
    env_step: int
    steps: int
    pending: object
    wall_time: float


@dataclass
class MetricsItem:
    env_step: int
    values: dict
    wall_time: float


@dataclass
class Layout:
    """How device blocks become store rows: slot (d, e) is column d*E + e."""

    devices: int
    slots_per_device: int
    envs_per_device: int
    env_offset: int  # this process's first global env index


class WriterThread(threading.Thread):
    def __init__(self, shared: Shared, writer: StoreWriter, layout: Layout, param_steps: list[int], *,
                 commit_every_s: float = 0.5, heartbeat_s: float = 1.0, control_poll_s: float = 0.25,
                 control_since: float = 0.0, video=None):
        super().__init__(name="braxscope-writer", daemon=True)
        self.shared = shared
        self.writer = writer
        self.layout = layout
        self.param_steps = param_steps
        self.commit_every_s = commit_every_s
        self.heartbeat_s = heartbeat_s
        self.control_poll_s = control_poll_s
        self._control_seen = control_since
        self._control_raw: bytes | None = None
        self.video = video
        self._pending: dict[int, dict[int, TrainBlock]] = {}
        self._last_emitted: int | None = None  # global count of the last emitted block
        self._dirty = False
        self._uncommitted_snapshots: list[int] = []
        self._rollouts: list[PendingSnapshotItem] = []  # dispatched, in iteration order
        self._state = "recording"
        self._uncommitted_rows = 0

    # ------------------------------------------------------------ loop

    def stop(self, timeout: float | None = None) -> None:
        self.shared.put(_STOP)
        self.join(timeout)

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as e:  # noqa: BLE001 - whatever kills this thread must be reported, not lost
            self._fail(e)

    def _loop(self) -> None:
        last_commit = last_poll = time.monotonic()
        while True:
            try:
                item = self.shared.queue.get(timeout=0.05)
            except queue.Empty:
                item = None
            if item is _STOP:
                break
            if item is not None:
                self._guarded(self._handle, item)
            if self._rollouts:
                self._guarded(self._fetch_rollouts, False)
            now = time.monotonic()
            if now - last_poll >= self.control_poll_s:
                last_poll = now
                self._guarded(self._poll_control)
            self._sync_state()
            if (self._dirty and now - last_commit >= self.commit_every_s) or now - last_commit >= self.heartbeat_s:
                self._guarded(self._commit)
                last_commit = now  # also after a failure: it is not retried every iteration
        self._guarded(self._finish)

    def _guarded(self, fn, *args) -> bool:
        """Run a storage operation; the first error stops recording (see :meth:`_fail`)."""
        if self.shared.failed:
            return False  # queued items are discarded; queued_rows was reset at the failure
        try:
            fn(*args)
            return True
        except Exception as e:  # noqa: BLE001 - any storage failure must stay out of training
            self._fail(e)
            return False

    def _fail(self, e: BaseException) -> None:
        """Recording is over: say so once (log, stats), and mark the writer group failed."""
        with self.shared.lock:
            if self.shared.failed:
                return
            self.shared.failed = True
            self.shared.stats.error = f"{type(e).__name__}: {e}"
            self.shared.queued_rows = 0
        log.error("braxscope: recording stopped (%s: %s); training continues; "
                  "the store is valid up to its last commit", type(e).__name__, e)
        if isinstance(e, WriterFencedError):
            return  # the group is another writer's now: nothing of ours may be published there
        try:
            self.writer.fail(f"{type(e).__name__}: {e}")
        except Exception as e2:  # noqa: BLE001 - the store may be gone; the heartbeat then goes stale
            log.debug("braxscope: could not mark the writer group failed: %s", e2)

    # ------------------------------------------------------------ items

    def _handle(self, item) -> None:
        if isinstance(item, TrainBlock):
            with self.shared.lock:
                self.shared.queued_rows -= item.rows
            self._join(item)
        elif isinstance(item, SnapshotItem):
            self.writer.append_snapshot(qpos=item.qpos, qvel=item.qvel, action=item.action, reward=item.reward,
                                        done=item.done, iteration=item.iteration, env_step=item.env_step,
                                        complete=item.complete, wall_time=item.wall_time,
                                        mocap_pos=item.mocap_pos, mocap_quat=item.mocap_quat)
            self._uncommitted_snapshots.append(item.iteration)
            self._dirty = True
        elif isinstance(item, PendingSnapshotItem):
            self._rollouts.append(item)
        elif isinstance(item, MetricsItem):
            self.writer.append_metrics(item.env_step, item.values, wall_time=item.wall_time)
            self._dirty = True

    def _fetch_rollouts(self, wait: bool) -> None:
        """Append the finished snapshot rollouts, oldest first (``wait``: all of them)."""
        while self._rollouts and (wait or self._rollouts[0].pending.ready()):
            item = self._rollouts.pop(0)
            try:
                out = item.pending.result()
            except Exception as e:  # noqa: BLE001 - a failed rollout loses that snapshot only
                log.warning("braxscope: snapshot rollout of iteration %d failed: %s", item.iteration, e)
                continue
            with self.shared.lock:
                self.shared.stats.snapshot_seconds.append(out.pop("seconds"))
                self.shared.stats.snapshot_dispatch_seconds.append(out.pop("dispatch_seconds"))
            L = out["reward"].shape[0]
            complete = bool(L and out["done"][-1]) or L == item.steps
            self._handle(SnapshotItem(iteration=item.iteration, env_step=item.env_step, complete=complete,
                                      wall_time=item.wall_time, **out))

    def _join(self, block: TrainBlock) -> None:
        """Collect one block per device for the same step count; emit when complete."""
        group = self._pending.setdefault(block.count, {})
        group[block.device] = block
        if len(group) < self.layout.devices:
            # Bound what waits for a missing device: older incomplete groups are given up.
            while len(self._pending) > 4:
                oldest = min(self._pending)
                self._drop_group(oldest)
            return
        del self._pending[block.count]
        for c in [c for c in self._pending if c < block.count]:
            self._drop_group(c)
        self._emit(block.count, group)

    def _drop_group(self, count: int) -> None:
        group = self._pending.pop(count)
        lost = sum(b.rows for b in group.values())
        with self.shared.lock:
            self.shared.stats.rows_dropped += lost
            self.shared.add_drop(count, lost)

    def _emit(self, count: int, group: dict[int, TrainBlock]) -> None:
        lay = self.layout
        any_block = next(iter(group.values()))
        K, E = any_block.reward.shape
        D = lay.devices
        S = self.writer.train_slots
        nq, nv, nu = self.writer.sizes["nq"], self.writer.sizes["nv"], self.writer.sizes["nu"]
        qpos = np.full((K, S, nq), np.nan, np.float32)
        qvel = np.full((K, S, nv), np.nan, np.float32)
        action = np.full((K, S, nu), np.nan, np.float32)
        reward = np.full((K, S), np.nan, np.float32)
        done = np.zeros((K, S), np.uint8)
        env_id = np.full((K, S), -1, np.int32)
        nm = self.writer.sizes.get("nmocap", 0)
        mocap = {"mocap_pos": np.full((K, S, nm, 3), np.nan, np.float32),
                 "mocap_quat": np.full((K, S, nm, 4), np.nan, np.float32)} if nm else {}
        devices = np.zeros(S, np.int32)
        for d in range(D):
            b = group.get(d)
            lo = d * E
            devices[lo : lo + E] = d
            if b is None:
                continue
            qpos[:, lo : lo + E] = b.qpos
            qvel[:, lo : lo + E] = b.qvel
            action[:, lo : lo + E] = b.action
            reward[:, lo : lo + E] = b.reward
            done[:, lo : lo + E] = b.done
            for name, rows in mocap.items():
                if getattr(b, name) is not None:
                    rows[:, lo : lo + E] = getattr(b, name)
            valid = (b.track >= 0) & (b.track < lay.envs_per_device)
            env_id[:, lo : lo + E] = np.where(valid, lay.env_offset + d * lay.envs_per_device + b.track, -1)
        counts = np.arange(count - K + 1, count + 1, dtype=np.int64)
        env_step = counts * self.shared.steps_per_count
        # Rows between policy_params_fn calls n and n+1 come from the policy of snapshot n.
        iteration = np.maximum(np.searchsorted(np.asarray(self.param_steps, np.int64), env_step, side="left") - 1, 0)
        with self.shared.lock:
            dropped = self.shared.take_drops(count)
        if dropped or (self._last_emitted is not None and count - K != self._last_emitted):
            # Rows are missing before this block: dropped under back-pressure (counted), or the
            # recorder was paused (not counted as dropped).
            self.writer.mark_gap(dropped)
        self._last_emitted = count
        self.writer.append_train(qpos=qpos, qvel=qvel, action=action, reward=reward, done=done, env_id=env_id,
                                 env_step=env_step, iteration=iteration.astype(np.int32),
                                 wall_time=min(b.wall_time for b in group.values()), devices=devices, **mocap)
        self._uncommitted_rows += int((env_id >= 0).sum())
        self._dirty = True

    # ------------------------------------------------------------ control, state, commit

    def _poll_control(self) -> None:
        # One small read through the store's storage (a local file, or a GET); parsed when it changed.
        try:
            raw = self.writer.storage.get(CONTROL_FILE)
        except (OSError, BraxscopeError):
            return  # unreadable now (a lagging share, a network blip): asked again at the next poll
        if raw == self._control_raw:
            return
        self._control_raw = raw
        if raw is None:
            return  # absent: nothing is asked
        try:
            doc = parse_control(raw)
        except ControlFileError as e:
            # Once per version of the file (the poll re-reads it only when it changes).
            log.warning("braxscope: ignoring %s; recording goes on as before", e)
            return
        if doc["updated"] <= self._control_seen:
            return  # older than this recorder: a previous run's request
        self._control_seen = doc["updated"]
        with self.shared.lock:
            self.shared.recording = doc["recording"]
            if doc["track"] is not None:
                self.shared.set_track(doc["track"])

    def _sync_state(self) -> None:
        state = "recording" if self.shared.recording else "paused"
        if state != self._state and not self.shared.failed:
            self._state = state
            self.writer.set_state(state)
            self._dirty = True

    def _commit(self) -> None:
        self.writer.commit()
        self._dirty = False
        with self.shared.lock:
            self.shared.stats.commits += 1
            self.shared.stats.rows_recorded += self._uncommitted_rows
        self._uncommitted_rows = 0
        if self._uncommitted_snapshots:
            done, self._uncommitted_snapshots = self._uncommitted_snapshots, []
            if self.video is not None:
                for it in done:
                    try:
                        self.video.on_snapshot(it)
                    except Exception as e:  # noqa: BLE001 - video is optional; recording goes on
                        log.warning("braxscope: video log failed at iteration %d: %s", it, e)

    def _finish(self) -> None:
        self._fetch_rollouts(True)
        # Blocks still waiting for a device are complete enough to keep: emit them in order.
        for c in sorted(self._pending):
            self._emit(c, self._pending.pop(c))
        self._commit()
        self.writer.close()


__all__ = ["WriterThread", "SnapshotItem", "PendingSnapshotItem", "MetricsItem", "Layout"]
