"""ReplaySession: the viewer's model, with no GUI (napari's layer model is the pattern).

It holds the catalog (sorted, filtered), the selected episodes (one, or 2-4 in compare mode
under one shared cursor), the cursor and the real-time clock, live follow, the recorder's
heartbeat, a bounded cache of loaded episodes, and every setting a user changes (ghost mode,
overlays, camera, export). Every action a user can take is one public command here; once per
GUI frame a view takes :meth:`ReplaySession.snapshot` (an immutable :class:`Snapshot`, with a
revision per aspect) and draws it. So every behaviour is tested without a window, and the
DearPyGui app and the notebook viewer are two views of the same thing.

Threads: the GUI thread calls the commands, :meth:`tick` and :meth:`snapshot`; one store thread
calls :meth:`poll_store`, the only method that reads the store (an export runs on its own
thread). Reads happen outside the lock, so a slow store makes frames late and never stalls the GUI.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..schema.catalog import Catalog, Selection
from ..schema.control import read_control, write_control
from ..schema.episode_id import EpisodeIdError, ref_text, split_ref
from ..schema.errors import BraxscopeError, EpisodeNotFoundError
from ..schema.frames import Frames
from ..schema.reader import EpisodeInfo, Metrics, StoreReader, WriterStatus
from ..schema.status import episode_status, format_age
from . import presentation as P
from .runs import Run, make_runs
from .session_snapshot import Cell, Header, Plots, Row, Scene, Series, Snapshot, Table, Timeline

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
MAX_COMPARE = P.MAX_CELLS
# A writer whose heartbeat is older than this (and not closed) is shown as "recorder stopped".
HEARTBEAT_TIMEOUT_S = 15.0
# Live mode holds the newest frame of a growing episode this long (seconds of the session's
# clock) waiting for rows; then, until rows arrive, it replays the target's newest finished episode
# (or the growing one when there is none), so a run that records in bursts (evaluations,
# compiling, a loaded machine) never leaves a frozen picture.
LIVE_STALL_S = 2.0
# Loaded episodes kept beyond the selected ones, by bytes: the cache never holds the whole run.
CACHE_BYTES = 32 * 2**20
# Rows of the browser in one snapshot: the visible window of the listing, never the whole catalog.
TABLE_WINDOW = 30

SORT_KEYS = tuple(name for name, _, _ in P.TABLE_COLUMNS)
# Mouse drags on the viewport: degrees of orbit per pixel; pan in view heights per pixel height.
ORBIT_DEG_PER_PX = 0.4
WHEEL_ZOOM = 0.9  # zoom factor per wheel notch (in)


def episode_key(ep: EpisodeInfo) -> tuple:
    """Identity of an episode's rows: stays the same when an open episode is catalogued. (Writer
    ids are unique across the stores of a session: it refuses two stores that share one.)"""
    return (ep.writer, ep.source, ep.slot, ep.start)


@dataclass
class CatalogFilter:
    """Which catalog rows are listed. ``None`` means no bound."""

    source: str | None = None  # "train" | "snapshot" | None
    iter_min: int | None = None
    iter_max: int | None = None
    ret_min: float | None = None
    ret_max: float | None = None
    in_progress: bool = True


@dataclass
class LoadedEpisode:
    """A cache entry: an episode's catalog row, its frames, and its running return [L]."""

    info: EpisodeInfo
    frames: Frames
    cum_return: np.ndarray
    env_model: Any = None  # schema.model_variant.EnvModel: what to draw it with (None: the run's model)

    @classmethod
    def of(cls, info: EpisodeInfo, frames: Frames, env_model: Any = None) -> "LoadedEpisode":
        return cls(info, frames, P.running_return(frames.reward), env_model)

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


@dataclass(frozen=True)
class RecorderStatus:
    """What the app shows about the writer of the followed run."""

    state: str  # "recording" | "paused" | "closed" | "failed" | "stopped" | "none"
    heartbeat_age_s: float
    text: str


@dataclass
class _Clock:
    """Playback position (frames, float) as a function of monotonic time while playing."""

    anchor_pos: float = 0.0
    anchor_t: float = 0.0


