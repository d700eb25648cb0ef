"""Episode cutting: the train stream's rows into episodes, a pure function of rows and state.

The train stream holds E tracked slots side by side; each slot records one env at a time (its
``env_id``; -1: the slot is unused in that row). Per slot:

- an episode is a run of rows of one env; its last row is the one holding ``done`` (the
  terminal frame), and the next row of the slot starts the next episode;
- a change of env id, an unused row, a gap (rows dropped or paused) or the end of recording
  ends the open episode as cut (``complete`` False);
- an episode is complete only when it ends at done *and* began right after a done of its slot
  (or at training's reset): one that began after a cut holds the end of an episode, not all of
  it (``clean``).

An episode's return is the sum of its rewards (float64; NaN once a reward is NaN). Rows come in
appends of any size: an episode may span many, so the episodes still open are carried in
:class:`Segments`, which the writer publishes in its commit record (``open_episodes``) and
which :func:`segment` and :func:`cut` take and return without changing it. No disk, no writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


# Named tuples, not dataclasses: immutable values all the same, and a new one per slot per
# append (the return so far changes) costs about 1 us instead of 7.
class OpenEpisode(NamedTuple):
    """An episode whose end is not recorded yet. ``start``: its first row in the train stream."""

    start: int
    env_id: int
    iteration: int
    env_step: int
    wall_time: float
    clean: bool  # began right after a done of its slot (or at training's reset)
    ret: float = 0.0  # the return of its rows so far
    device: int = 0


class ClosedEpisode(NamedTuple):
    """A finished (``complete``) or cut episode: its catalog entry. Rows [start, start+length)."""

    slot: int
    start: int
    length: int
    env_id: int
    device: int
    iteration: int
    env_step: int
    ret: float
    complete: bool
    wall_time: float


@dataclass(frozen=True)
class Segments:
    """What carries over between appends: per slot, the open episode (or None) and whether the
    slot's next episode begins clean."""

    open: tuple[OpenEpisode | None, ...]
    clean: tuple[bool, ...]

    @classmethod
    def new(cls, slots: int) -> "Segments":
        """A new writer's state: nothing open, and every slot starts at training's reset (clean)."""
        return cls((None,) * slots, (True,) * slots)

    @property
    def slots(self) -> int:
        return len(self.open)

    def to_record(self) -> list[dict | None]:
        """The open episodes as the commit record stores them (JSON; one entry per slot)."""
        return [None if ep is None else {"slot": slot, "start": ep.start, "env_id": ep.env_id,
                                         "iteration": ep.iteration, "env_step": ep.env_step,
                                         "wall_time": ep.wall_time, "clean": ep.clean, "device": ep.device,
                                         # JSON has no NaN; diverged physics can make one.
                                         "ret": ep.ret if np.isfinite(ep.ret) else None}
                for slot, ep in enumerate(self.open)]

    @classmethod
    def from_record(cls, record: list | None, slots: int) -> "Segments":
        """The state a commit record describes. Its slots' next episodes are not clean: the rows
        after the record was published are lost, so whatever comes next began after a gap."""
        open_: list[OpenEpisode | None] = [None] * slots
        for entry in record or []:
            if entry is None:
                continue
            ret = entry.get("ret")
            open_[int(entry["slot"])] = OpenEpisode(
                start=int(entry["start"]), env_id=int(entry["env_id"]), iteration=int(entry["iteration"]),
                env_step=int(entry["env_step"]), wall_time=float(entry.get("wall_time", 0.0)),
                clean=bool(entry.get("clean", False)), ret=np.nan if ret is None else float(ret),
                device=int(entry.get("device", 0)))
        return cls(tuple(open_), (False,) * slots)


def _closed(slot: int, ep: OpenEpisode, end: int, ret: float, complete: bool) -> ClosedEpisode:
    return ClosedEpisode(slot=slot, start=ep.start, length=end - ep.start, env_id=ep.env_id, device=ep.device,
                         iteration=ep.iteration, env_step=ep.env_step, ret=ret, complete=complete,
                         wall_time=ep.wall_time)


