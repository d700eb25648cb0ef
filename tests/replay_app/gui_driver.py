"""Drives the real app (DearPyGui under Xvfb, real renderer, real store) through a scenario and
records what the window showed: screenshots plus a JSON of measurements. Input goes through the X
server (XTest: real pointer and key events, as xdotool sends them), never through the app's
callbacks. Runs in its own process (``python -m tests.replay_app.gui_driver MODE STORE OUTDIR``):
DearPyGui's GL context must never share a thread with the MuJoCo renderers other tests create in
the pytest process (FIELD-NOTES).

Modes: ``scenario`` (every control of the app, one after another), ``screen`` (the window on
the screen it opens on, then resized by the X server) and ``live`` (a store a recorder is writing).
"""

from __future__ import annotations

import hashlib
import json
import os
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

from .xscreen import XScreen


def pump(app, seconds: float = 0.0, until=None, timeout: float = 20.0) -> bool:
    t_end = time.perf_counter() + (seconds if until is None else timeout)
    while time.perf_counter() < t_end:
        app.frame()
        if until is not None and until():
            return True
        time.sleep(0.005)
    return until is None


def settle(app) -> bool:
    """Until the picture on screen is the one for the session's current state, all loaded."""
    s = app.s

    def done():
        sc = app.shown
        want = s.snapshot().scene
        return sc is not None and sc.picture == want.picture and not s.loading and \
            all(c.qpos is not None for c in sc.cells) and app.viewport.picture_size == s.viewport
    ok = pump(app, until=done)
    pump(app, 0.05)
    return ok


def rect(item) -> tuple[float, float, float, float]:
    (x0, y0), (w, h) = dpg.get_item_rect_min(item), dpg.get_item_rect_size(item)
    return x0, y0, w, h


def new_frame(app, act) -> None:
    """Run ``act`` (a camera change: same scene, new picture), then until its frame is shown."""
    n0 = app.worker.renders
    act()
    pump(app, until=lambda: app.worker.renders > n0, timeout=10)
    pump(app, 0.4)  # the render thread may still be drawing the last of several moves


def region(img: np.ndarray, item) -> np.ndarray:
    x0, y0, w, h = rect(item)
    return img[int(y0):int(y0 + h), int(x0):int(x0 + w)]


def store_hash(path: Path) -> str:
    """Every file of the store, names and bytes."""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(path)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


class Shots:
    def __init__(self, app, out: Path):
        self.app, self.out = app, out

    def shot(self, name: str) -> np.ndarray:
        path = self.app.screenshot(self.out / f"{name}.png")
        return np.asarray(Image.open(path).convert("RGB")).astype(np.int16)

    def regions(self, name: str, items=("viewport", "p_reward", "p_action", "p_train")) -> dict:
        img = self.shot(name)
        return {i: region(img, i) for i in items}


def marked_rows(app) -> list[str]:
    """The episode ids whose rows the browser highlights (every cell of the row agrees)."""
    out = []
    for row, items in zip(app.browser._shown, app.browser.rows):
        values = {bool(dpg.get_value(i)) for i in items}
        assert len(values) == 1, f"row {row.id} is half highlighted"
        if values.pop():
            out.append(row.id)
    return out


def colours(a: np.ndarray) -> int:
    return len({tuple(c) for c in a.reshape(-1, 3)[::7]})


def near(img: np.ndarray, colour, tol: int = 30) -> int:
    """Pixels of ``img`` [H,W,3] within ``tol`` of an RGB colour on every channel."""
    return int((np.abs(img - np.asarray(colour[:3], np.int16)).max(axis=2) <= tol).sum())


def mad(a, b) -> float:
    return float(np.abs(a - b).mean())


