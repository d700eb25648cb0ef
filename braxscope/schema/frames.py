"""Frames: the rows of one episode, the one shape every part of braxscope hands them around in.

The reader returns it, HDF5 export and import go through it, and the viewer plays it. Shapes
(L rows): qpos [L,nq] float32, qvel [L,nv], action [L,nu], reward [L] float32, done [L] bool,
env_step [L] int64 (global env step), iteration [L] int32, wall_time [L] float64 (seconds since
the epoch, when the row was recorded), flags [L] uint8 (``layout.FLAG_*``, e.g. a gap before it);
mocap_pos [L,nmocap,3] and mocap_quat [L,nmocap,4] float32 when the model has mocap bodies, else None.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass
class Frames:
    """Rows of one episode. Shapes: qpos [L,nq], qvel [L,nv], action [L,nu], the rest [L]."""

    qpos: np.ndarray
    qvel: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    done: np.ndarray
    env_step: np.ndarray
    iteration: np.ndarray
    wall_time: np.ndarray
    flags: np.ndarray | None = None  # None: no flags (zeros), for rows from outside a store
    mocap_pos: np.ndarray | None = None  # None: the model has no mocap bodies (or none recorded)
    mocap_quat: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.done.dtype != np.bool_:
            self.done = self.done.astype(bool)
        if self.flags is None:
            self.flags = np.zeros(self.reward.shape[0], np.uint8)
        n = {f.name: getattr(self, f.name).shape[0] for f in fields(self) if getattr(self, f.name) is not None}
        if len(set(n.values())) > 1:
            raise ValueError(f"the columns of an episode's rows must have the same length, got {n}")

    def __len__(self) -> int:
        return int(self.reward.shape[0])

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in fields(self) if getattr(self, f.name) is not None)

    def concat(self, more: "Frames") -> "Frames":
        """These rows followed by ``more`` (a growing episode's new rows)."""
        parts = [(getattr(self, f.name), getattr(more, f.name)) for f in fields(self)]
        return Frames(*(None if a is None else np.concatenate([a, b]) for a, b in parts))


__all__ = ["Frames"]
