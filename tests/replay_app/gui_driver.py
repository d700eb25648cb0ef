"""Drives the real app (DearPyGui under Xvfb, real renderer, real store) through a scenario and
records what the window showed: screenshots plus a JSON of measurements. Runs in its own process
(``python -m tests.replay_app.gui_driver STORE OUTDIR``): DearPyGui's GL context must never share a
thread with the MuJoCo renderers other tests create in the pytest process (FIELD-NOTES).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import braxscope  # noqa: F401  (MUJOCO_GL before mujoco)
import dearpygui.dearpygui as dpg
import numpy as np
from PIL import Image

from braxscope.replay_app.app import ReplayApp
from braxscope.replay_app.error_log import ErrorLog
from braxscope.replay_app.render_thread import RenderWorker
from braxscope.replay_app.session import ReplaySession
from braxscope.schema.reader import open_store


def pump(app, seconds: float = 0.0, until=None, timeout: float = 20.0) -> bool:
    t_end = time.perf_counter() + (seconds if until is None else timeout)
    while time.perf_counter() < t_end:
        app.frame()
        if until is not None and until():
            return True
        time.sleep(0.005)
    return until is None


def settle(app) -> bool:
    """Until the frame on screen is the one for the session's current state, all loaded."""
    s = app.s

    def done():
        with s._lock:
            want = (tuple(s.views), tuple(s.frame_of(i) for i in range(len(s.views))))
        st = app.shown_state
        return (st is not None and (tuple(st[0]), tuple(st[1])) == want and not s.loading
                and all(q is not None for q in st[2]))
    ok = pump(app, until=done)
    pump(app, 0.05)
    return ok


def region(img: np.ndarray, item) -> np.ndarray:
    (x0, y0), (w, h) = dpg.get_item_rect_min(item), dpg.get_item_rect_size(item)
    return img[int(y0):int(y0 + h), int(x0):int(x0 + w)]


class Recorder:
    def __init__(self, app, out: Path):
        self.app, self.out, self.results = app, out, {}

    def shot(self, name: str) -> np.ndarray:
        path = self.app.screenshot(self.out / f"{name}.png")
        return np.asarray(Image.open(path).convert("RGB")).astype(np.int16)

    def regions(self, name: str, items=("viewport", "p_reward", "p_action", "p_train")) -> dict:
        img = self.shot(name)
        return {i: region(img, i) for i in items}


def marked_rows(app) -> list[str]:
    """The episode ids whose rows the browser highlights (every cell of the row agrees)."""
    out = []
    for eid, items in app._row_items.items():
        values = {bool(dpg.get_value(i)) for i in items}
        assert len(values) == 1, f"row {eid} is half highlighted"
        if values.pop():
            out.append(eid)
    return out


def colours(a: np.ndarray) -> int:
    return len({tuple(c) for c in a.reshape(-1, 3)[::7]})


class XInput:
    """Real pointer and key events through the X server (the XTest extension, as xdotool does)."""

    def __init__(self):
        from Xlib import X, XK, display
        from Xlib.ext import xtest

        self.X, self.XK, self.xtest = X, XK, xtest
        self.d = display.Display()

    def move(self, x: float, y: float) -> None:
        self.xtest.fake_input(self.d, self.X.MotionNotify, x=int(x), y=int(y))
        self.d.sync()

    def button(self, press: bool, button: int = 1) -> None:
        self.xtest.fake_input(self.d, self.X.ButtonPress if press else self.X.ButtonRelease, button)
        self.d.sync()

    def key(self, name: str, press: bool) -> None:
        code = self.d.keysym_to_keycode(self.XK.string_to_keysym(name))
        self.xtest.fake_input(self.d, self.X.KeyPress if press else self.X.KeyRelease, code)
        self.d.sync()


def screen_xy(item, fx: float, fy: float) -> tuple[float, float]:
    """Screen position of the point at fractions (fx, fy) of an item's rectangle. Under Xvfb
    there is no window manager: the window's client area is at the viewport position."""
    (x0, y0), (w, h) = dpg.get_item_rect_min(item), dpg.get_item_rect_size(item)
    vx, vy = dpg.get_viewport_pos()
    return vx + x0 + fx * w, vy + y0 + fy * h


