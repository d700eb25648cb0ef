"""Plots of a session snapshot as images, drawn with PIL: the reward/return plot, the action plot
and the training curve, each with a cursor line that moves without redrawing the plot.

A plot is drawn once per content change (:class:`PlotImage`); moving the cursor copies that
picture, draws one vertical line and encodes a PNG (a few milliseconds), so a slider that moves
the cursor stays fast. Ticks and number formats are the training-curve PNG's own.
"""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..replay_app.curve_png import _fmt, _nice_ticks
from ..replay_app.session_snapshot import Series

_BG, _AXES, _GRID, _TEXT = (24, 26, 31), (150, 155, 165), (52, 55, 62), (220, 222, 228)
CURSOR = (255, 255, 255)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


class PlotImage:
    """One plot: series against a shared x axis (a left and an optional right y axis), a title,
    marks (vertical lines with a dot on the curve). :meth:`png` adds the cursor."""

    def __init__(self, width: int, height: int):
        self.width, self.height = int(width), int(height)
        mx, my = min(56, self.width // 5), min(28, self.height // 6)  # margins for the tick labels
        self.left, self.right, self.top, self.bottom = mx, self.width - mx, my, self.height - my
        self._base = np.zeros((self.height, self.width, 3), np.uint8)
        self._x0, self._x1 = 0.0, 1.0
        self.draw([], title="")

    def draw(self, left: Sequence[Series], right: Sequence[Series] = (), *, title: str,
             marks: Sequence[tuple] = (), legend: bool = True) -> None:
        img = Image.new("RGB", (self.width, self.height), _BG)
        d = ImageDraw.Draw(img)
        small, font = _font(11), _font(13)
        xs = [s.x for s in (*left, *right) if len(s.x)] + [np.asarray([m[0] for m in marks], np.float64)]
        xs = np.concatenate(xs) if xs else np.zeros(0)
        xt = _nice_ticks(float(xs.min()) if xs.size else 0.0, float(xs.max()) if xs.size else 1.0)
        self._x0, self._x1 = float(xt[0]), float(xt[-1])
        L, R, T, B = self.left, self.right, self.top, self.bottom
        for v in xt:
            X = self._px(v)
            d.line([(X, T), (X, B)], fill=_GRID)
            d.text((X, B + 4), _fmt(v), fill=_AXES, font=small, anchor="ma")
        for series, side in ((left, "l"), (right, "r")):
            if not series and side == "r":
                continue
            ys = np.concatenate([s.y for s in series if len(s.y)] or [np.zeros(1)])
            ys = ys[np.isfinite(ys)] if ys.size else ys
            lo, hi = (float(ys.min()), float(ys.max())) if ys.size else (0.0, 1.0)
            pad = 0.05 * ((hi - lo) or 1.0)
            yt = _nice_ticks(lo - pad, hi + pad, 4)
            y0, y1 = float(yt[0]), float(yt[-1])

            def py(v, y0=y0, y1=y1):
                return B - (v - y0) / ((y1 - y0) or 1.0) * (B - T)

            for v in yt:
                if side == "l":
                    d.line([(L, py(v)), (R, py(v))], fill=_GRID)
                    d.text((L - 5, py(v)), _fmt(round(v, 6)), fill=_AXES, font=small, anchor="rm")
                else:
                    d.text((R + 5, py(v)), _fmt(round(v, 6)), fill=_AXES, font=small, anchor="lm")
            for s in series:
                if len(s.x) > 1:
                    pts = list(zip(self._px(s.x).tolist(), py(np.nan_to_num(s.y)).tolist()))
                    d.line(pts, fill=tuple(s.colour[:3]), width=max(1, int(round(s.weight))))
            if side == "l":
                for at, y_at, label, colour in marks:
                    X = self._px(at)
                    d.line([(X, T), (X, B)], fill=tuple(colour[:3]), width=2)
                    if y_at is not None:
                        Y = py(y_at)
                        d.ellipse([X - 4, Y - 4, X + 4, Y + 4], fill=tuple(colour[:3]))
        d.rectangle([L, T, R, B], outline=_AXES)
        d.text((self.width / 2, 6), title, fill=_TEXT, font=font, anchor="ma")
        if legend:
            x = L + 6
            for s in (*left, *right)[:8]:
                d.line([(x, T + 9), (x + 14, T + 9)], fill=tuple(s.colour[:3]), width=3)
                d.text((x + 18, T + 9), s.label, fill=_TEXT, font=small, anchor="lm")
                x += 24 + d.textlength(s.label, font=small)
                if x > R - 40:
                    break
        self._base = np.asarray(img).copy()

    def _px(self, x):
        return self.left + (np.asarray(x, np.float64) - self._x0) / ((self._x1 - self._x0) or 1.0) * (
            self.right - self.left)

    def png(self, cursor: float | None = None) -> bytes:
        """The plot as PNG bytes, with a vertical cursor line at x = ``cursor``."""
        img = self._base
        if cursor is not None and self._x0 <= cursor <= self._x1:
            img = img.copy()
            X = int(round(float(self._px(cursor))))
            img[self.top:self.bottom, max(0, X - 1):X + 1] = CURSOR
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "PNG", compress_level=1)
        return buf.getvalue()


__all__ = ["PlotImage", "CURSOR"]