class _EpisodeLookup:
    """``id -> EpisodeInfo`` over a catalog snapshot, each built on first use (a dict of every id
    would be an object per episode: a million of them on a big run)."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self._memo: dict[str, EpisodeInfo | None] = {}

    def get(self, eid: str, default=None) -> EpisodeInfo | None:
        ep = self._memo.get(eid, False)
        if ep is False:
            p = self.catalog.position(eid)
            ep = None if p is None else self.catalog.episode(p)
            if len(self._memo) > 4096:
                self._memo.clear()  # bounded: the ids asked for are the few on screen
            self._memo[eid] = ep
        return default if ep is None else ep

    def __contains__(self, eid: str) -> bool:
        return self.get(eid) is not None

    def __getitem__(self, eid: str) -> EpisodeInfo:
        ep = self.get(eid)
        if ep is None:
            raise KeyError(eid)
        return ep


class ReplaySession:
    """The replay app's state and behaviour. See the module docstring for the threading contract."""

    def __init__(self, reader: StoreReader | Sequence[StoreReader], *, labels: Sequence[str | None] | None = None,
                 cache_bytes: int = CACHE_BYTES, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time, heartbeat_timeout_s: float = HEARTBEAT_TIMEOUT_S,
                 viewport: tuple[int, int] = (640, 480)):
        # Several stores side by side: every episode id then names its store ("PATH:W:R",
        # episode_id.split_ref); one store keeps its plain ids ("W:R").
        self.readers: list[StoreReader] = [reader] if isinstance(reader, StoreReader) else list(reader)
        if not self.readers:
            raise ValueError("a session needs at least one store")
        self.reader = self.readers[0]  # the first store: its model is the viewport's, its ids need no PATH
        self._paths = paths = [str(r.path) for r in self.readers]
        twice = next((p for i, p in enumerate(paths) if p in paths[:i]), None)
        if twice is not None:
            raise BraxscopeError(f"{twice} is given twice: name each store once")
        self.stores: list[str | None] = [None] if len(paths) == 1 else paths  # each store's id prefix
        self._labels = list(labels) if labels is not None else [None] * len(self.readers)
        if len(self._labels) != len(self.readers):
            raise ValueError("labels: one per store (None: derived)")
        self.path = self.reader.path
        # How the header and window title name what is open: the store, or every store's name.
        self.stores_text = str(self.path) if len(paths) == 1 else " + ".join(Path(p).name for p in paths)
        self.env_name = " · ".join(dict.fromkeys(str(r.info.env_name) for r in self.readers))
        self._models = [_model_or_none(r) for r in self.readers]
        self._model = self._models[0]
        self._actuators = [_actuator_labels(r, m) for r, m in zip(self.readers, self._models)]
        self.camera_names = P.camera_labels(self._model) if self._model is not None else ["track", "free"]
        self.runs: list[Run] = []  # what the browser's run column and the curves' legend name
        self._writer_store: dict[str, int] = {}  # writer id -> its store's index
        self._writer_run: dict[str, int] = {}  # writer id -> its run's index
        self._run_of_ordinal = np.zeros(0, np.int64)  # catalog writer ordinal -> run index
        self.run_metrics: list[Metrics] = []  # each run's training curve
        self._controls: list[dict] = []  # each store's control.json
        self._clock, self._wall = clock, wall
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.cache_bytes = cache_bytes
        self._lock = threading.RLock()
        self.catalog_version = 0
        # catalog and store facts (written by poll_store)
        self.catalog: Catalog = Catalog([])  # numpy columns; an EpisodeInfo only for a row shown
        self._by_id = _EpisodeLookup(self.catalog)
        self.damaged: dict[str, str] = {}  # episode id -> message, rebuilt from _damaged_at
        self._damaged_at: dict[tuple, str] = {}  # by episode_key: ids move ("W:open-S" is reused)
        self.problems: list[str] = []
        self.writers: list[WriterStatus] = []  # every store's (ordinals as the catalog numbers them)
        self.control = {"recording": True, "track": None, "updated": 0.0}  # the followed store's
        self._per_store: list[list[WriterStatus]] = [[] for _ in self.readers]
        self._merged: tuple | None = None  # (the stores' catalogs, their merge)
        self.filter = CatalogFilter()
        self.sort_key, self.sort_desc = "id", False
        self._rows_cache: tuple | None = None  # (key, rows) of the last listing
        self.table_first = 0
        self.table_count = TABLE_WINDOW
        # selection, cursor, clock
        self.views: list[str] = []  # episode ids on screen: 1, or 2-4 in compare mode
        self._cache: "OrderedDict[tuple, LoadedEpisode]" = OrderedDict()
        self.cursor = 0
        self.playing = False
        self.speed = 1.0
        self.loop = False
        self._c = _Clock()
        # live follow
        self.live = False
        self.live_target: LiveTarget | None = None
        self._target_picked = False  # the user chose live_target (else it is the default, kept current)
        self._hold: tuple = (None, 0.0)  # ((episode key, frames), since) of live's wait at a growing tail
        self._stalled: tuple | None = None  # (episode key, frames) of the growing episode live gave up waiting on
        self.message = ""  # last user-facing message (bad id, damaged episode...)
        # what the viewport shows and how
        self.ghost = False
        self.overlays = P.Overlays()
        self.camera = "track"
        self.shadows = False
        self._camera_moves: list[tuple] = []
        self.viewport = (int(viewport[0]), int(viewport[1]))  # the render size of the viewport (pixels)
        self.plot_points = 800  # points per plot series (a CPU-drawn window wants fewer)
        # export
        p = Path(self.path)
        self.export_path = str(p.parent / f"{p.name.removesuffix('.zarr')}.mp4")
        self.export_status = ""
        self._export_thread: threading.Thread | None = None
        # snapshot memo: aspect -> (key, revision, value)
        self._memo: dict[str, tuple] = {}
        self._targets_memo: tuple | None = None  # (catalog version, writers) -> live target labels
        self.poll_store()
        ids = [w.writer_id for ws in self._per_store for w in ws]
        if len(set(ids)) < len(ids):
            raise BraxscopeError("two of these stores hold the same writer group (copies of one run?): "
                                 "open one of them")

    # ================================================================== runs

    @property
    def dt(self) -> float:
        """Seconds of simulated time per step of the shown run (the first episode on screen)."""
        dt = float(self.readers[self._store_of_view(0)].info.dt)
        return dt if dt > 0 else 0.05

    def _store_of_view(self, k: int) -> int:
        ep = self._by_id.get(self.views[k]) if k < len(self.views) else None
        return 0 if ep is None else self._writer_store.get(ep.writer, 0)

    def run_of(self, eid: str) -> Run | None:
        """The run an episode belongs to (None for an unknown id)."""
        with self._lock:
            ep = self._by_id.get(self._normalize(eid))
            if ep is None or not self.runs:
                return None
            return self.runs[self._writer_run.get(ep.writer, 0)]

    def display_id(self, eid: str) -> str:
        """How views name an episode: its id, and with several runs its run's label and its id in
        its own store ("ip s1 0:7")."""
        if len(self.runs) <= 1:
            return eid
        run = self.run_of(eid)
        try:
            local = split_ref(eid)[1]
        except EpisodeIdError:
            local = eid
        return f"{run.label} {local}" if run is not None else eid

    def _control_store(self) -> int:
        """The store whose recorder the header shows and "Pause recording" asks: the shown
        episode's, else the newest writer's."""
        if self.views and self.views[0] in self._by_id:
            return self._store_of_view(0)
        if self.writers:
            return self._writer_store.get(max(self.writers, key=lambda w: w.heartbeat).writer_id, 0)
        return 0

    # ================================================================ catalog

    def rows(self) -> Selection:
        """The catalog as listed: filtered, then sorted by :attr:`sort_key`. A query over the
        catalog's columns (:meth:`StoreReader.query`): a :class:`Selection`, a virtual table whose
        rows become EpisodeInfo only when asked for (the browser asks for the visible window)."""
        with self._lock:
            key = (self.catalog_version, len(self.damaged))
            if self._rows_cache is not None and self._rows_cache[0] == key:
                return self._rows_cache[1]
            f, cat = self.filter, self.catalog
            bounds = lambda lo, hi: None if lo is None and hi is None else (lo, hi)  # noqa: E731
            sort = self.sort_key if self.sort_key not in ("status", "run") else "id"
            sel = cat.query(source=f.source, iteration=bounds(f.iter_min, f.iter_max), ret=bounds(f.ret_min, f.ret_max),
                            in_progress=f.in_progress, sort=sort, descending=self.sort_desc)
            if self.sort_key == "status":
                sel = sel.sorted_by(self._status_rank(sel), self.sort_desc)
            elif self.sort_key == "run":
                sel = sel.sorted_by(self._run_index(sel.column("writer")), self.sort_desc)
            self._rows_cache = (key, sel)
            return sel

    def _run_index(self, ordinals: np.ndarray) -> np.ndarray:
        """The run of each catalog row, from its writer ordinals."""
        table = self._run_of_ordinal
        o = np.asarray(ordinals, np.int64)
        return table[np.clip(o, 0, len(table) - 1)] if len(table) else np.zeros(len(o), np.int64)

    def _status_rank(self, sel: Selection) -> np.ndarray:
        """Status words as numbers that sort as the words do (cut < damaged < done < recording)."""
        rank = np.where(sel.column("in_progress"), 3, np.where(sel.column("complete") != 0, 2, 0))
        for eid in self.damaged:
            i = sel.index_of(eid)
            if i is not None:
                rank[i] = 1
        return rank

    def set_sort(self, key: str, descending: bool = False) -> None:
        """Sort the browser by a column (:data:`SORT_KEYS`)."""
        if key not in SORT_KEYS:
            raise ValueError(f"sort key must be one of {SORT_KEYS}")
        with self._lock:
            self.sort_key, self.sort_desc = key, descending
            self.catalog_version += 1

    def set_filter(self, **kw) -> None:
        """Narrow the browser: ``source`` ("train", "snapshot", None or "all sources"),
        ``iter_min``/``iter_max``, ``ret_min``/``ret_max`` (numbers, or a filter box's text: empty
        or not a number means no bound), ``in_progress``."""
        with self._lock:
            if "source" in kw and kw["source"] not in ("train", "snapshot"):
                kw["source"] = None
            for name, kind in (("iter_min", int), ("iter_max", int), ("ret_min", float), ("ret_max", float)):
                if name in kw:
                    kw[name] = P.parse_bound(kw[name], kind)
            self.filter = replace(self.filter, **kw)
            self.table_first = 0
            self.catalog_version += 1

    def scroll_table(self, first: int, count: int | None = None) -> None:
        """Show rows ``first`` .. ``first + count`` of the listing in the browser (its visible window)."""
        with self._lock:
            if count is not None:
                self.table_count = max(1, int(count))
            n = len(self.rows())
            self.table_first = max(0, min(int(first), max(0, n - self.table_count)))

    def status_of(self, ep: EpisodeInfo) -> str:
        """The episode's status word (:data:`braxscope.schema.status.STATUSES`)."""
        return episode_status(ep, ep.id in self.damaged)

    def info(self, eid: str) -> EpisodeInfo | None:
        return self._by_id.get(eid)

    # ============================================================== selection

    def select(self, eid: str, *, user: bool = True) -> bool:
        """Show one episode (leaves compare mode). False, with :attr:`message`, for an unknown id."""
        with self._lock:
            eid = self._normalize(eid)
            if eid not in self._by_id:
                self.message = f"no episode {eid!r} in {self._where()}"
                return False
            if user:
                self.live = False
            self.views = [eid]
            self._seek_to(0)
            self.message = self.damaged.get(eid, "")
            return True

    def click_row(self, eid: str, add: bool = False) -> bool:
        """A click on a browser row: show that episode; with ``add`` (shift- or ctrl-click) add it
        to the compare set, or take it out if it is there already."""
        with self._lock:
            if add and self.views:
                return self.toggle_compare(eid)
            return self.select(eid)

    def toggle_compare(self, eid: str) -> bool:
        """Add an episode to the compare set, or remove it when it is in it already."""
        with self._lock:
            n = self._normalize(eid)
            if n in self.views:
                self.remove_compare(n)
                return True
            return self.add_compare(n)

    def set_compare(self, ids: list[str]) -> bool:
        """Show 1-4 episodes side by side under one cursor, aligned by step."""
        with self._lock:
            ids = [self._normalize(i) for i in ids]
            bad = [i for i in ids if i not in self._by_id]
            if bad or not 1 <= len(ids) <= MAX_COMPARE:
                self.message = (f"no episode {bad[0]!r} in {self._where()}" if bad
                                else f"compare takes 2 to {MAX_COMPARE} episodes, got {len(ids)}")
                return False
            self.live = False
            self.views = list(dict.fromkeys(ids))
            self._seek_to(min(self.cursor, max(0, self.length - 1)))
            self.message = P.GHOST_NOTE if self.ghost and self.compare and not self.ghost_possible() else ""
            return True

    def add_compare(self, eid: str) -> bool:
        with self._lock:
            eid = self._normalize(eid)
            if eid in self.views:
                return True
            if len(self.views) >= MAX_COMPARE:
                self.message = f"compare holds at most {MAX_COMPARE} episodes"
                return False
            return self.set_compare(self.views + [eid])

    def remove_compare(self, eid: str) -> None:
        with self._lock:
            rest = [v for v in self.views if v != self._normalize(eid)]
            if rest:
                self.set_compare(rest)

    def snapshot_picks(self) -> list[str]:
        """"Compare snapshots": the first, middle and latest snapshot (by iteration); with several
        runs that recorded snapshots, the latest of each run (the first four runs)."""
        with self._lock:
            snaps = self._undamaged(self.catalog.query(source="snapshot"))
            if not len(snaps):
                return []
            # By iteration, then env step, then id (the selection is in id order; lexsort is stable).
            order = np.lexsort((snaps.column("env_step"), snaps.column("iteration")))
            runs = self._run_index(snaps.column("writer"))[order]
            picks = [order[np.flatnonzero(runs == k)[-1]] for k in np.unique(runs)[:MAX_COMPARE]]
            if len(picks) < 2:
                picks = [order[0], order[len(order) // 2], order[-1]]
            return list(dict.fromkeys(snaps.catalog.episode_id(snaps.positions[i]) for i in picks))

    def _undamaged(self, sel: Selection) -> Selection:
        if not self.damaged:
            return sel
        bad = [p for p in (self.catalog.position(i) for i in self.damaged) if p is not None]
        return Selection(sel.catalog, sel.positions[~np.isin(sel.positions, bad)])

    def compare_snapshots(self) -> bool:
        """The "Compare snapshots" button: the first, middle and latest snapshot side by side;
        the latest of each run when there are several; the only one when there is one; a message
        when there are none."""
        with self._lock:
            picks = self.snapshot_picks()
            if len(picks) >= 2:
                return self.set_compare(picks)
            if picks:
                return self.select(picks[0])
            self.message = "no policy snapshots in this store"
            return False

    @property
    def compare(self) -> bool:
        return len(self.views) > 1

    def canonical_id(self, eid: str) -> str:
        """An id as the session names it (see :meth:`_normalize`); a text that is no id, as given."""
        with self._lock:
            return self._normalize(eid)

    def _normalize(self, eid: str) -> str:
        """The canonical id of what a user typed: ``"W:R"`` (``"7"`` is ``"0:7"``); with several
        stores ``"PATH:W:R"``, PATH named as given, by its run's label or by the store's name
        (a plain id is the first store's)."""
        try:
            where, local = split_ref(eid)
        except EpisodeIdError:
            return str(eid)  # not an id: reported as "no episode ..." by the caller
        i = 0 if where is None else self._store_named(where)
        if i is None:
            return str(eid)
        return ref_text(self.stores[i], local)

    def check_episode(self, eid: str) -> EpisodeInfo:
        """The catalog row of an id or ``PATH:ID`` reference as a user typed it; raises
        :class:`EpisodeNotFoundError` (one line that says how to list them) when there is none."""
        try:
            where, local = split_ref(eid)
        except EpisodeIdError:
            where, local = None, str(eid)
        i = 0 if where is None else self._store_named(where)
        if i is None:
            names = ", ".join(self._paths)
            raise EpisodeNotFoundError(f"{where!r} names none of the stores open ({names})")
        return self.readers[i].get_episode(local)

    def _where(self) -> str:
        return "this store" if len(self.readers) == 1 else "these stores"

    def _store_named(self, name: str) -> int | None:
        paths = self._paths
        if name in paths:
            return paths.index(name)
        for run in self.runs:
            if run.label == name:
                return run.store
        try:
            real = [os.path.realpath(p) for p in paths]
            if os.path.realpath(name) in real:
                return real.index(os.path.realpath(name))
        except (OSError, ValueError):
            pass
        stems = [Path(p).name.removesuffix(".zarr") for p in paths]
        stem = Path(name).name.removesuffix(".zarr")
        return stems.index(stem) if stems.count(stem) == 1 else None

    def data(self, eid: str) -> LoadedEpisode | None:
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
        """Move the cursor (scrubbing, a click on a plot). Leaves live mode; playback continues from there."""
        with self._lock:
            self.live = False
            self._seek_to(frame)

    def step(self, n: int = 1) -> None:
        """One frame back or forward; pauses."""
        with self._lock:
            self.live = False
            self.playing = False
            self._seek_to(self.cursor + n)

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

    def pause(self) -> None:
        """Hold the frame. Leaves live mode: a paused view cannot follow the newest data."""
        with self._lock:
            self.playing = False
            self.live = False

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    def set_speed(self, speed: float | str) -> None:
        """Playback speed, 0.25x to 8x of real time (the model's dt per frame); "2x" is 2."""
        with self._lock:
            speed = float(str(speed).rstrip("x")) if isinstance(speed, str) else float(speed)
            self.speed = float(min(max(speed, SPEEDS[0]), SPEEDS[-1]))
            self._c = _Clock(self._position(), self._clock())

    def set_loop(self, on: bool) -> None:
        with self._lock:
            self.loop = bool(on)

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
            return (self.cursor, tuple(self.views), self.playing) != before

    # =================================================================== live

    def go_live(self, target: LiveTarget | None = None) -> bool:
        """Follow the newest data (``L``). False, with a message, when nothing matches."""
        with self._lock:
            self._target_picked = self._target_picked or target is not None
            target = target or self.live_target or self._default_target()
            if target is None:
                # An empty store (a run that has just started): follow whatever comes first.
                self.live = True
                self.playing = True
                self.message = "waiting for the first episode"
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
            return True

    def leave_live(self) -> None:
        with self._lock:
            self.live = False

    def toggle_live(self) -> None:
        """The LIVE button and ``L``: follow the newest data, or stop following."""
        with self._lock:
            self.leave_live() if self.live else self.go_live()

    def live_targets(self) -> list[LiveTarget]:
        with self._lock:
            cat = self.catalog
            out = [LiveTarget("snapshot")] if len(cat.query(source="snapshot")) else []
            train = cat.query(source="train", in_progress=True)
            pairs = train.column("writer").astype(np.int64) << 32 | train.column("slot").astype(np.int64)
            _, first = np.unique(pairs, return_index=True)  # each (writer, slot), where it first appears
            seen = [(int(pairs[i] >> 32), int(pairs[i] & 0xFFFFFFFF)) for i in np.sort(first)]
            return out + [LiveTarget("slot", cat.writer_id(w), s) for w, s in seen]

    def target_label(self, t: LiveTarget) -> str:
        run = self.runs[self._writer_run[t.writer]].label if len(self.runs) > 1 and t.writer in self._writer_run \
            else None
        return P.live_target_label(t.kind, t.slot, t.writer, self.writers, run)

    def follow(self, label: str) -> bool:
        """Follow the live target named ``label`` (as :meth:`target_label` names it)."""
        with self._lock:
            for t in self.live_targets():
                if self.target_label(t) == label:
                    return self.go_live(t)
            self.message = f"nothing to follow as {label!r}"
            return False

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

    def _newest(self, target: LiveTarget, finished: bool = False) -> EpisodeInfo | None:
        """The newest episode the target follows (``finished``: leaving out open episodes)."""
        if target.kind == "snapshot":
            sel = self._undamaged(self.catalog.query(source="snapshot"))
            if not len(sel):
                return None
            # The newest by (iteration, wall time, id): the last of a stable sort in id order.
            return sel[int(np.lexsort((sel.column("wall_time"), sel.column("iteration")))[-1])]
        sel = self.catalog.query(source="train", writer=target.writer, in_progress=not finished)
        sel = self._undamaged(Selection(sel.catalog, sel.positions[sel.column("slot") == target.slot]))
        if not len(sel):
            return None
        # The latest start (an open episode before a catalogued one that starts there), the first in
        # id order among equals.
        start, opened = sel.column("start"), sel.column("in_progress")
        best = np.flatnonzero(start == start.max())
        best = best[opened[best]] if opened[best].any() else best
        return sel[int(best[0])]

    def _follow(self) -> None:
        """Keep the followed episode's id current (an open episode gets a catalog id when it
        ends) and move on to the newest one once the current one has been played."""
        if self.live_target is None or (not self._target_picked and self.live_target.kind != "slot"):
            # Not chosen by the user: the default, which moves from the first policy snapshot (the
            # first thing a run records) to the training envs once their episodes appear.
            self.live_target = self._default_target() or self.live_target
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
        loaded = cur is not None and self.data(cur.id) is not None
        if (newest is not None and self._stalled == (episode_key(newest), newest.length) and loaded
                and n > 1):
            self._seek_to(0)  # still no rows since live stopped waiting: replay what it shows meanwhile
        elif newest is not None and (cur is None or episode_key(newest) != episode_key(cur)):
            self._switch_live(newest)
        elif cur is not None and not cur.in_progress and loaded:
            # Nothing newer yet: replay the newest episode (a snapshot arrives once per iteration).
            self._seek_to(0)
        else:
            # At the tail of a growing episode, or nothing to show yet: hold the newest frame
            # until rows arrive (the clock restarts there, so playback resumes at real time);
            # when none come for LIVE_STALL_S, replay the newest finished episode meanwhile.
            at = (episode_key(cur) if cur is not None else None, n)
            if self._hold[0] != at:
                self._hold = (at, self._clock())
            if cur is not None and self._clock() - self._hold[1] > LIVE_STALL_S:
                self._stalled = (episode_key(cur), cur.length)
                done = self._newest(self.live_target, finished=True) if self.live_target else None
                if done is not None and episode_key(done) != episode_key(cur):
                    self._switch_live(done)
                    return
                if loaded and n > 1:
                    self._seek_to(0)
                    return
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
            if not self.writers:
                return RecorderStatus("none", math.inf, "no recorder")
            w = None
            if self.views and self.views[0] in self._by_id:
                wid = self._by_id[self.views[0]].writer
                w = next((x for x in self.writers if x.writer_id == wid), None)
            w = w or max(self.writers, key=lambda x: x.heartbeat)
            age = max(0.0, self._wall() - w.heartbeat)
            if w.state == "closed":
                return RecorderStatus("closed", age, "run finished")
            if w.state == "failed":
                why = f": {w.error}" if w.error else ""
                return RecorderStatus("failed", age, f"recorder failed{why}"[:160])
            if age > self.heartbeat_timeout_s:
                return RecorderStatus("stopped", age,
                                      f"recorder stopped ({format_age(age)} since last heartbeat)")
            text = "recording" if w.state == "recording" else "recording paused"
            return RecorderStatus(w.state, age, f"{text}, heartbeat {format_age(age)} ago")

    def set_recording(self, on: bool) -> dict:
        """Ask a live recorder to pause or resume (control.json): the viewer's only write."""
        with self._lock:
            i = self._control_store()
        doc = write_control(self.readers[i].storage, recording=bool(on))
        with self._lock:
            self.control = doc
            if i < len(self._controls):
                self._controls[i] = doc
        return doc

    def toggle_recording(self) -> bool:
        """The "Pause recording" / "Resume recording" button. False, with a message, when the
        control file cannot be written (a read-only store)."""
        try:
            self.set_recording(not self.control.get("recording", True))
            return True
        except OSError as e:
            with self._lock:
                self.message = f"cannot write the control file ({e.strerror}): is the store read-only?"
            return False

    # ========================================================== the viewport

    def set_ghost(self, on: bool) -> None:
        """Compare mode drawn in one scene: the first episode solid, the others translucent. Only
        episodes of one model share a scene: runs of different models stay side by side, with a
        note (:data:`presentation.GHOST_NOTE`) over the first cell."""
        with self._lock:
            self.ghost = bool(on)
            if self.ghost and self.compare and not self.ghost_possible():
                self.message = P.GHOST_NOTE

    def ghost_possible(self) -> bool:
        """Whether the episodes on screen can be drawn in one scene: all of one model (the
        viewport's: the first store's)."""
        with self._lock:
            sha = str(self.reader.info.attrs.get("model_sha256", ""))
            return all(str(self.readers[self._store_of_view(k)].info.attrs.get("model_sha256", "")) == sha
                       for k in range(len(self.views)))

    def set_overlay(self, name: str, on: bool) -> None:
        """Turn one overlay line on or off (:meth:`presentation.Overlays.names`)."""
        if name not in P.Overlays.names():
            raise ValueError(f"overlay must be one of {P.Overlays.names()}")
        with self._lock:
            self.overlays = replace(self.overlays, **{name: bool(on)})

    def set_camera(self, label: str) -> None:
        """Switch camera (one of :attr:`camera_names`) and reset its view."""
        with self._lock:
            self.camera = label if label in self.camera_names else "track"
            self._camera_moves.append(("camera", self.camera))

    def reset_camera(self) -> None:
        with self._lock:
            self._camera_moves.append(("reset",))

    def set_shadows(self, on: bool) -> None:
        with self._lock:
            self.shadows = bool(on)
            self._camera_moves.append(("shadows", self.shadows))

    def orbit(self, d_azimuth: float, d_elevation: float) -> None:
        with self._lock:
            self._camera_moves.append(("orbit", float(d_azimuth), float(d_elevation)))

    def zoom(self, factor: float) -> None:
        with self._lock:
            self._camera_moves.append(("zoom", float(factor)))

    def pan(self, dx: float, dy: float) -> None:
        """Move the look-at point in the view plane (units of the view distance)."""
        with self._lock:
            self._camera_moves.append(("pan", float(dx), float(dy)))

    def drag(self, mode: str, dx_px: float, dy_px: float) -> None:
        """A mouse drag of (dx, dy) pixels on the viewport: "orbit" (left button) or "pan" (right)."""
        if mode == "orbit":
            self.orbit(-ORBIT_DEG_PER_PX * dx_px, -ORBIT_DEG_PER_PX * dy_px)
        elif mode == "pan":
            h = max(1, self.viewport[1])
            self.pan(-dx_px / h, dy_px / h)

    def wheel(self, notches: float) -> None:
        """The mouse wheel on the viewport: positive notches zoom in."""
        self.zoom(WHEEL_ZOOM ** float(notches))

    def take_camera_moves(self) -> list[tuple]:
        """The camera changes since the last call, in order, for the view's renderer:
        ("orbit", daz, del), ("zoom", f), ("pan", dx, dy), ("reset",), ("camera", label), ("shadows", on)."""
        with self._lock:
            out, self._camera_moves = self._camera_moves, []
            return out

    def set_viewport(self, width: int, height: int) -> None:
        """The viewport's render size in pixels (the view reports it when the window reflows):
        compare cells and the export's tiles follow it."""
        with self._lock:
            self.viewport = (max(16, int(width)), max(16, int(height)))

    def cell_size(self) -> tuple[int, int]:
        """One viewport cell in pixels for the episodes on screen."""
        with self._lock:
            _, _, cw, ch = P.cell_rect(0, max(1, len(self.views)), *self.viewport)
            return cw, ch

    # ================================================================= export

    def set_export_path(self, path: str) -> None:
        with self._lock:
            self.export_path = str(path).strip() or self.export_path

    @property
    def exporting(self) -> bool:
        t = self._export_thread
        return t is not None and t.is_alive()

    def export(self, path: str | None = None, *, wait: bool = False) -> bool:
        """The "Export video" button: what is on screen (one episode or the compare set, in the
        screen's grid, each tile the size of a viewport cell, with the screen's camera and
        overlays) to MP4/GIF, in the background. :attr:`export_status` says how it goes."""
        from .export_video import export_video

        with self._lock:
            if self.exporting:
                return False
            if path:
                self.set_export_path(path)
            views = [v for v in self.views if v not in self.damaged]
            if not views:
                self.export_status = "nothing to export"
                return False
            _, _, cw, ch = P.cell_rect(0, len(views), *self.viewport)
            tw, th = cw // 2 * 2, ch // 2 * 2  # MP4 needs even sizes
            out, overlays = self.export_path, (self.overlays if self.overlays.any() else None)
            camera = P.camera_arg(self.camera_names, self.camera)
            store, shadows = self.path, self.shadows
            self.export_status = "exporting…"

        def work():
            try:
                done = export_video(store, views, out, tw, th, camera=camera, overlay=overlays, shadows=shadows,
                                    progress=lambda i, n: setattr(self, "export_status", f"exporting {i}/{n} frames"))
                self.export_status = f"saved {done}"
            except Exception as e:  # a message in the window, never a dead thread
                self.export_status = f"export failed: {e}"

        self._export_thread = threading.Thread(target=work, name="braxscope-export", daemon=True)
        self._export_thread.start()
        if wait:
            self._export_thread.join()
        return True

    # ============================================================== snapshot

    def snapshot(self) -> Snapshot:
        """What a view draws this frame (immutable). Each aspect carries a revision that changes
        only when its content does, so a view redraws only what changed."""
        with self._lock:
            return Snapshot(scene=self._aspect("scene", self._scene_key(), self._scene),
                            timeline=self._aspect("timeline", self._timeline_key(), self._timeline),
                            plots=self._aspect("plots", self._plots_key(), self._plots),
                            table=self._aspect("table", self._table_key(), self._table),
                            header=self._aspect("header", self._header_key(), self._header))

    def _aspect(self, name: str, key, build):
        old = self._memo.get(name)
        if old is not None and old[0] == key:
            return old[2]
        rev = 1 if old is None else old[1] + 1
        value = build(rev)
        self._memo[name] = (key, rev, value)
        return value

    def _scene_key(self):
        views = tuple(self.views)
        frames = tuple(self.frame_of(i) for i in range(len(views)))
        loaded = tuple(len(d) if (d := self.data(v)) is not None else -1 for v in views)
        return (views, frames, loaded, tuple(v in self.damaged for v in views), self.ghost and len(views) > 1,
                self.overlays, tuple(self.runs))

    def _scene(self, rev: int) -> Scene:
        views = tuple(self.views)
        n = len(views)
        cells = []
        for i, v in enumerate(views):
            d = self.data(v)
            k = self.frame_of(i)
            facts = P.cell_facts(self._by_id.get(v), self.display_id(v), k, None if d is None else d.frames,
                                 None if d is None else d.cum_return, damaged=v in self.damaged)
            q = None if d is None or len(d) == 0 else d.frames.qpos[k]
            f = None if q is None else d.frames
            em = None if d is None else d.env_model
            lines = P.overlay_lines(facts, self.overlays, i, n > 1)
            if em is not None and not em.own:
                lines += (("nominal model (this env's own was not recorded)", P.DIM),)
            if i == 0 and self.ghost and n > 1 and not self.ghost_possible():
                lines += ((P.GHOST_NOTE, P.WARN),)
            cells.append(Cell(id=v, frame=k, length=facts.length, loading=facts.loading, damaged=facts.damaged,
                              qpos=q, colour=P.COMPARE_COLOURS[i % len(P.COMPARE_COLOURS)],
                              lines=lines, start=self._by_id[v].start if v in self._by_id else -1,
                              mocap_pos=None if f is None or f.mocap_pos is None else f.mocap_pos[k],
                              mocap_quat=None if f is None or f.mocap_quat is None else f.mocap_quat[k],
                              model=self._cell_model(i, em)))
        ghost = self.ghost and n > 1 and self.ghost_possible()
        picture = (views, tuple(c.frame for c in cells), tuple(c.qpos is not None for c in cells), ghost)
        return Scene(rev=rev, views=views, cells=tuple(cells), grid=P.grid_shape(n), ghost=ghost, picture=picture)

    def _cell_model(self, i: int, em) -> Any:
        """The model to draw view ``i`` with, None for the viewport's own: a randomized env's, or
        (another run) its store's."""
        m = em.model if em is not None else self._models[self._store_of_view(i)]
        return None if m is self._model else m

    def _timeline_key(self):
        return (self.cursor, self.length, self.playing, self.speed, self.loop)

    def _timeline(self, rev: int) -> Timeline:
        n = self.length
        return Timeline(rev=rev, cursor=self.cursor, length=n, playing=self.playing, speed=self.speed,
                        speed_label=P.speed_label(self.speed), loop=self.loop,
                        text=P.time_text(self.cursor, n, self.dt), play_label="Pause" if self.playing else "Play")

    def _plots_key(self):
        return (tuple((v, len(d) if (d := self.data(v)) is not None else -1) for v in self.views),
                tuple((len(m.env_step), tuple(m.names)) for m in self.run_metrics), tuple(self.runs), self.plot_points)

    def _plots(self, rev: int) -> Plots:
        datas = [(v, self.data(v)) for v in self.views]
        compare = len(datas) > 1
        pts = self.plot_points
        reward, ret, actions, marks = [], [], [], []
        actions_of = None
        for i, (v, d) in enumerate(datas):
            if d is None or len(d) == 0:
                continue
            lab = f" {self.display_id(v)} (it {d.info.iteration})" if compare else ""
            colour = P.COMPARE_COLOURS[i % len(P.COMPARE_COLOURS)]
            reward.append(Series(f"reward{lab}", *P.decimate(d.frames.reward, pts),
                                 colour[:3] + (150,) if compare else P.SERIES_COLOURS[0], 1.2 if compare else 1.4))
            ret.append(Series(f"return{lab}", *P.decimate(d.cum_return, pts),
                              colour if compare else P.SERIES_COLOURS[1], 2.2 if compare else 2.0))
            if actions_of is None:
                actions_of = v
                for j in range(d.frames.action.shape[1]):
                    names = self._actuators[self._store_of_view(i)]
                    name = names[j] if j < len(names) else f"a{j}"
                    actions.append(Series(name, *P.decimate(d.frames.action[:, j], pts),
                                          P.SERIES_COLOURS[j % len(P.SERIES_COLOURS)], 1.0))
        # One metric for every run (the first run's choice among all runs' names), one curve per run.
        several = len(self.runs) > 1
        have = [m for m in self.run_metrics if len(m.env_step)]
        name = P.pick_metric(list(dict.fromkeys(n for m in have for n in m.names))) if have else None
        curves, points = [], {}
        for k, m in enumerate(self.run_metrics):
            if name is None or name not in m.values or not len(m.env_step):
                continue
            x = m.env_step.astype(np.float64)
            y = np.asarray(m.values[name], np.float64)
            ok = np.isfinite(y)
            points[k] = (x[ok], y[ok])
            label = self.runs[k].label if several and k < len(self.runs) else name
            colour = P.RUN_COLOURS[k % len(P.RUN_COLOURS)] if several else P.SERIES_COLOURS[0]
            curves.append(Series(label, x[ok], y[ok], colour, 1.8))
        if name is not None:
            for i, (v, d) in enumerate(datas):
                info = self._by_id.get(v)
                if info is None:
                    continue
                colour = P.COMPARE_COLOURS[i % len(P.COMPARE_COLOURS)] if compare else P.EPISODE_MARK
                at = float(info.env_step)
                # A point on its run's curve where the episode was recorded; it also keeps the marker
                # inside the fitted axis range (the newest snapshot is often past the last metric).
                x, y = points.get(self._writer_run.get(info.writer, 0), (np.empty(0), np.empty(0)))
                y_at = float(np.interp(at, x, y)) if len(x) else None
                label = f"{self.runs[self._writer_run.get(info.writer, 0)].label} it {info.iteration}" if several \
                    else f"it {info.iteration}"
                marks.append((at, y_at, label, colour))
        curve_title = (f"Training curve: {name}" if name else
                       "Training curve (no metrics yet)" if not have else "Training curve")
        return Plots(rev=rev, reward=tuple(reward), ret=tuple(ret), actions=tuple(actions),
                     actions_title="Actions" + (f" ({self.display_id(actions_of)})" if compare and actions_of else ""),
                     curve=curves[0] if curves else None, curve_title=curve_title, marks=tuple(marks),
                     curves=tuple(curves))

    def _table_key(self):
        rows = self.rows()
        first = max(0, min(self.table_first, max(0, len(rows) - self.table_count)))
        return (self.catalog_version, len(self.damaged), first, self.table_count, tuple(self.views), len(rows),
                self.sort_key, self.sort_desc, tuple(self.runs), len(self.writers))

    def _table(self, rev: int) -> Table:
        rows = self.rows()
        first = max(0, min(self.table_first, max(0, len(rows) - self.table_count)))
        shown = set(self.views)
        out = []
        several = len(self.stores) > 1
        procs = {w.writer_id: (w.ordinal % Catalog.STORE_STRIDE, w.process_index) for w in self.writers}
        for ep in rows[first:first + self.table_count]:
            status = self.status_of(ep)
            run = self.runs[self._writer_run.get(ep.writer, 0)].label if len(self.runs) > 1 else ""
            w = procs.get(ep.writer)
            out.append(Row(id=ep.id, cells=P.row_cells(ep, status, run, P.writer_text(*w) if w else "",
                                                       eid=split_ref(ep.id)[1] if several else None),
                           status=status, colour=P.STATUS_COLOURS.get(status), marked=ep.id in shown))
        n_runs = len(self.runs)
        runs_text = f" · {n_runs} runs" if n_runs > 1 else ""
        return Table(rev=rev, rows=tuple(out), first=first, total=len(rows), catalog_total=len(self.catalog),
                     sort_key=self.sort_key, sort_desc=self.sort_desc,
                     columns=P.table_columns(n_runs, max(map(len, self._per_store), default=0)),
                     count_text=f"{len(rows)} of {len(self.catalog)} episodes{runs_text} · shift-click adds to compare")

    def _header_key(self):
        return tuple(self._header_fields().items())

    def _header_fields(self) -> dict:
        rec = self.recorder_status()
        if self.live:
            lag = self.lag_s()
            target = self.target_label(self.live_target) if self.live_target else ""
            live_text = f"following {target}" + (f" · lag {lag:.1f} s" if lag is not None else "")
        else:
            live_text = "press L to follow the newest data"
        probs = self.problems
        # What live mode can follow changes only with the catalog: not queried on every GUI frame.
        memo = self._targets_memo
        if memo is None or memo[0] != (self.catalog_version, len(self.writers)):
            memo = self._targets_memo = ((self.catalog_version, len(self.writers)),
                                         tuple(self.target_label(t) for t in self.live_targets()))
        targets = memo[1]
        return dict(
            live=self.live, live_text=live_text, recorder_text=rec.text, recorder_state=rec.state,
            recorder_colour=P.RECORDER_COLOURS.get(rec.state, P.DIM),
            recording_button=(("Pause recording" if self.control.get("recording", True) else "Resume recording")
                              if rec.state in ("recording", "paused") else None),
            message=self.message, problems=("store problems: " + "; ".join(probs[:3])) if probs else "",
            export_status=self.export_status, export_path=self.export_path, targets=targets,
            target=(self.target_label(self.live_target) if self.live_target else (targets[0] if targets else "")),
            ghost=self.ghost, overlays=self.overlays, camera=self.camera, camera_names=tuple(self.camera_names),
            shadows=self.shadows, filter=self.filter,
        )

    def _header(self, rev: int) -> Header:
        return Header(rev=rev, **self._header_fields())

    # ================================================================== store

    def poll_store(self) -> bool:
        """Read what is new: catalog, writers, control, metrics, and the selected episodes.
        The only method that touches the store; call it from one thread. True when anything changed."""
        grew, failed = False, None
        for r in self.readers:
            try:
                grew = r.refresh() or grew
            except BraxscopeError as e:
                failed = str(e) if len(self.readers) == 1 else f"{r.path}: {e}"
        if failed is not None and len(self.readers) == 1:
            with self._lock:
                self.message = failed
            return True
        first = not len(self.catalog) and not self.writers
        cats = [r.catalog() for r in self.readers]
        per_store = [r.writers() for r in self.readers]
        controls = [read_control(r.storage) for r in self.readers]
        runs = self.runs
        if grew or first or [len(w) for w in per_store] != [len(w) for w in self._per_store]:
            runs = make_runs([{"path": str(r.path), "label": lab, "attrs": r.info.attrs, "writers": ws}
                              for r, lab, ws in zip(self.readers, self._labels, per_store)])
        metrics = None
        if grew or first or runs != self.runs:
            metrics = []
            for run in runs:
                try:
                    metrics.append(self.readers[run.store].metrics(run.writers if len(runs) > 1 else None))
                except BraxscopeError as e:
                    self._note_problem(str(e))
                    metrics.append(_NO_METRICS)
        with self._lock:
            changed = grew or first or controls != self._controls or runs != self.runs
            self._set_writers(per_store, runs)
            self._controls = controls
            self.control = controls[self._control_store()]
            if metrics is not None:
                self.run_metrics = metrics
            cat = cats[0] if len(cats) == 1 else self._merged_catalog(cats)
            if grew or first or cat is not self.catalog:
                self._set_catalog(cat)
            self.problems = [p if len(self.readers) == 1 else f"{r.path}: {p}"
                             for r in self.readers for p in r.problems]
            if failed is not None:
                self.problems.append(failed)
            # Only what is on screen is loaded: clicking through many episodes never queues them all.
            todo = [(v, self._by_id[v]) for v in self.views if v in self._by_id]
        # Load or extend the shown episodes, outside the lock.
        seen = set()
        for eid, info in todo:
            if eid in seen or eid in self.damaged:
                continue
            seen.add(eid)
            key = episode_key(info)
            r = self.readers[self._writer_store.get(info.writer, 0)]  # the episode's own store
            with self._lock:
                have = self._cache.get(key)
            if have is not None and len(have) >= info.length:
                if have.info != info:
                    with self._lock:
                        have.info = info
                continue
            try:
                if have is not None and len(have) > 0:
                    frames = have.frames.concat(r.frames(info, len(have), info.length))
                else:
                    frames = r.frames(info)
            except BraxscopeError as e:
                with self._lock:
                    self._damaged_at[key] = self.damaged[eid] = f"episode {eid} is damaged: {e}"
                    if eid in self.views:
                        self.message = self.damaged[eid]
                    self.catalog_version += 1
                changed = True
                continue
            try:
                # A domain-randomized env's own model (kept while the episode grows: one per episode).
                env_model = have.env_model if have is not None and have.env_model is not None else r.env_model(info)
            except BraxscopeError as e:
                env_model = None
                with self._lock:
                    self.message = f"episode {eid}: its model cannot be read ({e}): showing the run's model"
            with self._lock:
                self._cache[key] = LoadedEpisode.of(info, frames, env_model)
                self._cache.move_to_end(key)
                self._evict()
            changed = True
        return changed

    def _set_writers(self, per_store: list[list[WriterStatus]], runs: list[Run]) -> None:
        """Every store's writers in one list, numbered as the catalog numbers them, and which
        store and run each belongs to."""
        self._per_store = per_store
        if len(per_store) == 1:
            self.writers = per_store[0]
        else:
            stride = Catalog.STORE_STRIDE
            self.writers = [replace(w, ordinal=i * stride + w.ordinal) for i, ws in enumerate(per_store) for w in ws]
        self._writer_store = {w.writer_id: i for i, ws in enumerate(per_store) for w in ws}
        self.runs = runs
        self._writer_run = {wid: run.index for run in runs for wid in run.writers}
        top = max((w.ordinal for w in self.writers), default=-1)
        table = np.zeros(top + 1, np.int64)
        for w in self.writers:
            table[w.ordinal] = self._writer_run.get(w.writer_id, 0)
        self._run_of_ordinal = table

    def _merged_catalog(self, cats: list[Catalog]) -> Catalog:
        """The stores' catalogs as one (ids "PATH:W:R"), rebuilt only when one of them changed."""
        memo = self._merged
        if memo is not None and len(memo[0]) == len(cats) and all(a is b for a, b in zip(memo[0], cats)):
            return memo[1]
        merged = Catalog.merge(list(zip(self.stores, cats)))
        self._merged = (cats, merged)
        return merged

    def _note_problem(self, text: str) -> None:
        with self._lock:
            if text not in self.problems:
                self.problems.append(text)

    def _set_catalog(self, cat: Catalog) -> None:
        old = self._by_id
        self.catalog = cat
        self._by_id = _EpisodeLookup(cat)

        def by_key(k):
            p = cat.find(*k)
            return None if p is None else cat.episode(p)

        # Damage belongs to rows, not to ids: "W:open-S" names the slot's next episode once one ends.
        self.damaged = {e.id: text for e, text in ((by_key(k), t) for k, t in self._damaged_at.items()) if e}
        # An open episode that ended was catalogued under a new id: follow the same rows there.
        # An episode whose rows are gone from the catalog leaves the screen (never a stale id).
        views, gone = [], []
        for v in self.views:
            was = old.get(v)
            now = self._by_id.get(v)
            if was is not None and (now is None or episode_key(now) != episode_key(was)):
                now = by_key(episode_key(was))
            if now is None:
                gone.append(v)
            elif now.id not in views:
                views.append(now.id)
        self.views = views
        if gone:
            self.message = f"episode {gone[0]} is no longer in the store"
        self._clamp_cursor()
        self.catalog_version += 1

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


_NO_METRICS = Metrics([], np.empty(0, np.int64), np.empty(0))


def _model_or_none(reader: StoreReader):
    try:
        return reader.model()
    except BraxscopeError:
        return None  # a damaged model blob: the browser and plots still work


def _actuator_labels(reader: StoreReader, m) -> list[str]:
    """Actuator names; an unnamed actuator ("actuator3") is labelled by the joint it drives."""
    nu = reader.sizes["nu"]
    names = list(reader.info.attrs.get("actuator_names") or [])
    names += [f"actuator{i}" for i in range(len(names), nu)]
    if m is not None:
        import mujoco

        for i in range(nu):
            if names[i] == f"actuator{i}" and m.actuator_trntype[i] == mujoco.mjtTrn.mjTRN_JOINT:
                names[i] = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, int(m.actuator_trnid[i, 0])) or names[i]
    return names


__all__ = ["ReplaySession", "CatalogFilter", "LoadedEpisode", "LiveTarget", "RecorderStatus", "SPEEDS", "MAX_COMPARE",
           "SORT_KEYS", "episode_key"]