def real_input(app, rec) -> dict:
    s, xi, out = app.s, XInput(), {}
    s.pause()
    s.seek(40)
    settle(app)
    before = rec.regions("click_before")

    def click(item, fx, fy):
        xi.move(*screen_xy(item, fx, fy))
        pump(app, 0.15)  # the app sees the pointer over the plot before the button goes down
        xi.button(True)
        pump(app, 0.1)
        xi.button(False)
        settle(app)

    n = len(s.data(s.views[0]))
    click("p_reward", 0.2, 0.5)
    out["click_left"] = {"cursor": s.cursor, "shown": app.shown_state[1][0], "len": n}
    left = rec.regions("click_left")
    click("p_reward", 0.8, 0.5)
    out["click_right"] = {"cursor": s.cursor, "shown": app.shown_state[1][0]}
    right = rec.regions("click_right")
    out["click_viewport_diff"] = float(np.abs(left["viewport"] - right["viewport"]).mean())
    out["click_plot_diff"] = float(np.abs(left["p_reward"] - right["p_reward"]).mean())  # the cursor line moved
    out["click_before_diff"] = float(np.abs(before["viewport"] - left["viewport"]).mean())
    # the keyboard: Right steps one frame, Home jumps to the start
    xi.move(*screen_xy("viewport", 0.5, 0.5))
    at = s.cursor
    for key in ("Right",):
        xi.key(key, True)
        pump(app, 0.1)
        xi.key(key, False)
    settle(app)
    out["key_right"] = {"from": at, "to": s.cursor}
    xi.key("Home", True)
    pump(app, 0.1)
    xi.key("Home", False)
    settle(app)
    out["key_home"] = s.cursor
    return out


