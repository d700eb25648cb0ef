"""braxscope: record Brax PPO training into a Zarr store; replay it live or afterwards.

``open_store`` needs only the store's dependencies; ``Recorder`` imports JAX and brax when first
used, so the viewer runs on a machine without JAX.
"""

from ._gl import choose_offscreen_gl

# Before anything imports mujoco: it reads MUJOCO_GL once, at import.
choose_offscreen_gl()

from .schema import BraxscopeError, open_store  # noqa: E402

__version__ = "0.1.0"


def __getattr__(name):
    if name == "Recorder":
        from .recorder import Recorder

        return Recorder
    raise AttributeError(f"module 'braxscope' has no attribute {name!r}")


__all__ = ["open_store", "Recorder", "BraxscopeError", "__version__"]
