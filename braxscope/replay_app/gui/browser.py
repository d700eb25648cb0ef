"""The episode browser: filters, "Compare snapshots", and a virtual table.

The table is a fixed pool of as many rows as fit on screen, relabelled from the session's
table snapshot (the visible window of the listing), with a scrollbar and the mouse wheel moving
that window: a store of a million episodes costs the same widgets as one of ten."""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from .. import presentation as P
from ..session import ReplaySession
from ..session_snapshot import Table
from .theme import Themes

ROW_H = 21  # one table row (a selectable plus the cell padding), pixels (measured on a capture)
_FIXED_H = 160  # everything in the panel but the rows: title, filters, table header, count, problems
# Columns left out when the panel is narrow (a laptop screen): the rest stay readable.
NARROW_W = 472  # below this the header texts of all columns do not fit
NARROW_HIDDEN = ("env", "env_step")
WIDE_W = 560  # narrower than this, env and length make room for the run and writer columns
WHEEL_ROWS = 3  # rows per wheel notch


class Browser:
    def __init__(self, session: ReplaySession, themes: Themes, width: int):
        self.s, self.themes = session, themes
        self._rev = -1
        self._shown: list = []  # the Row of each pool row, as last drawn
        self.rows: list[list[int]] = []  # the pool: the selectables of each row
        self._row_items: list[int] = []  # the pool's table rows
        self._width = width
        self._columns: tuple[str, ...] = ()  # the columns the session asks for (run, writer when several)
        with dpg.child_window(width=width, tag="browser", border=True, no_scrollbar=True):
            dpg.add_text("Episodes", color=P.TEXT)
            with dpg.group(horizontal=True):
                self.f_source = dpg.add_combo(list(P.SOURCE_CHOICES), default_value=P.SOURCE_CHOICES[0], width=120,
                                              tag="filter_source", callback=self._filter_changed)
                self.f_iter_min = dpg.add_input_text(hint="iter min", width=70, decimal=True, tag="filter_iter_min",
                                                     callback=self._filter_changed)
                self.f_iter_max = dpg.add_input_text(hint="iter max", width=70, decimal=True, tag="filter_iter_max",
                                                     callback=self._filter_changed)
            with dpg.group(horizontal=True):
                self.f_ret_min = dpg.add_input_text(hint="return min", width=96, scientific=True, tag="filter_ret_min",
                                                    callback=self._filter_changed)
                self.f_ret_max = dpg.add_input_text(hint="return max", width=96, scientific=True, tag="filter_ret_max",
                                                    callback=self._filter_changed)
                dpg.add_button(label="Compare snapshots", tag="compare_snapshots",
                               callback=lambda: session.compare_snapshots())
            with dpg.group(horizontal=True):
                with dpg.table(tag="catalog", header_row=True, sortable=True, callback=self._on_sort,
                               policy=dpg.mvTable_SizingStretchProp, row_background=True, borders_innerV=False,
                               borders_outerH=True, width=-22):
                    self.columns = {name: dpg.add_table_column(label=label, init_width_or_weight=w, user_data=name,
                                                               default_sort=(name == "id"))
                                    for name, label, w in P.TABLE_COLUMNS}
                dpg.bind_item_theme("catalog", themes.table)
                self.scroll = dpg.add_slider_int(vertical=True, min_value=0, max_value=0, width=14, height=200,
                                                 format="", tag="catalog_scroll", callback=self._on_scroll)
            self.count_text = dpg.add_text("", color=P.DIM, wrap=width - 20)  # wraps, never cut at the edge
            self.problem_text = dpg.add_text("", color=P.WARN, wrap=width - 20)

    @property
    def typing(self) -> bool:
        """A filter box has the keyboard: keys are text, not commands."""
        return any(dpg.is_item_active(i) for i in (self.f_iter_min, self.f_iter_max, self.f_ret_min, self.f_ret_max))

    # ------------------------------------------------------------------ layout

    def reflow(self, width: int, height: int) -> None:
        dpg.configure_item("browser", width=width, height=height)
        dpg.configure_item(self.problem_text, wrap=width - 20)
        dpg.configure_item(self.count_text, wrap=width - 20)
        self._width = width
        self._show_columns()
        k = max(3, (height - _FIXED_H) // ROW_H)
        dpg.configure_item(self.scroll, height=k * ROW_H + 24)
        if k != len(self.rows):
            dpg.delete_item("catalog", children_only=True, slot=1)
            self.rows, self._row_items = [], []
            for i in range(k):
                with dpg.table_row(parent="catalog") as tr:
                    self._row_items.append(tr)
                    # Every cell a selectable, so the row's texts line up and any cell selects the row.
                    self.rows.append([dpg.add_selectable(label="", span_columns=(j == 0), callback=self._on_click,
                                                         user_data=i, disable_popup_close=True)
                                      for j in range(len(P.TABLE_COLUMNS))])
            self._rev = -1
        self.s.scroll_table(self.s.table_first, k)

    def _show_columns(self) -> None:
        """The session's columns; on a narrow panel without env and step, and when the run or
        writer column takes room, without env and length below :data:`WIDE_W`, so the rest stay
        readable."""
        asked = self._columns or P.table_columns(runs=1, writers=1)
        extra = any(n in ("run", "writer") for n in asked)
        hidden = set(NARROW_HIDDEN if self._width < NARROW_W else ()) | (
            {"env", "length"} if extra and self._width < WIDE_W else set())
        for name, item in self.columns.items():
            dpg.configure_item(item, enabled=name in asked and name not in hidden)

    # ------------------------------------------------------------------ drawing

    def draw(self, t: Table, problems: str) -> None:
        dpg.set_value(self.problem_text, problems)
        if t.rev == self._rev:
            return
        self._rev = t.rev
        if t.columns != self._columns:
            self._columns = t.columns
            self._show_columns()
        self._shown = list(t.rows)
        for i, items in enumerate(self.rows):
            row = t.rows[i] if i < len(t.rows) else None
            dpg.configure_item(self._row_items[i], show=row is not None)
            for j, item in enumerate(items):
                dpg.configure_item(item, label=row.cells[j] if row else "")
                dpg.set_value(item, bool(row and row.marked))
            status_theme = self.themes.status.get(row.status) if row else None
            dpg.bind_item_theme(items[-1], status_theme or 0)
        top = max(0, t.total - len(self.rows))
        dpg.configure_item(self.scroll, max_value=top, show=top > 0)
        dpg.set_value(self.scroll, top - t.first)  # a vertical slider has its maximum at the top
        more = f" · rows {t.first + 1}-{t.first + len(t.rows)}" if t.total > len(self.rows) else ""
        dpg.set_value(self.count_text, t.count_text + more)

    # ------------------------------------------------------------------ input

    def scroll_by(self, rows: int) -> None:
        self.s.scroll_table(self.s.table_first + rows)

    def _on_scroll(self, sender, value) -> None:
        top = dpg.get_item_configuration(self.scroll)["max_value"]
        self.s.scroll_table(top - int(value))

    def _on_click(self, sender, value, i) -> None:
        if i < len(self._shown):
            add = (dpg.is_key_down(dpg.mvKey_LShift) or dpg.is_key_down(dpg.mvKey_RShift)
                   or dpg.is_key_down(dpg.mvKey_LControl) or dpg.is_key_down(dpg.mvKey_RControl))
            self.s.click_row(self._shown[i].id, add=add)
        self._rev = -1  # ImGui toggled the clicked cell itself: re-mark every row

    def _on_sort(self, sender, specs) -> None:
        if specs:
            col, direction = specs[0]
            self.s.set_sort(dpg.get_item_user_data(col), descending=direction < 0)

    def _filter_changed(self) -> None:
        self.s.set_filter(source=dpg.get_value(self.f_source), iter_min=dpg.get_value(self.f_iter_min),
                          iter_max=dpg.get_value(self.f_iter_max), ret_min=dpg.get_value(self.f_ret_min),
                          ret_max=dpg.get_value(self.f_ret_max))
