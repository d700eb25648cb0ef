"""`make demo` without a display ends with a side-by-side video of the first and the latest
policy snapshot and a PNG of the training curve. Checked on a store written by StoreWriter
(the training phase itself is the recorder's `braxscope train`, tested in tests/recorder)."""

import importlib.util
from pathlib import Path

import imageio.v3 as iio
import mujoco
import numpy as np
from PIL import Image

import braxscope  # noqa: F401  (chooses MUJOCO_GL before mujoco renders)
from braxscope.schema.writer import StoreWriter

from .test_curve_png import XML

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.py"


def _load_demo():
    spec = importlib.util.spec_from_file_location("braxscope_demo", DEMO)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _store(path: Path) -> Path:
    model = mujoco.MjModel.from_xml_string(XML)
    w = StoreWriter.create(path, model, env_name="toy_pendulum", dt=0.04, train_slots=1)
    for it, (length, tilt) in enumerate([(12, 0.9), (20, 0.3), (30, 0.0)]):
        qpos = np.zeros((length, 2), np.float32)
        qpos[:, 1] = np.linspace(0, tilt, length)  # early iterations fall over, the last stays up
        w.append_snapshot(qpos=qpos, qvel=np.zeros((length, 2)), action=np.zeros((length, 1)),
                          reward=np.ones(length), done=np.eye(1, length, length - 1)[0],
                          iteration=it, env_step=it * 1000, complete=True)
        w.append_metrics(it * 1000, {"eval/episode_reward": float(length)})
    w.close()
    return path


def test_headless_demo_exports_first_and_latest_snapshot_side_by_side_and_the_curve(tmp_path):
    store = _store(tmp_path / "demo.zarr")
    video, curve = _load_demo().export_results(store)
    frames = iio.imread(video)
    # The longer (latest) snapshot sets the length; two 480x360 tiles side by side.
    assert frames.shape == (30, 360, 960, 3)
    left, right = frames[-1, :, :480].astype(int), frames[-1, :, 480:].astype(int)
    # Below the overlay text: the fallen pole (iteration 0) against the upright one (iteration 2).
    assert np.abs(left[60:] - right[60:]).mean() > 1.0, "the two iterations' tiles differ"
    img = np.asarray(Image.open(curve).convert("RGB"))
    assert img.shape[0] > 100 and img.std() > 5, "the curve PNG is drawn, not blank"


def test_headless_demo_with_one_snapshot_says_there_is_nothing_to_compare(tmp_path, capsys):
    model = mujoco.MjModel.from_xml_string(XML)
    w = StoreWriter.create(tmp_path / "one.zarr", model, env_name="toy", dt=0.04, train_slots=1)
    w.append_snapshot(qpos=np.zeros((5, 2)), qvel=np.zeros((5, 2)), action=np.zeros((5, 1)), reward=np.ones(5),
                      done=np.zeros(5), iteration=0, env_step=0, complete=True)
    w.close()
    assert _load_demo().export_results(tmp_path / "one.zarr") is None
    assert "nothing to compare" in capsys.readouterr().out
