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
