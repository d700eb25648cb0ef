"""The keyboard and mouse, bound to session commands (dm_control viewer's ``user_input`` is the
pattern): a table of keys, and the viewport's mouse (left-drag orbits, right- or middle-drag
pans, the wheel zooms; the wheel over the browser scrolls it)."""

from __future__ import annotations

from typing import Callable

import dearpygui.dearpygui as dpg

from ..session import ReplaySession

# key -> (session command, its arguments)
KEYS = (
    (dpg.mvKey_Spacebar, "toggle_play", ()),
    (dpg.mvKey_Left, "step", (-1,)),
    (dpg.mvKey_Right, "step", (1,)),
    (dpg.mvKey_Home, "home", ()),
    (dpg.mvKey_End, "end", ()),
    (dpg.mvKey_L, "toggle_live", ()),
)
WHEEL_ROWS = 3  # browser rows per wheel notch


class InputMap:
    """Binds :data:`KEYS` and the mouse; call :meth:`poll` once per GUI frame (drags are read
    from the mouse state, so a drag that leaves the viewport keeps going)."""

    def __init__(self, session: ReplaySession, *, typing: Callable[[], bool], scroll_browser: Callable[[int], None],
                 viewport: str = "viewport", browser: str = "browser"):
        self.s, self.typing, self.scroll_browser = session, typing, scroll_browser
        self.viewport, self.browser = viewport, browser
        self._drag: str | None = None
        self._last = None
        with dpg.handler_registry():
            for key, command, args in KEYS:
                dpg.add_key_press_handler(key, callback=self._key, user_data=(command, args))
            dpg.add_mouse_wheel_handler(callback=self._wheel)

    def _key(self, sender, _app_data, user_data) -> None:
        if self.typing():
            return  # typing in a text box: keys are text
        command, args = user_data
        getattr(self.s, command)(*args)

    def _wheel(self, sender, delta) -> None:
        if dpg.is_item_hovered(self.viewport):
            self.s.wheel(float(delta))
        elif dpg.is_item_hovered(self.browser):
            self.scroll_browser(-WHEEL_ROWS * int(delta))

    def poll(self) -> None:
        pos = dpg.get_mouse_pos(local=False)
        button = None
        if dpg.is_mouse_button_down(dpg.mvMouseButton_Left):
            button = "orbit"
        elif dpg.is_mouse_button_down(dpg.mvMouseButton_Right) or dpg.is_mouse_button_down(dpg.mvMouseButton_Middle):
            button = "pan"
        if button is None:
            self._drag = self._last = None
            return
        if self._drag is None:
            # A drag starts only on the viewport; then it may leave it. A press elsewhere (a
            # slider, a plot) is never a camera drag, even when it moves over the viewport.
            self._drag, self._last = (button if dpg.is_item_hovered(self.viewport) else "elsewhere"), pos
            return
        if self._drag == "elsewhere":
            return
        dx, dy = pos[0] - self._last[0], pos[1] - self._last[1]
        self._last = pos
        if dx or dy:
            self.s.drag(self._drag, dx, dy)

    @property
    def dragging(self) -> bool:
        return self._drag not in (None, "elsewhere")
