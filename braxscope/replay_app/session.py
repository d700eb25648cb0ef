"""ReplaySession: the viewer's model, with no GUI (napari's layer model is the pattern).

It holds the catalog (sorted, filtered), the selected episodes (one, or 2-4 in compare mode
under one shared cursor), the cursor and the real-time clock, live follow, the recorder's
heartbeat, and a bounded cache of loaded episodes. The view only draws it and forwards input.

Threads: the GUI thread calls the in-memory methods (:meth:`tick`, :meth:`seek`, ...); one
store thread calls :meth:`poll_store`, the only method that reads the store. Reads happen
outside the lock, so a slow store makes frames late and never stalls the GUI.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from ..schema.control import read_control, write_control
from ..schema.episode_id import EpisodeId, EpisodeIdError
from ..schema.errors import BraxscopeError
from ..schema.frames import Frames
from ..schema.reader import EpisodeInfo, Metrics, StoreReader, WriterStatus
from ..schema.status import episode_status, format_age

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
MAX_COMPARE = 4
# A writer whose heartbeat is older than this (and not closed) is shown as "recorder stopped".
HEARTBEAT_TIMEOUT_S = 15.0
# Loaded episodes kept beyond the selected ones, by bytes: the cache never holds the whole run.
CACHE_BYTES = 32 * 2**20

SORT_KEYS = ("id", "source", "env", "iteration", "env_step", "length", "return", "status")


def episode_key(ep: EpisodeInfo) -> tuple:
    """Identity of an episode's rows: stays the same when an open episode is catalogued."""
    return (ep.writer, ep.source, ep.slot, ep.start)


def _id_order(eid: str) -> tuple:
    return EpisodeId.parse(eid).sort_key()


@dataclass
class CatalogFilter:
    """Which catalog rows are listed. ``None`` means no bound."""

    source: str | None = None  # "train" | "snapshot" | None
    iter_min: int | None = None
    iter_max: int | None = None
    ret_min: float | None = None
    ret_max: float | None = None
    in_progress: bool = True

    def accepts(self, ep: EpisodeInfo) -> bool:
        if self.source and ep.source != self.source:
            return False
        if not self.in_progress and ep.in_progress:
            return False
        if self.iter_min is not None and ep.iteration < self.iter_min:
            return False
        if self.iter_max is not None and ep.iteration > self.iter_max:
            return False
        r = ep.ret
        if self.ret_min is not None and not (r >= self.ret_min):
            return False
        if self.ret_max is not None and not (r <= self.ret_max):
            return False
        return True


@dataclass
class EpisodeData:
    """A loaded episode: its catalog row, its frames, and the running return [L]."""

    info: EpisodeInfo
    frames: Frames
    cum_return: np.ndarray

    @classmethod
    def of(cls, info: EpisodeInfo, frames: Frames) -> "EpisodeData":
        r = np.nan_to_num(frames.reward.astype(np.float64), nan=0.0)
        return cls(info, frames, np.cumsum(r))

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def nbytes(self) -> int:
        return self.frames.nbytes


@dataclass(frozen=True)
class LiveTarget:
    """What live mode follows: the newest snapshot, or the newest episode of one tracked slot."""

    kind: str  # "snapshot" | "slot"
    writer: str | None = None
    slot: int = 0

    def matches(self, ep: EpisodeInfo) -> bool:
        if self.kind == "snapshot":
            return ep.source == "snapshot"
        return ep.source == "train" and ep.slot == self.slot and (self.writer is None or ep.writer == self.writer)

    def label(self, ordinal: int | None = None) -> str:
        if self.kind == "snapshot":
            return "newest snapshot"
        return f"env slot {self.slot}" + (f" (writer {ordinal})" if ordinal else "")


@dataclass(frozen=True)
class RecorderStatus:
    """What the app shows about the writer of the followed run."""

    state: str  # "recording" | "paused" | "closed" | "failed" | "stopped" | "none"
    heartbeat_age_s: float
    requested_recording: bool
    text: str


@dataclass
class _Clock:
    """Playback position (frames, float) as a function of monotonic time while playing."""

    anchor_pos: float = 0.0
    anchor_t: float = 0.0


