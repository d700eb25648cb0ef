"""The plots: reward and return, actions (with the actuators' names), and the training curve
with the shown episodes' iterations marked. A cursor line follows playback; clicking a plot or
dragging its line moves the session's cursor there."""

from __future__ import annotations

import math

import dearpygui.dearpygui as dpg

from ..session import ReplaySession
from ..session_snapshot import Plots, Timeline
from .layout import Layout
from .theme import Themes, colour_series


class PlotsPanel:
    def __init__(self, session: ReplaySession, themes: Themes, lay: Layout):
        self.s, self.themes = session, themes
        self._rev = -1
        self._cursor = -1
        with dpg.child_window(width=lay.plots_w, tag="plots", border=False, no_scrollbar=True):
            with dpg.plot(label="Reward and return", height=lay.reward_h, width=-1, tag="p_reward", no_menus=True,
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
            dpg.bind_item_theme("p_action", themes.thin_plot)  # many actuators: thin lines stay readable
        for plot in ("p_reward", "p_action"):
            with dpg.item_handler_registry() as reg:
                dpg.add_item_clicked_handler(button=dpg.mvMouseButton_Left, callback=self._on_plot_click)
            dpg.bind_item_handler_registry(plot, reg)
        # The training curve sits in the viewport's column, under its controls.
        with dpg.plot(label="Training curve", height=lay.curve_h, width=lay.view[0], tag="p_train", no_menus=True,
                      no_box_select=True, parent="center"):
            # Beside the plot, not over it: the plot is short and wide, and several runs' curves fill it.
            dpg.add_plot_legend(location=dpg.mvPlot_Location_East, outside=True)
            self.tx = dpg.add_plot_axis(dpg.mvXAxis, label="env step")
            self.ty = dpg.add_plot_axis(dpg.mvYAxis, label="")

    def reflow(self, lay: Layout) -> None:
        dpg.configure_item("plots", width=lay.plots_w, height=lay.body_h)
        dpg.configure_item("p_reward", height=lay.reward_h)
        dpg.configure_item("p_train", width=lay.view[0], height=lay.curve_h)

    def draw(self, p: Plots, t: Timeline) -> None:
        if t.cursor != self._cursor:
            # Only when the cursor moved: a line being dragged keeps its own position.
            self._cursor = t.cursor
            dpg.set_value(self.cur_r, float(t.cursor))
            dpg.set_value(self.cur_a, float(t.cursor))
        if p.rev == self._rev:
            return
        self._rev = p.rev
        for axis in (self.ry, self.ry2, self.ay, self.ty):
            dpg.delete_item(axis, children_only=True)
        for axis, series in ((self.ry, p.reward), (self.ry2, p.ret), (self.ay, p.actions)):
            for sr in series:
                colour_series(self.themes, dpg.add_line_series(sr.x, sr.y, label=sr.label, parent=axis),
                              sr.colour, sr.weight)
        dpg.configure_item("p_action", label=p.actions_title)
        for axis in (self.rx, self.ry, self.ry2, self.ax, self.ay):
            dpg.fit_axis_data(axis)
        dpg.configure_item("p_train", label=p.curve_title)
        if p.curve is not None:
            for c in p.curves or (p.curve,):  # one curve per run, the legend naming them
                colour_series(self.themes, dpg.add_line_series(c.x, c.y, label=c.label, parent=self.ty),
                              c.colour, c.weight)
                if len(c.x) == 1:  # the first evaluation: a line of one point draws nothing, a marker does
                    # ("##": no second legend entry; the line's names it)
                    colour_series(self.themes, dpg.add_scatter_series(c.x, c.y, label=f"##{c.label}", parent=self.ty),
                                  c.colour, c.weight)
            for at, y, label, colour in p.marks:
                # With several runs the legend names the runs only ("##": ImPlot leaves it out).
                label = label if len(p.curves) <= 1 else f"##{label}"
                colour_series(self.themes, dpg.add_inf_line_series([at], label=label, parent=self.ty), colour, 2.0)
                if y is not None:
                    colour_series(self.themes, dpg.add_scatter_series([at], [y], parent=self.ty), colour, 2.0)
            dpg.fit_axis_data(self.tx)
            dpg.fit_axis_data(self.ty)

    def _on_drag_line(self, sender) -> None:
        self.s.seek(int(round(dpg.get_value(sender))))

    def _on_plot_click(self, sender, _app_data) -> None:
        x, _ = dpg.get_plot_mouse_pos()
        if math.isfinite(x):
            self.s.seek(int(round(x)))
