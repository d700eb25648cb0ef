"""The header bar: the run, the LIVE badge and what it follows, the recorder's state and its
pause/resume button, and the last message."""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from .. import presentation as P
from ..session import ReplaySession
from ..session_snapshot import Header
from .theme import Themes


class HeaderBar:
    def __init__(self, session: ReplaySession, themes: Themes):
        self.s, self.themes = session, themes
        self._rev = -1
        with dpg.group(horizontal=True):
            dpg.add_text("braxscope", color=P.ACCENT)
            dpg.add_text(session.env_name, color=P.TEXT)
            dpg.add_text(session.stores_text, color=P.DIM)
            dpg.add_spacer(width=20)
            self.live_btn = dpg.add_button(label="  LIVE  ", tag="live_button", callback=lambda: session.toggle_live())
            self.live_text = dpg.add_text("", color=P.DIM)
            dpg.add_spacer(width=12)
            self.rec_text = dpg.add_text("", color=P.DIM)
            self.rec_btn = dpg.add_button(label="Pause recording", tag="record_button", show=False,
                                          callback=lambda: session.toggle_recording())
            dpg.add_spacer(width=12)
            # In the same row: a message never moves the panels below.
            self.msg_text = dpg.add_text("", color=P.ERROR, show=False, tag="message")

    def draw(self, h: Header) -> None:
        if h.rev == self._rev:
            return
        self._rev = h.rev
        dpg.bind_item_theme(self.live_btn, self.themes.live if h.live else self.themes.idle)
        dpg.set_value(self.live_text, h.live_text)
        dpg.set_value(self.rec_text, h.recorder_text)
        dpg.configure_item(self.rec_text, color=h.recorder_colour)
        dpg.configure_item(self.rec_btn, show=h.recording_button is not None, label=h.recording_button or "")
        dpg.set_value(self.msg_text, h.message)
        dpg.configure_item(self.msg_text, show=bool(h.message))
