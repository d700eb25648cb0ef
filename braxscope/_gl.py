"""Pick an offscreen OpenGL backend for MuJoCo before ``mujoco`` is first imported.

MuJoCo reads ``MUJOCO_GL`` once, at import. EGL is preferred (fast, works under Xvfb on a
render thread); OSMesa is the fallback; GLFW would need the GUI thread, which DearPyGui owns.
"""

from __future__ import annotations

import ctypes.util
import os
import sys


# What mujoco accepts on any platform; anything else makes `import mujoco` raise.
_VALID = {"egl", "osmesa", "glfw", "glx", "wgl", "cgl", "enable", "enabled", "on", "true", "1",
          "disable", "disabled", "off", "false", "0"}


def choose_offscreen_gl() -> str | None:
    """Set ``MUJOCO_GL`` to egl or osmesa when the user has not chosen; returns the choice."""
    chosen = os.environ.get("MUJOCO_GL", "").lower().strip()
    if chosen and chosen not in _VALID and "mujoco" not in sys.modules:
        # A typo here would crash every braxscope command at import with a traceback.
        print(f"braxscope: warning: MUJOCO_GL={chosen!r} is not valid (use egl, osmesa or glfw); choosing one",
              file=sys.stderr)
        del os.environ["MUJOCO_GL"]
    elif chosen:
        return chosen
    if "mujoco" in sys.modules:
        return None  # too late to choose; mujoco already picked its backend
    for name, lib in (("egl", "EGL"), ("osmesa", "OSMesa")):
        if ctypes.util.find_library(lib):
            os.environ["MUJOCO_GL"] = name
            # PyOpenGL must agree with MuJoCo's context type.
            os.environ.setdefault("PYOPENGL_PLATFORM", name)
            return name
    return None
