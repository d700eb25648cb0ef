"""The DearPyGui app: wires the panels of :mod:`braxscope.replay_app.gui` to one
:class:`ReplaySession` and a render thread, and runs the frame loop. Nothing here decides
behaviour: the session does; the panels draw its snapshot and forward input to its commands.

Three threads: the GUI thread (this module; DearPyGui and its GL context), the render thread
(:class:`RenderWorker`, MuJoCo's GL context), and a store thread that calls
``session.poll_store()`` so that reads never stall drawing.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import dearpygui.dearpygui as dpg

from . import presentation as P
from .error_log import ErrorLog
from .gui import layout, theme
from .gui.browser import Browser
from .gui.header import HeaderBar
from .gui.input_map import InputMap
from .gui.plots import PlotsPanel
from .gui.viewport import Viewport
from .render_thread import RenderWorker
from .session import ReplaySession
from .session_snapshot import Scene

window_size = layout.window_size  # the window's default size for a viewport (benchmarks use it)


@dataclass
class AppStats:
    """What the app measured (for tests and benchmarks)."""

    started: float = field(default_factory=time.perf_counter)
    first_frame_s: float | None = None
    frames_shown: int = 0
    gui_frames: int = 0
    shown: list = field(default_factory=list)  # (seq, requested_at, shown_at) of recent frames
    draw_s: list = field(default_factory=list)  # seconds DearPyGui took to draw each recent GUI frame
    first_frame_wall: float | None = None  # time.time() when the first frame was on screen
    trace: list = field(default_factory=list)  # (time.time(), views, frames, starts) of recent shown frames
    episodes: list = field(default_factory=list)  # (time.time(), views, starts) each time the shown episodes changed


class ReplayApp:
    """The window. ``run()`` for the interactive loop; tests call :meth:`frame` themselves.

    ``width`` x ``height`` is the largest viewport picture (``--width/--height``): the window
    opens to fit the screen and the picture follows the window's size up to that."""

    def __init__(self, session: ReplaySession, worker: RenderWorker, *, width: int = 640, height: int = 480,
                 fps: float = 60.0, title: str | None = None, started: float | None = None,
                 work_area: tuple[int, int, int, int] | None = None, errors: ErrorLog | None = None):
        self.s, self.worker = session, worker
        self.errors = errors or ErrorLog()
        self._banner_shown = ""
        self.max_size = (width, height)
        self.fps = max(1.0, float(fps))
        self.stats = AppStats(started=started or time.perf_counter())
        self.shown: Scene | None = None  # the scene of the picture on screen
        self._requested = None
        self._first_gui_frame = 0  # the GUI frame that first showed a picture
        self._stop = threading.Event()
        self._poke = threading.Event()
        dpg.create_context()
        dpg.configure_app(manual_callback_management=True)
        self.themes = theme.setup()
        self.work_area = work_area or layout.work_area()
        x, y, w, h = layout.window_rect(width, height, self.work_area)
        dpg.create_viewport(title=title or f"braxscope · {session.env_name} · {session.stores_text}", width=w, height=h,
                            x_pos=x, y_pos=y, min_width=min(w, layout.MIN_WINDOW[0]),
                            min_height=min(h, layout.MIN_WINDOW[1]), vsync=False)
        self.layout = layout.reflow((w, h), width, height)
        session.set_viewport(*self.layout.render)
        with dpg.window(tag="main", no_title_bar=True, no_move=True, no_resize=True, no_scrollbar=True):
            self.header = HeaderBar(session, self.themes)
            self.error_text = dpg.add_text("", color=P.ERROR, show=False)  # one line: see frame()
            with dpg.group(horizontal=True, horizontal_spacing=layout.GAP):
                self.browser = Browser(session, self.themes, self.layout.browser_w)
                self.viewport = Viewport(session, self.themes, self.max_size, self.layout)
                self.plots = PlotsPanel(session, self.themes, self.layout)
        self.input = InputMap(session, typing=lambda: self.browser.typing or self.viewport.typing,
                              scroll_browser=self.browser.scroll_by)
        dpg.set_primary_window("main", True)
        self._request(session.snapshot().scene)  # the first frame renders while the window is built
        dpg.setup_dearpygui()
        dpg.show_viewport()
        self.software_gl = _software_gl()
        if self.software_gl:
            # Under Xvfb or without a GPU the window itself is drawn by the CPU: anti-aliased plot
            # lines cost about a quarter of each GUI frame there (measured: 101 -> 75 ms), and
            # plots are about 400 px wide: fewer points per series.
            dpg.configure_app(anti_aliased_lines=False, anti_aliased_fill=False)
            session.plot_points = 200
        self._apply_layout(self.layout)
        self._store_thread = threading.Thread(target=self._store_loop, name="braxscope-store", daemon=True)
        self._store_thread.start()

    # ================================================================ layout

    def _apply_layout(self, lay: layout.Layout) -> None:
        self.layout = lay
        self.s.set_viewport(*lay.render)
        self.browser.reflow(lay.browser_w, lay.body_h)
        self.viewport.reflow(lay)
        self.plots.reflow(lay)

    def _check_resize(self) -> None:
        size = (dpg.get_viewport_client_width(), dpg.get_viewport_client_height())
        if size[0] > 0 and size[1] > 0 and size != self.layout.window:
            self._apply_layout(layout.reflow(size, *self.max_size))

    # ================================================================ loop

    def _store_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.s.poll_store()
            except Exception as e:  # never let the store thread die silently
                self.errors.report("reading the store", e)
            self._poke.wait(0.25 if self.s.live else 0.5)
            self._poke.clear()

    def _request(self, scene: Scene) -> bool:
        """Ask for the picture of ``scene`` at the layout's render size, unless already asked."""
        key = (scene.picture, self.s.viewport)
        if key == self._requested:
            return False
        self._requested = key
        self.worker.request([c.qpos for c in scene.cells], tag=scene, ghost=scene.ghost, size=self.s.viewport,
                            extras=[(c.mocap_pos, c.mocap_quat, c.model) for c in scene.cells])
        return True

    def frame(self) -> None:
        """One GUI frame: input, clock, render request, upload, panels, draw.

        An error in a callback, the session or the view is shown in the window (one line, with
        the log file that holds its traceback) and the frame is still drawn: the window stays
        usable, and the next frame tries again."""
        for job in dpg.get_callback_queue() or ():
            try:
                dpg.run_callbacks([job])
            except Exception as e:
                self.errors.report("an input callback", e)
        try:
            self._update()
        except Exception as e:
            self.errors.report("the GUI frame", e)
        err, self.worker.error = self.worker.error, None
        if err is not None:
            self.errors.report("rendering", err)
        if self.errors.banner != self._banner_shown:
            self._banner_shown = self.errors.banner
            dpg.set_value(self.error_text, self._banner_shown)
            dpg.configure_item(self.error_text, show=True)
        t_draw = time.perf_counter()
        dpg.render_dearpygui_frame()
        self.stats.draw_s.append(time.perf_counter() - t_draw)
        del self.stats.draw_s[:-2000]
        self.stats.gui_frames += 1

    def _update(self) -> None:
        """Input, clock, render request, upload, panels: everything of a frame but drawing it."""
        self.input.poll()
        self._check_resize()
        for move in self.s.take_camera_moves():
            self.worker.command(*move)
        s = self.s
        s.tick()
        snap = s.snapshot()
        if s.views and s.loading:
            self._poke.set()
        if self._request(snap.scene) and not s.playing:
            # A scrub, step or switch: wait a moment for its frame, so this GUI frame already
            # shows it (drawing the window first would add a whole GUI frame to the latency).
            # Not while playing: then rendering and drawing overlap.
            self.worker.frame_ready.wait(0.15)
        f = self.worker.take()
        if f is not None:
            self.viewport.show(f.image, f.size, f.tag)
            self.shown = f.tag
            self.stats.frames_shown += 1
            now = time.perf_counter()
            self.stats.shown.append((f.seq, f.requested_at, now))
            del self.stats.shown[:-2000]
            sc: Scene = f.tag
            starts = [c.start for c in sc.cells]
            self.stats.trace.append((time.time(), list(sc.views), [c.frame for c in sc.cells], starts))
            del self.stats.trace[:-2000]
            if not self.stats.episodes or self.stats.episodes[-1][1:] != (list(sc.views), starts):
                self.stats.episodes.append((time.time(), list(sc.views), starts))
                del self.stats.episodes[:-2000]
            if self.stats.first_frame_s is None and any(c.qpos is not None for c in sc.cells):
                self._first_gui_frame = self.stats.gui_frames
                self.stats.first_frame_s = now - self.stats.started
                self.stats.first_frame_wall = time.time()
        self.header.draw(snap.header)
        self.browser.draw(snap.table, snap.header.problems)
        self.viewport.draw(snap)
        self.plots.draw(snap.plots, snap.timeline)

    def poke(self) -> None:
        """Wake the store thread now (after a selection, so the episode loads at once)."""
        self._poke.set()

    def pace(self, t0: float) -> None:
        """Wait after a GUI frame: until a new rendered frame is ready (drawn at once, at most
        ``fps`` times a second), else about 20 times a second for input. Drawing the window is not
        free on software GL, so frames are not drawn while the renderer has nothing new."""
        period = 1.0 / self.fps
        idle = period if self.input.dragging else max(period, 0.05)
        remaining = idle - (time.perf_counter() - t0)
        if remaining > 0:
            self.worker.frame_ready.wait(remaining)
        rest = period - (time.perf_counter() - t0)
        if rest > 0:
            time.sleep(rest)

    def run(self, exit_after_s: float | None = None, screenshot: str | None = None) -> None:
        t_end = None if exit_after_s is None else time.perf_counter() + exit_after_s
        try:
            while dpg.is_dearpygui_running():
                t0 = time.perf_counter()
                self.frame()
                # --exit-after (tests, benchmarks): at least that long, and until a first frame was shown
                # (when there is an episode to show). A few GUI frames after the first picture: it is
                # uploaded and drawn by then.
                shown = self.stats.first_frame_s is not None and self.stats.gui_frames >= self._first_gui_frame + 3
                if t_end is not None and t0 > t_end and (shown or not self.s.views or t0 > t_end + 30):
                    if screenshot:
                        self.screenshot(screenshot)  # waits until DearPyGui has written the file
                    break
                self.pace(t0)
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        self._poke.set()
        self._store_thread.join(timeout=5)
        self.worker.close()
        try:
            dpg.destroy_context()
        except Exception:
            pass

    # ============================================================== capture

    def screenshot(self, path: str | Path) -> Path:
        """Save the whole window as a PNG (written after the next frame is drawn)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()
        dpg.output_frame_buffer(file=str(path))
        # DearPyGui writes the file after a later frame, a few frames on: more on a loaded machine.
        deadline = time.monotonic() + 10.0
        size = -1
        while time.monotonic() < deadline:
            self.frame()
            now = path.stat().st_size if path.exists() else 0
            if now > 0 and now == size:  # written, and no longer growing
                break
            size = now
        return path


def _software_gl() -> bool:
    """Whether DearPyGui's own OpenGL context is a CPU rasterizer (Mesa llvmpipe/softpipe)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        gl = ctypes.CDLL("libGL.so.1")
        gl.glGetString.restype = ctypes.c_char_p
        name = (gl.glGetString(0x1F01) or b"").decode(errors="replace").lower()  # GL_RENDERER
    except (OSError, AttributeError):
        return False
    return any(k in name for k in ("llvmpipe", "softpipe", "swrast", "software"))


__all__ = ["ReplayApp", "AppStats", "window_size"]
