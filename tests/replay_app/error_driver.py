"""Drives the real app (DearPyGui under Xvfb) through a fault in its model: the session's clock
raises on every frame for a while, as the live viewer's did on an empty store. Records what the
window showed and what the log holds. Its own process, like gui_driver.py:
``python -m tests.replay_app.error_driver STORE OUTDIR``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import braxscope  # noqa: F401  (MUJOCO_GL before mujoco)
import dearpygui.dearpygui as dpg
import numpy as np

from braxscope.replay_app.app import ReplayApp
from braxscope.replay_app.presentation import ERROR
from braxscope.replay_app.error_log import ErrorLog
from braxscope.replay_app.render_thread import RenderWorker
from braxscope.replay_app.session import ReplaySession
from braxscope.schema.reader import open_store

from .gui_driver import Shots, pump, region, settle


def _near(img: np.ndarray, colour, tol: int = 40) -> int:
    """Pixels within ``tol`` of an RGB colour (anti-aliased text keeps some at its full colour)."""
    return int((np.abs(img.reshape(-1, 3) - np.array(colour[:3])).max(axis=1) <= tol).sum())


def main(store: str, out: str) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "viewer.log"
    log.unlink(missing_ok=True)
    reader = open_store(store)
    s = ReplaySession(reader)
    s.select("0:0")
    s.poll_store()
    app = ReplayApp(s, RenderWorker(reader.model(), 480, 360), width=480, height=360, errors=ErrorLog(log))
    rec = Shots(app, out)
    R = {}
    try:
        R["settled"] = settle(app)
        R["banner_before"] = dpg.is_item_shown(app.error_text)

        def broken_tick():
            raise RuntimeError("injected fault in the session's clock")

        s.tick = broken_tick  # the instance attribute hides the method
        frames = app.stats.gui_frames
        pump(app, 1.0)
        img = rec.shot("error_banner")
        banner = region(img, app.error_text)
        R["during"] = {"gui_frames": app.stats.gui_frames - frames, "shown": dpg.is_item_shown(app.error_text),
                       "text": dpg.get_value(app.error_text), "banner_h": int(banner.shape[0]),
                       "banner_error_px": _near(banner, ERROR), "count": app.errors.count}
        # The window still takes input while the fault repeats: a seek from the timeline's callback.
        s.seek(50)  # what the scrubber's callback does
        R["during"]["cursor_after_scrub"] = s.cursor

        del s.tick  # the fault goes away: the app carries on by itself
        s.seek(10)
        settle(app)
        a = rec.regions("after_a")["viewport"]
        s.seek(70)
        R["after_settled"] = settle(app)
        b = rec.regions("after_b")["viewport"]
        R["after"] = {"viewport_diff": float(np.abs(a - b).mean()), "shown_frame": app.shown.cells[0].frame}
        R["log"] = log.read_text() if log.exists() else ""
    finally:
        (out / "results.json").write_text(json.dumps(R, indent=1))
        app.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
