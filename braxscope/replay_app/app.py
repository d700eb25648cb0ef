"""The DearPyGui view: draws a :class:`ReplaySession` and forwards input. Nothing here decides
behaviour that can be tested without a window; that lives in the session.

Three threads: the GUI thread (this module; DearPyGui and its GL context), the render thread
(:class:`RenderWorker`, MuJoCo's GL context), and a store thread that calls
``session.poll_store()`` so that reads never stall drawing.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import dearpygui.dearpygui as dpg
import numpy as np

from .error_log import ErrorLog
from .render_thread import RenderWorker, grid_shape
from .session import SPEEDS, LiveTarget, ReplaySession

# Colours (RGBA 0-255). Plots use ImPlot's own palette for series; these are the accents.
ACCENT = (86, 156, 255, 255)
LIVE_ON = (235, 64, 52, 255)
LIVE_OFF = (110, 110, 120, 255)
OK = (90, 200, 120, 255)
WARN = (240, 180, 60, 255)
ERROR = (255, 110, 100, 255)
DIM = (150, 155, 165, 255)
BACKGROUND = (22, 24, 28, 255)
# Tableau-like palette for series (reward, return, then actuators).
SERIES_COLOURS = [(78, 145, 220, 255), (245, 140, 50, 255), (90, 185, 110, 255), (220, 80, 80, 255),
                  (160, 120, 210, 255), (150, 110, 90, 255), (225, 120, 190, 255), (160, 160, 160, 255),
                  (190, 190, 60, 255), (70, 190, 200, 255)]
COMPARE_COLOURS = [(86, 156, 255, 255), (255, 160, 60, 255), (110, 210, 120, 255), (220, 100, 220, 255)]

BROWSER_W = 470
PLOTS_W = 470
MAX_TABLE_ROWS = 400  # a table of thousands of rows slows every frame; filter to narrow
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:/Windows/Fonts/segoeui.ttf",
)
SORT_COLUMNS = ("id", "source", "env", "iteration", "env_step", "length", "return", "status")


def window_size(width: int, height: int) -> tuple[int, int]:
    """The window's size for a viewport of width x height: browser, viewport and plots side by side."""
    return BROWSER_W + width + PLOTS_W + 48, max(height + 300, 860)


@dataclass
class Overlays:
    step: bool = True
    reward: bool = True
    ret: bool = True
    action: bool = False
    iteration: bool = True


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
    trace: list = field(default_factory=list)  # (time.time(), views, frames) of recent shown frames
    episodes: list = field(default_factory=list)  # (time.time(), views, starts) each time the shown episodes changed


