"""``braxscope.notebook.Viewer``: interactive replay in a notebook (ipywidgets).

    v = braxscope.notebook.Viewer("runs/ip.zarr")
    v                                   # the last expression of a cell shows it
    braxscope.notebook.Viewer(["runs/s0.zarr", "runs/s1.zarr=baseline"])  # several runs side by side

The second view of a :class:`ReplaySession` beside the DearPyGui app: every widget calls one
session command (the app's own), and a presenter thread draws the session's snapshot: the
rendered frame with its overlay lines, the slider and the transport, the reward/return and action
plots with a cursor, the training curve with the shown episodes marked, the episode list. Like
the app's frame loop, it redraws only the aspects whose revision changed.

Picking one episode in the list shows it; picking 2-4 (shift- or ctrl-click) compares them in the
app's grid under one slider. Given several stores (a list), it lists every run's episodes with
their run's label, overlays the runs' training curves, and compares episodes of any of them under
one slider, as ``braxscope view a.zarr b.zarr`` does. It needs no JAX: only the store, MuJoCo and
ipywidgets.

Threads: widget callbacks run on the kernel's thread and only call session commands; the
presenter thread ticks the session, renders through the app's :class:`RenderWorker` (which alone
owns the GL context) and sets widget values; a store thread calls ``poll_store``.
"""

from __future__ import annotations

import io
import os
import threading
import time
from typing import Sequence

import ipywidgets as W
import numpy as np
from PIL import Image

from ..replay_app import presentation as P
from ..replay_app.cli_view import _initial  # what `braxscope view` opens on: the newest snapshot
from ..replay_app.export_video import draw_lines, overlay_font
from ..replay_app.render_thread import RenderWorker
from ..replay_app.runs import split_label
from ..replay_app.session import SPEEDS, ReplaySession
from ..replay_app.session_snapshot import Snapshot
from ..schema import StoreReader, open_store
from ..schema.errors import BraxscopeError
from ._media import one_line
from .plots import PlotImage

# Characters per column of the episode list (a monospace select box), by column name.
_WIDTHS = {"id": 5, "run": 8, "writer": 5, "source": 8, "env": 3, "iteration": 4, "env_step": 8, "length": 5,
           "return": 7, "status": 9}
_PLAIN = tuple(name for name, _, _ in P.TABLE_COLUMNS if name not in ("run", "writer"))
MAX_LISTED = 500  # rows in the episode list (filter to narrow): a longer list slows every update
PLAY_FPS = 25.0  # frames the presenter draws per second while playing, at most


