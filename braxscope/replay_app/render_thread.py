"""The render thread: the only thread that touches MuJoCo's GL context in the app.

Rendering on the GUI thread crashes or blanks DearPyGui's window under Xvfb (two GL stacks on
one thread; see FIELD-NOTES). So the GUI thread posts requests (the newest replaces any not yet
started: a slow renderer drops frames, it never queues them) and uploads finished frames.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import mujoco
import numpy as np

from .renderer import Renderer

_LOADING_RGBA = np.array([0.13, 0.14, 0.16, 1.0], np.float32)  # a cell whose episode is not loaded yet
# Tints of compared episodes in ghost mode, matching the app's compare colours (blue, orange, green, magenta).
GHOST_RGB = [(86, 156, 255), (255, 160, 60), (110, 210, 120), (220, 100, 220)]


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
    done_at: float
    invalid: list[bool] = field(default_factory=list)  # per cell: qpos was NaN/inf


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) of the viewport grid for n episodes: 1x1, 1x2, 2x2."""
    return (1, 1) if n <= 1 else (1, 2) if n == 2 else (2, 2)


class RenderWorker:
    """Owns a :class:`Renderer` on its own thread. Thread-safe methods: request, command, take."""

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
        # The model's own cameras are labelled apart: brax's ant names one of them "track".
        self.camera_names = ["track", "free"] + [
            f"model: {mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_CAMERA, i) or i}" for i in range(model.ncam)]
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

    def request(self, qposes: list[np.ndarray | None], tag: Any = None, ghost: bool = False) -> int:
        """Render these states (one per grid cell, or with ``ghost`` all in one scene, the first
        solid) as soon as possible; replaces a pending request."""
        with self._cond:
            self._seq += 1
            q = [None if x is None else np.array(x, dtype=np.float64, copy=True) for x in qposes]
            self._request = (self._seq, q, tag, time.perf_counter(), ghost)
            self._cond.notify()
            return self._seq

    def command(self, name: str, *args) -> None:
        """A camera or flag change, applied on the render thread before the next frame:
        orbit(daz, del), zoom(f), pan(dx, dy), reset(), camera(name), shadows(bool). Re-renders."""
        with self._cond:
            self._commands.append((name, args))
            if self._request is None and self._last_request is not None:
                seq, q, tag, _, ghost = self._last_request
                self._seq += 1
                self._request = (self._seq, q, tag, time.perf_counter(), ghost)
            self._cond.notify()

    def take(self) -> RenderedFrame | None:
        """The newest finished frame not taken yet, else None."""
        with self._cond:
            f, self._done = self._done, None
            self.frame_ready.clear()
            return f

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._request is not None

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout=10)

    # --------------------------------------------------------- render side

    def _run(self) -> None:
        renderers: dict[tuple[int, int], Renderer] = {}
        try:
            renderers[(self.width, self.height)] = Renderer(self.model, self.width, self.height,
                                                            camera=self._settings["camera"],
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
                seq, qposes, tag, t_req, ghost = req
                try:
                    frame = self._ghosts(main, qposes) if ghost else self._compose(renderers, main, qposes)
                except BaseException as e:  # never kill the thread on one bad frame
                    self.error = e
                    continue
                done = RenderedFrame(frame[0], seq, tag, t_req, time.perf_counter(), frame[1])
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
            r.set_camera(self.camera_arg(args[0]))
            self._settings["camera"] = args[0]
        elif name == "shadows":
            r.set_flags(shadows=bool(args[0]), reflections=bool(args[0]))
            self._settings["shadows"] = bool(args[0])

    def camera_arg(self, label: str) -> str | int:
        """What :class:`Renderer` takes for a camera label: "track", "free" or a model camera index."""
        if label in ("track", "free") or label not in self.camera_names:
            return label if label in ("track", "free") else "track"
        return self.camera_names.index(label) - 2

    def _ghosts(self, main: Renderer, qposes: list) -> tuple[np.ndarray, list[bool]]:
        out = np.empty((self.height, self.width, 4), np.float32)
        out[..., 3] = 1.0
        shown = [q for q in qposes if q is not None]
        if not shown:
            out[...] = _LOADING_RGBA
            return out, [False] * len(qposes)
        img = main.render_ghosts(shown, colours=[tuple(c / 255.0 for c in rgb) for rgb in GHOST_RGB])
        np.multiply(img, np.float32(1 / 255), out=out[..., :3])
        return out, [q is not None and not np.isfinite(q).all() for q in qposes]

    def _compose(self, renderers: dict, main: Renderer, qposes: list) -> tuple[np.ndarray, list[bool]]:
        rows, cols = grid_shape(len(qposes))
        cw, ch = self.width // cols, self.height // rows
        r = renderers.get((cw, ch))
        if r is None:
            r = Renderer(self.model, cw, ch, camera=main.camera_name, shadows=main.shadows,
                         reflections=main.reflections)
            _copy_camera(main, r)
            renderers[(cw, ch)] = r
        out = np.empty((self.height, self.width, 4), np.float32)
        out[..., 3] = 1.0
        if rows * ch < self.height or cols * cw < self.width:
            out[...] = _LOADING_RGBA
        invalid = []
        for i, q in enumerate(qposes):
            y, x = (i // cols) * ch, (i % cols) * cw
            cell = out[y:y + ch, x:x + cw]
            if q is None:
                cell[...] = _LOADING_RGBA
                invalid.append(False)
                continue
            img = r.render(q)
            invalid.append(not np.isfinite(q).all())
            np.multiply(img, np.float32(1 / 255), out=cell[..., :3])
        for i in range(len(qposes), rows * cols):
            y, x = (i // cols) * ch, (i % cols) * cw
            out[y:y + ch, x:x + cw] = _LOADING_RGBA
        return out, invalid


def _copy_camera(src: Renderer, dst: Renderer) -> None:
    a, b = src.camera, dst.camera
    b.type, b.trackbodyid, b.fixedcamid = a.type, a.trackbodyid, a.fixedcamid
    b.distance, b.azimuth, b.elevation = a.distance, a.azimuth, a.elevation
    b.lookat[:] = a.lookat


__all__ = ["RenderWorker", "RenderedFrame", "grid_shape"]
