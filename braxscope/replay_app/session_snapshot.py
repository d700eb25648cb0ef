"""What a view draws in one frame: the immutable :class:`Snapshot` of a :class:`ReplaySession`.

A view calls ``session.snapshot()`` once per GUI frame and draws it. Each aspect (scene,
timeline, plots, table, header) carries ``rev``, a revision that changes exactly when that
aspect's content changes (the same object is handed out while it does not), so a view compares
revisions and redraws only what changed. Colours are RGBA 0-255 tuples; texts are final (a view
draws them as they are).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

Colour = tuple[int, int, int, int]
Line = tuple[str, Colour]


@dataclass(frozen=True)
class Cell:
    """One viewport cell: an episode at its frame of the shared cursor."""

    id: str  # the episode id ("W:R" or "W:open-S")
    frame: int  # the frame shown: the cursor, or the episode's last frame when it is shorter
    length: int  # frames of the episode (loaded, else catalogued)
    loading: bool  # its rows are not loaded yet (qpos is None)
    damaged: bool  # its rows cannot be read (qpos is None)
    qpos: np.ndarray | None  # [nq] the state to render, None while loading or damaged
    colour: Colour  # the episode's compare colour (label, plot series, ghost tint)
    lines: tuple[Line, ...]  # overlay text lines drawn top left in the cell, with their colours
    start: int = -1  # the episode's first row in its stream (tells live episodes apart)
    mocap_pos: np.ndarray | None = None  # [nmocap,3] where the model has mocap bodies
    mocap_quat: np.ndarray | None = None  # [nmocap,4]
    model: Any = None  # the MjModel to draw it with when not the run's (a domain-randomized env's own)


@dataclass(frozen=True)
class Scene:
    """What the viewport shows. ``picture`` identifies the rendered image: when it is unchanged
    only the overlay text may have changed, and no new render is needed."""

    rev: int
    views: tuple[str, ...]  # episode ids on screen, in cell order
    cells: tuple[Cell, ...]
    grid: tuple[int, int]  # (rows, cols) of cells (presentation.grid_shape)
    ghost: bool  # compared episodes drawn in one scene, the first solid (no grid)
    picture: Any  # hashable key of the image: (views, frames, loaded, ghost)


@dataclass(frozen=True)
class Timeline:
    """The scrubber and the transport buttons."""

    rev: int
    cursor: int  # the shared frame index
    length: int  # frames on the timeline (the longest shown episode)
    playing: bool
    speed: float  # x real time
    speed_label: str  # "2x"
    loop: bool
    text: str  # "cursor / last   seconds   ms/step"
    play_label: str  # "Play" or "Pause"


@dataclass(frozen=True)
class Series:
    """One plot line: x [n] and y [n] (float64, already decimated for drawing)."""

    label: str
    x: np.ndarray
    y: np.ndarray
    colour: Colour
    weight: float  # line width in pixels


@dataclass(frozen=True)
class Plots:
    """The reward/return plot, the action plot (of the first shown episode) and the training curve."""

    rev: int
    reward: tuple[Series, ...]  # per shown episode, against its step
    ret: tuple[Series, ...]  # running return per shown episode (second y axis)
    actions: tuple[Series, ...]  # one per actuator, named
    actions_title: str
    curve: Series | None  # the training metric against env steps (None: no metrics yet)
    curve_title: str
    marks: tuple[tuple[float, float | None, str, Colour], ...]  # (env step, value on the curve, label, colour)
    curves: tuple[Series, ...] = ()  # one training curve per run (labelled by run when several); curve is the first


@dataclass(frozen=True)
class Row:
    """One browser row."""

    id: str
    cells: tuple[str, ...]  # texts in presentation.TABLE_COLUMNS order (every column, shown or not)
    status: str  # "done" | "cut" | "recording" | "damaged"
    colour: Colour | None  # the status cell's colour (None: the default text colour)
    marked: bool  # the episode is on screen


@dataclass(frozen=True)
class Table:
    """The browser's visible window of the listing (filtered, sorted): rows ``first`` ..
    ``first + len(rows)`` of ``total``; never the whole catalog."""

    rev: int
    rows: tuple[Row, ...]
    first: int
    total: int  # rows that pass the filter
    catalog_total: int  # every episode of the store
    sort_key: str
    sort_desc: bool
    count_text: str
    columns: tuple[str, ...] = ()  # the columns to show (presentation.table_columns): run, writer when several


@dataclass(frozen=True)
class Header:
    """The header bar and the settings a view shows as widget states."""

    rev: int
    live: bool  # following the newest data (the LIVE badge lit)
    live_text: str
    recorder_text: str  # "recording, heartbeat 1 s ago", "run finished", "recorder stopped (...)"
    recorder_state: str  # "recording" | "paused" | "closed" | "stopped" | "none"
    recorder_colour: Colour
    recording_button: str | None  # "Pause recording" / "Resume recording"; None: no live writer
    message: str  # the last user-facing message ("" for none)
    problems: str  # damage found in the store ("" for none)
    export_status: str
    export_path: str
    targets: tuple[str, ...]  # what live mode can follow
    target: str  # what it follows (or would)
    ghost: bool
    overlays: Any  # presentation.Overlays
    camera: str
    camera_names: tuple[str, ...]
    shadows: bool
    filter: Any  # session.CatalogFilter


@dataclass(frozen=True)
class Snapshot:
    """Everything a view draws this frame."""

    scene: Scene
    timeline: Timeline
    plots: Plots
    table: Table
    header: Header


__all__ = ["Snapshot", "Scene", "Cell", "Timeline", "Plots", "Series", "Table", "Row", "Header"]
