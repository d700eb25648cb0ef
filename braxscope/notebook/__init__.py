"""The notebook view (Jupyter, VS Code, Colab): inline videos and plots, a live panel in the cell
that trains, and an ipywidgets viewer. Like the DearPyGui app it is a view over the replay app's
session, renderer and export; it never imports JAX, brax or DearPyGui, so it runs on a laptop
that only reads a store.

    import braxscope.notebook as bn
    bn.show("runs/ip.zarr", "0:2")          # one episode as an inline MP4
    bn.compare("runs/ip.zarr", ["0:2", "0:14"])
    bn.curve("runs/ip.zarr")                # the training curve
    panel = bn.live(rec)                    # before ppo.train, in the same cell
    bn.Viewer("runs/ip.zarr")               # interactive replay
"""

from __future__ import annotations

import ctypes.util
import os
import sys

from .._gl import choose_offscreen_gl


def _gl_note() -> str | None:
    """One line when MuJoCo will not be able to render offscreen here, else None."""
    if choose_offscreen_gl() or os.environ.get("MUJOCO_GL"):
        return None
    if any(ctypes.util.find_library(lib) for lib in ("EGL", "OSMesa")):
        # There is one, but MUJOCO_GL was not set in time: mujoco had been imported first.
        return ("braxscope.notebook: mujoco was imported before braxscope with no MUJOCO_GL set, so videos need a "
                "display: import braxscope first, or set MUJOCO_GL=egl before anything imports mujoco")
    return ("braxscope.notebook: no offscreen OpenGL found (EGL or OSMesa), so videos cannot render: "
            "install libegl1 libgl1-mesa-dri (or libosmesa6)")


GL_NOTE = _gl_note()
if GL_NOTE:
    print(GL_NOTE, file=sys.stderr)

from .inline import compare, curve, show  # noqa: E402
from .live import LivePanel, live  # noqa: E402


def __getattr__(name):
    if name == "Viewer":  # ipywidgets is imported only when the viewer is used
        from .viewer import Viewer

        return Viewer
    raise AttributeError(f"module 'braxscope.notebook' has no attribute {name!r}")


__all__ = ["show", "compare", "curve", "live", "LivePanel", "Viewer", "GL_NOTE"]
