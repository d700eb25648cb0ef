"""The window's geometry without a window: its default size from the screen's work area, and the
reflow of the panels for any window size. Plus the GUI fixture's rule under CI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from braxscope.replay_app.gui import layout

from .conftest import ROOT, _no_display, start_xvfb


@pytest.mark.parametrize("work", [(0, 0, 1366, 768), (0, 0, 1440, 900), (0, 0, 1920, 1080), (100, 40, 1280, 680)])
def test_the_default_window_lies_inside_the_work_area(work):
    x, y, w, h = layout.window_rect(640, 480, work)
    assert work[0] <= x and work[1] <= y and x + w <= work[0] + work[2] and y + h <= work[1] + work[3]
    natural = layout.natural_size(640, 480)
    assert (w, h) == (min(natural[0], work[2]), min(natural[1], work[3]))  # as large as fits, never larger


def test_at_its_natural_size_the_window_shows_the_picture_at_full_size():
    lay = layout.reflow(layout.natural_size(640, 480), 640, 480)
    assert lay.view == (640, 480) and lay.render == (640, 480)


@pytest.mark.parametrize("size", [(900, 600), (1000, 640), (1366, 768), (1920, 1080), (2560, 1440), (3840, 2160)])
def test_reflow_keeps_the_aspect_fills_the_space_and_bounds_the_renderer(size):
    lay = layout.reflow(size, 640, 480)
    W, H = size
    vw, vh = lay.view
    assert abs(vw / vh - 4 / 3) < 0.01
    assert lay.browser_w + lay.center_w + lay.plots_w + 2 * layout.PAD + 2 * layout.GAP <= W
    assert layout.HEADER_H + vh + layout.CONTROLS_H + lay.curve_h + 2 * layout.PAD <= H + 1
    # it fills: either the column's width or the height left for it
    assert vw >= lay.center_w - 2 or vh >= lay.body_h - layout.CONTROLS_H - layout.CURVE_MIN_H - 2
    rw, rh = lay.render
    assert rw <= 640 and rh <= 480 and rw <= vw and rh <= vh  # at most --width/--height, never above the display
    if vw <= 640:
        assert (rw, rh) == (vw, vh)  # a smaller window renders at the size it shows


@pytest.mark.gui
def test_the_work_area_comes_from_the_window_managers_property_else_the_screen():
    proc, display = start_xvfb("1366x768")
    try:
        probe = ("import json; from braxscope.replay_app.gui.layout import work_area; "
                 "print(json.dumps(work_area()))")
        env = dict(os.environ, DISPLAY=display, PYTHONPATH=str(ROOT))

        def ask():
            r = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60,
                               cwd=ROOT)
            assert r.returncode == 0, r.stderr
            return json.loads(r.stdout)

        assert ask() == [0, 0, 1366, 768]  # no window manager: the whole screen
        from Xlib import X, Xatom, display as xdisplay

        d = xdisplay.Display(display)
        root = d.screen().root
        root.change_property(d.intern_atom("_NET_WORKAREA"), Xatom.CARDINAL, 32, [0, 27, 1366, 741],
                             X.PropModeReplace)
        d.sync()
        x, y, w, h = ask()
        assert (x, y, w) == (0, 27, 1366) and h <= 741  # a panel at the top; room kept for a title bar
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_under_ci_a_missing_display_fails_instead_of_skipping(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        _no_display("Xvfb is not installed")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        _no_display("Xvfb is not installed")


# ---------------------------------------------------------------- several monitors

LEFT, RIGHT = (0, 0, 1920, 1080), (1920, 0, 1366, 768)  # a desktop monitor and a laptop's beside it


def test_the_window_opens_on_the_monitor_under_the_pointer_else_the_primary():
    mons = [layout.Monitor(LEFT), layout.Monitor(RIGHT, primary=True)]
    assert layout.pick_monitor(mons, (2500, 300)).rect == RIGHT
    assert layout.pick_monitor(mons, (400, 500)).rect == LEFT
    assert layout.pick_monitor(mons, (2500, 1000)).rect == RIGHT  # below the laptop's screen: no monitor, primary
    assert layout.pick_monitor([layout.Monitor(LEFT), layout.Monitor(RIGHT)], None).rect == LEFT  # else the first
    whole = layout.Monitor((0, 0, 3286, 1080))  # an automatic monitor around user-defined ones: the smaller wins
    assert layout.pick_monitor([whole, layout.Monitor(LEFT)], (400, 500)).rect == LEFT
    assert layout.pick_monitor([], (0, 0)) is None


def test_the_work_area_is_the_window_managers_cut_to_that_monitor():
    mons = [layout.Monitor(LEFT), layout.Monitor(RIGHT, primary=True)]
    screen = (0, 0, 3286, 1080)
    net = (0, 27, 3286, 1053)  # _NET_WORKAREA spans every monitor; a panel along the top
    assert layout.screen_work_area(screen, net, mons, (2500, 300)) == (1920, 27, 1366, 741)
    assert layout.screen_work_area(screen, net, mons, (400, 500)) == (0, 27, 1920, 1053)
    assert layout.screen_work_area(screen, None, mons, (400, 500)) == LEFT
    assert layout.screen_work_area(screen, None, [], None) == screen  # one monitor, no window manager


class _define_monitors:
    """RandR 1.5 monitors on ``display``, as a desktop defines them: (name, rect, primary) each.
    The X server keeps them while this client's connection is open (until :meth:`close`).
    Through libXrandr: python-xlib's SetMonitor request does not pack."""

    def __init__(self, display: str, monitors):
        import ctypes

        from braxscope.replay_app.gui.layout import _XRRMonitorInfo

        self.x11, xrandr = ctypes.CDLL("libX11.so.6"), ctypes.CDLL("libXrandr.so.2")
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        self.x11.XDefaultRootWindow.restype = ctypes.c_ulong
        self.x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        self.x11.XInternAtom.restype = ctypes.c_ulong
        self.x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self.x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        xrandr.XRRAllocateMonitor.restype = ctypes.POINTER(_XRRMonitorInfo)
        xrandr.XRRAllocateMonitor.argtypes = [ctypes.c_void_p, ctypes.c_int]
        xrandr.XRRSetMonitor.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(_XRRMonitorInfo)]
        xrandr.XRRFreeMonitors.argtypes = [ctypes.c_void_p]
        self.dpy = self.x11.XOpenDisplay(display.encode())
        assert self.dpy, f"cannot open {display}"
        root = self.x11.XDefaultRootWindow(self.dpy)
        for name, (x, y, w, h), primary in monitors:
            m = xrandr.XRRAllocateMonitor(self.dpy, 0)
            info = m.contents
            info.name = self.x11.XInternAtom(self.dpy, name, 0)
            info.x, info.y, info.width, info.height = x, y, w, h
            info.mwidth, info.mheight, info.primary = w // 4, h // 4, int(primary)
            xrandr.XRRSetMonitor(self.dpy, root, m)
            xrandr.XRRFreeMonitors(m)
        self.x11.XSync(self.dpy, 0)

    def close(self) -> None:
        self.x11.XCloseDisplay(self.dpy)


