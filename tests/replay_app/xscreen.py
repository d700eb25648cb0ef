"""The X server as a user's desktop sees it, for tests that look at real top-level windows."""

from __future__ import annotations

import numpy as np


class XScreen:
    """The X server as a user's desktop sees it (python-xlib): find a top-level window by title,
    capture it, ask it to close as a window manager's close button does."""

    def __init__(self, display: str):
        from Xlib import X, display as xdisplay

        self.X = X
        self.d = xdisplay.Display(display)
        self.root = self.d.screen().root
        self._name = self.d.intern_atom("_NET_WM_NAME")
        self._utf8 = self.d.intern_atom("UTF8_STRING")

    def find(self, prefix: str):
        for w in self.root.query_tree().children:
            try:
                prop = w.get_full_property(self._name, self._utf8)
                title = prop.value.decode() if prop else (w.get_wm_name() or "")
                if title.startswith(prefix) and w.get_attributes().map_state == self.X.IsViewable:
                    return w
            except Exception:  # a window that went away meanwhile
                continue
        return None

    def rect(self, w) -> tuple[int, int, int, int]:
        """(x, y, width, height) of a window on the screen."""
        g = w.get_geometry()
        pos = w.translate_coords(self.root, 0, 0)
        return -pos.x, -pos.y, g.width, g.height

    def capture(self, w) -> np.ndarray:
        """The window's pixels, RGB [H, W, 3], as the screen shows them."""
        g = w.get_geometry()
        raw = self.root.get_image(g.x, g.y, g.width, g.height, self.X.ZPixmap, 0xFFFFFFFF)
        return np.frombuffer(raw.data, np.uint8).reshape(g.height, g.width, 4)[..., [2, 1, 0]].copy()

    def close(self, w) -> None:
        from Xlib.protocol import event

        protocols, delete = self.d.intern_atom("WM_PROTOCOLS"), self.d.intern_atom("WM_DELETE_WINDOW")
        request = event.ClientMessage(window=w, client_type=protocols, data=(32, [delete, self.X.CurrentTime, 0, 0, 0]))
        w.send_event(request, event_mask=self.X.NoEventMask)
        self.d.flush()
