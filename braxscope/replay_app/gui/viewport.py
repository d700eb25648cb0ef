"""The viewport column: the rendered picture with its overlay text, the timeline (scrubber,
transport, speed, loop), the camera and compare settings, the export row and the overlay toggles.

The picture is a texture of the renderer's largest size; a smaller picture (a smaller window)
fills its top left and is drawn from there, scaled to the space the layout gives the viewport."""

from __future__ import annotations

import dearpygui.dearpygui as dpg
import numpy as np

from .. import presentation as P
from ..session import SPEEDS, ReplaySession
from ..session_snapshot import Scene, Snapshot
from .layout import Layout
from .theme import Themes

_LINE_H = 18  # overlay text line, pixels
_CHAR_W = 7.6  # overlay text, average character width at the font size


class Viewport:
    def __init__(self, session: ReplaySession, themes: Themes, max_size: tuple[int, int], lay: Layout):
        self.s, self.themes = session, themes
        self.max_w, self.max_h = max_size
        self.view = lay.view
        self.picture_size = lay.render  # size of the picture now in the texture
        self.scene: Scene | None = None  # the scene of the picture now in the texture
        self._lines_drawn = self._placeholder = None
        self._timeline_rev = self._header_rev = -1
        blank = np.full((self.max_h, self.max_w, 4), P.EMPTY_RGB[0] / 255, np.float32)
        blank[..., 3] = 1.0
        with dpg.texture_registry():
            self.tex = dpg.add_raw_texture(self.max_w, self.max_h, blank.reshape(-1), format=dpg.mvFormat_Float_rgba)
        vw, vh = lay.view
        with dpg.child_window(width=lay.center_w, tag="center", border=False, no_scrollbar=True):
            with dpg.drawlist(width=vw, height=vh, tag="viewport"):
                self.image = dpg.draw_image(self.tex, (0, 0), (vw, vh), uv_max=self._uv(lay.render))
                self.overlay_layer = dpg.add_draw_layer()
                self.placeholder_layer = dpg.add_draw_layer()  # a line of text while nothing is shown
            self.scrub = dpg.add_slider_int(width=vw, min_value=0, max_value=1, format="", tag="scrub",
                                            callback=lambda s, v: session.seek(int(v)))
            dpg.bind_item_theme(self.scrub, themes.empty_scrub)  # applies only while it is disabled
            with dpg.group(horizontal=True):
                dpg.add_button(label="|<", width=34, tag="home", callback=lambda: session.home())
                dpg.add_button(label="<", width=30, tag="back", callback=lambda: session.step(-1))
                self.play_btn = dpg.add_button(label="Play", width=64, tag="play",
                                               callback=lambda: session.toggle_play())
                dpg.add_button(label=">", width=30, tag="forward", callback=lambda: session.step(1))
                dpg.add_button(label=">|", width=34, tag="end", callback=lambda: session.end())
                self.speed = dpg.add_combo([P.speed_label(x) for x in SPEEDS], default_value="1x", width=70,
                                           tag="speed", callback=lambda s, v: session.set_speed(v))
                self.loop = dpg.add_checkbox(label="Loop", tag="loop", callback=lambda s, v: session.set_loop(v))
                self.time_text = dpg.add_text("", color=P.TEXT)
            with dpg.group(horizontal=True):
                self.camera = dpg.add_combo(list(session.camera_names), default_value=session.camera, width=110,
                                            tag="camera", callback=lambda s, v: session.set_camera(v))
                dpg.add_button(label="Reset view", tag="reset_view", callback=lambda: session.reset_camera())
                self.shadows = dpg.add_checkbox(label="Shadows", tag="shadows",
                                                callback=lambda s, v: session.set_shadows(v))
                self.ghost = dpg.add_checkbox(label="Ghost", tag="ghost", callback=lambda s, v: session.set_ghost(v))
                dpg.add_spacer(width=8)
                self.target = dpg.add_combo([], width=170, tag="follow", callback=lambda s, v: session.follow(v))
            with dpg.group(horizontal=True):
                dpg.add_button(label="Export video", tag="export", callback=lambda: session.export())
                self.export_path = dpg.add_input_text(default_value=session.export_path, width=max(120, vw - 250),
                                                      tag="export_path",
                                                      callback=lambda s, v: session.set_export_path(v))
                self.export_text = dpg.add_text("", color=P.DIM)
            with dpg.group(horizontal=True):
                dpg.add_text("Overlays", color=P.DIM)
                self.overlay_boxes = {}
                for name in P.Overlays.names():
                    self.overlay_boxes[name] = dpg.add_checkbox(
                        label=P.OVERLAY_LABELS[name], default_value=getattr(session.overlays, name),
                        tag=f"overlay_{name}", callback=lambda s, v, n: session.set_overlay(n, v), user_data=name)
            dpg.add_text("drag: orbit · right-drag: pan · wheel: zoom · keys: space ← → home end L", color=P.DIM)

    @property
    def typing(self) -> bool:
        return dpg.is_item_active(self.export_path)

    def _uv(self, size: tuple[int, int]) -> tuple[float, float]:
        return size[0] / self.max_w, size[1] / self.max_h

    def reflow(self, lay: Layout) -> None:
        self.view = vw, vh = lay.view
        dpg.configure_item("center", width=lay.center_w)
        dpg.configure_item("viewport", width=vw, height=vh)
        dpg.configure_item(self.image, pmax=(vw, vh))
        dpg.configure_item(self.scrub, width=vw)
        dpg.configure_item(self.export_path, width=max(120, vw - 250))
        self._lines_drawn = None  # overlay positions follow the new size

    # ------------------------------------------------------------------ drawing

    def show(self, image: np.ndarray, size: tuple[int, int], scene: Scene) -> None:
        """Upload a finished frame (the picture of ``scene`` at ``size``)."""
        dpg.set_value(self.tex, image.reshape(-1))
        if size != self.picture_size:
            self.picture_size = size
            dpg.configure_item(self.image, uv_max=self._uv(size))
        self.scene = scene
        self._draw_lines(scene)

    def draw(self, snap: Snapshot) -> None:
        t, h = snap.timeline, snap.header
        if t.rev != self._timeline_rev:
            self._timeline_rev = t.rev
            # Nothing to scrub without an episode (or in one of one frame): disabled, drawn without a grab.
            dpg.configure_item(self.scrub, max_value=max(1, t.length - 1), enabled=t.length > 1)
            dpg.set_value(self.time_text, t.text)
            dpg.configure_item(self.play_btn, label=t.play_label)
            dpg.bind_item_theme(self.play_btn, self.themes.play if t.playing else 0)
            dpg.set_value(self.speed, t.speed_label)
            dpg.set_value(self.loop, t.loop)
        if not dpg.is_item_active(self.scrub):
            dpg.set_value(self.scrub, t.cursor)
        if h.rev != self._header_rev:
            self._header_rev = h.rev
            dpg.set_value(self.export_text, h.export_status)
            if not self.typing:
                dpg.set_value(self.export_path, h.export_path)
            dpg.set_value(self.ghost, h.ghost)
            dpg.set_value(self.shadows, h.shadows)
            dpg.set_value(self.camera, h.camera)
            for name, box in self.overlay_boxes.items():
                dpg.set_value(box, getattr(h.overlays, name))
            dpg.configure_item(self.target, items=list(h.targets))
            dpg.set_value(self.target, h.target)
        self._draw_placeholder(snap)
        # Overlay text follows the settings at once, on the picture already shown.
        sc = snap.scene
        if self.scene is not None and sc.picture == self.scene.picture and sc is not self.scene:
            self.scene = sc
            self._draw_lines(sc)

    def _draw_placeholder(self, snap: Snapshot) -> None:
        """Without an episode on screen the picture is empty: say why in its middle (the header's
        message, e.g. "waiting for the first episode"), instead of a bare grey box."""
        text = "" if snap.scene.views else (snap.header.message or "no episode shown: pick one in the list")
        key = (text, self.view)
        if key == self._placeholder:
            return
        self._placeholder = key
        dpg.delete_item(self.placeholder_layer, children_only=True)
        if text:
            vw, vh = self.view
            x = max(8.0, (vw - len(text) * _CHAR_W * 17 / 15) / 2)
            dpg.draw_text((x, vh / 2 - 10), text, color=P.DIM, size=17, parent=self.placeholder_layer)

    def _draw_lines(self, scene: Scene) -> None:
        key = (scene.rev, self.view)
        if key == self._lines_drawn:
            return
        self._lines_drawn = key
        dpg.delete_item(self.overlay_layer, children_only=True)
        n = len(scene.cells)
        for i, cell in enumerate(scene.cells):
            if scene.ghost and i > 0:
                x0, y0 = 0, _LINE_H * sum(len(c.lines) + 1 for c in scene.cells[:i])  # one box under another
            else:
                x0, y0, _, _ = P.cell_rect(i, 1 if scene.ghost else n, *self.view)
            self._box(cell.lines, x0, y0)

    def _box(self, lines, x0: float, y0: float) -> None:
        if not lines:
            return
        wmax = max(len(t) for t, _ in lines) * _CHAR_W + 14
        dpg.draw_rectangle((x0 + 6, y0 + 6), (x0 + 6 + wmax, y0 + 10 + _LINE_H * len(lines)), fill=(0, 0, 0, 140),
                           color=(0, 0, 0, 0), rounding=4, parent=self.overlay_layer)
        for j, (text, colour) in enumerate(lines):
            dpg.draw_text((x0 + 12, y0 + 8 + _LINE_H * j), text, color=colour, size=15, parent=self.overlay_layer)
