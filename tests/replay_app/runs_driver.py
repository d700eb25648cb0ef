"""Drives the real app over several stores (two runs of different seeds) under Xvfb and records
what the window showed: screenshots plus a JSON of measurements. Input goes through the X server
(XTest), as in gui_driver.py, whose helpers this uses. Its own process:
``python -m tests.replay_app.runs_driver OUTDIR STORE [STORE ...]``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import braxscope  # noqa: F401  (MUJOCO_GL before mujoco)
import dearpygui.dearpygui as dpg

from braxscope.replay_app import presentation as P
from braxscope.replay_app.app import ReplayApp
from braxscope.replay_app.error_log import ErrorLog
from braxscope.replay_app.render_thread import RenderWorker
from braxscope.replay_app.session import ReplaySession
from braxscope.schema.reader import open_store

from .gui_driver import Shots, XInput, _errors, mad, marked_rows, near, pump, rect, settle


def runs(stores: list[str], out: Path, R: dict) -> None:
    readers = [open_store(p) for p in stores]
    s = ReplaySession(readers)
    s.poll_store()
    worker = RenderWorker(readers[0].model(), 640, 480)
    (out / "viewer.log").unlink(missing_ok=True)
    app = ReplayApp(s, worker, width=640, height=480, errors=ErrorLog(out / "viewer.log"))
    rec, xi = Shots(app, out), XInput(app)
    try:
        first = s.rows()[0].id
        s.select(first)
        settle(app)
        img = rec.shot("runs_open")
        b = app.browser
        R["labels"] = [r.label for r in s.runs]
        R["listed_runs"] = sorted({row.cells[1] for row in b._shown})
        R["run_column_shown"] = dpg.get_item_configuration(b.columns["run"])["enabled"]
        R["run_cell_texts"] = sorted({dpg.get_item_label(items[1]) for items in b.rows if dpg.get_item_label(items[1])})
        # The training curve plot: one line series per run, each drawn in its run's colour.
        series = [i for i in dpg.get_item_children(app.plots.ty, 1) if dpg.get_item_type(i).endswith("mvLineSeries")]
        R["curve_series"] = [dpg.get_item_label(i) for i in series]
        x0, y0, w, h = rect("p_train")
        train = img[int(y0):int(y0 + h), int(x0):int(x0 + w)]
        R["curve_pixels"] = [near(train, P.RUN_COLOURS[k]) for k in range(len(s.runs))]

        # A cross-run compare by real clicks: a row of the first run, shift-click one of the second.
        row_a = next(r for r in b._shown if r.cells[1] == s.runs[0].label and r.id == first)
        row_b = next(r for r in b._shown if r.cells[1] == s.runs[1].label and r.cells[3] == row_a.cells[3])
        xi.click_row(row_a.id)
        xi.click_row(row_b.id, shift=True)
        R["compare_views"] = list(s.views)
        R["compare_runs"] = [s.run_of(v).label for v in s.views]
        R["marked"] = marked_rows(app)
        # Play with the space key under the one cursor, then pause.
        xi.key("Home")
        s.set_loop(True)
        shown0 = app.stats.frames_shown
        xi.key("space", wait=False)
        R["playing"] = s.playing
        pump(app, until=lambda: app.stats.frames_shown - shown0 >= 4 and s.cursor > 10)
        xi.key("space", wait=False)
        s.set_loop(False)
        settle(app)
        sc = app.shown
        R["after_play"] = {"cursor": s.cursor, "frames": [c.frame for c in sc.cells], "views": list(sc.views),
                           "loaded": [c.qpos is not None for c in sc.cells], "grid": list(sc.grid),
                           "lines": [c.lines[0][0] for c in sc.cells]}
        img = rec.shot("runs_compare")
        x0, y0, w, h = rect("viewport")
        view = img[int(y0):int(y0 + h), int(x0):int(x0 + w)]
        half = view.shape[1] // 2
        R["cells_differ"] = mad(view[:, :half], view[:, half:2 * half])
        R["cells_std"] = [float(view[:, :half].std()), float(view[:, half:].std())]
        R["reward_series"] = [dpg.get_item_label(i) for i in dpg.get_item_children(app.plots.ry, 1)
                              if dpg.get_item_type(i).endswith("mvLineSeries")]
        R["window"] = [*dpg.get_viewport_pos(), dpg.get_viewport_client_width(), dpg.get_viewport_client_height()]
        R["browser_rect"] = list(rect(b.rows[0][-1]))  # the status cell: the table's right edge
        R["run_cell_rect"] = list(rect(b.rows[0][1]))
    finally:
        _errors(app, R)
        app.close()


def main(out: str, stores: list[str]) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    R: dict = {}
    try:
        runs(stores, out, R)
    finally:
        (out / "results.json").write_text(json.dumps(R, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("MUJOCO_GL", "egl")
    main(sys.argv[1], sys.argv[2:])
