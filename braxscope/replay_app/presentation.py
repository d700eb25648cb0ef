"""What every view of a replay session shows, decided once.

The compare grid, the palette, the overlay lines of a viewport cell, the browser's cells and
status words, the training metric, the running return, ages and the camera labels. The
DearPyGui app, the video export and the notebook all draw from here (and ``braxscope info``
through the schema's own words, :mod:`braxscope.schema.status`), so what one view shows another
shows the same way. Pure functions and constants: no GUI, no GL, no store access.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from ..schema.reader import EpisodeInfo, WriterStatus
from ..schema.status import STATUSES, episode_status, format_age

# ------------------------------------------------------------------ palette (RGBA 0-255)

ACCENT = (86, 156, 255, 255)
LIVE_ON = (235, 64, 52, 255)
OK = (90, 200, 120, 255)
WARN = (240, 180, 60, 255)
ERROR = (255, 110, 100, 255)
DIM = (150, 155, 165, 255)
TEXT = (235, 235, 240, 255)
BACKGROUND = (22, 24, 28, 255)
# One colour per compared episode, in compare order: its overlay label, its plot series, its
# mark on the training curve, its ghost tint.
COMPARE_COLOURS = ((86, 156, 255, 255), (255, 160, 60, 255), (110, 210, 120, 255), (220, 100, 220, 255))
# Series of one episode: reward, return, then one per actuator.
SERIES_COLOURS = ((78, 145, 220, 255), (245, 140, 50, 255), (90, 185, 110, 255), (220, 80, 80, 255),
                  (160, 120, 210, 255), (150, 110, 90, 255), (225, 120, 190, 255), (160, 160, 160, 255),
                  (190, 190, 60, 255), (70, 190, 200, 255))
# One colour per run: its training curve (the first run's is the single-run curve colour).
RUN_COLOURS = (SERIES_COLOURS[0], SERIES_COLOURS[1], SERIES_COLOURS[2], SERIES_COLOURS[4], SERIES_COLOURS[6],
               SERIES_COLOURS[9], SERIES_COLOURS[8], SERIES_COLOURS[3])
EPISODE_MARK = (255, 200, 80, 255)  # the shown episode's iteration on the training curve
STATUS_COLOURS = {"damaged": ERROR, "recording": LIVE_ON, "cut": WARN}
RECORDER_COLOURS = {"recording": OK, "paused": WARN, "stopped": ERROR, "failed": ERROR, "closed": DIM, "none": DIM}
# Ghost mode asked for over episodes of different models (runs of different envs).
GHOST_NOTE = "ghost needs one model: these runs differ, shown side by side"
# A viewport cell with nothing to draw (loading, or the empty fourth cell of a 3-way compare).
EMPTY_RGB = (33, 36, 41)

# ------------------------------------------------------------------ the compare grid

MAX_CELLS = 4


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) of the viewport grid for ``n`` episodes: 1x1, 1x2, 2x2 (3 leaves a cell empty).
    The screen and the video export both use it, so an export of what is on screen looks the same."""
    if n > MAX_CELLS:
        raise ValueError(f"at most {MAX_CELLS} episodes side by side, got {n}")
    return (1, 1) if n <= 1 else (1, 2) if n == 2 else (2, 2)


