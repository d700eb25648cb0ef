"""The host end of the tap's callbacks: copy to numpy, enqueue, return the recording flag.

These functions run on JAX runtime threads (one call per device per flush, possibly
concurrently), so they only copy, count under a lock and enqueue. They never call JAX (re-entrant
JAX calls from a callback can deadlock) and never block: when the queue holds more than its bound
of rows, the block is dropped and counted, and the writer thread marks the gap.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class TrainBlock:
    """K rows of one device's tracked envs. Shapes: qpos [K,E,nq] ... done [K,E]; ``count`` is the
    device's step count (since its last reset) at the block's last row."""

    device: int
    count: int
    track: np.ndarray
    qpos: np.ndarray
    qvel: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    done: np.ndarray
    wall_time: float
    mocap_pos: np.ndarray | None = None  # [K,E,nmocap,3] when the model has mocap bodies
    mocap_quat: np.ndarray | None = None  # [K,E,nmocap,4]

    @property
    def rows(self) -> int:
        return int(self.reward.shape[0] * self.reward.shape[1])


@dataclass
class RecorderStats:
    """Counters shared by the callbacks, the writer thread and the user (read them, don't write)."""

    callbacks: int = 0  # flushes that carried a ring buffer to the host
    probes: int = 0  # scalar flag probes (paused, or recording stopped)
    rows_recorded: int = 0  # env-rows committed to the store (time rows x tracked envs)
    rows_dropped: int = 0  # env-rows lost because storage lagged (not counting paused time)
    commits: int = 0
    snapshots: int = 0
    snapshot_seconds: list = field(default_factory=list)  # each snapshot rollout, dispatch to result
    snapshot_dispatch_seconds: list = field(default_factory=list)  # of which the training thread waited
    last_env_step: int = 0  # latest global env step seen by a callback
    error: str | None = None  # the storage error that stopped recording, if any


class Shared:
    """State shared between the recorder API, the JAX callbacks and the writer thread."""

    def __init__(self, slots: int, track, queue_rows: int):
        self.lock = threading.Lock()
        self.queue: queue.Queue = queue.Queue()
        self.queue_rows = int(queue_rows)
        self.queued_rows = 0
        # (global count, env-rows) of dropped blocks, so the writer marks each gap where it was.
        self.drops: list[tuple[int, int]] = []
        self.recording = True
        self.failed = False
        self.slots = slots
        self.track = np.full(slots, -1, np.int32)
        self.set_track(track)
        self.stats = RecorderStats()
        self.steps_per_count = 0  # global env steps per tap step (set when the tap is built)
        self.count_base: dict[int, int] = {}
        self.last_count: dict[int, int] = {}

    def set_track(self, track) -> None:
        t = np.full(self.slots, -1, np.int32)
        tr = np.asarray(list(track), np.int32)[: self.slots]
        t[: tr.size] = tr
        self.track = t

    def add_drop(self, count: int, rows: int) -> None:
        """Lock held. Bounded: a long outage merges old entries (their rows still add up)."""
        self.drops.append((count, rows))
        if len(self.drops) > 1024:
            (_c0, r0), (c1, r1) = self.drops[0], self.drops[1]
            self.drops[:2] = [(c1, r0 + r1)]

    def take_drops(self, before_count: int) -> int:
        """Lock held. Env-rows dropped before ``before_count``, removed from the list."""
        n = sum(r for c, r in self.drops if c < before_count)
        self.drops = [(c, r) for c, r in self.drops if c >= before_count]
        return n

    @property
    def active(self) -> bool:
        return self.recording and not self.failed

    def global_count(self, device: int, count: int) -> int:
        """Steps since training began on this device, across env resets (brax resets the env state
        between evals when num_resets_per_eval > 0; the device counter restarts then). Lock held."""
        last = self.last_count.get(device, 0)
        if count < last:
            self.count_base[device] = self.count_base.get(device, 0) + last
        self.last_count[device] = count
        return self.count_base.get(device, 0) + count

    # ------------------------------------------------------------ callbacks (runtime threads)

    def on_flush(self, device, count, track, qpos, qvel, action, reward, done, mocap_pos=None, mocap_quat=None):
        device, count = int(device), int(count)
        with self.lock:
            self.stats.callbacks += 1
            g = self.global_count(device, count)
            self.stats.last_env_step = max(self.stats.last_env_step, g * self.steps_per_count)
            active = self.active
            if active:
                k, e = np.shape(reward)
                rows = k * e
                if self.queued_rows + rows > self.queue_rows:
                    self.stats.rows_dropped += rows
                    self.add_drop(g, rows)
                    block = None
                else:
                    self.queued_rows += rows
                    # np.array copies: the runtime may reuse the callback's buffers.
                    block = TrainBlock(device, g, np.array(track), np.array(qpos), np.array(qvel), np.array(action),
                                       np.array(reward), np.array(done), time.time(),
                                       None if mocap_pos is None else np.array(mocap_pos),
                                       None if mocap_quat is None else np.array(mocap_quat))
            else:
                block = None
            out = (np.int32(1 if active else 0), self.track.copy())
        if block is not None:
            self.queue.put(block)
        return out

    def on_probe(self, device, count):
        device, count = int(device), int(count)
        with self.lock:
            self.stats.probes += 1
            g = self.global_count(device, count)
            self.stats.last_env_step = max(self.stats.last_env_step, g * self.steps_per_count)
            return np.int32(1 if self.active else 0), self.track.copy()

    # ------------------------------------------------------------ main thread

    def put(self, item) -> None:
        """Snapshots, metrics and control items: small and rare, never dropped."""
        self.queue.put(item)


__all__ = ["TrainBlock", "RecorderStats", "Shared"]
