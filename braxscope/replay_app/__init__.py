"""The viewer: session model, renderer, plots, export, and the DearPyGui view.

Imports schema, mujoco, numpy, dearpygui and imageio only: never jax, brax or the recorder,
so it runs on a laptop with no JAX.
"""

from .._gl import choose_offscreen_gl

choose_offscreen_gl()  # a no-op when braxscope/__init__ already chose