def main(store: str, out: str) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reader = open_store(store)
    s = ReplaySession(reader)
    s.select("0:0")
    s.poll_store()
    worker = RenderWorker(reader.model(), 480, 360)
    (out / "viewer.log").unlink(missing_ok=True)
    app = ReplayApp(s, worker, width=480, height=360, errors=ErrorLog(out / "viewer.log"))
    rec = Recorder(app, out)
    R = rec.results
    try:
        # open: a frame, plots and the browser are drawn
        R["settled_open"] = settle(app)
        g = rec.regions("app_single")
        R["open"] = {"viewport_std": float(g["viewport"].std()), "viewport_h": g["viewport"].shape[0],
                     **{f"{p}_colours": colours(g[p]) for p in ("p_reward", "p_action", "p_train")},
                     "first_frame_s": app.stats.first_frame_s,
                     "table_rows": len(dpg.get_item_children("catalog", 1))}

        # play: the clock moves the cursor and new frames are shown
        s.home()
        settle(app)
        shown0 = app.stats.frames_shown
        s.set_speed(4)
        s.play()
        pump(app, until=lambda: app.stats.frames_shown - shown0 >= 4 and s.cursor > 20)
        s.pause()
        R["play"] = {"cursor": s.cursor, "frames_shown": app.stats.frames_shown - shown0,
                     "shown_frame": app.shown_state[1][0]}

        # scrub: moving the scrubber changes the viewport
        s.seek(5)
        settle(app)
        a = rec.regions("scrub_a")["viewport"]
        app._on_scrub(app.scrub, 70)
        R["scrub_cursor"] = s.cursor
        settle(app)
        b = rec.regions("scrub_b")["viewport"]
        R["scrub_diff"] = float(np.abs(a - b).mean())

        # switch episodes from the browser: the session, viewport and plots change
        s.seek(30)
        settle(app)
        a = rec.regions("switch_a")
        app._on_select(None, True, "0:7")
        settle(app)
        b = rec.regions("switch_b")
        R["switch"] = {"views": s.views, "cursor": s.cursor, "marked": marked_rows(app),
                       "plot_diff": float(np.abs(a["p_reward"] - b["p_reward"]).mean()),
                       "action_diff": float(np.abs(a["p_action"] - b["p_action"]).mean())}

        # overlays: the text box on the viewport goes away when they are all off
        s.seek(10)
        settle(app)
        on = rec.regions("overlays_on")["viewport"][:90, :200]
        for name, box in app.ov_boxes.items():
            app._on_overlay(box, False, name)
        s.seek(11)
        settle(app)
        off = rec.regions("overlays_off")["viewport"][:90, :200]
        R["overlay_diff"] = float(np.abs(on - off).mean())
        for name, box in app.ov_boxes.items():
            app._on_overlay(box, True, name)

        # camera: orbit and zoom (what mouse drags and the wheel send), a model camera, reset
        s.seek(40)
        settle(app)
        base = rec.regions("camera_base")["viewport"]
        cams = {}
        for name, cmd in (("orbit", ("orbit", 60.0, -10.0)), ("zoom", ("zoom", 0.6)),
                          ("model", ("camera", app.worker.camera_names[-1])), ("reset", ("camera", "track"))):
            app.worker.command(*cmd)
            n0 = app.stats.frames_shown
            pump(app, until=lambda: app.stats.frames_shown > n0)
            pump(app, 0.05)
            cams[name] = float(np.abs(rec.regions(f"camera_{name}")["viewport"] - base)[60:].mean())
        R["camera"] = {**cams, "names": app.worker.camera_names}

        # keyboard: space plays, right steps, home/end jump, L goes live (what the key handlers call)
        s.seek(10)
        keys = {}
        app._key("right")
        keys["right"] = s.cursor
        app._key("end")
        keys["end"] = s.cursor
        app._key("home")
        keys["home"] = s.cursor
        app._key("space")
        keys["space_playing"] = s.playing
        app._key("space")
        app._key("L")
        keys["L_live"] = s.live
        app._key("L")
        keys["L_again_live"] = s.live
        R["keys"] = keys
        s.select("0:0")
        s.seek(40)
        settle(app)

        # shadows toggle (same episode and frame, only the flag differs)
        base = rec.regions("shadows_off")["viewport"]
        app.worker.command("shadows", True)
        n0 = app.stats.frames_shown
        pump(app, until=lambda: app.stats.frames_shown > n0)
        pump(app, 0.05)
        R["shadows_diff"] = float(np.abs(rec.regions("shadows_on")["viewport"] - base)[60:].mean())
        app.worker.command("shadows", False)

        # a snapshot with NaN qpos: the renderer's invalid frame
        nan_ep = max((e for e in s.catalog if e.source == "snapshot"), key=lambda e: e.iteration)
        s.select(nan_ep.id)
        settle(app)
        R["nan_marked"] = {"views": list(s.views), "marked": marked_rows(app)}
        s.seek(25)
        settle(app)
        v = rec.regions("nan_frame")["viewport"]
        corner = v[-40:, -40:].reshape(-1, 3)
        R["nan_invalid_fraction"] = float((np.abs(corner - np.array([90, 20, 20])).max(axis=1) <= 2).mean())

        # compare: 2 and 4 viewports in a grid, differing when the episodes differ
        s.set_compare(["0:0", "0:6"])
        s.seek(60)
        settle(app)
        v = rec.regions("compare_2")["viewport"]
        h, w = v.shape[:2]
        left, right = v[:, : w // 2], v[:, w // 2:]
        R["compare2"] = {"std": [float(left.std()), float(right.std())], "diff": float(np.abs(left - right).mean())}
        # ghost: the same two episodes in one scene (no grid), differing from the grid
        app.set_ghost(True)
        pump(app, until=lambda: app.shown_state is not None and app.shown_state[4])
        pump(app, 0.05)
        v_ghost = rec.regions("compare_ghost")["viewport"]
        R["ghost"] = {"diff_from_grid": float(np.abs(v_ghost - v).mean()), "std": float(v_ghost.std()),
                      "shown_ghost": bool(app.shown_state[4])}
        app.set_ghost(False)
        s.set_compare(["0:0", "0:3", "0:6", "0:7"])
        settle(app)
        g = rec.regions("compare_4")
        v = g["viewport"]
        cells = [v[: h // 2, : w // 2], v[: h // 2, w // 2:], v[h // 2:, : w // 2], v[h // 2:, w // 2:]]
        R["compare4"] = {"std": [float(c.std()) for c in cells], "diff": float(np.abs(cells[0] - cells[3]).mean()),
                         "reward_colours": colours(g["p_reward"])}

        # "Compare snapshots": one click, first / middle / latest iteration
        app._compare_snapshots()
        settle(app)
        R["compare_snapshots"] = {"views": list(s.views), "iterations": [s.info(v).iteration for v in s.views],
                                  "marked": marked_rows(app)}
        rec.regions("compare_snapshots")

        # Export button: the episode on screen to MP4, in the background, the window still drawing
        s.select("0:2")
        settle(app)
        video = out / "export.mp4"
        dpg.set_value(app.export_path, str(video))
        app._export()
        gui_frames = app.stats.gui_frames
        pump(app, until=lambda: not app._export_thread.is_alive(), timeout=120)
        R["export"] = {"status": app.export_status, "exists": video.exists(),
                       "gui_frames_during": app.stats.gui_frames - gui_frames}

        # real input: the X server's own pointer and keyboard (XTest), not the app's handlers
        R["real_input"] = real_input(app, rec)

        # recording toggle: the only write, only on request
        control = Path(store) / "control.json"
        R["control_before"] = control.exists()
        app._toggle_recording()
        R["control_after"] = json.loads(control.read_text()) if control.exists() else None
    finally:
        # Every error the app survived (shown in its banner): the tests fail on any of them.
        R["errors"] = {"count": app.errors.count, "banner": app.errors.banner, "log": str(app.errors.path)}
        (out / "results.json").write_text(json.dumps(R, indent=1))
        app.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
