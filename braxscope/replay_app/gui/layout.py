"""The window's geometry: its default size on the screen it opens on, and where the panels go
when it is resized (the viewport keeps its aspect ratio and fills the space; the browser and the
plots take the rest). Pure arithmetic plus one X11 query (screen, monitors, pointer, the window
manager's work area); no DearPyGui, so it is tested alone."""

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
BROWSER_MAX = 560  # the browser takes the viewport column's spare width up to this
CENTER_MIN = 600  # the viewport column's controls (the transport row) need this much width
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
    # The width the viewport cannot use (its height is the limit) goes to the browser's columns.
    browser_w = int(min(BROWSER_MAX, side + max(0, center_w - max(vw, CENTER_MIN))))
    center_w -= browser_w - side
    scale = min(1.0, max_w / vw, max_h / vh) if vw and vh else 1.0
    rw, rh = max(16, int(vw * scale)), max(16, int(vh * scale))
    curve_h = max(60, body_h - vh - CONTROLS_H)
    return Layout(window=(W, H), browser_w=browser_w, plots_w=side, center_w=center_w, view=(vw, vh), render=(rw, rh),
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


Rect = tuple[int, int, int, int]  # (x, y, width, height) on the X screen


@dataclass(frozen=True)
class Monitor:
    """One monitor of the X screen (RandR 1.5's monitor list)."""

    rect: Rect
    primary: bool = False


def _contains(rect: Rect, point: tuple[int, int]) -> bool:
    x, y, w, h = rect
    return x <= point[0] < x + w and y <= point[1] < y + h


def intersect(a: Rect, b: Rect) -> Rect | None:
    """The part of ``a`` inside ``b``; None where they do not overlap."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


def pick_monitor(monitors: list[Monitor], pointer: tuple[int, int] | None) -> Monitor | None:
    """The monitor the window opens on: the one under the mouse pointer (where the user is looking;
    where monitors nest, as an automatic whole-screen one around user-defined ones, the primary
    among them, else the smallest), else the primary monitor, else the first."""
    if not monitors:
        return None
    under = [m for m in monitors if pointer is not None and _contains(m.rect, pointer)]
    if under:
        return min(under, key=lambda m: (not m.primary, m.rect[2] * m.rect[3]))
    return next((m for m in monitors if m.primary), monitors[0])


def screen_work_area(screen: Rect, net_workarea: Rect | None, monitors: list[Monitor],
                     pointer: tuple[int, int] | None) -> Rect:
    """The work area the window opens in: the window manager's work area (``_NET_WORKAREA``, which
    spans every monitor on a multi-monitor desktop), else the screen, cut to the monitor the window
    opens on (:func:`pick_monitor`)."""
    area = net_workarea or screen
    monitor = pick_monitor(monitors, pointer)
    if monitor is not None:
        area = intersect(area, monitor.rect) or monitor.rect
    return area


class _XRRMonitorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_ulong), ("primary", ctypes.c_int), ("automatic", ctypes.c_int),
                ("noutput", ctypes.c_int), ("x", ctypes.c_int), ("y", ctypes.c_int), ("width", ctypes.c_int),
                ("height", ctypes.c_int), ("mwidth", ctypes.c_int), ("mheight", ctypes.c_int),
                ("outputs", ctypes.c_void_p)]


def _monitors(dpy, root) -> list[Monitor]:
    """RandR 1.5's active monitors; [] where libXrandr or the extension is missing."""
    try:
        xrandr = ctypes.CDLL(ctypes.util.find_library("Xrandr") or "libXrandr.so.2")
        xrandr.XRRGetMonitors.restype = ctypes.POINTER(_XRRMonitorInfo)
        xrandr.XRRGetMonitors.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
        xrandr.XRRFreeMonitors.argtypes = [ctypes.c_void_p]
        int_p = ctypes.POINTER(ctypes.c_int)
        xrandr.XRRQueryExtension.argtypes = [ctypes.c_void_p, int_p, int_p]
    except (OSError, AttributeError):
        return []
    event, error = ctypes.c_int(), ctypes.c_int()
    if not xrandr.XRRQueryExtension(dpy, ctypes.byref(event), ctypes.byref(error)):
        return []
    n = ctypes.c_int()
    info = xrandr.XRRGetMonitors(dpy, root, 1, ctypes.byref(n))
    if not info:
        return []
    try:
        return [Monitor((info[i].x, info[i].y, info[i].width, info[i].height), bool(info[i].primary))
                for i in range(n.value) if info[i].width > 0 and info[i].height > 0]
    finally:
        xrandr.XRRFreeMonitors(info)


def work_area() -> Rect | None:
    """(x, y, width, height) of the work area on the monitor the window opens on, from the X
    server (:func:`screen_work_area`). None where there is no X display (then the window opens at
    its natural size)."""
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
    window, c_int = ctypes.c_ulong, ctypes.c_int
    x11.XQueryPointer.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(window), ctypes.POINTER(window),
                                  ctypes.POINTER(c_int), ctypes.POINTER(c_int), ctypes.POINTER(c_int),
                                  ctypes.POINTER(c_int), ctypes.POINTER(ctypes.c_uint)]
    x11.XFree.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x11.XOpenDisplay(None)
    if not dpy:
        return None
    try:
        scr = x11.XDefaultScreen(dpy)
        root = x11.XRootWindow(dpy, scr)
        screen = (0, 0, int(x11.XDisplayWidth(dpy, scr)), int(x11.XDisplayHeight(dpy, scr)))
        net = None
        atom = x11.XInternAtom(dpy, b"_NET_WORKAREA", 1)
        if atom:
            typ, fmt, n, after = ctypes.c_ulong(), ctypes.c_int(), ctypes.c_ulong(), ctypes.c_ulong()
            prop = ctypes.c_void_p()
            ok = x11.XGetWindowProperty(dpy, root, atom, 0, 4, 0, 6,  # XA_CARDINAL
                                        ctypes.byref(typ), ctypes.byref(fmt), ctypes.byref(n), ctypes.byref(after),
                                        ctypes.byref(prop))
            if ok == 0 and prop.value:
                if fmt.value == 32 and n.value >= 4:
                    v = ctypes.cast(prop, ctypes.POINTER(ctypes.c_long))  # format 32 is C long
                    net = (int(v[0]), int(v[1]), int(v[2]), int(v[3]))
                x11.XFree(prop)
        w1, w2, px, py, wx, wy, mask = window(), window(), c_int(), c_int(), c_int(), c_int(), ctypes.c_uint()
        pointer = None
        if x11.XQueryPointer(dpy, root, ctypes.byref(w1), ctypes.byref(w2), ctypes.byref(px), ctypes.byref(py),
                             ctypes.byref(wx), ctypes.byref(wy), ctypes.byref(mask)):
            pointer = (px.value, py.value)
        x, y, w, h = screen_work_area(screen, net, _monitors(dpy, root), pointer)
        if net is not None:
            h = max(200, h - 32)  # a window manager's title bar is not in its work area: leave room for one
        return x, y, w, h
    finally:
        x11.XCloseDisplay(dpy)


__all__ = ["Layout", "Monitor", "intersect", "natural_size", "pick_monitor", "reflow", "screen_work_area",
           "window_rect", "window_size", "work_area"]
