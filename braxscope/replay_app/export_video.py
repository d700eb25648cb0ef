"""Episodes to MP4 or GIF, offscreen, with the app's renderer and camera.

One episode fills the frame; 2 to 4 play side by side in the app's grid (1x2, then 2x2; three
leave the fourth tile empty, as on screen) under one shared step, and an episode that ends early
holds its last frame. ``width`` and ``height`` are the size of one tile, so a tile is pixel for
pixel what :class:`Renderer` draws at that size. Overlays are the app's own lines
(:func:`presentation.overlay_lines`), so a frame of the export reads as the screen does.

Rendering and encoding run as a pipeline: a render thread (which alone owns the GL context)
fills frames from a small pool of buffers, the calling thread draws overlays and hands them to
ffmpeg (through imageio-ffmpeg, a separate process), and each buffer goes back to the pool once
ffmpeg has taken its bytes. Encoding therefore overlaps rendering instead of adding to it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..schema import StoreReader, atomic, open_store
from ..schema.episode_id import split_ref
from ..schema.errors import BraxscopeError
from . import presentation as P
from .renderer import TRACK, Renderer

log = logging.getLogger("braxscope")

VIDEO_SUFFIXES = (".mp4", ".gif")
MAX_TILES = P.MAX_CELLS
_QUEUE_FRAMES = 4  # frames in flight between the render thread and the encoder
# GIF: a fresh palette per frame (palettegen/paletteuse with stats_mode=single) streams frame by
# frame in bounded memory; one global palette would need every frame first.
_GIF_FILTER = (
    "split[a][b];[a]palettegen=stats_mode=single:reserve_transparent=0[p];"
    "[b][p]paletteuse=new=1:dither=none"
)
# x264 "ultrafast": about 4 ms of CPU per 640x480 frame against 9 ms for "veryfast" (files are
# about 3x larger). On a CPU-only machine the encoder competes with software GL for the same
# cores, so its cost comes straight off the export rate. crf 18 is visually lossless here.
_MP4_PARAMS = ["-preset", "ultrafast", "-crf", "18", "-movflags", "+faststart"]
# compact=True, for videos embedded in a notebook (base64 in the .ipynb, pushed through the
# kernel): about 6x smaller files on brax's checkered floor, at about 1.5x the encoder's CPU.
_MP4_COMPACT_PARAMS = ["-preset", "veryfast", "-crf", "28", "-movflags", "+faststart"]


class VideoExportError(BraxscopeError):
    """The export cannot run with these arguments (ids, sizes, output type)."""


@dataclass
class _Track:
    """What a tile needs of one episode: its catalog row, its rows, its running return [L]."""

    info: object  # EpisodeInfo
    frames: object  # Frames
    ret: np.ndarray
    model: object = None  # the MjModel of its store (episodes of several stores may differ)

    @property
    def qpos(self) -> np.ndarray:
        return self.frames.qpos

    def __len__(self) -> int:
        return len(self.frames)

    def render(self, r, t: int, out: np.ndarray) -> None:
        """Frame ``t`` (the last one past the end) into ``out``, mocap bodies included."""
        t = min(t, len(self) - 1)
        f = self.frames
        r.render(f.qpos[t], out=out, mocap_pos=None if f.mocap_pos is None else f.mocap_pos[t],
                 mocap_quat=None if f.mocap_quat is None else f.mocap_quat[t])


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) of the compare grid for ``n`` tiles: the screen's (presentation.grid_shape)."""
    if not 1 <= n <= MAX_TILES:
        raise VideoExportError(f"export takes 1 to {MAX_TILES} episodes, got {n}")
    return P.grid_shape(n)


