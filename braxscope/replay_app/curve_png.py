"""The training curve as a PNG, drawn with PIL (no display, no plotting library).

Used by ``make demo`` on a machine without a display, where the app cannot show the curve.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..schema import StoreReader, atomic
from ..schema.errors import BraxscopeError
from .presentation import pick_metric

_BG, _AXES, _GRID, _TEXT, _LINE, _DOT = ((24, 26, 31), (150, 155, 165), (52, 55, 62), (220, 222, 228), (80, 150, 250),
                                        (250, 140, 60))


def _nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** np.floor(np.log10(raw))
    step = min((s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw), default=raw)
    # Ticks enclose the data: the first at or below lo, the last at or above hi.
    first, last = np.floor(lo / step) * step, np.ceil(hi / step) * step
    return first + step * np.arange(int(round((last - first) / step)) + 1)


def _fmt(v: float) -> str:
    v = 0.0 if abs(v) < 1e-9 else v  # no "-0"
    if abs(v) >= 1e6:
        return f"{v / 1e6:g}M"
    if abs(v) >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


def training_curve_png(reader: StoreReader, out: str | Path, *, metric: str | None = None,
                       width: int = 900, height: int = 500, mark: float | None = None) -> Path:
    """Draw ``metric`` (default: eval return) against env steps; returns the PNG's path.
    ``mark``: an env step to mark with a vertical line (the iteration being shown)."""
    m = reader.metrics()
    metric = metric or pick_metric(m.names)
    if metric is None or metric not in m.values:
        raise BraxscopeError(f"{reader.path} has no metric {metric or ''} to plot: "
                             f"it has {', '.join(m.names) or 'no metrics yet'}")
    x = m.env_step.astype(np.float64)
    y = m.values[metric]
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size == 0:
        raise BraxscopeError(f"metric {metric} has no finite values yet in {reader.path}")
    img = Image.new("RGB", (width, height), _BG)
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=15)
    small = ImageFont.load_default(size=13)
    left, right, top, bottom = 80, width - 30, 50, height - 60
    xt = _nice_ticks(0.0, max(float(x.max()), float(mark or 0.0)))
    pad = 0.05 * (float(y.max() - y.min()) or 1.0)
    yt = _nice_ticks(float(y.min()) - pad, float(y.max()) + pad)
    x0, x1, y0, y1 = float(xt[0]), float(xt[-1]), float(yt[0]), float(yt[-1])

    def px(xv, yv):
        return (left + (xv - x0) / (x1 - x0 or 1) * (right - left),
                bottom - (yv - y0) / (y1 - y0 or 1) * (bottom - top))

    for v in xt:
        X = px(v, y0)[0]
        d.line([(X, top), (X, bottom)], fill=_GRID)
        d.text((X, bottom + 8), _fmt(v), fill=_AXES, font=small, anchor="ma")
    for v in yt:
        Y = px(x0, v)[1]
        d.line([(left, Y), (right, Y)], fill=_GRID)
        d.text((left - 8, Y), _fmt(round(v, 6)), fill=_AXES, font=small, anchor="rm")
    d.rectangle([left, top, right, bottom], outline=_AXES)
    if mark is not None:
        X = px(float(mark), y0)[0]
        d.line([(X, top), (X, bottom)], fill=_DOT, width=2)
    pts = [px(a, b) for a, b in zip(x, y)]
    if len(pts) > 1:
        d.line(pts, fill=_LINE, width=3)
    for p in pts:
        d.ellipse([p[0] - 4, p[1] - 4, p[0] + 4, p[1] + 4], fill=_DOT)
    title = f"{reader.info.env_name}: {metric}"
    d.text((width / 2, 18), title, fill=_TEXT, font=font, anchor="ma")
    d.text(((left + right) / 2, height - 22), "env steps", fill=_AXES, font=small, anchor="ma")
    out = Path(out)
    with atomic.output_file(out) as tmp:
        img.save(tmp)  # the temporary name keeps the suffix, which picks the format
    return out
