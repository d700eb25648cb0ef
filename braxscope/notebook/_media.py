"""What the notebook views hand to Jupyter: an MP4 rendered by the replay app's export, a PNG, and
one-line errors.

Everything is plain MIME output (HTML ``<video>`` with the MP4 inline, ``image/png``), so it shows
in JupyterLab, Notebook 7, VS Code and Colab, and stays in the saved notebook and its HTML export
without a running kernel or a widget manager.
"""

from __future__ import annotations

import base64
import os
import tempfile
import warnings
from pathlib import Path
from typing import Sequence

from ..replay_app.export_video import export_video
from ..schema import StoreReader, atomic
from ..schema.errors import BraxscopeError


# The export starts ffmpeg with subprocess (fork, then exec at once). In a kernel that also trains
# with JAX, JAX warns at every fork that forking a multithreaded process may deadlock; a fork that
# only execs cannot, so that one warning is silenced for forks made by subprocess, and only those.
warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning, module="subprocess")


class NotebookError(BraxscopeError):
    """A user error in a notebook call: IPython shows its one line, not a traceback."""

    def _render_traceback_(self) -> list[str]:  # IPython's hook for how an exception is shown
        return [f"braxscope: {self}"]


def one_line(e: BraxscopeError) -> NotebookError:
    """The same message as the CLI prints, as an exception a notebook shows in one line."""
    return NotebookError(str(e))


def render_mp4(reader: StoreReader, ids: Sequence[str], *, width: int, height: int, overlay: bool = True,
               fps: float | None = None, camera: str | int = "track", max_frames: int | None = None) -> bytes:
    """H.264 MP4 bytes of 1-4 episodes (a grid for several), through the replay app's export:
    the same renderer, camera, layout and overlays as ``braxscope export``, encoded compact (the
    bytes travel through the kernel and stay in the .ipynb)."""
    with tempfile.TemporaryDirectory(prefix="braxscope-nb-") as tmp:
        out = Path(tmp) / "video.mp4"
        try:
            export_video(reader, list(ids), out, width, height, fps=fps, camera=camera, overlay=overlay,
                         max_frames=max_frames, compact=True)
        except BraxscopeError as e:
            raise one_line(e) from None
        return out.read_bytes()


def video_html(mp4: bytes, width: int | None = None, *, autoplay: bool = True) -> str:
    """A ``<video>`` element playing ``mp4`` (looping, muted so browsers allow autoplay)."""
    b64 = base64.b64encode(mp4).decode("ascii")
    attrs = "controls loop muted playsinline" + (" autoplay" if autoplay else "")
    size = f' width="{int(width)}"' if width else ""
    return f'<video {attrs}{size} src="data:video/mp4;base64,{b64}"></video>'


def png_html(png: bytes, width: int | None = None) -> str:
    size = f' width="{int(width)}"' if width else ""
    return f'<img{size} src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}"/>'


class Video:
    """An inline MP4 (``_repr_html_``); ``.mp4`` holds the bytes, ``.ids`` the episodes."""

    def __init__(self, mp4: bytes, ids: Sequence[str], width: int):
        self.mp4, self.ids, self.width = mp4, list(ids), int(width)

    def _repr_html_(self) -> str:
        return video_html(self.mp4, self.width)

    def save(self, path: str | os.PathLike) -> Path:
        p = Path(path)
        atomic.write_bytes(p, self.mp4, sync=True)  # whole or not at all, like every export
        return p

    def __repr__(self) -> str:
        return f"<braxscope video of {', '.join(self.ids)}: {len(self.mp4)} bytes of MP4>"


class Png:
    """An inline PNG (``_repr_png_``); ``.png`` holds the bytes."""

    def __init__(self, png: bytes):
        self.png = png

    def _repr_png_(self) -> bytes:
        return self.png

    def __repr__(self) -> str:
        return f"<braxscope plot: {len(self.png)} bytes of PNG>"