def cell_rect(i: int, n: int, width: int, height: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) in pixels of cell ``i`` of ``n`` in a viewport of width x height."""
    rows, cols = grid_shape(n)
    cw, ch = width // cols, height // rows
    return (i % cols) * cw, (i // cols) * ch, cw, ch


# ------------------------------------------------------------------ numbers

def running_return(reward: np.ndarray) -> np.ndarray:
    """The return so far at each step [L] (float64). A NaN or inf reward (diverged physics)
    counts as 0, so one bad step does not blank every later value; the reward itself is still
    shown as nan."""
    r = np.asarray(reward, np.float64)
    return np.cumsum(np.where(np.isfinite(r), r, 0.0))


def decimate(y: np.ndarray, max_points: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of a series [n] for a plot a few hundred pixels wide: the min and max of each
    bucket of steps, in step order, so peaks survive. Drawing every point of long episodes made
    each GUI frame several times slower on software GL. NaN is drawn as 0."""
    y = np.nan_to_num(np.asarray(y, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    n = y.shape[0]
    if n <= max_points:
        return np.arange(n, dtype=np.float64), y
    b = -(-n // (max_points // 2))
    m = n // b * b
    blocks = y[:m].reshape(-1, b)
    base = np.arange(0, m, b)
    i_min, i_max = blocks.argmin(axis=1), blocks.argmax(axis=1)
    first, second = np.minimum(i_min, i_max), np.maximum(i_min, i_max)
    x = np.stack([base + first, base + second], axis=1).reshape(-1)
    x = np.concatenate([x, np.arange(m, n)]).astype(np.float64)
    return x, y[x.astype(np.int64)]


# The metric a user means by "is it learning": eval return, else the training-episode return.
TRAINING_METRICS = ("eval/episode_reward", "episode/sum_reward", "training/episode_reward", "episode_reward")


def pick_metric(names: list[str]) -> str | None:
    """The training curve's metric among ``names``: the first of :data:`TRAINING_METRICS`, else
    one ending in "reward", else the first."""
    for m in TRAINING_METRICS:
        if m in names:
            return m
    return next((n for n in names if n.endswith("reward")), names[0] if names else None)


# ------------------------------------------------------------------ overlays


@dataclass(frozen=True)
class Overlays:
    """Which facts the viewport writes over a single episode (compare cells show step and return)."""

    step: bool = True
    reward: bool = True
    ret: bool = True
    action: bool = False
    iteration: bool = True

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def any(self) -> bool:
        return any(getattr(self, n) for n in self.names())


OVERLAY_LABELS = {"step": "step", "reward": "reward", "ret": "return", "action": "|action|", "iteration": "iteration"}


@dataclass(frozen=True)
class CellFacts:
    """What a viewport cell's text is made of, at its frame. ``reward``/``ret``/``action``/``it``
    are None while the episode loads."""

    id: str
    source: str
    iteration: int
    frame: int
    length: int
    loading: bool
    damaged: bool
    reward: float | None = None
    ret: float | None = None
    action: float | None = None  # |action|, NaN counted as 0
    it: int | None = None
    invalid: bool = False  # qpos holds NaN/inf: the renderer draws its invalid frame


def cell_facts(info: EpisodeInfo | None, eid: str, frame: int, frames=None, ret: np.ndarray | None = None,
               damaged: bool = False) -> CellFacts:
    """The facts of episode ``eid`` at ``frame`` (``frames``: its loaded :class:`Frames`, or None)."""
    length = len(frames) if frames is not None else (info.length if info else 0)
    base = dict(id=eid, source=info.source if info else "?", iteration=info.iteration if info else -1,
                frame=frame, length=length, loading=frames is None, damaged=damaged)
    if frames is None or len(frames) == 0:
        return CellFacts(**base)
    k = max(0, min(frame, len(frames) - 1))
    if ret is None:
        ret = running_return(frames.reward)
    return CellFacts(**base, reward=float(frames.reward[k]), ret=float(ret[k]),
                     action=float(np.linalg.norm(np.nan_to_num(frames.action[k]))), it=int(frames.iteration[k]),
                     invalid=not np.isfinite(frames.qpos[k]).all())


Line = tuple[str, tuple[int, int, int, int]]


def overlay_lines(c: CellFacts, overlays: Overlays, index: int = 0, compare: bool = False) -> tuple[Line, ...]:
    """The text lines (and colours) drawn over a viewport cell, top left, in the app and in the
    export alike. ``index`` is the cell's place in the compare set (its colour)."""
    lines: list[Line] = []
    if compare:
        # Cells are small in compare mode: one label line, then step and return only.
        lines.append((f"{c.id}  {c.source}  it {c.iteration}", COMPARE_COLOURS[index % len(COMPARE_COLOURS)]))
        if c.damaged:
            lines.append(("damaged episode", ERROR))
        elif c.ret is not None:
            lines.append((f"{step_text(c)}  return {c.ret:+.1f}", TEXT))
            if c.invalid:
                lines.append(("invalid state (NaN qpos)", ERROR))
        return tuple(lines)
    if c.damaged:
        return (("damaged episode: cannot be played", ERROR),)
    if c.loading or c.ret is None:
        return (("loading…", DIM),)
    if overlays.step:
        lines.append((step_text(c), TEXT))
    if overlays.reward:
        lines.append((f"reward {c.reward:+.3f}", TEXT))
    if overlays.ret:
        lines.append((f"return {c.ret:+.2f}", TEXT))
    if overlays.action:
        lines.append((f"|action| {c.action:.3f}", TEXT))
    if overlays.iteration:
        lines.append((f"iteration {c.it}", TEXT))
    if c.invalid:
        lines.append(("invalid state (NaN/inf qpos)", ERROR))
    return tuple(lines)


def step_text(c: CellFacts) -> str:
    """"step k / L-1": the frame shown (0-based, as the timeline counts) and the last frame."""
    return f"step {min(c.frame, max(0, c.length - 1))} / {max(0, c.length - 1)}"


def time_text(cursor: int, length: int, dt: float) -> str:
    return f"{cursor:>4} / {max(0, length - 1)}   {cursor * dt:6.2f} s   {dt * 1000:.0f} ms/step"


# ------------------------------------------------------------------ the browser

# (name, header, width weight): weights in proportion to what each column's widest text needs
TABLE_COLUMNS = (("id", "id", 0.9), ("run", "run", 1.0), ("writer", "writer", 0.85), ("source", "source", 1.15),
                 ("env", "env", 0.72), ("iteration", "iter", 0.72), ("env_step", "step", 0.85), ("length", "len", 0.68),
                 ("return", "return", 0.95), ("status", "status", 1.1))
SOURCE_CHOICES = ("all sources", "train", "snapshot")


def table_columns(runs: int, writers: int) -> tuple[str, ...]:
    """The browser's columns for ``runs`` runs and at most ``writers`` writer groups in one store:
    the run column only when there are several runs, the writer column (writer and process) only
    when a store has several writers; every other column always."""
    return tuple(name for name, _, _ in TABLE_COLUMNS
                 if (name != "run" or runs > 1) and (name != "writer" or writers > 1))


def writer_text(ordinal: int, process_index: int) -> str:
    """An episode's writer group (its ordinal in its store) and recording process: "w1 p0"."""
    return f"w{ordinal} p{process_index}"


def return_text(ret: float) -> str:
    return "—" if not math.isfinite(ret) else f"{ret:.1f}"


def row_cells(ep: EpisodeInfo, status: str, run: str = "", writer: str = "", eid: str | None = None
              ) -> tuple[str, ...]:
    """The browser's texts for one episode, in :data:`TABLE_COLUMNS` order (``eid``: the id as
    shown, the episode's id in its own store when the run column names the store)."""
    return (ep.id if eid is None else eid, run, writer, ep.source, str(ep.env_id), str(ep.iteration),
            str(ep.env_step), str(ep.length), return_text(ep.ret), status)


def parse_bound(text: str | float | int | None, kind=float):
    """A filter box's text as a bound: None when empty or not a number (no bound)."""
    if text is None or isinstance(text, (int, float)):
        return None if text is None else kind(text)
    text = text.strip()
    if not text:
        return None
    try:
        v = float(text)
    except ValueError:
        return None
    return kind(v) if math.isfinite(v) else None


# ------------------------------------------------------------------ header, camera, speed


def speed_label(x: float) -> str:
    return f"{x:g}x"


def live_target_label(kind: str, slot: int, writer: str | None, writers: list[WriterStatus],
                      run: str | None = None) -> str:
    """How the live-follow choice is named: "newest snapshot", "env slot 0 · writer 1", and with
    several runs "env slot 0 · ip s1" (the run's label)."""
    if kind == "snapshot":
        return "newest snapshot"
    if run:
        return f"env slot {slot} · {run}"
    ordinal = next((w.ordinal for w in writers if w.writer_id == writer), 0)
    return f"env slot {slot}" + (f" · writer {ordinal}" if len(writers) > 1 else "")


def camera_labels(model) -> list[str]:
    """The camera choices: the tracking camera, the free camera, then the model's own cameras
    (labelled apart: brax's ant names one of its cameras "track")."""
    import mujoco

    return ["track", "free"] + [f"model: {mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_CAMERA, i) or i}"
                                for i in range(model.ncam)]


def camera_arg(labels: list[str], label: str) -> str | int:
    """What the renderer takes for a camera label: "track", "free" or a model camera index."""
    if label in ("track", "free") or label not in labels:
        return label if label in ("track", "free") else "track"
    return labels.index(label) - 2


__all__ = [
    "ACCENT", "LIVE_ON", "OK", "WARN", "ERROR", "DIM", "TEXT", "BACKGROUND", "COMPARE_COLOURS", "SERIES_COLOURS",
    "EPISODE_MARK", "GHOST_NOTE", "STATUS_COLOURS", "RECORDER_COLOURS", "EMPTY_RGB", "MAX_CELLS", "grid_shape",
    "cell_rect", "running_return", "decimate", "TRAINING_METRICS", "pick_metric", "Overlays", "OVERLAY_LABELS",
    "CellFacts", "cell_facts", "overlay_lines", "step_text", "time_text", "TABLE_COLUMNS", "SOURCE_CHOICES",
    "return_text", "row_cells", "table_columns", "writer_text", "RUN_COLOURS", "parse_bound", "speed_label",
    "live_target_label", "camera_labels", "camera_arg", "STATUSES", "episode_status", "format_age",
]