def export_video(
    store_or_path: StoreReader | str | os.PathLike,
    episode_ids: Sequence["str | tuple[StoreReader | str | os.PathLike, str]"],
    out: str | os.PathLike,
    width: int = 640,
    height: int = 480,
    fps: float | None = None,
    camera: str | int = TRACK,
    overlay: "bool | P.Overlays | None" = False,
    progress: Callable[[int, int], None] | None = None,
    *,
    shadows: bool = False,
    max_frames: int | None = None,
    compact: bool = False,
) -> Path:
    """Render ``episode_ids`` (1 to 4) to ``out`` (.mp4 or .gif) and return its path.

    An entry is an id in ``store_or_path``, or names its own store: ``"PATH:ID"`` or a
    ``(store, id)`` pair, so episodes of several runs play side by side (each in its own model).

    ``fps`` defaults to real time (1 / the env's ``dt``). ``overlay``: True draws the app's
    default overlay lines, an :class:`presentation.Overlays` chooses them, False/None none.
    ``progress(done, total)`` is called after each encoded frame. ``max_frames`` keeps only the
    first frames (a preview of long episodes); ``compact`` encodes a smaller, lossier MP4 (for
    notebooks). The file appears under its name only when complete.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise VideoExportError(f"{out}: the output must end in .mp4 or .gif")
    episode_ids = list(episode_ids)
    rows, cols = grid_shape(len(episode_ids))
    overlays = P.Overlays() if overlay is True else (overlay or None)
    if width < 16 or height < 16:
        raise VideoExportError(f"{width}x{height} is too small: use at least 16x16 per tile")
    W, H = cols * width, rows * height
    if suffix == ".mp4" and (W % 2 or H % 2):
        raise VideoExportError(f"MP4 (yuv420p) needs an even frame size, got {W}x{H}: use an even --width and --height")
    reader = store_or_path if isinstance(store_or_path, StoreReader) else open_store(store_or_path)
    tracks = [_load(r, eid) for r, eid in _resolve(reader, episode_ids)]
    if fps is None:
        fps = 1.0 / float(reader.info.attrs["dt"])
    if not (fps > 0 and math.isfinite(fps)):
        raise VideoExportError(f"fps must be a positive number, got {fps}")
    total = max(len(t) for t in tracks)
    if max_frames is not None:
        total = min(total, max(1, int(max_frames)))
    if total == 0:
        raise VideoExportError("the episodes have no frames")
    with atomic.output_file(out) as tmp:
        _pipeline(tracks, tmp, suffix, width, height, rows, cols, float(fps), camera, shadows, overlays,
                  total, progress, _MP4_COMPACT_PARAMS if compact else _MP4_PARAMS)
    return out


def _resolve(reader: StoreReader, entries) -> list[tuple[StoreReader, str]]:
    """(store, id) of each entry: an id of ``reader``, ``"PATH:ID"``, or a ``(store, id)`` pair.
    Each other store is opened once."""
    opened = {str(reader.path): reader}
    out = []
    for e in entries:
        if isinstance(e, tuple):
            where, eid = e
        else:
            where, eid = split_ref(str(e))
        if where is None:
            out.append((reader, eid))
            continue
        if isinstance(where, StoreReader):
            opened.setdefault(str(where.path), where)
            where = where.path
        key = str(Path(where))
        if key not in opened:
            opened[key] = open_store(where)
        out.append((opened[key], str(eid)))
    return out


def _load(reader: StoreReader, eid: str) -> _Track:
    ep = reader.get_episode(eid)
    fr = reader.frames(ep)
    em = reader.env_model(ep)  # a domain-randomized env's own model, where it was recorded
    if not em.own:
        log.warning("braxscope: export of episode %s: %s", ep.id, em.note)
    return _Track(ep, fr, P.running_return(fr.reward), em.model)


def _writer(path: Path, suffix: str, W: int, H: int, fps: float, mp4_params: list[str]):
    """An imageio-ffmpeg frame sink (a generator taking uint8 [H,W,3] frames)."""
    import imageio_ffmpeg

    if suffix == ".gif":
        gen = imageio_ffmpeg.write_frames(
            str(path), (W, H), fps=fps, codec="gif", pix_fmt_out="pal8", quality=None, macro_block_size=1,
            ffmpeg_log_level="error",  # palettegen warns "Duped color" for every frame
            output_params=["-vf", _GIF_FILTER, "-loop", "0"],
        )
    else:
        gen = imageio_ffmpeg.write_frames(
            str(path), (W, H), fps=fps, codec="libx264", pix_fmt_out="yuv420p", quality=None, macro_block_size=2,
            output_params=mp4_params,
        )
    gen.send(None)  # start ffmpeg
    return gen


_DONE = object()


def _pipeline(tracks, path, suffix, width, height, rows, cols, fps, camera, shadows, overlay, total, progress,
              mp4_params):
    W, H = cols * width, rows * height
    free: queue.Queue = queue.Queue()
    for _ in range(_QUEUE_FRAMES + 1):
        buf = np.empty((H, W, 3), np.uint8)
        buf[...] = P.EMPTY_RGB  # a grid cell with no episode (3 of 4) stays this colour
        free.put(buf)  # every other tile is redrawn each frame
    full: queue.Queue = queue.Queue(maxsize=_QUEUE_FRAMES)
    stop = threading.Event()

    def render() -> None:
        try:
            # Created here: the GL contexts belong to this thread for their whole life. One
            # renderer per model: episodes of several runs may be of different models.
            with contextlib.ExitStack() as stack:
                rend = {}
                for tr in tracks:
                    if id(tr.model) not in rend:
                        rend[id(tr.model)] = stack.enter_context(
                            Renderer(tr.model, width, height, camera=camera, shadows=shadows))
                tile = np.empty((height, width, 3), np.uint8)
                for t in range(total):
                    buf = free.get()
                    if stop.is_set():
                        return
                    if len(tracks) == 1:  # the frame is the tile: render straight into it
                        tracks[0].render(rend[id(tracks[0].model)], t, buf)
                    for k, tr in enumerate(tracks if len(tracks) > 1 else ()):
                        y, x = divmod(k, cols)
                        tr.render(rend[id(tr.model)], t, tile)
                        buf[y * height:(y + 1) * height, x * width:(x + 1) * width] = tile
                    full.put((t, buf))
            full.put((None, _DONE))
        except BaseException as e:  # handed to the encoder thread, which raises it
            full.put((None, e))

    thread = threading.Thread(target=render, name="braxscope-export-render", daemon=True)
    thread.start()
    gen = None
    try:
        draw = _Overlay(width, height, overlay) if overlay is not None else None
        while True:
            t, item = full.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            if draw is not None:
                for k, tr in enumerate(tracks):
                    y, x = divmod(k, cols)
                    draw(item, x * width, y * height, tr, t, k, len(tracks) > 1)
            if gen is None:  # started on the first frame: a renderer that fails starts no ffmpeg
                gen = _writer(path, suffix, W, H, fps, mp4_params)
            gen.send(item)  # returns once ffmpeg's pipe has the bytes: the buffer is free again
            free.put(item)
            if progress:
                progress(t + 1, total)
        gen.close()
        gen = None
    finally:
        stop.set()
        # Unblock a render thread that waits for a free buffer or for room in the queue.
        while thread.is_alive():
            free.put(np.empty((H, W, 3), np.uint8))
            try:
                while True:
                    full.get_nowait()
            except queue.Empty:
                pass
            thread.join(timeout=0.1)
        if gen is not None:
            gen.close()


def tile_lines(tr: _Track, t: int, index: int, compare: bool, overlays: P.Overlays) -> tuple:
    """The overlay lines of one tile at step ``t``: the app's own (presentation.overlay_lines)."""
    facts = P.cell_facts(tr.info, tr.info.id, min(t, len(tr) - 1), tr.frames, tr.ret)
    return P.overlay_lines(facts, overlays, index, compare)


