"""The DearPyGui view of a :class:`~braxscope.replay_app.session.ReplaySession`, in panels.

Each panel (header, browser, viewport, plots) builds its widgets, draws its aspect of the
session's snapshot when that aspect's revision changes, and turns widget events into session
commands; ``input_map`` binds keys and mouse to commands; ``layout`` computes the window's size
and where the panels go when it is resized; ``theme`` holds the fonts and colours of the widgets.
Panels import only the session, the presentation module and DearPyGui; only
:mod:`braxscope.replay_app.app` knows them all and wires them together.
"""
