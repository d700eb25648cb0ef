"""Renderer and render thread: real MuJoCo rendering offscreen (EGL or OSMesa)."""

from __future__ import annotations

import threading

import mujoco
import numpy as np

from braxscope.replay_app.render_thread import RenderWorker
from braxscope.replay_app.renderer import Renderer
from braxscope.schema.reader import open_store

from .storegen import load_model


def test_two_different_qpos_give_different_images(ant_store):
    frames = open_store(ant_store).frames("0:0")
    model = load_model("ant")
    with Renderer(model, 160, 120) as r:
        a = r.render(frames.qpos[0]).copy()
        b = r.render(frames.qpos[60]).copy()
    assert a.shape == (120, 160, 3) and a.dtype == np.uint8
    assert np.abs(a.astype(int) - b).sum() > 1000


def test_same_qpos_equals_mujoco_renderer_driven_directly(ant_store):
    q = open_store(ant_store).frames("0:3").qpos[40]
    model = load_model("ant")
    with Renderer(model, 200, 150, camera="free") as ours:
        got = ours.render(q).copy()
    data = mujoco.MjData(model)
    data.qpos[:] = q
    mujoco.mj_forward(model, data)
    cam = mujoco.MjvCamera()
    mujoco.mjv_defaultFreeCamera(model, cam)
    direct = mujoco.Renderer(model, 150, 200)
    direct.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
    direct.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
    direct.update_scene(data, camera=cam)
    want = direct.render().copy()
    direct.close()
    np.testing.assert_array_equal(got, want)


def test_nan_qpos_renders_the_marked_invalid_frame():
    model = load_model("ant")
    with Renderer(model, 64, 48) as r:
        q = np.zeros(model.nq)
        q[3] = np.nan
        img = r.render(q)
    assert Renderer.is_invalid(img)


def test_render_thread_renders_off_the_calling_thread_and_newest_request_wins(ant_store):
    qpos = open_store(ant_store).frames("0:0").qpos
    w = RenderWorker(load_model("ant"), 160, 120)
    try:
        for k in range(0, 80, 4):  # many requests in a burst: at most a few are rendered
            w.request([qpos[k]], tag=k)
        assert w.frame_ready.wait(10)
        f = None
        for _ in range(200):
            f = w.take() or f
            if f is not None and f.tag == 76:
                break
            w.frame_ready.wait(0.05)
        assert f.tag == 76 and f.image.shape == (120, 160, 4) and f.image.dtype == np.float32
        assert w.renders < 20
        assert w._thread is not threading.current_thread()
    finally:
        w.close()


def test_render_thread_grid_for_compare_draws_each_cell(ant_store):
    r = open_store(ant_store)
    qa, qb = r.frames("0:0").qpos[70], r.frames("0:6").qpos[5]
    w = RenderWorker(load_model("ant"), 320, 240)
    try:
        w.request([qa, qb, None], tag="grid")
        assert w.frame_ready.wait(10)
        img = w.take().image
        cells = [img[:120, :160], img[:120, 160:], img[120:, :160], img[120:, 160:]]
        assert np.abs(cells[0] - cells[1]).sum() > 10  # two episodes differ
        assert (cells[2] == cells[2][0, 0]).all() and (cells[3] == cells[3][0, 0]).all()  # not loaded / unused: flat
    finally:
        w.close()


def test_ghosts_draw_other_states_translucent_in_one_scene(ant_store):
    r = open_store(ant_store)
    qa, qb = r.frames("0:0").qpos[70], r.frames("0:6").qpos[70]
    with Renderer(load_model("ant"), 160, 120) as rend:
        solo = rend.render(qa).copy()
        alone = rend.render_ghosts([qa]).copy()
        both = rend.render_ghosts([qa, qb], colours=[(1, 0, 0), (0, 0, 1)]).copy()
        nan = np.full_like(qb, np.nan)
        skipped = rend.render_ghosts([qa, nan]).copy()
    np.testing.assert_array_equal(alone, solo)  # no ghosts: exactly the plain frame
    np.testing.assert_array_equal(skipped, solo)  # an invalid ghost is left out
    assert np.abs(both.astype(int) - solo).sum() > 1000  # the ghost is drawn