class XInput:
    """Real pointer and key events through the X server (the XTest extension, as xdotool does)."""

    def __init__(self, app):
        from Xlib import X, XK, display
        from Xlib.ext import xtest

        self.X, self.XK, self.xtest = X, XK, xtest
        self.d = display.Display()
        self.app = app

    def _sync(self, seconds=0.06):
        self.d.sync()
        pump(self.app, seconds)

    def at(self, item, fx: float = 0.5, fy: float = 0.5) -> tuple[float, float]:
        """Screen position of the point at fractions (fx, fy) of an item's rectangle. Under Xvfb
        there is no window manager: the window's client area is at the viewport position."""
        x0, y0, w, h = rect(item)
        vx, vy = dpg.get_viewport_pos()
        return vx + x0 + fx * w, vy + y0 + fy * h

    def move(self, x: float, y: float) -> None:
        self.xtest.fake_input(self.d, self.X.MotionNotify, x=int(x), y=int(y))
        self._sync(0.05)

    def button(self, press: bool, button: int = 1) -> None:
        self.xtest.fake_input(self.d, self.X.ButtonPress if press else self.X.ButtonRelease, button)
        self._sync(0.08)

    def click(self, item, fx=0.5, fy=0.5, button: int = 1) -> None:
        self.move(*self.at(item, fx, fy))
        pump(self.app, 0.1)  # the app sees the pointer over the item before the button goes down
        self.button(True, button)
        self.button(False, button)
        settle(self.app)

    def drag(self, item, f0, f1, button: int = 1, steps: int = 8) -> None:
        x0, y0 = self.at(item, *f0)
        x1, y1 = self.at(item, *f1)
        self.move(x0, y0)
        pump(self.app, 0.1)
        self.button(True, button)
        for k in range(1, steps + 1):
            self.move(x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps)
        self.button(False, button)
        settle(self.app)

    def wheel(self, item, notches: int) -> None:
        self.move(*self.at(item))
        b = 4 if notches > 0 else 5  # X buttons 4/5: wheel up (zoom in) / down
        for _ in range(abs(notches)):
            self.button(True, b)
            self.button(False, b)
        settle(self.app)

    def key(self, name: str, shift: bool = False, wait: bool = True) -> None:
        code = self.d.keysym_to_keycode(self.XK.string_to_keysym(name))
        shift_code = self.d.keysym_to_keycode(self.XK.string_to_keysym("Shift_L"))
        if shift:
            self.xtest.fake_input(self.d, self.X.KeyPress, shift_code)
        self.xtest.fake_input(self.d, self.X.KeyPress, code)
        self._sync(0.1)
        self.xtest.fake_input(self.d, self.X.KeyRelease, code)
        if shift:
            self.xtest.fake_input(self.d, self.X.KeyRelease, shift_code)
        self._sync(0.05)
        if wait:
            settle(self.app)

    def click_row(self, eid: str, shift: bool = False) -> None:
        b = self.app.browser
        i = next(k for k, r in enumerate(b._shown) if r.id == eid)
        shift_code = self.d.keysym_to_keycode(self.XK.string_to_keysym("Shift_L"))
        if shift:
            self.xtest.fake_input(self.d, self.X.KeyPress, shift_code)
            self._sync()
        self.click(b.rows[i][0], 0.5, 0.5)
        if shift:
            self.xtest.fake_input(self.d, self.X.KeyRelease, shift_code)
            self._sync()


def open_app(store: str, out: Path, width: int = 480, height: int = 360):
    reader = open_store(store)
    s = ReplaySession(reader)
    s.select("0:0")
    s.poll_store()
    worker = RenderWorker(reader.model(), width, height)
    (out / "viewer.log").unlink(missing_ok=True)
    return ReplayApp(s, worker, width=width, height=height, errors=ErrorLog(out / "viewer.log"))


def _errors(app, R: dict) -> None:
    """Every error the app survived (shown in its banner): the tests fail on any of them."""
    R["errors"] = {"count": app.errors.count, "banner": app.errors.banner, "log": str(app.errors.path)}