class ReplaySession:
    """The replay app's state. See the module docstring for the threading contract."""

    def __init__(self, reader: StoreReader, *, cache_bytes: int = CACHE_BYTES,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 heartbeat_timeout_s: float = HEARTBEAT_TIMEOUT_S):
        self.reader = reader
        self.path = reader.path
        self.dt = float(reader.info.dt) if float(reader.info.dt) > 0 else 0.05
        self.env_name = str(reader.info.env_name)
        self.actuator_names = _actuator_labels(reader)
        self._clock, self._wall = clock, wall
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.cache_bytes = cache_bytes
        self._lock = threading.RLock()
        self.version = 0  # bumped on every change a view must redraw
        self.catalog_version = 0
        # catalog and store facts (written by poll_store)
        self.catalog: list[EpisodeInfo] = []
        self._by_id: dict[str, EpisodeInfo] = {}
        self.damaged: dict[str, str] = {}  # episode id -> message, rebuilt from _damaged_at
        self._damaged_at: dict[tuple, str] = {}  # by episode_key: ids move ("W:open-S" is reused)
        self.problems: list[str] = []
        self.writers: list[WriterStatus] = []
        self.metrics = Metrics([], np.empty(0, np.int64), np.empty(0))
        self.control = {"recording": True, "track": None, "updated": 0.0}
        self.filter = CatalogFilter()
        self.sort_key, self.sort_desc = "id", False
        # selection, cursor, clock
        self.views: list[str] = []  # episode ids on screen: 1, or 2-4 in compare mode
        self._cache: "OrderedDict[tuple, EpisodeData]" = OrderedDict()
        self.cursor = 0
        self.playing = False
        self.speed = 1.0
        self.loop = False
        self._c = _Clock()
        # live follow
        self.live = False
        self.live_target: LiveTarget | None = None
        self.message = ""  # last user-facing message (bad id, damaged episode...)
        self.poll_store()

    # ================================================================ catalog

    def rows(self) -> list[EpisodeInfo]:
        """The catalog as listed: filtered, then sorted by :attr:`sort_key`."""
        with self._lock:
            eps = [e for e in self.catalog if self.filter.accepts(e)]
            key = self.sort_key
            if key == "id":
                k = lambda e: _id_order(e.id)  # noqa: E731
            elif key == "env":
                k = lambda e: (e.source, e.env_id)  # noqa: E731
            elif key == "return":
                k = lambda e: (-math.inf if not math.isfinite(e.ret) else e.ret)  # noqa: E731
            elif key == "status":
                k = lambda e: self.status_of(e)  # noqa: E731
            else:
                k = lambda e: getattr(e, key)  # noqa: E731
            return sorted(eps, key=k, reverse=self.sort_desc)

    def set_sort(self, key: str, descending: bool = False) -> None:
        if key not in SORT_KEYS:
            raise ValueError(f"sort key must be one of {SORT_KEYS}")
        with self._lock:
            self.sort_key, self.sort_desc = key, descending
            self.catalog_version += 1

    def set_filter(self, **kw) -> None:
        with self._lock:
            self.filter = replace(self.filter, **kw)
            self.catalog_version += 1

    def status_of(self, ep: EpisodeInfo) -> str:
        """The episode's status word (one of :data:`braxscope.schema.status.STATUSES`)."""
        return episode_status(ep, ep.id in self.damaged)

    def info(self, eid: str) -> EpisodeInfo | None:
        return self._by_id.get(eid)

    # ============================================================== selection

    def select(self, eid: str, *, user: bool = True) -> bool:
        """Show one episode (leaves compare mode). False, with :attr:`message`, for an unknown id."""
        with self._lock:
            eid = self._normalize(eid)
            if eid not in self._by_id:
                self.message = f"no episode {eid!r} in this store"
                self.version += 1
                return False
            if user:
                self.live = False
            self.views = [eid]
            self._seek_to(0)
            self.message = self.damaged.get(eid, "")
            self.version += 1
            return True

    def set_compare(self, ids: list[str]) -> bool:
        """Show 2-4 episodes side by side under one cursor, aligned by step."""
        with self._lock:
            ids = [self._normalize(i) for i in ids]
            bad = [i for i in ids if i not in self._by_id]
            if bad or not 1 <= len(ids) <= MAX_COMPARE:
                self.message = (f"no episode {bad[0]!r} in this store" if bad
                                else f"compare takes 2 to {MAX_COMPARE} episodes, got {len(ids)}")
                self.version += 1
                return False
            self.live = False
            self.views = list(dict.fromkeys(ids))
            self._seek_to(min(self.cursor, max(0, self.length - 1)))
            self.message = ""
            self.version += 1
            return True

    def add_compare(self, eid: str) -> bool:
        with self._lock:
            eid = self._normalize(eid)
            if eid in self.views:
                return True
            if len(self.views) >= MAX_COMPARE:
                self.message = f"compare holds at most {MAX_COMPARE} episodes"
                self.version += 1
                return False
            return self.set_compare(self.views + [eid])

    def remove_compare(self, eid: str) -> None:
        with self._lock:
            rest = [v for v in self.views if v != self._normalize(eid)]
            if rest:
                self.set_compare(rest)

    def snapshot_picks(self) -> list[str]:
        """The first, middle and latest snapshot (by iteration): "compare snapshots"."""
        with self._lock:
            snaps = sorted((e for e in self.catalog if e.source == "snapshot" and e.id not in self.damaged),
                           key=lambda e: (e.iteration, e.env_step, _id_order(e.id)))
            if not snaps:
                return []
            picks = [snaps[0], snaps[len(snaps) // 2], snaps[-1]]
            return list(dict.fromkeys(e.id for e in picks))

    @property
    def compare(self) -> bool:
        return len(self.views) > 1

    def _normalize(self, eid: str) -> str:
        try:
            return str(EpisodeId.parse(eid))
        except EpisodeIdError:
            return str(eid)  # not an id at all: the caller says "no episode ..."

    def data(self, eid: str) -> EpisodeData | None:
        """The loaded episode, or None while it loads (or when it is damaged)."""
        with self._lock:
            ep = self._by_id.get(eid)
            return None if ep is None else self._cache.get(episode_key(ep))

    @property
    def loading(self) -> bool:
        with self._lock:
            return any(self.data(v) is None and v not in self.damaged for v in self.views)

    # ================================================================= cursor

    @property
    def length(self) -> int:
        """Frames on the shared timeline: the longest shown episode (loaded or catalogued)."""
        with self._lock:
            n = 0
            for v in self.views:
                d = self.data(v)
                n = max(n, len(d) if d is not None else (self._by_id[v].length if v in self._by_id else 0))
            return n

    def frame_of(self, view: int) -> int:
        """The frame of view ``view`` at the shared cursor: shorter episodes hold their last frame."""
        with self._lock:
            if not 0 <= view < len(self.views):
                return 0
            v = self.views[view]
            d = self.data(v)
            ep = self._by_id.get(v)
            n = len(d) if d is not None else (ep.length if ep is not None else 0)
            return max(0, min(self.cursor, n - 1))

    def qpos(self) -> list[np.ndarray | None]:
        """qpos [nq] of each shown episode at the cursor (None while loading or damaged)."""
        with self._lock:
            out = []
            for i, v in enumerate(self.views):
                d = self.data(v)
                out.append(None if d is None or len(d) == 0 else d.frames.qpos[self.frame_of(i)])
            return out

    def time_s(self) -> float:
        return self.cursor * self.dt

    def _seek_to(self, frame: float) -> None:
        n = self.length
        frame = max(0.0, min(float(frame), max(0, n - 1)))
        self.cursor = int(frame)
        self._c = _Clock(frame, self._clock())

    def _clamp_cursor(self) -> None:
        """Keep the cursor inside the shown episodes when they change under it (one vanished, or
        was replaced): never a frame past their end."""
        top = max(0, self.length - 1)
        if self.cursor > top:
            self._seek_to(top)

    def seek(self, frame: int) -> None:
        """Move the cursor (scrubbing). Leaves live mode; playback continues from there."""
        with self._lock:
            self.live = False
            self._seek_to(frame)
            self.version += 1

    def step(self, n: int = 1) -> None:
        """One frame back or forward; pauses."""
        with self._lock:
            self.live = False
            self.playing = False
            self._seek_to(self.cursor + n)
            self.version += 1

    def home(self) -> None:
        self.seek(0)

    def end(self) -> None:
        self.seek(self.length - 1)

    def play(self) -> None:
        with self._lock:
            if self.cursor >= self.length - 1 and not self.live:
                self._seek_to(0)  # play at the end starts over
            self.playing = True
            self._c = _Clock(self.cursor, self._clock())
            self.version += 1

    def pause(self) -> None:
        """Hold the frame. Leaves live mode: a paused view cannot follow the newest data."""
        with self._lock:
            self.playing = False
            self.live = False
            self.version += 1

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    def set_speed(self, speed: float) -> None:
        """Playback speed, 0.25x to 8x of real time (the model's dt per frame)."""
        with self._lock:
            self.speed = float(min(max(speed, SPEEDS[0]), SPEEDS[-1]))
            self._c = _Clock(self._position(), self._clock())
            self.version += 1

    def faster(self, up: bool = True) -> None:
        i = min(range(len(SPEEDS)), key=lambda j: abs(SPEEDS[j] - self.speed))
        self.set_speed(SPEEDS[min(len(SPEEDS) - 1, i + 1)] if up else SPEEDS[max(0, i - 1)])

    def set_loop(self, on: bool) -> None:
        with self._lock:
            self.loop = bool(on)
            self.version += 1

    def _position(self) -> float:
        if not self.playing:
            return float(self.cursor)
        return self._c.anchor_pos + (self._clock() - self._c.anchor_t) * self.speed / self.dt

    def tick(self) -> bool:
        """Advance the clock and live follow. True when the cursor or the views changed.

        The cursor is where real time says it is: when drawing is slower than the episode's
        frame rate, frames in between are skipped rather than played late.
        """
        with self._lock:
            before = (self.cursor, tuple(self.views), self.playing)
            if self.live:
                self._follow()
            if self.playing:
                n = self.length
                pos = self._position()
                if pos > n - 1:
                    if self.live:
                        self._live_at_end(n)
                    elif self.loop and n > 0:
                        pos = pos % n
                        self._c = _Clock(pos, self._clock())
                        self.cursor = int(pos)
                    else:
                        self.cursor = max(0, n - 1)
                        self.playing = False
                else:
                    self.cursor = int(pos)
            self._clamp_cursor()
            changed = (self.cursor, tuple(self.views), self.playing) != before
            if changed:
                self.version += 1
            return changed

    # =================================================================== live

    def go_live(self, target: LiveTarget | None = None) -> bool:
        """Follow the newest data (``L``). False, with a message, when nothing matches."""
        with self._lock:
            target = target or self.live_target or self._default_target()
            if target is None:
                # An empty store (a run that has just started): follow whatever comes first.
                self.live = True
                self.playing = True
                self.message = "waiting for the first episode"
                self.version += 1
                return False
            self.live_target = target
            self.live = True
            self.playing = True
            newest = self._newest(target)
            if newest is not None and (self.views != [newest.id]):
                self.views = [newest.id]
                self._seek_to(0)
            self._c = _Clock(self.cursor, self._clock())
            self.message = ""
            self.version += 1
            return True

    def leave_live(self) -> None:
        with self._lock:
            self.live = False
            self.version += 1

    def live_targets(self) -> list[LiveTarget]:
        with self._lock:
            out = [LiveTarget("snapshot")] if any(e.source == "snapshot" for e in self.catalog) else []
            seen = []
            for e in self.catalog:
                if e.source == "train" and (e.writer, e.slot) not in seen:
                    seen.append((e.writer, e.slot))
            return out + [LiveTarget("slot", w, s) for w, s in seen]

    def _default_target(self) -> LiveTarget | None:
        ts = self.live_targets()
        slots = [t for t in ts if t.kind == "slot"]
        if slots:
            # The newest writer's first slot: what is training right now.
            newest = max(self.writers, key=lambda w: w.heartbeat).writer_id if self.writers else None
            for t in slots:
                if t.writer == newest:
                    return t
            return slots[0]
        return ts[0] if ts else None

    def _newest(self, target: LiveTarget) -> EpisodeInfo | None:
        eps = [e for e in self.catalog if target.matches(e) and e.id not in self.damaged]
        if not eps:
            return None
        if target.kind == "snapshot":
            return max(eps, key=lambda e: (e.iteration, e.wall_time, _id_order(e.id)))
        return max(eps, key=lambda e: (e.start, e.in_progress))

    def _follow(self) -> None:
        """Keep the followed episode's id current (an open episode gets a catalog id when it
        ends) and move on to the newest one once the current one has been played."""
        if self.live_target is None:
            self.live_target = self._default_target()
            if self.live_target is not None and self.message == "waiting for the first episode":
                self.message = ""
        if not self.views or self.views[0] not in self._by_id:
            newest = self._newest(self.live_target) if self.live_target else None
            if newest is not None:
                self.views = [newest.id]
                self._seek_to(0)
                self.playing = True

    def _live_at_end(self, n: int) -> None:
        """Live playback ran past the end of what is shown (``n`` frames, possibly none: an empty
        store, or an episode that is not loaded or damaged)."""
        cur = self._by_id.get(self.views[0]) if self.views else None
        newest = self._newest(self.live_target) if self.live_target else None
        if newest is not None and (cur is None or episode_key(newest) != episode_key(cur)):
            self._switch_live(newest)
        elif cur is not None and not cur.in_progress and self.data(cur.id) is not None:
            # Nothing newer yet: replay the newest episode (a snapshot arrives once per iteration).
            self._seek_to(0)
        else:
            # At the tail of a growing episode, or nothing to show yet: hold the newest frame
            # until rows arrive (the clock restarts there, so playback resumes at real time).
            self._seek_to(max(0, n - 1))

    def _switch_live(self, ep: EpisodeInfo) -> None:
        self.views = [ep.id]
        self.cursor = 0
        self._c = _Clock(0.0, self._clock())

    def lag_s(self) -> float | None:
        """How far the shown frame is behind the writer's newest data, in seconds of wall time."""
        with self._lock:
            if not self.views:
                return None
            d = self.data(self.views[0])
            if d is None or len(d) == 0:
                return None
            frame_wall = float(d.frames.wall_time[self.frame_of(0)])
            w = next((w for w in self.writers if w.writer_id == d.info.writer), None)
            if w is None or not math.isfinite(frame_wall):
                return None
            return max(0.0, w.heartbeat - frame_wall)

    def recorder_status(self) -> RecorderStatus:
        """State and heartbeat of the writer the app follows (the newest one by default)."""
        with self._lock:
            requested = bool(self.control.get("recording", True))
            if not self.writers:
                return RecorderStatus("none", math.inf, requested, "no recorder")
            w = None
            if self.views and self.views[0] in self._by_id:
                wid = self._by_id[self.views[0]].writer
                w = next((x for x in self.writers if x.writer_id == wid), None)
            w = w or max(self.writers, key=lambda x: x.heartbeat)
            age = max(0.0, self._wall() - w.heartbeat)
            if w.state == "closed":
                return RecorderStatus("closed", age, requested, "run finished")
            if w.state == "failed":
                why = f": {w.error}" if w.error else ""
                return RecorderStatus("failed", age, requested, f"recorder failed{why}"[:160])
            if age > self.heartbeat_timeout_s:
                return RecorderStatus("stopped", age, requested,
                                      f"recorder stopped ({format_age(age)} since last heartbeat)")
            text = "recording" if w.state == "recording" else "recording paused"
            return RecorderStatus(w.state, age, requested, f"{text}, heartbeat {format_age(age)} ago")

    def set_recording(self, on: bool) -> dict:
        """Ask a live recorder to pause or resume (control.json): the viewer's only write."""
        doc = write_control(self.path, recording=bool(on))
        with self._lock:
            self.control = doc
            self.version += 1
        return doc

    # ================================================================== store

    def poll_store(self) -> bool:
        """Read what is new: catalog, writers, control, metrics, and the selected episodes.
        The only method that touches the store; call it from one thread. True when anything changed."""
        r = self.reader
        try:
            grew = r.refresh()
        except BraxscopeError as e:
            with self._lock:
                self.message = str(e)
                self.version += 1
            return True
        first = not self.catalog and not self.writers
        eps = r.episodes(in_progress=True)
        writers = r.writers()
        control = read_control(self.path)
        metrics = None
        if grew or first:
            try:
                metrics = r.metrics()
            except BraxscopeError as e:
                self._note_problem(str(e))
        with self._lock:
            changed = grew or first or control != self.control
            self.writers = writers
            self.control = control
            if metrics is not None:
                self.metrics = metrics
            if grew or first:
                self._set_catalog(eps)
            self.problems = list(r.problems)
            # Only what is on screen is loaded: clicking through many episodes never queues them all.
            todo = [(v, self._by_id[v]) for v in self.views if v in self._by_id]
        # Load or extend the shown episodes, outside the lock.
        seen = set()
        for eid, info in todo:
            if eid in seen or eid in self.damaged:
                continue
            seen.add(eid)
            key = episode_key(info)
            with self._lock:
                have = self._cache.get(key)
            if have is not None and len(have) >= info.length:
                if have.info != info:
                    with self._lock:
                        have.info = info
                continue
            try:
                if have is not None and len(have) > 0:
                    more = r.frames(info, len(have), info.length)
                    frames = have.frames.concat(more)
                else:
                    frames = r.frames(info)
            except BraxscopeError as e:
                with self._lock:
                    self._damaged_at[key] = self.damaged[eid] = f"episode {eid} is damaged: {e}"
                    if eid in self.views:
                        self.message = self.damaged[eid]
                    self.version += 1
                    self.catalog_version += 1
                changed = True
                continue
            with self._lock:
                self._cache[key] = EpisodeData.of(info, frames)
                self._cache.move_to_end(key)
                self._evict()
                self.version += 1
            changed = True
        return changed

    def _note_problem(self, text: str) -> None:
        with self._lock:
            if text not in self.problems:
                self.problems.append(text)

    def _set_catalog(self, eps: list[EpisodeInfo]) -> None:
        old = self._by_id
        self.catalog = eps
        self._by_id = {e.id: e for e in eps}
        by_key = {episode_key(e): e for e in eps}
        # Damage belongs to rows, not to ids: "W:open-S" names the slot's next episode once one ends.
        self.damaged = {e.id: self._damaged_at[k] for k, e in by_key.items() if k in self._damaged_at}
        # An open episode that ended was catalogued under a new id: follow the same rows there.
        # An episode whose rows are gone from the catalog leaves the screen (never a stale id).
        views, gone = [], []
        for v in self.views:
            was = old.get(v)
            now = self._by_id.get(v)
            if was is not None and (now is None or episode_key(now) != episode_key(was)):
                now = by_key.get(episode_key(was))
            if now is None:
                gone.append(v)
            elif now.id not in views:
                views.append(now.id)
        self.views = views
        if gone:
            self.message = f"episode {gone[0]} is no longer in the store"
        self._clamp_cursor()
        self.catalog_version += 1
        self.version += 1

    def _evict(self) -> None:
        pinned = {episode_key(self._by_id[v]) for v in self.views if v in self._by_id}
        total = sum(d.nbytes for d in self._cache.values())
        for key in list(self._cache):
            if total <= self.cache_bytes:
                break
            if key in pinned:
                continue
            total -= self._cache.pop(key).nbytes

    @property
    def cached_bytes(self) -> int:
        with self._lock:
            return sum(d.nbytes for d in self._cache.values())

    @property
    def cached_count(self) -> int:
        return len(self._cache)


def _actuator_labels(reader: StoreReader) -> list[str]:
    """Actuator names; an unnamed actuator ("actuator3") is labelled by the joint it drives."""
    nu = reader.sizes["nu"]
    names = list(reader.info.attrs.get("actuator_names") or [])
    names += [f"actuator{i}" for i in range(len(names), nu)]
    try:
        import mujoco

        m = reader.model()
        for i in range(nu):
            if names[i] == f"actuator{i}" and m.actuator_trntype[i] == mujoco.mjtTrn.mjTRN_JOINT:
                names[i] = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, int(m.actuator_trnid[i, 0])) or names[i]
    except BraxscopeError:
        pass  # a damaged model blob: keep the stored names
    return names



__all__ = ["ReplaySession", "CatalogFilter", "EpisodeData", "LiveTarget", "RecorderStatus", "SPEEDS", "MAX_COMPARE",
           "episode_key"]