def overlay_font(tile_height: int):
    """The overlay's PIL font for a tile of this height (and its pixel size)."""
    from PIL import ImageFont

    size = max(10, min(28, tile_height // 24))
    try:
        return ImageFont.load_default(size=size), size
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default(), size


def draw_lines(frame: np.ndarray, x0: int, y0: int, width: int, lines, font=None) -> None:
    """Overlay text ``lines`` ((text, RGBA colour), as presentation.overlay_lines gives them) on a
    darkened strip at the top of the tile at (x0, y0) of ``frame`` (RGB uint8 [H,W,3], in place).
    The export draws its tiles so, and the notebook viewer its frames."""
    from PIL import Image, ImageDraw

    if not lines:
        return
    font, size = font or overlay_font(frame.shape[0] - y0)
    pad = max(2, size // 3)
    h = min(frame.shape[0] - y0, len(lines) * (size + pad) + pad)
    strip = frame[y0:y0 + h, x0:x0 + width]
    img = Image.fromarray((strip // 2).astype(np.uint8))  # darken for legibility
    d = ImageDraw.Draw(img)
    for j, (text, colour) in enumerate(lines):
        d.text((pad * 2, pad + j * (size + pad)), text, fill=tuple(colour[:3]), font=font)
    strip[...] = np.asarray(img)


class _Overlay:
    """The app's overlay lines (presentation.overlay_lines) on a darkened box at the top left of
    a tile, drawn with PIL."""

    def __init__(self, width: int, height: int, overlays: P.Overlays):
        self.font = overlay_font(height)
        self.width, self.overlays = width, overlays

    def __call__(self, frame: np.ndarray, x0: int, y0: int, tr: _Track, t: int, index: int, compare: bool) -> None:
        draw_lines(frame, x0, y0, self.width, tile_lines(tr, t, index, compare, self.overlays), self.font)


__all__ = ["export_video", "grid_shape", "draw_lines", "overlay_font", "VideoExportError", "VIDEO_SUFFIXES"]