class ReplayApp:
    """The window. ``run()`` for the interactive loop; tests call :meth:`frame` themselves."""

    def __init__(self, session: ReplaySession, worker: RenderWorker, *, width: int = 640, height: int = 480,
                 fps: float = 60.0, title: str | None = None, started: float | None = None,
                 errors: ErrorLog | None = None):
        self.s, self.worker = session, worker
        self.errors = errors or ErrorLog()
        self._banner_shown = ""
        self.w, self.h = width, height
        self.fps = max(1.0, float(fps))
        self.overlays = Overlays()
        self.ghost = False
        self.stats = AppStats(started=started or time.perf_counter())
        self.shown_seq = 0
        self._requested_key = None
        self._plot_key = None
        self._catalog_seen = -1
        self._table_now = True
        self._table_t = 0.0
        self._row_items: dict[str, list[int]] = {}  # episode id -> the selectables of its row
        self._marked: set | None = None  # the episode ids whose rows are highlighted
        self._header_t = 0.0
        self._export_thread: threading.Thread | None = None
        self.export_status = ""
        self._line_cursor = -1
        self._mouse_last = None
        self._drag_button = None
        self._seq_cursor: dict[int, tuple] = {}
        self.shown_state: tuple | None = None  # (views, frames) of the frame on screen
        self._stop = threading.Event()
        self._poke = threading.Event()
        self._title = title or f"braxscope · {session.env_name} · {session.path}"
        self._request_render()  # the first frame renders while the window is built
        self._build()
        self._store_thread = threading.Thread(target=self._store_loop, name="braxscope-store", daemon=True)
        self._store_thread.start()

    # ================================================================= build

    def _build(self) -> None:
        dpg.create_context()
        dpg.configure_app(manual_callback_management=True)
        self._font = None
        for path in FONT_CANDIDATES:
            if os.path.exists(path):
                with dpg.font_registry():
                    self._font = dpg.add_font(path, 15)
                dpg.bind_font(self._font)
                break
        dpg.bind_theme(self._theme())
        win_w, win_h = window_size(self.w, self.h)
        dpg.create_viewport(title=self._title, width=win_w, height=win_h, min_width=900, min_height=600, vsync=False)
        with dpg.texture_registry():
            self._blank = np.full((self.h, self.w, 4), 0.13, np.float32)
            self._blank[..., 3] = 1.0
            self._blank = self._blank.reshape(-1)
            self.tex = dpg.add_raw_texture(self.w, self.h, self._blank, format=dpg.mvFormat_Float_rgba)
        with dpg.window(tag="main", no_title_bar=True, no_move=True, no_resize=True, no_scrollbar=True):
            self._build_header()
            with dpg.group(horizontal=True):
                self._build_browser()
                self._build_center()
                self._build_plots()
        dpg.set_primary_window("main", True)
        with dpg.handler_registry():
            dpg.add_key_press_handler(dpg.mvKey_Spacebar, callback=lambda: self._key("space"))
            dpg.add_key_press_handler(dpg.mvKey_Left, callback=lambda: self._key("left"))
            dpg.add_key_press_handler(dpg.mvKey_Right, callback=lambda: self._key("right"))
            dpg.add_key_press_handler(dpg.mvKey_Home, callback=lambda: self._key("home"))
            dpg.add_key_press_handler(dpg.mvKey_End, callback=lambda: self._key("end"))
            dpg.add_key_press_handler(dpg.mvKey_L, callback=lambda: self._key("L"))
            dpg.add_mouse_wheel_handler(callback=self._on_wheel)
        dpg.setup_dearpygui()
        dpg.show_viewport()
        self.software_gl = _software_gl()
        if self.software_gl:
            # Under Xvfb or without a GPU the window itself is drawn by the CPU: anti-aliased plot
            # lines cost about a quarter of each GUI frame there (measured: 101 -> 75 ms).
            dpg.configure_app(anti_aliased_lines=False, anti_aliased_fill=False)

    def _theme(self):
        with dpg.theme() as t:
            with dpg.theme_component(dpg.mvAll):
                # One background fill only: DearPyGui fills the primary window opaquely whatever
                # its alpha; child windows and plot frames are not filled again on top. On
                # software GL every filled layer is a blended pass over much of the window;
                # dropping them cut a GUI frame from about 45 to 34 ms under Xvfb.
                dpg.add_theme_color(dpg.mvThemeCol_WindowBg, BACKGROUND)
                dpg.add_theme_color(dpg.mvThemeCol_ChildBg, (0, 0, 0, 0))
                dpg.add_theme_color(dpg.mvThemeCol_FrameBg, (40, 43, 50))
                dpg.add_theme_color(dpg.mvThemeCol_Button, (48, 52, 62))
                dpg.add_theme_color(dpg.mvThemeCol_ButtonHovered, (66, 72, 88))
                dpg.add_theme_color(dpg.mvThemeCol_ButtonActive, ACCENT)
                dpg.add_theme_color(dpg.mvThemeCol_SliderGrab, ACCENT)
                dpg.add_theme_color(dpg.mvThemeCol_CheckMark, ACCENT)
                dpg.add_theme_color(dpg.mvThemeCol_Header, (52, 70, 105))
                dpg.add_theme_color(dpg.mvThemeCol_HeaderHovered, (62, 84, 126))
                dpg.add_theme_color(dpg.mvThemeCol_TableRowBgAlt, (32, 34, 40))
                dpg.add_theme_color(dpg.mvThemeCol_Border, (50, 53, 60))
                dpg.add_theme_style(dpg.mvStyleVar_FrameRounding, 4)
                dpg.add_theme_style(dpg.mvStyleVar_ChildRounding, 6)
                dpg.add_theme_style(dpg.mvStyleVar_GrabRounding, 4)
                dpg.add_theme_style(dpg.mvStyleVar_FramePadding, 7, 4)
                dpg.add_theme_style(dpg.mvStyleVar_ItemSpacing, 7, 6)
                dpg.add_theme_style(dpg.mvStyleVar_WindowPadding, 10, 8)
                dpg.add_theme_style(dpg.mvStyleVar_CellPadding, 4, 3)
            with dpg.theme_component(dpg.mvPlot):
                dpg.add_theme_color(dpg.mvPlotCol_PlotBg, (24, 26, 30), category=dpg.mvThemeCat_Plots)
                dpg.add_theme_color(dpg.mvPlotCol_FrameBg, (0, 0, 0, 0), category=dpg.mvThemeCat_Plots)
                dpg.add_theme_style(dpg.mvPlotStyleVar_PlotPadding, 6, 6, category=dpg.mvThemeCat_Plots)
                dpg.add_theme_style(dpg.mvPlotStyleVar_LineWeight, 1.6, category=dpg.mvThemeCat_Plots)
        with dpg.theme() as self._live_theme:
            with dpg.theme_component(dpg.mvButton):
                dpg.add_theme_color(dpg.mvThemeCol_Button, LIVE_ON)
                dpg.add_theme_color(dpg.mvThemeCol_ButtonHovered, (250, 90, 80))
        with dpg.theme() as self._idle_theme:
            with dpg.theme_component(dpg.mvButton):
                dpg.add_theme_color(dpg.mvThemeCol_Button, (48, 52, 62))
        self._status_themes = {}
        for name, colour in (("damaged", ERROR), ("live", LIVE_ON), ("cut", WARN)):
            with dpg.theme() as self._status_themes[name]:
                with dpg.theme_component(dpg.mvSelectable):
                    dpg.add_theme_color(dpg.mvThemeCol_Text, colour)
        with dpg.theme() as self._play_theme:
            with dpg.theme_component(dpg.mvButton):
                dpg.add_theme_color(dpg.mvThemeCol_Button, (52, 92, 160))
        return t

    def _build_header(self) -> None:
        with dpg.group(horizontal=True):
            dpg.add_text("braxscope", color=ACCENT)
            dpg.add_text(f"{self.s.env_name}", color=(230, 230, 235))
            dpg.add_text(str(self.s.path), color=DIM)
            dpg.add_spacer(width=20)
            self.live_btn = dpg.add_button(label="  LIVE  ", callback=lambda: self._toggle_live())
            self.live_text = dpg.add_text("", color=DIM)
            dpg.add_spacer(width=12)
            self.rec_text = dpg.add_text("", color=DIM)
            self.rec_btn = dpg.add_button(label="Pause recording", callback=lambda: self._toggle_recording(),
                                          show=False)
        self.msg_text = dpg.add_text("", color=ERROR, wrap=BROWSER_W + self.w + PLOTS_W, show=False)
        self.error_text = dpg.add_text("", color=ERROR, show=False)  # one line: see frame()

    def _build_browser(self) -> None:
        with dpg.child_window(width=BROWSER_W, tag="browser", border=True):
            dpg.add_text("Episodes", color=(230, 230, 235))
            with dpg.group(horizontal=True):
                self.f_source = dpg.add_combo(["all sources", "train", "snapshot"], default_value="all sources",
                                              width=120, callback=lambda: self._filter_changed())
                self.f_iter_min = dpg.add_input_text(hint="iter min", width=70, decimal=True,
                                                     callback=lambda: self._filter_changed())
                self.f_iter_max = dpg.add_input_text(hint="iter max", width=70, decimal=True,
                                                     callback=lambda: self._filter_changed())
            with dpg.group(horizontal=True):
                self.f_ret_min = dpg.add_input_text(hint="return min", width=96, scientific=True,
                                                    callback=lambda: self._filter_changed())
                self.f_ret_max = dpg.add_input_text(hint="return max", width=96, scientific=True,
                                                    callback=lambda: self._filter_changed())
                self.cmp_btn = dpg.add_button(label="Compare snapshots", callback=lambda: self._compare_snapshots())
            with dpg.table(tag="catalog", header_row=True, sortable=True, callback=self._on_sort, resizable=True,
                           policy=dpg.mvTable_SizingStretchProp, scrollY=True, row_background=True, height=-52,
                           borders_innerV=False, borders_outerH=True, clipper=True, freeze_rows=1):
                for name, label, w in (("id", "id", 0.95), ("source", "source", 1.15), ("env", "env", 0.7),
                                       ("iteration", "iter", 0.7), ("env_step", "step", 0.8), ("length", "len", 0.6),
                                       ("return", "return", 1.0), ("status", "status", 0.9)):
                    dpg.add_table_column(label=label, init_width_or_weight=w, user_data=name,
                                         default_sort=(name == "id"))
            self.count_text = dpg.add_text("", color=DIM)
            self.problem_text = dpg.add_text("", color=WARN, wrap=BROWSER_W - 20)

    def _build_center(self) -> None:
        with dpg.child_window(width=self.w + 20, tag="center", border=False, no_scrollbar=True):
            with dpg.drawlist(width=self.w, height=self.h, tag="viewport"):
                dpg.draw_image(self.tex, (0, 0), (self.w, self.h))
                self.overlay_layer = dpg.add_draw_layer()
            self.scrub = dpg.add_slider_int(width=self.w, min_value=0, max_value=1, format="", callback=self._on_scrub)
            with dpg.group(horizontal=True):
                dpg.add_button(label="|<", width=34, callback=lambda: self._act(self.s.home))
                dpg.add_button(label="<", width=30, callback=lambda: self._act(lambda: self.s.step(-1)))
                self.play_btn = dpg.add_button(label="Play", width=64, callback=lambda: self._act(self.s.toggle_play))
                dpg.add_button(label=">", width=30, callback=lambda: self._act(lambda: self.s.step(1)))
                dpg.add_button(label=">|", width=34, callback=lambda: self._act(self.s.end))
                self.speed_combo = dpg.add_combo([_speed_label(x) for x in SPEEDS], default_value="1x", width=70,
                                                 callback=self._on_speed)
                self.loop_box = dpg.add_checkbox(label="Loop",
                                                 callback=lambda s, a: self._act(lambda: self.s.set_loop(a)))
                self.time_text = dpg.add_text("", color=(220, 220, 228))
            with dpg.group(horizontal=True):
                self.cam_combo = dpg.add_combo(self.worker.camera_names, default_value="track", width=110,
                                               callback=lambda s, a: self.worker.command("camera", a))
                dpg.add_button(label="Reset view", callback=lambda: self.worker.command("reset"))
                self.shadow_box = dpg.add_checkbox(label="Shadows",
                                                   callback=lambda s, a: self.worker.command("shadows", a))
                self.ghost_box = dpg.add_checkbox(label="Ghost", callback=lambda s, a: self.set_ghost(a))
                dpg.add_spacer(width=8)
                self.target_combo = dpg.add_combo([], width=170, callback=self._on_target)
            with dpg.group(horizontal=True):
                self.export_btn = dpg.add_button(label="Export video", callback=lambda: self._export())
                self.export_path = dpg.add_input_text(default_value=self._default_export_path(), width=self.w - 250)
                self.export_text = dpg.add_text("", color=DIM)
            with dpg.group(horizontal=True):
                dpg.add_text("Overlays", color=DIM)
                self.ov_boxes = {}
                for name, label in (("step", "step"), ("reward", "reward"), ("ret", "return"),
                                    ("action", "|action|"), ("iteration", "iteration")):
                    self.ov_boxes[name] = dpg.add_checkbox(label=label, default_value=getattr(self.overlays, name),
                                                           callback=self._on_overlay, user_data=name)
            dpg.add_text("drag: orbit · right-drag: pan · wheel: zoom · keys: space ← → home end L", color=DIM)
            with dpg.plot(label="Training curve", height=-1, width=self.w, tag="p_train", no_menus=True,
                          no_box_select=True):
                dpg.add_plot_legend(location=dpg.mvPlot_Location_SouthEast)
                self.tx = dpg.add_plot_axis(dpg.mvXAxis, label="env step")
                self.ty = dpg.add_plot_axis(dpg.mvYAxis, label="")

    def _build_plots(self) -> None:
        with dpg.child_window(width=PLOTS_W, tag="plots", border=False):
            with dpg.plot(label="Reward and return", height=300, width=-1, tag="p_reward", no_menus=True,
                          no_box_select=True):
                dpg.add_plot_legend(location=dpg.mvPlot_Location_NorthWest)
                self.rx = dpg.add_plot_axis(dpg.mvXAxis, label="step")
                self.ry = dpg.add_plot_axis(dpg.mvYAxis, label="reward")
                self.ry2 = dpg.add_plot_axis(dpg.mvYAxis2, label="return", opposite=True)
                self.cur_r = dpg.add_drag_line(color=(255, 255, 255, 200), thickness=1.5, callback=self._on_drag_line)
            with dpg.plot(label="Actions", height=-1, width=-1, tag="p_action", no_menus=True, no_box_select=True):
                dpg.add_plot_legend(location=dpg.mvPlot_Location_East, outside=True)
                self.ax = dpg.add_plot_axis(dpg.mvXAxis, label="step")
                self.ay = dpg.add_plot_axis(dpg.mvYAxis, label="action")
                self.cur_a = dpg.add_drag_line(color=(255, 255, 255, 200), thickness=1.5, callback=self._on_drag_line)
            with dpg.theme() as thin:
                with dpg.theme_component(dpg.mvPlot):
                    dpg.add_theme_style(dpg.mvPlotStyleVar_LineWeight, 1.0, category=dpg.mvThemeCat_Plots)
            dpg.bind_item_theme("p_action", thin)  # many actuators: thin lines stay readable
            for plot in ("p_reward", "p_action"):
                with dpg.item_handler_registry() as reg:
                    dpg.add_item_clicked_handler(button=dpg.mvMouseButton_Left, callback=self._on_plot_click)
                dpg.bind_item_handler_registry(plot, reg)

    # ================================================================ input

    def _act(self, fn) -> None:
        fn()
        self._poke.set()

    def _key(self, name: str) -> None:
        if dpg.is_item_active(self.f_iter_min) or dpg.is_item_active(self.f_iter_max) \
                or dpg.is_item_active(self.f_ret_min) or dpg.is_item_active(self.f_ret_max):
            return  # typing in a filter box
        s = self.s
        {"space": s.toggle_play, "left": lambda: s.step(-1), "right": lambda: s.step(1),
         "home": s.home, "end": s.end, "L": self._toggle_live}[name]()
        self._poke.set()

    def _toggle_live(self) -> None:
        if self.s.live:
            self.s.leave_live()
        else:
            self.s.go_live()
        self._poke.set()

    def _toggle_recording(self) -> None:
        try:
            self.s.set_recording(not self.s.control.get("recording", True))
        except OSError as e:
            self.s.message = f"cannot write the control file ({e.strerror}): is the store read-only?"

    def _on_scrub(self, sender, value) -> None:
        self.s.seek(int(value))

    def _on_drag_line(self, sender) -> None:
        self.s.seek(int(round(dpg.get_value(sender))))

    def _on_plot_click(self, sender, app_data) -> None:
        x, _ = dpg.get_plot_mouse_pos()
        if math.isfinite(x):
            self.s.seek(int(round(x)))

    def _on_speed(self, sender, value) -> None:
        self.s.set_speed(float(value.rstrip("x")))

    def _on_overlay(self, sender, value, name) -> None:
        setattr(self.overlays, name, bool(value))
        self._requested_key = None  # redraw overlays

    def _on_target(self, sender, label) -> None:
        for t in self.s.live_targets():
            if self._target_label(t) == label:
                self.s.go_live(t)
        self._poke.set()

    def _on_select(self, sender, value, eid) -> None:
        if dpg.is_key_down(dpg.mvKey_LShift) or dpg.is_key_down(dpg.mvKey_RShift) \
                or dpg.is_key_down(dpg.mvKey_LControl):
            if self.s.compare or self.s.views:
                self.s.add_compare(eid) if eid not in self.s.views else self.s.remove_compare(eid)
        else:
            self.s.select(eid)
        self._marked = None  # ImGui toggled the clicked cell itself: re-mark every row
        self._poke.set()

    def _compare_snapshots(self) -> None:
        picks = self.s.snapshot_picks()
        if len(picks) >= 2:
            self.s.set_compare(picks)
        elif picks:
            self.s.select(picks[0])
        else:
            self.s.message = "no policy snapshots in this store"
        self._table_now = True
        self._poke.set()

    def _default_export_path(self) -> str:
        p = Path(self.s.path)
        return str(p.parent / f"{p.name.removesuffix('.zarr')}.mp4")

    def _export(self) -> None:
        """Render what is on screen (one episode or the compare set) to MP4/GIF in the background,
        with the app's camera and overlays, through export_video (its own render thread)."""
        if self._export_thread is not None and self._export_thread.is_alive():
            return
        from .export_video import export_video

        s = self.s
        views = [v for v in s.views if v not in s.damaged]
        if not views:
            self.export_status = "nothing to export"
            return
        rows, cols = grid_shape(len(views))
        # A tile is what one viewport cell shows; MP4 needs even sizes.
        tw, th = (self.w // cols) // 2 * 2, (self.h // rows) // 2 * 2
        out = dpg.get_value(self.export_path).strip() or self._default_export_path()
        camera = self.worker.camera_arg(dpg.get_value(self.cam_combo))
        overlay = any(vars(self.overlays).values())
        path = s.path

        def work():
            try:
                self.export_status = "exporting…"
                done = export_video(path, views, out, tw, th, camera=camera, overlay=overlay,
                                    progress=lambda i, n: setattr(self, "export_status", f"exporting {i}/{n} frames"))
                self.export_status = f"saved {done}"
            except Exception as e:  # a message in the window, never a dead thread
                self.export_status = f"export failed: {e}"

        self._export_thread = threading.Thread(target=work, name="braxscope-export", daemon=True)
        self._export_thread.start()

    def set_ghost(self, on: bool) -> None:
        """Compare mode drawn in one scene: the first episode solid, the others translucent."""
        self.ghost = bool(on)
        self._requested_key = None

    def _on_sort(self, sender, specs) -> None:
        if not specs:
            return
        col, direction = specs[0]
        name = dpg.get_item_user_data(col)
        self.s.set_sort(name, descending=direction < 0)
        self._table_now = True

    def _filter_changed(self) -> None:
        src = dpg.get_value(self.f_source)
        self.s.set_filter(source=None if src == "all sources" else src,
                          iter_min=_num(dpg.get_value(self.f_iter_min), int),
                          iter_max=_num(dpg.get_value(self.f_iter_max), int),
                          ret_min=_num(dpg.get_value(self.f_ret_min), float),
                          ret_max=_num(dpg.get_value(self.f_ret_max), float))
        self._table_now = True

    def _on_wheel(self, sender, delta) -> None:
        if dpg.is_item_hovered("viewport"):
            self.worker.command("zoom", 0.9 ** float(delta))

    def _mouse_camera(self) -> None:
        """Left-drag orbits, right-drag (or middle) pans, while the pointer is on the viewport."""
        pos = dpg.get_mouse_pos(local=False)
        button = None
        if dpg.is_mouse_button_down(dpg.mvMouseButton_Left):
            button = "orbit"
        elif dpg.is_mouse_button_down(dpg.mvMouseButton_Right) or dpg.is_mouse_button_down(dpg.mvMouseButton_Middle):
            button = "pan"
        if button is None:
            self._drag_button = None
            self._mouse_last = None
            return
        if self._drag_button is None:
            # A drag starts only on the viewport; then it may leave it.
            if not dpg.is_item_hovered("viewport"):
                return
            self._drag_button, self._mouse_last = button, pos
            return
        dx, dy = pos[0] - self._mouse_last[0], pos[1] - self._mouse_last[1]
        self._mouse_last = pos
        if dx or dy:
            if self._drag_button == "orbit":
                self.worker.command("orbit", -0.4 * dx, -0.4 * dy)
            else:
                self.worker.command("pan", -dx / self.h, dy / self.h)

    # ================================================================ loop

    def _store_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.s.poll_store()
            except Exception as e:  # never let the store thread die silently
                self.errors.report("reading the store", e)
            self._poke.wait(0.25 if self.s.live else 0.5)
            self._poke.clear()

    def frame(self) -> None:
        """One GUI frame: input, clock, render request, upload, widgets, draw.

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
        """Input, clock, render request, upload, widgets: everything of a frame but drawing it."""
        self._mouse_camera()
        s = self.s
        s.tick()
        if s.views and s.loading:
            self._poke.set()
        if self._request_render() and not s.playing:
            # A scrub, step or switch: wait a moment for its frame, so this GUI frame already
            # shows it (drawing the window first would add a whole GUI frame to the latency).
            # Not while playing: then rendering and drawing overlap.
            self.worker.frame_ready.wait(0.15)
        f = self.worker.take()
        if f is not None:
            dpg.set_value(self.tex, f.image.reshape(-1))
            self.shown_seq = f.seq
            self.shown_state = f.tag
            self.stats.frames_shown += 1
            now = time.perf_counter()
            self.stats.shown.append((f.seq, f.requested_at, now))
            del self.stats.shown[:-2000]
            if f.tag:
                starts = [c.get("start") for c in f.tag[3]]
                self.stats.trace.append((time.time(), list(f.tag[0]), list(f.tag[1]), starts))
                del self.stats.trace[:-2000]
                if not self.stats.episodes or self.stats.episodes[-1][1:] != (list(f.tag[0]), starts):
                    self.stats.episodes.append((time.time(), list(f.tag[0]), starts))
                    del self.stats.episodes[:-2000]
            if self.stats.first_frame_s is None and f.tag and any(q is not None for q in f.tag[2]):
                self.stats.first_frame_s = now - self.stats.started
                self.stats.first_frame_wall = time.time()
            self._draw_overlays(f.tag)
        self._update_widgets()

    def pace(self, t0: float) -> None:
        """Wait after a GUI frame: until a new rendered frame is ready (drawn at once, at most
        ``fps`` times a second), else about 20 times a second for input. Drawing the window is not
        free on software GL, so frames are not drawn while the renderer has nothing new."""
        period = 1.0 / self.fps
        interacting = (dpg.is_mouse_button_down(dpg.mvMouseButton_Left)
                       or dpg.is_mouse_button_down(dpg.mvMouseButton_Right))
        idle = period if interacting else max(period, 0.05)
        remaining = idle - (time.perf_counter() - t0)
        if remaining > 0:
            self.worker.frame_ready.wait(remaining)
        rest = period - (time.perf_counter() - t0)
        if rest > 0:
            time.sleep(rest)

    def run(self, exit_after_s: float | None = None, screenshot: str | None = None) -> None:
        t_end = None if exit_after_s is None else time.perf_counter() + exit_after_s
        shot_pending = False
        try:
            while dpg.is_dearpygui_running():
                t0 = time.perf_counter()
                self.frame()
                # --exit-after (tests, benchmarks): at least that long, and until a first frame was shown.
                if t_end is not None and t0 > t_end and (self.stats.first_frame_s is not None or t0 > t_end + 30):
                    if screenshot and not shot_pending:
                        dpg.output_frame_buffer(file=screenshot)
                        shot_pending = True
                        t_end = t0 + 0.3  # the capture is written after the next frame
                        continue
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

    # ============================================================ drawing

    def _request_render(self) -> bool:
        """Ask for the frame of the session's current state, unless already asked. True when asked."""
        s = self.s
        with s._lock:
            views = tuple(s.views)
            frames = tuple(s.frame_of(i) for i in range(len(views)))
            loaded = tuple(s.data(v) is not None for v in views)
            ghost = self.ghost and len(views) > 1
            key = (views, frames, loaded, ghost)
            if key == self._requested_key:
                return False
            qposes = s.qpos()
            info = [self._cell_info(i, v) for i, v in enumerate(views)]
        self._requested_key = key
        self.worker.request(qposes, tag=(views, frames, qposes, info, ghost), ghost=ghost)
        return True

    def _cell_info(self, i: int, v: str) -> dict:
        s = self.s
        d = s.data(v)
        ep = s.info(v)
        out = {"id": v, "source": ep.source if ep else "?", "iteration": ep.iteration if ep else -1,
               "start": ep.start if ep else -1,
               "damaged": s.damaged.get(v), "loading": d is None, "frame": s.frame_of(i),
               "length": len(d) if d is not None else (ep.length if ep else 0)}
        if d is not None and len(d):
            k = s.frame_of(i)
            out.update(reward=float(d.frames.reward[k]), ret=float(d.cum_return[k]),
                       action=float(np.linalg.norm(np.nan_to_num(d.frames.action[k]))),
                       it=int(d.frames.iteration[k]), invalid=not np.isfinite(d.frames.qpos[k]).all())
        return out

    def _draw_overlays(self, tag) -> None:
        dpg.delete_item(self.overlay_layer, children_only=True)
        if not tag:
            return
        views, frames, qposes, info, ghost = tag
        if ghost:
            # One scene: one legend box, each episode in the colour of its ghost.
            lines = []
            for i, c in enumerate(info):
                what = "solid" if i == 0 else "ghost"
                ret = f"  return {c['ret']:+.1f}" if "ret" in c else ""
                lines.append((f"{c['id']} it {c['iteration']} ({what})  step {c['frame']}{ret}",
                              COMPARE_COLOURS[i % 4]))
            self._draw_box(lines, 0, 0)
            return
        rows, cols = grid_shape(len(views))
        cw, ch = self.w // cols, self.h // rows
        ov = self.overlays
        for i, c in enumerate(info):
            x0, y0 = (i % cols) * cw, (i // cols) * ch
            lines = []
            if len(views) > 1:
                # Cells are small in compare mode: one label line, then step and return only.
                lines.append((f"{c['id']}  {c['source']}  it {c['iteration']}", COMPARE_COLOURS[i % 4]))
                if not c["loading"] and not c.get("damaged") and "ret" in c:
                    lines.append((f"step {c['frame']}  return {c['ret']:+.1f}", (235, 235, 240)))
                if c.get("damaged"):
                    lines.append(("damaged episode", ERROR))
                elif c.get("invalid"):
                    lines.append(("invalid state (NaN qpos)", ERROR))
                self._draw_box(lines, x0, y0)
                continue
            if c.get("damaged"):
                lines.append(("damaged episode: cannot be played", ERROR))
            elif c["loading"]:
                lines.append(("loading…", DIM))
            else:
                if ov.step:
                    lines.append((f"step {c['frame']} / {max(0, c['length'] - 1)}", (235, 235, 240)))
                if ov.reward and "reward" in c:
                    lines.append((f"reward {c['reward']:+.3f}", (235, 235, 240)))
                if ov.ret and "ret" in c:
                    lines.append((f"return {c['ret']:+.2f}", (235, 235, 240)))
                if ov.action and "action" in c:
                    lines.append((f"|action| {c['action']:.3f}", (235, 235, 240)))
                if ov.iteration and "it" in c:
                    lines.append((f"iteration {c['it']}", (235, 235, 240)))
                if c.get("invalid"):
                    lines.append(("invalid state (NaN/inf qpos)", ERROR))
            self._draw_box(lines, x0, y0)

    def _draw_box(self, lines: list, x0: float, y0: float) -> None:
        if not lines:
            return
        wmax = max(len(t) for t, _ in lines) * 7.6 + 14
        dpg.draw_rectangle((x0 + 6, y0 + 6), (x0 + 6 + wmax, y0 + 10 + 18 * len(lines)), fill=(0, 0, 0, 140),
                           color=(0, 0, 0, 0), rounding=4, parent=self.overlay_layer)
        for j, (text, colour) in enumerate(lines):
            dpg.draw_text((x0 + 12, y0 + 8 + 18 * j), text, color=colour, size=15, parent=self.overlay_layer)

    def _update_widgets(self) -> None:
        s = self.s
        # Rebuilding the table costs a few thousand items: while a live run grows it, at most once
        # a second; at once after the user sorts, filters or selects.
        if s.catalog_version != self._catalog_seen and (self._table_now or time.perf_counter() - self._table_t > 1.0):
            self._catalog_seen = s.catalog_version
            self._table_now = False
            self._table_t = time.perf_counter()
            self._fill_table()
            self._fill_targets()
        views = set(s.views)
        if self._marked != views:
            self._mark_rows(views)
        n = s.length
        dpg.configure_item(self.scrub, max_value=max(1, n - 1))
        if not dpg.is_item_active(self.scrub):
            dpg.set_value(self.scrub, s.cursor)
        dpg.set_value(self.time_text,
                      f"{s.cursor:>4} / {max(0, n - 1)}   {s.time_s():6.2f} s   {s.dt * 1000:.0f} ms/step")
        dpg.configure_item(self.play_btn, label="Pause" if s.playing else "Play")
        dpg.bind_item_theme(self.play_btn, self._play_theme if s.playing else 0)
        if s.cursor != self._line_cursor:
            # Only when the cursor moved: a line being dragged keeps its own position.
            self._line_cursor = s.cursor
            dpg.set_value(self.cur_r, float(s.cursor))
            dpg.set_value(self.cur_a, float(s.cursor))
        self._update_plots()
        now = time.perf_counter()
        if now - self._header_t > 0.25:
            self._header_t = now
            self._update_header()

    def _update_header(self) -> None:
        s = self.s
        dpg.bind_item_theme(self.live_btn, self._live_theme if s.live else self._idle_theme)
        if s.live:
            lag = s.lag_s()
            target = self._target_label(s.live_target) if s.live_target else ""
            dpg.set_value(self.live_text, f"following {target.removeprefix('follow: ')}"
                          + (f" · lag {lag:.1f} s" if lag is not None else ""))
        else:
            dpg.set_value(self.live_text, "press L to follow the newest data")
        rec = s.recorder_status()
        colour = {"recording": OK, "paused": WARN, "stopped": ERROR, "failed": ERROR, "closed": DIM}.get(rec.state, DIM)
        dpg.set_value(self.rec_text, rec.text)
        dpg.configure_item(self.rec_text, color=colour)
        live_writer = rec.state in ("recording", "paused")
        dpg.configure_item(self.rec_btn, show=live_writer,
                           label="Pause recording" if s.control.get("recording", True) else "Resume recording")
        dpg.set_value(self.export_text, self.export_status)
        msg = s.message
        dpg.set_value(self.msg_text, msg)
        dpg.configure_item(self.msg_text, show=bool(msg))
        probs = s.problems
        dpg.set_value(self.problem_text, ("store problems: " + "; ".join(probs[:3])) if probs else "")

    def _fill_table(self) -> None:
        s = self.s
        rows = s.rows()
        dpg.delete_item("catalog", children_only=True, slot=1)
        shown = set(s.views)
        self._row_items, self._marked = {}, shown
        for ep in rows[:MAX_TABLE_ROWS]:
            status = s.status_of(ep)
            status = {"recording": "live"}.get(status, status)
            colour = {"damaged": ERROR, "live": LIVE_ON, "cut": WARN}.get(status)
            with dpg.table_row(parent="catalog"):
                cells = (ep.id, ep.source, str(ep.env_id), str(ep.iteration), str(ep.env_step), str(ep.length),
                         "—" if not math.isfinite(ep.ret) else f"{ep.ret:.1f}")
                # Every cell a selectable, so the row's texts line up and any cell selects the row.
                items = [dpg.add_selectable(label=cells[0], span_columns=True, default_value=ep.id in shown,
                                            callback=self._on_select, user_data=ep.id)]
                for text in cells[1:]:
                    items.append(dpg.add_selectable(label=text, callback=self._on_select, user_data=ep.id,
                                                    disable_popup_close=True))
                item = dpg.add_selectable(label=status, callback=self._on_select, user_data=ep.id)
                self._row_items[ep.id] = items + [item]
                if colour is not None:
                    dpg.bind_item_theme(item, self._status_themes[status])
        more = f" (showing {MAX_TABLE_ROWS}; filter to narrow)" if len(rows) > MAX_TABLE_ROWS else ""
        dpg.set_value(self.count_text, f"{len(rows)} of {len(s.catalog)} episodes{more} · shift-click adds to compare")

    def _mark_rows(self, views: set) -> None:
        """Highlight the rows of the episodes on screen, however they got there (a click, live
        follow, Compare snapshots, a key)."""
        changed = self._row_items if self._marked is None else (self._marked ^ views)
        for eid in changed:
            for item in self._row_items.get(eid, ()):
                dpg.set_value(item, eid in views)
        self._marked = views

    def _fill_targets(self) -> None:
        labels = [self._target_label(t) for t in self.s.live_targets()]
        dpg.configure_item(self.target_combo, items=labels)
        cur = self._target_label(self.s.live_target) if self.s.live_target else (labels[0] if labels else "")
        dpg.set_value(self.target_combo, cur)

    def _target_label(self, t: LiveTarget) -> str:
        if t.kind == "snapshot":
            return "follow: newest snapshot"
        ordinal = next((w.ordinal for w in self.s.writers if w.writer_id == t.writer), 0)
        return f"follow: env slot {t.slot}" + (f" · writer {ordinal}" if len(self.s.writers) > 1 else "")

    def _update_plots(self) -> None:
        s = self.s
        with s._lock:
            datas = [(v, s.data(v)) for v in s.views]
            key = (tuple((v, len(d) if d is not None else -1) for v, d in datas), len(s.metrics.env_step))
        if key == self._plot_key:
            return
        self._plot_key = key
        for axis in (self.ry, self.ry2, self.ay, self.ty):
            dpg.delete_item(axis, children_only=True)
        compare = len(datas) > 1
        for i, (v, d) in enumerate(datas):
            if d is None or len(d) == 0:
                continue
            lab = f"{v} (it {d.info.iteration})" if compare else ""
            r = dpg.add_line_series(*decimate(d.frames.reward, self._plot_points), label=f"reward {lab}".strip(),
                                    parent=self.ry)
            c = dpg.add_line_series(*decimate(d.cum_return, self._plot_points), label=f"return {lab}".strip(),
                                    parent=self.ry2)
            # Fixed colours: ImPlot would pick the next palette colour each time a live episode grows.
            if compare:
                _colour_series(r, COMPARE_COLOURS[i % 4], 1.2, alpha=150)
                _colour_series(c, COMPARE_COLOURS[i % 4], 2.2)
            else:
                _colour_series(r, SERIES_COLOURS[0], 1.4)
                _colour_series(c, SERIES_COLOURS[1], 2.0)
            if i == 0:
                for j in range(d.frames.action.shape[1]):
                    name = s.actuator_names[j] if j < len(s.actuator_names) else f"a{j}"
                    a = dpg.add_line_series(*decimate(d.frames.action[:, j], self._plot_points), label=name,
                                            parent=self.ay)
                    _colour_series(a, SERIES_COLOURS[j % len(SERIES_COLOURS)], 1.0)
        dpg.configure_item("p_action", label="Actions" + (f" ({datas[0][0]})" if compare and datas else ""))
        for axis in (self.rx, self.ry, self.ry2, self.ax, self.ay):
            dpg.fit_axis_data(axis)
        self._plot_training(datas)

    @property
    def _plot_points(self) -> int:
        # Plots are about 400 px wide; on a CPU-drawn window every segment costs (8 action series).
        return 200 if self.software_gl else 800

    def _plot_training(self, datas) -> None:
        m = self.s.metrics
        if not len(m.env_step):
            dpg.configure_item("p_train", label="Training curve (no metrics yet)")
            return
        name = next((n for n in ("eval/episode_reward", "episode_reward", "training/episode_reward") if n in m.values),
                    m.names[0] if m.names else None)
        if name is None:
            return
        x = m.env_step.astype(np.float64)
        y = np.asarray(m.values[name], np.float64)
        ok = np.isfinite(y)
        line = dpg.add_line_series(x[ok], y[ok], label=name, parent=self.ty)
        _colour_series(line, SERIES_COLOURS[0], 1.8)
        for i, (v, d) in enumerate(datas):
            if d is None:
                continue
            colour = COMPARE_COLOURS[i % 4] if len(datas) > 1 else (255, 200, 80, 255)
            at = float(d.info.env_step)
            mark = dpg.add_inf_line_series([at], label=f"it {d.info.iteration}", parent=self.ty)
            _colour_series(mark, colour, 2.0)
            if ok.any():
                # A point on the curve where the episode was recorded; it also keeps the marker
                # inside the fitted axis range (the newest snapshot is often past the last metric).
                dot = dpg.add_scatter_series([at], [float(np.interp(at, x[ok], y[ok]))], parent=self.ty)
                _colour_series(dot, colour, 2.0)
        dpg.configure_item("p_train", label=f"Training curve: {name}")
        dpg.fit_axis_data(self.tx)
        dpg.fit_axis_data(self.ty)

    # ============================================================== capture

    def screenshot(self, path: str | Path) -> Path:
        """Save the whole window as a PNG (written after the next frame is drawn)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()
        dpg.output_frame_buffer(file=str(path))
        for _ in range(5):
            self.frame()
            if path.exists() and path.stat().st_size > 0:
                break
        return path


def decimate(y: np.ndarray, max_points: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of a series [n] for a plot a few hundred pixels wide: the min and max of each
    bucket of steps, in step order, so peaks survive. Drawing every point of long episodes made
    each GUI frame several times slower on software GL. NaN is drawn as 0."""
    y = np.nan_to_num(np.asarray(y, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    n = y.shape[0]
    if n <= max_points:
        return np.arange(n, dtype=np.float64), y
    b = -(-n // (max_points // 2))
    m = n // b * b
    blocks = y[:m].reshape(-1, b)
    base = np.arange(0, m, b)
    i_min, i_max = blocks.argmin(axis=1), blocks.argmax(axis=1)
    first, second = np.minimum(i_min, i_max), np.maximum(i_min, i_max)
    x = np.stack([base + first, base + second], axis=1).reshape(-1)
    x = np.concatenate([x, np.arange(m, n)]).astype(np.float64)
    return x, y[x.astype(np.int64)]


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


_SERIES_THEMES: dict = {}


def _colour_series(item, colour, weight: float, alpha: int | None = None) -> None:
    c = tuple(colour[:3]) + ((alpha if alpha is not None else colour[3]),)
    # One theme per style, reused: plots are rebuilt as a live episode grows.
    key = (c, weight)
    t = _SERIES_THEMES.get(key)
    if t is None or not dpg.does_item_exist(t):
        with dpg.theme() as t:
            with dpg.theme_component(dpg.mvAll):
                dpg.add_theme_color(dpg.mvPlotCol_Line, c, category=dpg.mvThemeCat_Plots)
                dpg.add_theme_style(dpg.mvPlotStyleVar_LineWeight, weight, category=dpg.mvThemeCat_Plots)
        _SERIES_THEMES[key] = t
    dpg.bind_item_theme(item, t)


def _speed_label(x: float) -> str:
    return f"{x:g}x"


def _num(text: str, kind):
    text = (text or "").strip()
    if not text:
        return None
    try:
        return kind(float(text))
    except ValueError:
        return None


__all__ = ["ReplayApp", "Overlays", "AppStats"]