class Viewer:
    """An interactive replay of a store. ``width`` x ``height``: the rendered frame (a compare
    grid shares it); ``plot_width``: the plots beside it."""

    def __init__(self, path: "str | os.PathLike | StoreReader | Sequence[str | os.PathLike | StoreReader]", *,
                 width: int = 640, height: int = 480, plot_width: int = 440, episode: str | None = None,
                 jpeg_quality: int = 85):
        paths = list(path) if isinstance(path, (list, tuple)) else [path]
        try:
            specs = [(p, None) if isinstance(p, StoreReader) else split_label(os.fspath(p)) for p in paths]
            readers = [p if isinstance(p, StoreReader) else open_store(p) for p, _ in specs]
            model = readers[0].model()
            s = self.session = ReplaySession(readers if len(readers) > 1 else readers[0],
                                             labels=[lab for _, lab in specs], viewport=(int(width), int(height)))
        except BraxscopeError as e:
            raise one_line(e) from None
        self.width, self.height, self.plot_width = int(width), int(height), int(plot_width)
        self.jpeg_quality = int(jpeg_quality)
        s.plot_points = 300
        s.scroll_table(0, MAX_LISTED)
        self.worker = RenderWorker(model, self.width, self.height, wait=False)
        self._presenter: int | None = None  # the presenter thread's id: its widget changes are not the user's
        self._build()
        if episode is not None:
            s.select(episode)
        elif s.catalog:
            s.select(_initial(s))
        s.poll_store()  # the first episode loads before the first frame
        self.frames_shown = 0
        self.shown_picture = None  # the scene's picture key of the image on screen
        self.shown_at: float | None = None  # perf_counter() when it was set
        self._drawn: dict[str, int] = {}
        self._cursor_drawn = -1
        self._rendered: np.ndarray | None = None  # the last render (RGB uint8), before overlays
        self._fonts: dict = {}
        self._commands = 0  # commands forwarded by the widgets
        self._done = 0  # commands whose effect the presenter has drawn
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._poke = threading.Event()
        self.error: str | None = None
        try:
            self.worker.wait_ready()
        except BraxscopeError as e:
            raise one_line(e) from None
        self._store_thread = threading.Thread(target=self._store_loop, name="braxscope-nb-store", daemon=True)
        self._thread = threading.Thread(target=self._present_loop, name="braxscope-nb-viewer", daemon=True)
        self._store_thread.start()
        self._thread.start()
        self.wait()

    # ================================================================ widgets

    def _build(self) -> None:
        s = self.session
        lay = W.Layout
        self.header = W.HTML()
        self.source = W.Dropdown(options=list(P.SOURCE_CHOICES), value=P.SOURCE_CHOICES[0], layout=lay(width="120px"))
        self.bounds = {name: W.Text(placeholder=name.replace("_", " "), continuous_update=False,
                                    layout=lay(width="80px"))
                       for name in ("iter_min", "iter_max", "ret_min", "ret_max")}
        self.episodes = W.SelectMultiple(options=[], rows=14, layout=lay(width="330px"))
        self.count = W.HTML()
        self.compare_btn = W.Button(description="Compare snapshots", layout=lay(width="150px"))
        self.image = W.Image(format="jpeg", width=self.width, height=self.height)
        self.slider = W.IntSlider(min=0, max=1, value=0, readout=False, continuous_update=True,
                                  layout=lay(width=f"{self.width}px"))
        self.play_btn = W.Button(description="Play", layout=lay(width="70px"))
        self.buttons = {name: W.Button(description=label, layout=lay(width="40px"))
                        for name, label in (("home", "|<"), ("back", "<"), ("forward", ">"), ("end", ">|"))}
        self.speed = W.Dropdown(options=[P.speed_label(x) for x in SPEEDS], value="1x", layout=lay(width="70px"))
        self.loop = W.Checkbox(description="loop", value=False, indent=False, layout=lay(width="60px"))
        self.time = W.Label()
        self.overlays = {n: W.Checkbox(description=P.OVERLAY_LABELS[n], value=getattr(s.overlays, n), indent=False,
                                       layout=lay(width="auto"))
                         for n in P.Overlays.names()}
        self.ghost = W.Checkbox(description="ghost", value=False, indent=False, layout=lay(width="auto"))
        self.camera = W.Dropdown(options=list(s.camera_names), value=s.camera, layout=lay(width="120px"))
        ph = max(160, (self.height - 10) // 2)
        self._plot_r = PlotImage(self.plot_width, ph)
        self._plot_a = PlotImage(self.plot_width, ph)
        self._plot_t = PlotImage(self.width, 220)
        self.reward_plot = W.Image(format="png", width=self.plot_width, height=ph)
        self.action_plot = W.Image(format="png", width=self.plot_width, height=ph)
        self.curve_plot = W.Image(format="png", width=self.width, height=220)

        self.source.observe(lambda c: self._filter(), "value")
        for box in self.bounds.values():
            box.observe(lambda c: self._filter(), "value")
        self.episodes.observe(self._on_pick, "value")
        self.compare_btn.on_click(lambda b: self._do(s.compare_snapshots))
        self.slider.observe(self._on_slider, "value")
        self.play_btn.on_click(lambda b: self._do(s.toggle_play))
        self.buttons["home"].on_click(lambda b: self._do(s.home))
        self.buttons["back"].on_click(lambda b: self._do(s.step, -1))
        self.buttons["forward"].on_click(lambda b: self._do(s.step, 1))
        self.buttons["end"].on_click(lambda b: self._do(s.end))
        self.speed.observe(lambda c: self._user(c) and self._do(s.set_speed, c["new"]), "value")
        self.loop.observe(lambda c: self._user(c) and self._do(s.set_loop, c["new"]), "value")
        for name, box in self.overlays.items():
            box.observe(lambda c, name=name: self._user(c) and self._do(s.set_overlay, name, c["new"]), "value")
        self.ghost.observe(lambda c: self._user(c) and self._do(s.set_ghost, c["new"]), "value")
        self.camera.observe(lambda c: self._user(c) and self._do(s.set_camera, c["new"]), "value")

        filters = W.VBox([W.HBox([self.source, self.compare_btn]),
                          W.HBox([self.bounds["iter_min"], self.bounds["iter_max"]]),
                          W.HBox([self.bounds["ret_min"], self.bounds["ret_max"]])])
        browser = W.VBox([W.HTML("<b>Episodes</b> <small>(shift/ctrl-click: compare up to 4)</small>"), filters,
                          self.episodes, self.count], layout=lay(width="340px"))
        transport = W.HBox([self.buttons["home"], self.buttons["back"], self.play_btn, self.buttons["forward"],
                            self.buttons["end"], self.speed, self.loop, self.time])
        options = W.HBox([W.Label("overlays"), *self.overlays.values(), self.ghost, self.camera])
        center = W.VBox([self.image, self.slider, transport, options, self.curve_plot])
        plots = W.VBox([self.reward_plot, self.action_plot])
        self.widget = W.VBox([self.header, W.HBox([browser, center, plots])])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # ============================================================== commands

    def _user(self, change) -> bool:
        """A widget change the user made (not one the presenter made to show the session)."""
        return threading.get_ident() != self._presenter

    def _do(self, command, *args, **kwargs) -> None:
        """Run one session command for a widget, then wake the presenter."""
        command(*args, **kwargs)
        with self._cond:
            self._commands += 1
        self._poke.set()

    def _filter(self) -> None:
        if threading.get_ident() == self._presenter:
            return
        self._do(self.session.set_filter, source=self.source.value,
                 **{name: box.value for name, box in self.bounds.items()})

    def _on_pick(self, change) -> None:
        if not self._user(change):
            return
        ids = list(change["new"])
        if len(ids) == 1:
            self._do(self.session.select, ids[0])
        elif 2 <= len(ids) <= P.MAX_CELLS:
            self._do(self.session.set_compare, ids)
        elif ids:
            self.session.message = f"compare takes 2 to {P.MAX_CELLS} episodes, got {len(ids)}"
            self._do(lambda: None)

    def _on_slider(self, change) -> None:
        if self._user(change) and change["new"] != self.session.cursor:
            self._do(self.session.seek, int(change["new"]))

    # Programmatic use (tests, benchmarks, a cell that scripts the viewer): the same commands.
    def select(self, eid: str) -> None:
        """Pick one episode in the list (as a click does)."""
        self.episodes.value = (self.session.canonical_id(eid),)

    def set_compare(self, ids: list[str]) -> None:
        """Pick 2-4 episodes in the list (as shift-clicks do)."""
        self.episodes.value = tuple(self.session.canonical_id(i) for i in ids)

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until every command so far is drawn (its frame rendered and on the image)."""
        with self._cond:
            target = self._commands
            deadline = time.monotonic() + timeout
            while self._done < target or self.shown_picture is None:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._cond.wait(left)
        return True

    def close(self) -> None:
        """Stop the threads and release the GL context; the widgets keep their last state."""
        self._stop.set()
        self._poke.set()
        self._thread.join(timeout=10)
        self._store_thread.join(timeout=10)
        self.worker.close()

    # ============================================================== threads

    def _store_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.session.poll_store()
            except Exception as e:  # the viewer says so; the thread goes on
                self.session.message = f"reading the store failed: {e}"
            self._poke.set()
            time.sleep(0.1 if self.session.loading else 0.5)

    def _present_loop(self) -> None:
        self._presenter = threading.get_ident()
        while not self._stop.is_set():
            with self._cond:
                target = self._commands
            try:
                self._present()
            except Exception as e:  # shown in the header; the viewer keeps drawing
                self.error = f"the viewer failed to draw: {e}"
                self.header.value = f'<span style="color:#c33">{self.error}</span>'
            with self._cond:
                if not self.session.loading:
                    self._done = max(self._done, target)
                self._cond.notify_all()
            if self.session.playing:
                self._poke.wait(1.0 / PLAY_FPS)
            else:
                self._poke.wait(0.5)
            self._poke.clear()

    def _present(self) -> None:
        s = self.session
        for move in s.take_camera_moves():
            self.worker.command(*move)
        s.tick()
        snap = s.snapshot()
        self._draw_scene(snap)
        self._draw_timeline(snap)
        self._draw_plots(snap)
        self._draw_table(snap)
        self._draw_header(snap)

    def _changed(self, name: str, rev: int) -> bool:
        if self._drawn.get(name) == rev:
            return False
        self._drawn[name] = rev
        return True

    def _draw_scene(self, snap: Snapshot) -> None:
        sc = snap.scene
        if sc.picture != self.shown_picture:
            self.worker.request([c.qpos for c in sc.cells], tag=sc, ghost=sc.ghost, size=self.session.viewport,
                                extras=[(c.mocap_pos, c.mocap_quat, c.model) for c in sc.cells])
            deadline = time.monotonic() + 10.0
            f = None
            while f is None or f.tag.picture != sc.picture:  # a frame of an earlier request may come first
                if not self.worker.frame_ready.wait(max(0.0, deadline - time.monotonic())):
                    return
                f = self.worker.take() or f
            # The worker draws float RGBA for DearPyGui's texture; a JPEG wants RGB bytes.
            w, h = f.size
            self._rendered = (f.image[:h, :w, :3] * 255.0 + 0.5).astype(np.uint8)
            self.shown_picture = sc.picture
        elif not self._changed("scene", sc.rev):
            return
        self._drawn["scene"] = sc.rev
        frame = self._rendered.copy()
        if sc.ghost:  # one scene: the label line of each episode, in its colour
            draw_lines(frame, 0, 0, frame.shape[1], [ln for c in sc.cells for ln in c.lines[:1]],
                       self._font(frame.shape[0]))
        else:
            for i, c in enumerate(sc.cells):
                x, y, cw, ch = P.cell_rect(i, len(sc.cells), frame.shape[1], frame.shape[0])
                draw_lines(frame, x, y, cw, c.lines, self._font(ch))
        buf = io.BytesIO()
        Image.fromarray(frame).save(buf, "JPEG", quality=self.jpeg_quality)
        self.image.value = buf.getvalue()
        self.frames_shown += 1
        self.shown_at = time.perf_counter()

    def _font(self, height: int):
        """The export's overlay font for a cell of this height (kept: loading one costs ~1 ms)."""
        if height not in self._fonts:
            self._fonts[height] = overlay_font(height)
        return self._fonts[height]

    def _draw_timeline(self, snap: Snapshot) -> None:
        t = snap.timeline
        if not self._changed("timeline", t.rev):
            return
        self.slider.max = max(1, t.length - 1)
        if self.slider.value != t.cursor:
            self.slider.value = t.cursor
        self.play_btn.description = t.play_label
        self.play_btn.button_style = "info" if t.playing else ""
        self.time.value = t.text
        if self.speed.value != t.speed_label and t.speed_label in self.speed.options:
            self.speed.value = t.speed_label
        self.loop.value = t.loop

    def _draw_plots(self, snap: Snapshot) -> None:
        p, cursor = snap.plots, snap.timeline.cursor
        if self._changed("plots", p.rev):
            self._plot_r.draw(p.reward, p.ret, title="Reward and return")
            self._plot_a.draw(p.actions, title=p.actions_title)
            if p.curve is not None:
                curves = p.curves or (p.curve,)  # one per run; a legend names them when there are several
                self._plot_t.draw(curves, title=p.curve_title, marks=p.marks, legend=len(curves) > 1)
            else:
                self._plot_t.draw([], title=p.curve_title)
            self.curve_plot.value = self._plot_t.png()
            self._cursor_drawn = -1
        if cursor != self._cursor_drawn:
            self._cursor_drawn = cursor
            self.reward_plot.value = self._plot_r.png(cursor)
            self.action_plot.value = self._plot_a.png(cursor)

    def _draw_table(self, snap: Snapshot) -> None:
        t = snap.table
        if not self._changed("table", t.rev):
            return
        shown = [k for k, (name, _, _) in enumerate(P.TABLE_COLUMNS) if name in (t.columns or _PLAIN)]
        options = [("  ".join(f"{r.cells[k]:>{_WIDTHS.get(P.TABLE_COLUMNS[k][0], 5)}}" for k in shown), r.id)
                   for r in t.rows]
        marked = tuple(r.id for r in t.rows if r.marked)
        if list(self.episodes.options) != options:
            self.episodes.options = options
        if tuple(self.episodes.value) != marked:
            self.episodes.value = marked
        more = f" (listing {len(t.rows)}; filter to narrow)" if t.total > len(t.rows) else ""
        self.count.value = f"<small>{t.total} of {t.catalog_total} episodes{more}</small>"

    def _draw_header(self, snap: Snapshot) -> None:
        h = snap.header
        if not self._changed("header", h.rev):
            return
        c = "#%02x%02x%02x" % tuple(h.recorder_colour[:3])
        msg = f' · <span style="color:#c33">{h.message}</span>' if h.message else ""
        probs = f' · <span style="color:#b80">{h.problems}</span>' if h.problems else ""
        s = self.session
        self.header.value = (f"<b>braxscope</b> · {s.env_name} · <code>{s.stores_text}</code> · "
                             f'<span style="color:{c}">{h.recorder_text}</span>{msg}{probs}')
        self.ghost.value = h.ghost
        for name, box in self.overlays.items():
            box.value = getattr(h.overlays, name)
        if self.camera.value != h.camera:
            self.camera.value = h.camera


__all__ = ["Viewer"]