def scenario(store: str, out: Path, R: dict) -> None:
    app = open_app(store, out)
    s, rec = app.s, Shots(app, out)
    xi = XInput(app)
    path = Path(store)
    hashes = []

    def unchanged(what: str) -> None:
        hashes.append((what, store_hash(path)))

    try:
        unchanged("open")
        R["settled_open"] = settle(app)
        g = rec.regions("app_single")
        R["open"] = {"viewport_std": float(g["viewport"].std()), "viewport_h": g["viewport"].shape[0],
                     **{f"{p}_colours": colours(g[p]) for p in ("p_reward", "p_action", "p_train")},
                     "first_frame_s": app.stats.first_frame_s,
                     "table_rows": sum(1 for r in app.browser._shown if r is not None)}

        # play: the space key starts the clock; frames on screen follow it; space again pauses
        xi.key("Home")
        shown0 = app.stats.frames_shown
        s.set_speed(1)
        s.set_loop(True)  # a loaded machine may draw few frames: the episode must not end first
        xi.key("space", wait=False)
        R["space_plays"] = s.playing
        pump(app, until=lambda: app.stats.frames_shown - shown0 >= 4 and s.cursor > 20)
        xi.key("space", wait=False)
        paused, frames = not s.playing, app.stats.frames_shown - shown0
        s.set_loop(False)
        settle(app)
        R["play"] = {"cursor": s.cursor, "frames_shown": frames, "paused": paused,
                     "shown_frame": app.shown.cells[0].frame}
        unchanged("play")

        # scrub: drag the slider's grab from the start to 70% of its width
        xi.key("Home")
        a = rec.regions("scrub_a")["viewport"]
        n = s.length
        xi.drag("scrub", (0.01, 0.5), (0.7, 0.5))
        R["scrub"] = {"cursor": s.cursor, "len": n, "shown": app.shown.cells[0].frame}
        R["scrub_diff"] = mad(a, rec.regions("scrub_b")["viewport"])
        unchanged("scrub")

        # keys: Right, Left, End, Home, L, L (real key presses)
        s.seek(10)
        settle(app)
        keys = {}
        for name, label in (("Right", "right"), ("Left", "left"), ("End", "end"), ("Home", "home")):
            xi.key(name)
            keys[label] = s.cursor
        xi.key("l")
        keys["L_live"] = s.live
        xi.key("l")
        keys["L_again_live"] = s.live
        R["keys"] = keys
        unchanged("keys")

        # browser: click a row selects it; shift-click adds to the compare set; shift-click again removes.
        # Paused, so the new episode's cursor is read where the click put it, not frames later.
        s.pause()
        s.seek(30)
        settle(app)
        a = rec.regions("switch_a")
        xi.click_row("0:7")
        b = rec.regions("switch_b")
        R["switch"] = {"views": list(s.views), "cursor": s.cursor, "marked": marked_rows(app),
                       "plot_diff": mad(a["p_reward"], b["p_reward"]), "action_diff": mad(a["p_action"], b["p_action"])}
        xi.click_row("0:3", shift=True)
        R["shift_click"] = {"views": list(s.views), "marked": sorted(marked_rows(app)),
                            "cells": len(app.shown.cells)}
        xi.click_row("0:3", shift=True)
        R["shift_click_again"] = list(s.views)
        unchanged("browser")

        # overlays: the text box goes away when every overlay checkbox is clicked off
        xi.click_row("0:0")
        s.seek(10)
        settle(app)
        on = rec.regions("overlays_on")["viewport"][:90, :200]
        for name in ("step", "reward", "ret", "iteration"):
            xi.click(f"overlay_{name}", 0.1, 0.5)
        R["overlays_after_clicks"] = vars(s.overlays)
        off = rec.regions("overlays_off")["viewport"][:90, :200]
        R["overlay_diff"] = mad(on, off)
        for name in ("step", "reward", "ret", "iteration"):
            xi.click(f"overlay_{name}", 0.1, 0.5)

        # camera: left-drag orbits, right-drag pans, the wheel zooms; Reset view goes back
        s.seek(40)
        settle(app)
        base = rec.regions("camera_base")["viewport"]
        cams = {}
        for name, act in (("orbit", lambda: xi.drag("viewport", (0.4, 0.5), (0.7, 0.45))),
                          ("pan", lambda: xi.drag("viewport", (0.5, 0.5), (0.6, 0.6), button=3)),
                          ("zoom", lambda: xi.wheel("viewport", 3))):
            new_frame(app, act)
            cams[name] = mad(rec.regions(f"camera_{name}")["viewport"][60:], base[60:])
            new_frame(app, lambda: xi.click("reset_view"))
            cams[f"{name}_reset"] = mad(rec.regions(f"camera_{name}_reset")["viewport"][60:], base[60:])
        R["camera"] = {**cams, "names": list(s.camera_names)}
        unchanged("camera")

        # shadows checkbox (same episode and frame, only the flag differs)
        new_frame(app, lambda: xi.click("shadows", 0.1, 0.5))
        R["shadows_on"] = s.shadows
        R["shadows_diff"] = mad(rec.regions("shadows_on")["viewport"][60:], base[60:])
        new_frame(app, lambda: xi.click("shadows", 0.1, 0.5))

        # a snapshot with NaN qpos: the renderer's invalid frame
        nan_ep = max((e for e in s.catalog if e.source == "snapshot"), key=lambda e: e.iteration)
        s.scroll_table(0)
        xi.click_row(nan_ep.id)
        R["nan_marked"] = {"views": list(s.views), "marked": marked_rows(app)}
        s.seek(25)
        settle(app)
        v = rec.regions("nan_frame")["viewport"]
        corner = v[-40:, -40:].reshape(-1, 3)
        R["nan_invalid_fraction"] = float((np.abs(corner - np.array([90, 20, 20])).max(axis=1) <= 2).mean())

        # compare: 2 and 4 cells in a grid, differing when the episodes differ
        s.set_compare(["0:0", "0:6"])
        s.seek(60)
        settle(app)
        v = rec.regions("compare_2")["viewport"]
        h, w = v.shape[:2]
        left, right = v[:, : w // 2], v[:, w // 2: 2 * (w // 2)]
        R["compare2"] = {"std": [float(left.std()), float(right.std())], "diff": mad(left, right)}
        # ghost: the same two in one scene, against the first episode rendered alone
        xi.click_row("0:0")
        s.seek(60)
        settle(app)
        alone = rec.regions("ghost_alone")["viewport"]
        s.set_compare(["0:0", "0:6"])
        s.seek(60)
        settle(app)
        xi.click("ghost", 0.1, 0.5)
        v_ghost = rec.regions("compare_ghost")["viewport"]
        R["ghost"] = {"diff_from_alone": mad(v_ghost[60:], alone[60:]), "std": float(v_ghost.std()),
                      "shown_ghost": bool(app.shown.ghost), "session_ghost": s.ghost}
        xi.click("ghost", 0.1, 0.5)
        s.set_compare(["0:0", "0:3", "0:6", "0:7"])
        settle(app)
        g = rec.regions("compare_4")
        v = g["viewport"]
        h, w = v.shape[:2]
        h2, w2 = h // 2, w // 2
        cells = [v[:h2, :w2], v[:h2, w2:2 * w2], v[h2:2 * h2, :w2], v[h2:2 * h2, w2:2 * w2]]
        R["compare4"] = {"std": [float(c.std()) for c in cells], "diff": mad(cells[0], cells[3]),
                         "reward_colours": colours(g["p_reward"])}

        # "Compare snapshots": one click, first / middle / latest iteration
        xi.click("compare_snapshots")
        R["compare_snapshots"] = {"views": list(s.views), "iterations": [s.info(v).iteration for v in s.views],
                                  "marked": sorted(marked_rows(app))}
        rec.regions("compare_snapshots")
        unchanged("compare")

        # Export video: the button renders what is on screen (the 3-way compare, in the screen's
        # grid) in the background while the window keeps drawing
        video = out / "export.mp4"
        s.set_export_path(str(video))
        gui_frames = app.stats.gui_frames
        xi.click("export")
        pump(app, until=lambda: not s.exporting, timeout=180)
        R["export"] = {"status": s.export_status, "exists": video.exists(),
                       "gui_frames_during": app.stats.gui_frames - gui_frames, "grid": list(app.shown.grid),
                       "cell": list(s.cell_size()), "views": list(s.views)}
        video.rename(out / "export_compare.mp4")
        hashes.append(("export", store_hash(path)))  # the video is written beside the store, never in it

        # the plots: a click at 20% / 80% of the reward plot moves the cursor there
        xi.click_row("0:0")
        s.seek(40)
        settle(app)
        n = len(s.data(s.views[0]))
        xi.click("p_reward", 0.2, 0.5)
        left_img = rec.regions("click_left")
        R["click_left"] = {"cursor": s.cursor, "shown": app.shown.cells[0].frame, "len": n}
        xi.click("p_reward", 0.8, 0.5)
        right_img = rec.regions("click_right")
        R["click_right"] = {"cursor": s.cursor, "shown": app.shown.cells[0].frame}
        R["click_viewport_diff"] = mad(left_img["viewport"], right_img["viewport"])
        R["click_plot_diff"] = mad(left_img["p_reward"], right_img["p_reward"])
        unchanged("plots")
        R["store_unchanged"] = [what for what, hh in hashes if hh != hashes[0][1]]
        R["store_checks"] = len(hashes)
    finally:
        _errors(app, R)
        app.close()


def screen(store: str, out: Path, R: dict) -> None:
    """The window on the screen it opens on, then made smaller and larger by the X server."""
    app = open_app(store, out, 640, 480)
    s, rec = app.s, Shots(app, out)
    try:
        settle(app)
        xs = XScreen(os.environ["DISPLAY"])
        root = xs.root
        R["screen"] = [root.get_geometry().width, root.get_geometry().height]
        R["window"] = [*dpg.get_viewport_pos(), dpg.get_viewport_client_width(), dpg.get_viewport_client_height()]

        def measure(name):
            img = rec.shot(name)
            x0, y0, w, h = rect("viewport")
            view = img[int(y0):int(y0 + h), int(x0):int(x0 + w)]
            return {"viewport_rect": [x0, y0, w, h], "render": list(s.viewport), "shot": list(img.shape[:2]),
                    "viewport_std": float(view.std()),
                    # the bottom rows of the viewport: the picture reaches them (not cut, not blank)
                    "bottom_std": float(view[-8:].std()), "right_std": float(view[:, -8:].std()),
                    "plots_rect": list(rect("p_action")), "browser_rect": list(rect(app.browser.rows[0][-1])),
                    "train_rect": list(rect("p_train"))}

        R["open"] = measure("screen_open")
        # Resize through the X server, as a window manager or the user would.
        win = xs.find("braxscope")
        if win is None:
            raise RuntimeError("the app's window is not on the X server")
        for name, (w, h) in (("small", (1000, 640)), ("large", (R["screen"][0], R["screen"][1]))):
            win.configure(width=w, height=h)
            xs.d.sync()
            pump(app, until=lambda: dpg.get_viewport_client_width() == w and dpg.get_viewport_client_height() == h,
                 timeout=10)
            settle(app)
            R[name] = {"client": [dpg.get_viewport_client_width(), dpg.get_viewport_client_height()], **measure(name)}
    finally:
        _errors(app, R)
        app.close()


def _outside_writers(path: Path) -> dict:
    """sha256 of every store file that is not in a writer group (those are the recorder's)."""
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.rglob("*"))
            if p.is_file() and p.relative_to(path).parts[0] != "writers"}


