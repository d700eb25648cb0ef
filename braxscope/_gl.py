"""Pick an offscreen OpenGL backend for MuJoCo before ``mujoco`` is first imported.

MuJoCo reads ``MUJOCO_GL`` once, at import. EGL is preferred (fast, works under Xvfb on a
render thread); OSMesa is the fallback; GLFW would need the GUI thread, which DearPyGui owns.
"""

from __future__ import annotations

import ctypes.util
import os
import sys


def choose_offscreen_gl() -> str | None:
    """Set ``MUJOCO_GL`` to egl or osmesa when the user has not chosen; returns the choice."""
    if os.environ.get("MUJOCO_GL"):
        return os.environ["MUJOCO_GL"]
    if "mujoco" in sys.modules:
        return None  # too late to choose; mujoco already picked its backend
    for name, lib in (("egl", "EGL"), ("osmesa", "OSMesa")):
        if ctypes.util.find_library(lib):
            os.environ["MUJOCO_GL"] = name
            # PyOpenGL must agree with MuJoCo's context type.
            os.environ.setdefault("PYOPENGL_PLATFORM", name)
            return name
    return None
