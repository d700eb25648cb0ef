"""The one-liners on a real store: inline MP4s that decode to the episodes' frames, in the
export's grid; the training curve with an iteration marked; one-line errors."""

from __future__ import annotations

import io

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

import braxscope.notebook as bn
from braxscope.notebook._media import NotebookError


def decode(mp4: bytes, tmp_path, name: str = "v.mp4") -> tuple[int, tuple[int, int], np.ndarray]:
    """(frame count, (width, height), first frame RGB) of MP4 bytes, decoded by ffmpeg."""
    p = tmp_path / name
    p.write_bytes(mp4)
    reader = imageio_ffmpeg.read_frames(str(p))
    meta = reader.__next__()
    w, h = meta["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader]
    return len(frames), (w, h), frames[0]


def test_show_plays_every_frame_of_the_episode_as_h264(ip_store, tmp_path):
    v = bn.show(ip_store, "0:1", width=160, height=120)
    assert v.mp4[4:8] == b"ftyp"
    n, size, first = decode(v.mp4, tmp_path)
    assert (n, size) == (30, (160, 120))
    assert first.std() > 10  # a rendered scene, not a flat colour
    html = v._repr_html_()
    assert html.startswith("<video") and "data:video/mp4;base64," in html and "autoplay" in html


def test_compare_plays_episodes_in_the_exports_grid_for_the_longest(ip_store, tmp_path):
    v = bn.compare(ip_store, ["0:0", "0:1"], width=96, height=72)
    n, size, _ = decode(v.mp4, tmp_path)
    assert (n, size) == (40, (192, 72))  # side by side; the 30-step snapshot holds its last frame
    assert v.ids == ["0:0", "0:1"]


def test_curve_draws_the_training_metric_and_marks_an_iteration(ip_store):
    from braxscope.notebook.inline import curve_png

    plain = np.asarray(Image.open(io.BytesIO(bn.curve(ip_store).png)).convert("RGB")).astype(int)
    marked = np.asarray(Image.open(io.BytesIO(curve_png(bn.inline._open(ip_store), mark=40))).convert("RGB"))
    assert plain.shape == marked.shape == (400, 720, 3)
    line = (np.abs(plain - (80, 150, 250)).sum(axis=2) < 30).sum()
    assert line > 200  # the curve's line is drawn
    diff_cols = np.nonzero((np.abs(marked.astype(int) - plain).sum(axis=2) > 60).sum(axis=0) > 150)[0]
    assert diff_cols.size and diff_cols.max() - diff_cols.min() < 8  # one vertical line: the mark


def test_a_bad_path_or_episode_is_one_line_in_a_notebook(ip_store, tmp_path):
    with pytest.raises(NotebookError) as e:
        bn.show(tmp_path / "missing.zarr", "0:1")
    assert e.value._render_traceback_() == [f"braxscope: {e.value}"] and "\n" not in str(e.value)
    with pytest.raises(NotebookError, match="no episode"):
        bn.show(ip_store, "0:99")


@pytest.mark.parametrize("before, says", [
    ("import ctypes.util; ctypes.util.find_library = lambda name: None", "no offscreen OpenGL found"),
    ("import mujoco", "mujoco was imported before braxscope"),
])
def test_without_a_headless_gl_the_import_says_so_in_one_line(before, says):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM")}
    res = subprocess.run([sys.executable, "-c", f"{before}\nimport braxscope.notebook"], capture_output=True,
                         text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and says in lines[0], res.stderr