@pytest.mark.gui
@pytest.mark.parametrize("pointer, monitor", [((2500, 300), RIGHT), ((400, 500), LEFT)], ids=["laptop", "desktop"])
def test_on_two_monitors_the_app_opens_inside_the_one_under_the_pointer(pointer, monitor, tmp_path):
    import time

    from .storegen import make_store
    from .xscreen import XScreen

    store = make_store(tmp_path / "ant.zarr", iterations=1, slots=1, episode_len=30, snapshot_len=20)
    proc, display = start_xvfb("3286x1080")
    app = monitors = None
    try:
        monitors = _define_monitors(display, [(b"left", LEFT, False), (b"right", RIGHT, True)])
        screen = XScreen(display)
        screen.root.warp_pointer(*pointer)
        screen.d.sync()
        env = dict(os.environ, DISPLAY=display, PYTHONPATH=str(ROOT), MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"))
        app = subprocess.Popen([sys.executable, "-m", "braxscope.cli", "view", str(store), "--exit-after", "60"],
                               env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline, rect, seen = time.monotonic() + 90, None, []
        while time.monotonic() < deadline and app.poll() is None:  # until it has held one place for a second
            time.sleep(0.25)
            w = screen.find("braxscope")
            seen = (seen + [None if w is None else screen.rect(w)])[-4:]
            if len(seen) == 4 and seen[0] is not None and seen.count(seen[0]) == 4:
                rect = seen[0]
                break
        why = app.stderr.read().decode()[-2000:] if app.poll() is not None else f"last seen {seen}"
        assert rect is not None, f"no braxscope window settled on the screen: {why}"
        x, y, w, h = rect
        mx, my, mw, mh = monitor
        assert mx <= x and my <= y and x + w <= mx + mw and y + h <= my + mh, (rect, monitor)  # inside that monitor
        assert (w, h) == layout.window_size(640, 480, monitor)  # as large as fits there, never larger
    finally:
        if app is not None:
            app.kill()
            app.wait(timeout=10)
        if monitors is not None:
            monitors.close()
        proc.terminate()
        proc.wait(timeout=10)
