"""The widgets' look: font, theme, and the small themes that colour one widget (the LIVE badge,
the play button, a status cell, a plot series). Colours come from the presentation module."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import dearpygui.dearpygui as dpg

from .. import presentation as P

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:/Windows/Fonts/segoeui.ttf",
)
FONT_SIZE = 15


@dataclass
class Themes:
    """Theme items bound to single widgets."""

    live: int = 0
    idle: int = 0
    play: int = 0
    thin_plot: int = 0
    table: int = 0
    empty_scrub: int = 0
    status: dict = field(default_factory=dict)  # status word -> theme of its cell
    text: dict = field(default_factory=dict)  # RGBA -> text colour theme
    series: dict = field(default_factory=dict)  # (rgba, weight) -> line theme


def setup() -> Themes:
    """Bind the font and the app's theme; returns the per-widget themes."""
    for path in FONT_CANDIDATES:
        if os.path.exists(path):
            with dpg.font_registry():
                dpg.bind_font(dpg.add_font(path, FONT_SIZE))
            break
    with dpg.theme() as t:
        with dpg.theme_component(dpg.mvAll):
            # One background fill only: DearPyGui fills the primary window opaquely whatever
            # its alpha; child windows and plot frames are not filled again on top. On
            # software GL every filled layer is a blended pass over much of the window;
            # dropping them cut a GUI frame from about 45 to 34 ms under Xvfb.
            dpg.add_theme_color(dpg.mvThemeCol_WindowBg, P.BACKGROUND)
            dpg.add_theme_color(dpg.mvThemeCol_ChildBg, (0, 0, 0, 0))
            dpg.add_theme_color(dpg.mvThemeCol_FrameBg, (40, 43, 50))
            dpg.add_theme_color(dpg.mvThemeCol_Button, (48, 52, 62))
            dpg.add_theme_color(dpg.mvThemeCol_ButtonHovered, (66, 72, 88))
            dpg.add_theme_color(dpg.mvThemeCol_ButtonActive, P.ACCENT)
            dpg.add_theme_color(dpg.mvThemeCol_SliderGrab, P.ACCENT)
            dpg.add_theme_color(dpg.mvThemeCol_CheckMark, P.ACCENT)
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
            # A fitted axis leaves a margin: a marker at the first env step, or actions at +-1,
            # are drawn whole instead of cut by the plot's edge.
            dpg.add_theme_style(dpg.mvPlotStyleVar_FitPadding, 0.03, 0.06, category=dpg.mvThemeCat_Plots)
    dpg.bind_theme(t)
    th = Themes()
    with dpg.theme() as th.live:
        with dpg.theme_component(dpg.mvButton):
            dpg.add_theme_color(dpg.mvThemeCol_Button, P.LIVE_ON)
            dpg.add_theme_color(dpg.mvThemeCol_ButtonHovered, (250, 90, 80))
    with dpg.theme() as th.idle:
        with dpg.theme_component(dpg.mvButton):
            dpg.add_theme_color(dpg.mvThemeCol_Button, (48, 52, 62))
    with dpg.theme() as th.play:
        with dpg.theme_component(dpg.mvButton):
            dpg.add_theme_color(dpg.mvThemeCol_Button, (52, 92, 160))
    with dpg.theme() as th.table:
        with dpg.theme_component(dpg.mvAll):
            # A sortable header keeps room for its arrow (font size + FramePadding.x) in every
            # column: tighter paddings let all the headers show whole in a laptop's panel.
            dpg.add_theme_style(dpg.mvStyleVar_FramePadding, 3, 4)
            dpg.add_theme_style(dpg.mvStyleVar_CellPadding, 3, 3)
    with dpg.theme() as th.empty_scrub:
        with dpg.theme_component(dpg.mvSliderInt, enabled_state=False):
            # no episode, nothing to scrub: the bar without a grab (a slider of 0..1 draws one
            # half as wide as the bar)
            dpg.add_theme_color(dpg.mvThemeCol_SliderGrab, (0, 0, 0, 0))
            dpg.add_theme_color(dpg.mvThemeCol_SliderGrabActive, (0, 0, 0, 0))
    with dpg.theme() as th.thin_plot:
        with dpg.theme_component(dpg.mvPlot):
            dpg.add_theme_style(dpg.mvPlotStyleVar_LineWeight, 1.0, category=dpg.mvThemeCat_Plots)
    for name, colour in P.STATUS_COLOURS.items():
        with dpg.theme() as th.status[name]:
            with dpg.theme_component(dpg.mvSelectable):
                dpg.add_theme_color(dpg.mvThemeCol_Text, colour)
    return th


def colour_series(themes: Themes, item, colour, weight: float) -> None:
    """Give a plot series a fixed colour and width (ImPlot would pick the next palette colour
    each time a live episode's series is rebuilt). One theme per style, reused."""
    key = (tuple(colour), weight)
    t = themes.series.get(key)
    if t is None or not dpg.does_item_exist(t):
        with dpg.theme() as t:
            with dpg.theme_component(dpg.mvAll):
                dpg.add_theme_color(dpg.mvPlotCol_Line, tuple(colour), category=dpg.mvThemeCat_Plots)
                dpg.add_theme_color(dpg.mvPlotCol_MarkerFill, tuple(colour), category=dpg.mvThemeCat_Plots)
                dpg.add_theme_color(dpg.mvPlotCol_MarkerOutline, tuple(colour), category=dpg.mvThemeCat_Plots)
                dpg.add_theme_style(dpg.mvPlotStyleVar_LineWeight, weight, category=dpg.mvThemeCat_Plots)
        themes.series[key] = t
    dpg.bind_item_theme(item, t)
