"""The training-curve PNG that `make demo` writes when there is no display."""

import mujoco
import numpy as np
import pytest
from PIL import Image

import braxscope
from braxscope.replay_app.curve_png import training_curve_png
from braxscope.schema.errors import BraxscopeError
from braxscope.schema.writer import StoreWriter

XML = """<mujoco><worldbody><body name="cart"><joint name="slide" type="slide" axis="1 0 0"/><geom size=".1"/>
<body name="pole"><joint name="hinge" type="hinge" axis="0 1 0"/>\
<geom type="capsule" fromto="0 0 0 0 0 .6" size=".05"/></body>
</body></worldbody><actuator><motor name="m" joint="slide"/></actuator></mujoco>"""

LINE = np.array([80, 150, 250])


def _store(tmp_path, rewards):
    w = StoreWriter.create(tmp_path / "c.zarr", mujoco.MjModel.from_xml_string(XML), env_name="inverted_pendulum",
                           dt=0.04, train_slots=1)
    for i, r in enumerate(rewards):
        w.append_metrics(i * 1000, {"eval/episode_reward": r, "training/sps": 5.0})
    w.close()
    return braxscope.open_store(tmp_path / "c.zarr")


def _line_mask(png):
    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    return (np.abs(img - LINE).sum(axis=-1) < 30)


def test_rising_curve_is_drawn_from_lower_left_to_upper_right(tmp_path):
    png = training_curve_png(_store(tmp_path, [5.0, 20.0, 60.0, 200.0]), tmp_path / "curve.png", width=600, height=400)
    mask = _line_mask(png)
    ys, xs = np.nonzero(mask)
    assert mask.sum() > 200, "the curve is drawn"
    left, right = xs < np.percentile(xs, 20), xs > np.percentile(xs, 80)
    # Image rows grow downwards: a rising curve sits lower (larger y) on the left.
    assert ys[left].mean() > ys[right].mean() + 50


def test_falling_curve_is_drawn_the_other_way(tmp_path):
    png = training_curve_png(_store(tmp_path, [200.0, 60.0, 20.0, 5.0]), tmp_path / "curve.png", width=600, height=400)
    ys, xs = np.nonzero(_line_mask(png))
    left, right = xs < np.percentile(xs, 20), xs > np.percentile(xs, 80)
    assert ys[left].mean() < ys[right].mean() - 50


def test_a_store_without_metrics_gets_a_clear_error(tmp_path):
    with pytest.raises(BraxscopeError, match="no metric"):
        training_curve_png(_store(tmp_path, []), tmp_path / "curve.png")
