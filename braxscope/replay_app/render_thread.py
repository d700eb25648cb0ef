"""The render thread: the only thread that touches MuJoCo's GL context in the app.

Rendering on the GUI thread crashes or blanks DearPyGui's window under Xvfb (two GL stacks on
one thread; see FIELD-NOTES). So the GUI thread posts requests (the newest replaces any not yet
started: a slow renderer drops frames, it never queues them) and uploads finished frames.

A request may ask for a picture smaller than the worker's size (the window was made smaller):
it is drawn in the top left of the frame, which keeps the worker's size, so the texture the
GUI uploads it to never changes size.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

from . import presentation as P
from .renderer import Renderer

# A cell whose episode is not loaded yet, or the empty cell of a 3-way compare.
_LOADING_RGBA = np.array([c / 255 for c in P.EMPTY_RGB] + [1.0], np.float32)


@dataclass
class RenderedFrame:
    """A finished frame: RGBA float32 [H,W,4] in [0,1], alpha 1 (what a DearPyGui raw texture takes).

    RGBA, not RGB: DearPyGui uploads a raw texture on every window frame, and on software GL
    (Mesa llvmpipe) converting float RGB costs about 8 ms per 640x480 upload against about 2 ms
    for float RGBA (measured under Xvfb), time the renderer on the same cores then lacks."""

    image: np.ndarray
    seq: int
    tag: Any
    requested_at: float
    size: tuple[int, int]  # (width, height) of the picture, in the top left of ``image``


class RenderWorker:
    """Owns a :class:`Renderer` on its own thread. Thread-safe methods: request, command, take.

    ``width`` x ``height`` is the largest picture it draws (the frame size)."""

    def __init__(self, model: mujoco.MjModel, width: int, height: int, *, camera: str | int = "track",
                 shadows: bool = False, start_timeout_s: float = 20.0, wait: bool = True):
        self.model, self.width, self.height = model, width, height
        self._cond = threading.Condition()
        self._request: tuple | None = None
        self._last_request: tuple | None = None
        self._commands: list[tuple[str, tuple]] = []
        self._done: RenderedFrame | None = None
        self._seq = 0
        self._stop = False
        self.error: BaseException | None = None
        self.renders = 0
        self.camera_names = P.camera_labels(model)
        self._settings = {"camera": camera, "shadows": shadows}
        self._ready = threading.Event()
        self.frame_ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="braxscope-render", daemon=True)
        self._thread.start()
        self._start_timeout_s = start_timeout_s
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Block until the GL context exists; raises the renderer's error (no OpenGL...)."""
        self._ready.wait(self._start_timeout_s)
        if self.error is not None:
            raise self.error

    # ------------------------------------------------------------ GUI side

    def request(self, qposes: list[np.ndarray | None], tag: Any = None, ghost: bool = False,
                size: tuple[int, int] | None = None, extras: list | None = None) -> int:
        """Render these states (one per grid cell, or with ``ghost`` all in one scene, the first
        solid) as soon as possible, at ``size`` (width, height; at most the worker's size);
        replaces a pending request. ``extras``: per state, None or (mocap_pos [nmocap,3],
        mocap_quat [nmocap,4], model: the MjModel to draw it with, None for the run's) (grid cells)."""
        w, h = size or (self.width, self.height)
        size = (max(16, min(int(w), self.width)), max(16, min(int(h), self.height)))
        with self._cond:
            self._seq += 1
            q = [None if x is None else np.array(x, dtype=np.float64, copy=True) for x in qposes]
            if extras is not None:
                q = [(x, e) if x is not None and e is not None else x for x, e in zip(q, extras)]
            self._request = (self._seq, q, tag, time.perf_counter(), ghost, size)
            self._cond.notify()
            return self._seq

    def command(self, name: str, *args) -> None:
        """A camera or flag change, applied on the render thread before the next frame:
        orbit(daz, del), zoom(f), pan(dx, dy), reset(), camera(label), shadows(bool). Re-renders."""
        with self._cond:
            self._commands.append((name, args))
            if self._request is None and self._last_request is not None:
                seq, q, tag, _, ghost, size = self._last_request
                self._seq += 1
                self._request = (self._seq, q, tag, time.perf_counter(), ghost, size)
            self._cond.notify()

    def take(self) -> RenderedFrame | None:
        """The newest finished frame not taken yet, else None."""
        with self._cond:
            f, self._done = self._done, None
            self.frame_ready.clear()
            return f

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout=10)

    # --------------------------------------------------------- render side

    def _run(self) -> None:
        renderers: dict[tuple[int, int], Renderer] = {}
        try:
            renderers[(self.width, self.height)] = Renderer(
                self.model, self.width, self.height, camera=self._settings["camera"],
                shadows=self._settings["shadows"])
        except BaseException as e:  # reported to the GUI thread by the constructor
            self.error = e
            self._ready.set()
            return
        main = renderers[(self.width, self.height)]
        self._ready.set()
        try:
            while True:
                with self._cond:
                    while not self._stop and self._request is None:
                        self._cond.wait()
                    if self._stop:
                        return
                    req, self._request = self._request, None
                    commands, self._commands = self._commands, []
                    self._last_request = req
                for name, args in commands:
                    for r in renderers.values():
                        self._apply(r, name, args)
                seq, qposes, tag, t_req, ghost, size = req
                try:
                    frame = self._ghosts(renderers, main, qposes, size) if ghost else \
                        self._compose(renderers, main, qposes, size)
                except BaseException as e:  # never kill the thread on one bad frame
                    self.error = e
                    continue
                done = RenderedFrame(frame, seq, tag, t_req, size)
                with self._cond:
                    self._done = done
                    self.renders += 1
                self.frame_ready.set()
        finally:
            for r in renderers.values():
                r.close()

    def _apply(self, r: Renderer, name: str, args: tuple) -> None:
        if name == "orbit":
            r.orbit(*args)
        elif name == "zoom":
            r.zoom(*args)
        elif name == "pan":
            r.pan(*args)
        elif name == "reset":
            r.set_camera(r.camera_name)
        elif name == "camera":
            r.set_camera(P.camera_arg(self.camera_names, args[0]))
            self._settings["camera"] = args[0]
        elif name == "shadows":
            r.set_flags(shadows=bool(args[0]), reflections=bool(args[0]))
            self._settings["shadows"] = bool(args[0])

    def _renderer(self, renderers: dict, main: Renderer, size: tuple[int, int], model=None) -> Renderer:
        # Keyed by size, and by model for the episodes drawn with their own (domain randomization).
        key = size if model is None else (size, id(model))
        r = renderers.get(key)
        if r is None:
            r = Renderer(self.model if model is None else model, *size, camera=main.camera_name,
                         shadows=main.shadows, reflections=main.reflections)
            _copy_camera(main, r)
            renderers[key] = r
        return r

    def _frame(self) -> np.ndarray:
        out = np.empty((self.height, self.width, 4), np.float32)
        out[...] = _LOADING_RGBA
        return out

    def _ghosts(self, renderers: dict, main: Renderer, qposes: list, size: tuple[int, int]) -> np.ndarray:
        out = self._frame()
        shown = [q[0] if isinstance(q, tuple) else q for q in qposes if q is not None]  # ghosts: qpos only
        if not shown:
            return out
        w, h = size
        img = self._renderer(renderers, main, size).render_ghosts(
            shown, colours=[tuple(c / 255.0 for c in rgba[:3]) for rgba in P.COMPARE_COLOURS])
        np.multiply(img, np.float32(1 / 255), out=out[:h, :w, :3])
        return out

    def _compose(self, renderers: dict, main: Renderer, qposes: list, size: tuple[int, int]) -> np.ndarray:
        out = self._frame()
        n = len(qposes)
        _, _, cw, ch = P.cell_rect(0, max(1, n), *size)
        for i, q in enumerate(qposes):
            x, y, _, _ = P.cell_rect(i, n, *size)
            if q is None:
                continue  # loading: the cell keeps the loading colour
            mocap_pos = mocap_quat = model = None
            if isinstance(q, tuple):
                q, (mocap_pos, mocap_quat, model) = q
            r = self._renderer(renderers, main, (cw, ch), model)
            img = r.render(q, mocap_pos=mocap_pos, mocap_quat=mocap_quat)
            np.multiply(img, np.float32(1 / 255), out=out[y:y + ch, x:x + cw, :3])
        return out


def _copy_camera(src: Renderer, dst: Renderer) -> None:
    a, b = src.camera, dst.camera
    b.type, b.trackbodyid, b.fixedcamid = a.type, a.trackbodyid, a.fixedcamid
    b.distance, b.azimuth, b.elevation = a.distance, a.azimuth, a.elevation
    b.lookat[:] = a.lookat


__all__ = ["RenderWorker", "RenderedFrame"]