def live(store: str, out: Path, R: dict) -> None:
    """A store that a recorder is writing right now: L follows it; the recording toggle pauses it."""
    path = Path(store)
    app = open_app(store, out)
    s = app.s
    xi = XInput(app)
    try:
        before = _outside_writers(path)
        settle(app)
        xi.key("l", wait=False)
        R["live_after_L"] = s.live
        seen, lags, t_end = [], [], time.perf_counter() + 6.0
        while time.perf_counter() < t_end:
            app.frame()
            sc = app.shown
            if sc is not None and sc.cells:
                seen.append((sc.cells[0].start, sc.cells[0].frame))
                lag = s.lag_s()
                if lag is not None:
                    lags.append(lag)
            time.sleep(0.01)
        R["live_still"] = s.live
        R["starts"] = sorted({st for st, _ in seen})
        R["lag_p50"] = float(np.median(lags)) if lags else None
        R["lag_max_last_half"] = float(max(lags[len(lags) // 2:])) if lags else None
        R["unchanged_while_following"] = _outside_writers(path) == before
        R["button"] = dpg.get_item_configuration("record_button")["label"] if dpg.is_item_shown("record_button") \
            else None
        xi.click("record_button")
        pump(app, 0.3)
        after = _outside_writers(path)
        R["changed_by_toggle"] = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        R["control"] = json.loads((path / "control.json").read_text()) if (path / "control.json").exists() else None
        R["button_after"] = dpg.get_item_configuration("record_button")["label"]
    finally:
        _errors(app, R)
        app.close()


def first_eval(store: str, out: Path, R: dict) -> None:
    """A run with one evaluation so far: its training curve is one point. The items the curve
    plot holds, and the curve colour's pixels in it with and without the marker item."""
    app = open_app(store, out, 640, 480)
    rec = Shots(app, out)
    try:
        settle(app)
        items = dpg.get_item_children(app.plots.ty, 1)
        R["curve_items"] = [[dpg.get_item_type(i).rsplit("::", 1)[-1], dpg.get_item_label(i)] for i in items]
        colour = app.s.snapshot().plots.curve.colour
        R["with_marker"] = near(region(rec.shot("first_eval"), "p_train"), colour, tol=12)
        for i in items:
            if dpg.get_item_type(i).endswith("mvScatterSeries") and dpg.get_item_label(i) == "##eval/episode_reward":
                dpg.delete_item(i)
        settle(app)
        R["without_marker"] = near(region(rec.shot("first_eval_no_marker"), "p_train"), colour, tol=12)
    finally:
        _errors(app, R)
        app.close()


def main(mode: str, store: str, out: str) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    R = {}
    try:
        {"scenario": scenario, "screen": screen, "live": live, "first_eval": first_eval}[mode](store, out, R)
    finally:
        (out / "results.json").write_text(json.dumps(R, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("MUJOCO_GL", "egl")
    main(sys.argv[1], sys.argv[2], sys.argv[3])
