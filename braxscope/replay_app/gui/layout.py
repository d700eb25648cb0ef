"""The window's geometry: its default size on the screen it opens on, and where the panels go
when it is resized (the viewport keeps its aspect ratio and fills the space; the browser and the
plots take the rest). Pure arithmetic plus one X11 query; no DearPyGui, so it is tested alone."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from dataclasses import dataclass

PAD = 10  # the window's padding (theme: WindowPadding)
GAP = 8  # between panels
HEADER_H = 38  # the header bar (and the message line under it when there is one)
CONTROLS_H = 182  # under the viewport: scrubber, transport, camera, export and overlay rows, hint
CURVE_MIN_H = 140  # the training curve under the controls
SIDE_MIN, SIDE_MAX, SIDE_FRACTION = 300, 470, 0.27  # browser and plots column widths
MIN_WINDOW = (900, 600)


@dataclass(frozen=True)
class Layout:
    """Where everything goes in a window of ``window`` (width, height) pixels."""

    window: tuple[int, int]
    browser_w: int
    plots_w: int
    center_w: int
    view: tuple[int, int]  # the viewport as displayed (keeps the render aspect ratio)
    render: tuple[int, int]  # the renderer's resolution: the displayed size, at most --width/--height
    curve_h: int  # the training curve under the controls
    body_h: int  # the height of the three columns
    reward_h: int  # the reward/return plot (the action plot takes the rest of its column)


def natural_size(max_w: int, max_h: int) -> tuple[int, int]:
    """The window that shows a viewport of max_w x max_h at full size."""
    side = SIDE_MAX
    w = 2 * side + max_w + 2 * PAD + 2 * GAP + 24
    h = HEADER_H + max_h + CONTROLS_H + CURVE_MIN_H + 2 * PAD
    return max(w, MIN_WINDOW[0]), max(h, MIN_WINDOW[1])


def reflow(window: tuple[int, int], max_w: int, max_h: int) -> Layout:
    """The layout of a window of ``window`` pixels for a renderer of at most max_w x max_h."""
    W, H = max(int(window[0]), 200), max(int(window[1]), 200)
    side = int(min(SIDE_MAX, max(SIDE_MIN, SIDE_FRACTION * W)))
    center_w = max(120, W - 2 * side - 2 * PAD - 2 * GAP - 8)
    body_h = max(120, H - HEADER_H - 2 * PAD)
    aspect = max_w / max_h
    avail_h = max(60, body_h - CONTROLS_H - CURVE_MIN_H)
    vw = int(min(center_w, avail_h * aspect))
    vh = int(vw / aspect)
    scale = min(1.0, max_w / vw, max_h / vh) if vw and vh else 1.0
    rw, rh = max(16, int(vw * scale)), max(16, int(vh * scale))
    curve_h = max(60, body_h - vh - CONTROLS_H)
    return Layout(window=(W, H), browser_w=side, plots_w=side, center_w=center_w, view=(vw, vh), render=(rw, rh),
                  curve_h=curve_h, body_h=body_h, reward_h=int(body_h * 0.45))


def window_size(max_w: int, max_h: int, work: tuple[int, int, int, int] | None = None) -> tuple[int, int]:
    """The window's default size: the natural size, never larger than the work area."""
    w, h = natural_size(max_w, max_h)
    if work is not None:
        w, h = min(w, work[2]), min(h, work[3])
    return w, h


def window_rect(max_w: int, max_h: int, work: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the window: :func:`window_size`, centred in the work area."""
    w, h = window_size(max_w, max_h, work)
    if work is None:
        return 100, 100, w, h
    x0, y0, ww, wh = work
    return x0 + (ww - w) // 2, y0 + (wh - h) // 2, w, h


def work_area() -> tuple[int, int, int, int] | None:
    """(x, y, width, height) of the desktop's work area (the screen less panels and docks), from
    the X server: the window manager's ``_NET_WORKAREA`` when it sets one, else the whole screen.
    None where there is no X display (then the window opens at its natural size)."""
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        return None
    try:
        x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    except OSError:
        return None
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultScreen.argtypes = [ctypes.c_void_p]
    x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XRootWindow.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XRootWindow.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XGetWindowProperty.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long, ctypes.c_long,
                                       ctypes.c_int, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                                       ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_ulong),
                                       ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_void_p)]
    x11.XFree.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x11.XOpenDisplay(None)
    if not dpy:
        return None
    try:
        scr = x11.XDefaultScreen(dpy)
        area = (0, 0, int(x11.XDisplayWidth(dpy, scr)), int(x11.XDisplayHeight(dpy, scr)))
        atom = x11.XInternAtom(dpy, b"_NET_WORKAREA", 1)
        if atom:
            typ, fmt, n, after = ctypes.c_ulong(), ctypes.c_int(), ctypes.c_ulong(), ctypes.c_ulong()
            prop = ctypes.c_void_p()
            ok = x11.XGetWindowProperty(dpy, x11.XRootWindow(dpy, scr), atom, 0, 4, 0, 6,  # XA_CARDINAL
                                        ctypes.byref(typ), ctypes.byref(fmt), ctypes.byref(n), ctypes.byref(after),
                                        ctypes.byref(prop))
            if ok == 0 and prop.value:
                if fmt.value == 32 and n.value >= 4:
                    v = ctypes.cast(prop, ctypes.POINTER(ctypes.c_long))  # format 32 is C long
                    # a window manager's title bar is not in its work area: leave room for one
                    area = (int(v[0]), int(v[1]), int(v[2]), max(200, int(v[3]) - 32))
                x11.XFree(prop)
        return area
    finally:
        x11.XCloseDisplay(dpy)


__all__ = ["Layout", "natural_size", "reflow", "window_size", "window_rect", "work_area"]
