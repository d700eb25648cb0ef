"""The one-liners: an episode as an inline video, episodes side by side, the training curve.

    bn.show("runs/ip.zarr", "0:2")
    bn.compare("runs/ip.zarr", ["0:2", "0:14"])
    bn.curve("runs/ip.zarr")

Each returns an object that Jupyter displays (as the last expression of a cell, or through
``display``). Videos are H.264 MP4 from the replay app's export (same renderer, camera, grid and
overlays as ``braxscope export``); the curve is the PNG that ``make demo`` writes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

from ..replay_app.curve_png import training_curve_png
from ..replay_app.export_video import grid_shape
from ..schema import StoreReader, open_store
from ..schema.errors import BraxscopeError
from ._media import Png, Video, one_line, render_mp4

PathLike = str | os.PathLike


def _open(path: PathLike | StoreReader) -> StoreReader:
    if isinstance(path, StoreReader):
        return path
    try:
        return open_store(path)
    except BraxscopeError as e:
        raise one_line(e) from None


def show(path: PathLike | StoreReader, episode: str, *, width: int = 480, height: int = 360, overlay: bool = True,
         fps: float | None = None, camera: str | int = "track") -> Video:
    """One episode (an id as ``braxscope info`` lists it: ``W:R`` or ``R``) as an inline video,
    in real time by default."""
    return Video(render_mp4(_open(path), [episode], width=width, height=height, overlay=overlay, fps=fps,
                            camera=camera), [episode], width)


def compare(path: PathLike | StoreReader | Sequence[PathLike | StoreReader], episodes: Sequence, *,
            width: int = 320, height: int = 240, overlay: bool = True, fps: float | None = None,
            camera: str | int = "track") -> Video:
    """2-4 episodes side by side under one step (``width`` x ``height`` per tile, the app's grid);
    an episode that ends early holds its last frame. An entry is an id of ``path``, or names
    another store: ``"runs/b.zarr:0:3"`` or ``("runs/b.zarr", "0:3")``, so runs compare too.
    ``path`` may be several stores (a list, as ``Viewer`` takes): a plain id is the first's."""
    stores = list(path) if isinstance(path, (list, tuple)) else [path]
    entries = list(episodes)
    labels = [e if isinstance(e, str) else f"{e[0]}:{e[1]}" for e in entries]
    mp4 = render_mp4(_open(stores[0]), entries, width=width, height=height, overlay=overlay, fps=fps, camera=camera)
    return Video(mp4, labels, width * grid_shape(len(entries))[1])


def curve_png(reader: StoreReader, *, metric: str | None = None, width: int = 720, height: int = 400,
              mark: float | None = None) -> bytes:
    """The training curve as PNG bytes (eval return against env steps by default), with the env
    step ``mark`` marked."""
    with tempfile.TemporaryDirectory(prefix="braxscope-nb-") as tmp:
        try:
            out = training_curve_png(reader, Path(tmp) / "curve.png", metric=metric, width=width, height=height,
                                     mark=mark)
        except BraxscopeError as e:
            raise one_line(e) from None
        return out.read_bytes()


def curve(path: PathLike | StoreReader, *, metric: str | None = None, width: int = 720, height: int = 400) -> Png:
    """The training curve as an inline PNG."""
    return Png(curve_png(_open(path), metric=metric, width=width, height=height))


__all__ = ["show", "compare", "curve", "curve_png"]