def segment(
    state: Segments,
    *,
    first: int,
    reward: np.ndarray,
    done: np.ndarray,
    env_id: np.ndarray,
    env_step: np.ndarray,
    iteration: np.ndarray,
    wall_time: np.ndarray,
    devices: np.ndarray | None = None,
    envs_per_device: int = 0,
) -> tuple[list[ClosedEpisode], Segments]:
    """Cut k new rows into episodes: (the episodes they close, the state after them).

    ``first``: the train-stream index of the first row. Shapes: reward, done, env_id [k,E];
    env_step, iteration, wall_time [k] (a new episode takes its row's values). ``devices`` [E]:
    each slot's device; without it an env's device is ``env_id // envs_per_device`` (0 when
    ``envs_per_device`` is 0). Closed episodes are in order per slot, slot by slot.
    """
    k = int(np.shape(reward)[0])
    closed: list[ClosedEpisode] = []
    if k == 0:
        return closed, state
    E = state.slots
    done = np.asarray(done).astype(bool)
    env_id = np.asarray(env_id)
    # Only "event" rows (a done, a change of env, an unused slot, the row after a done) need
    # Python; the rows between them only add to the open episode's return. Found for every slot
    # at once, slot-major (transposed), so each slot's events are one run of the list.
    prev = np.empty((k, E), np.int64)
    prev[0] = [ep.env_id if ep is not None else -2 for ep in state.open]
    prev[1:] = env_id[:-1]
    event = (env_id != prev) | (env_id < 0) | done
    event[1:] |= done[:-1]
    ev_slot, ev_row = np.nonzero(event.T)
    bounds = np.searchsorted(ev_slot, np.arange(E + 1)).tolist()
    ev_row = ev_row.tolist()
    rewards = np.asarray(reward).T.astype(np.float64)  # [E, k]: each slot's rewards contiguous
    new_open, new_clean = list(state.open), list(state.clean)
    for slot in range(E):
        ep, clean = state.open[slot], state.clean[slot]
        ret = ep.ret if ep is not None else 0.0
        eid, dn, rew = env_id[:, slot], done[:, slot], rewards[slot]
        pos = 0
        for i in ev_row[bounds[slot]:bounds[slot + 1]] + [k]:
            if i > pos and ep is not None:
                ret += float(rew[pos:i].sum())
            if i == k:
                break
            e = int(eid[i])
            if ep is not None and e != ep.env_id:  # another env, or an unused row: cut
                closed.append(_closed(slot, ep, first + i, ret, False))
                ep, clean = None, False
            if e >= 0:
                if ep is None:
                    device = int(devices[slot]) if devices is not None else (
                        e // envs_per_device if envs_per_device else 0)
                    ep = OpenEpisode(first + i, e, int(iteration[i]), int(env_step[i]), float(wall_time[i]),
                                     clean=clean, device=device)
                    ret = 0.0
                ret += float(rew[i])
                if dn[i]:
                    closed.append(_closed(slot, ep, first + i + 1, ret, ep.clean))
                    ep, clean = None, True
            pos = i + 1
        new_open[slot] = None if ep is None else ep._replace(ret=ret)
        new_clean[slot] = clean
    return closed, Segments(tuple(new_open), tuple(new_clean))


def cut(state: Segments, end: int) -> tuple[list[ClosedEpisode], Segments]:
    """End every open episode as cut at row ``end`` (a gap, a close, a resume after a crash):
    (the cut episodes, the state after, in which every slot's next episode is not clean). An
    episode with no row before ``end`` (its rows were never committed) is dropped."""
    closed = [_closed(slot, ep, end, ep.ret, False) for slot, ep in enumerate(state.open)
              if ep is not None and end > ep.start]
    return closed, Segments((None,) * state.slots, (False,) * state.slots)


__all__ = ["OpenEpisode", "ClosedEpisode", "Segments", "segment", "cut"]
