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
