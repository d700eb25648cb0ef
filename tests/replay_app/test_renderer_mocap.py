"""Mocap bodies: the renderer draws them where the recording put them (real MuJoCo, offscreen)."""

from __future__ import annotations

import mujoco
import numpy as np

from braxscope.replay_app.renderer import Renderer

# A fixed arm and a mocap target, seen by a fixed camera.
XML = """
<mujoco>
  <worldbody>
    <light pos="0 0 3"/>
    <camera name="top" pos="0 0 2" mode="fixed"/>
    <body name="arm"><joint name="hinge" type="hinge" axis="0 0 1"/>
      <geom type="capsule" size=".03" fromto="0 0 0 .3 0 0" rgba="0 0 1 1"/></body>
    <body name="target" mocap="true" pos="-0.3 0 0"><geom type="sphere" size=".08" rgba="1 0 0 1"
      contype="0" conaffinity="0"/></body>
  </worldbody>
  <actuator><motor joint="hinge"/></actuator>
</mujoco>
"""


def _direct(model, qpos, mocap_pos):
    data = mujoco.MjData(model)
    data.qpos[:] = qpos
    data.mocap_pos[:] = mocap_pos
    mujoco.mj_forward(model, data)
    with mujoco.Renderer(model, 120, 160) as r:
        r.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
        r.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
        r.update_scene(data, camera="top")
        return r.render().copy()


def test_recorded_mocap_position_is_drawn_as_mujoco_draws_it_and_nan_means_the_default_pose():
    model = mujoco.MjModel.from_xml_string(XML)
    moved = np.array([[0.25, 0.25, 0.0]])
    with Renderer(model, 160, 120, camera="top") as r:
        at_default = r.render(np.zeros(1)).copy()
        at_moved = r.render(np.zeros(1), mocap_pos=moved, mocap_quat=np.array([[1.0, 0, 0, 0]])).copy()
        unrecorded = r.render(np.zeros(1), mocap_pos=np.full((1, 3), np.nan)).copy()
    assert np.abs(at_moved.astype(int) - at_default).sum() > 1000  # the target moved in the picture
    np.testing.assert_array_equal(at_moved, _direct(model, np.zeros(1), moved))
    np.testing.assert_array_equal(at_default, _direct(model, np.zeros(1), model.body_pos[2:3]))
    np.testing.assert_array_equal(unrecorded, at_default)


def test_the_apps_render_thread_draws_the_recorded_mocap_pose_of_each_cell():
    import time

    from braxscope.replay_app.render_thread import RenderWorker
    from braxscope.replay_app.renderer import Renderer as R

    model = mujoco.MjModel.from_xml_string(XML)
    moved = np.array([[0.25, 0.25, 0.0]])
    w = RenderWorker(model, 160, 120, camera="top")
    try:
        frames = []
        for extra in (None, (moved, np.array([[1.0, 0, 0, 0]]), None)):
            w.request([np.zeros(1)], extras=[extra])
            t_end = time.time() + 10
            f = None
            while f is None and time.time() < t_end:
                f = w.take() or (time.sleep(0.01) or None)
            frames.append((f.image[..., :3] * 255 + 0.5).astype(np.uint8))
    finally:
        w.close()
    with R(model, 160, 120, camera="top") as r:
        want = r.render(np.zeros(1), mocap_pos=moved).copy()
    assert np.abs(frames[1].astype(int) - frames[0]).sum() > 1000  # the mocap target moved
    assert np.abs(frames[1].astype(int) - want).mean() < 1.0  # where the renderer draws it


def test_the_session_hands_each_cell_its_recorded_mocap_pose(tmp_path):
    from braxscope.replay_app.session import ReplaySession
    from braxscope.schema import StoreWriter, open_store

    model = mujoco.MjModel.from_xml_string(XML)
    w = StoreWriter.create(tmp_path / "m.zarr", model, env_name="mocap", dt=0.02, train_slots=1)
    L = 5
    pos = np.zeros((L, 1, 3), np.float32)
    pos[:, 0, 0] = np.linspace(-0.3, 0.3, L)
    w.append_snapshot(qpos=np.zeros((L, 1), np.float32), qvel=np.zeros((L, 1), np.float32),
                      action=np.zeros((L, 1), np.float32), reward=np.zeros(L, np.float32), done=np.zeros(L, bool),
                      iteration=0, env_step=0, complete=True, mocap_pos=pos,
                      mocap_quat=np.tile(np.array([1.0, 0, 0, 0], np.float32), (L, 1, 1)))
    w.close()
    s = ReplaySession(open_store(tmp_path / "m.zarr"))
    s.select("0:0")
    s.poll_store()
    s.seek(3)
    cell = s.snapshot().scene.cells[0]
    np.testing.assert_allclose(cell.mocap_pos, pos[3])
    assert cell.mocap_quat.shape == (1, 4)
