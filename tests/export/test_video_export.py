"""Video export: real renderer (EGL), real ffmpeg, decoded back with imageio."""

from __future__ import annotations

import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest

from braxscope.replay_app.export_video import VideoExportError, export_video, grid_shape
from braxscope.replay_app.renderer import Renderer
from braxscope.schema import open_store

W, H = 160, 120
SNAP0, SNAP3 = "0:3", "0:17"  # snapshots of iterations 0 and 3 (30 and 39 frames)


def _decode(path) -> np.ndarray:
    frames = iio.imread(path, index=None)
    return frames[..., :3]


def _reference(store, eid: str, t: int = 0, width: int = W, height: int = H) -> np.ndarray:
    r = open_store(store)
    with Renderer(r.model(), width, height) as ren:
        return ren.render(r.frames(eid).qpos[t]).copy()


def _mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_mp4_decodes_to_every_frame_at_the_tile_size_and_matches_the_renderer(store, tmp_path):
    out = export_video(store, [SNAP0], tmp_path / "one.mp4", width=W, height=H)
    frames = _decode(out)
    assert frames.shape == (30, H, W, 3)
    first = _reference(store, SNAP0, 0)
    assert _mad(frames[0], first) < 3.0  # H.264 at crf 18: small codec error only
    assert _mad(frames[0], _reference(store, SNAP0, 20)) > 3 * _mad(frames[0], first)  # and not any frame


def test_gif_decodes_to_every_frame_and_matches_the_renderer_within_palette_error(store, tmp_path):
    out = export_video(store, [SNAP0], tmp_path / "one.gif", width=W, height=H, fps=10)
    frames = _decode(out)
    assert frames.shape == (30, H, W, 3)
    assert _mad(frames[0], _reference(store, SNAP0, 0)) < 1.0  # 256-colour palette per frame
    meta = iio.immeta(out, index=0)
    assert meta["duration"] == 100 and meta["loop"] == 0  # 10 fps, loops forever


def test_compare_grid_has_the_grid_size_shared_step_and_held_last_frame(store, tmp_path):
    r = open_store(store)
    short, long_ = r.get_episode(SNAP0).length, r.get_episode(SNAP3).length
    out = export_video(store, [SNAP0, SNAP3], tmp_path / "cmp.mp4", width=W, height=H)
    frames = _decode(out)
    assert frames.shape == (max(short, long_), H, 2 * W, 3)
    left, right = frames[0, :, :W], frames[0, :, W:]
    assert _mad(left, _reference(store, SNAP0, 0)) < 3.0
    assert _mad(right, _reference(store, SNAP3, 0)) < 3.0
    assert _mad(frames[10, :, :W], frames[10, :, W:]) > 2.0  # different episodes, different tiles
    # The shorter episode holds its last frame while the longer one plays on.
    assert _mad(frames[-1, :, :W], _reference(store, SNAP0, short - 1)) < 3.0
    assert _mad(frames[-1, :, W:], frames[short, :, W:]) > 1.0


def test_four_episodes_make_a_two_by_two_grid(store, tmp_path):
    out = export_video(store, ["0:3", "0:9", "0:13", "0:17"], tmp_path / "four.gif", width=64, height=48)
    frames = _decode(out)
    assert frames.shape[1:] == (96, 128, 3)
    assert grid_shape(3) == (2, 2) and grid_shape(4) == (2, 2)  # the screen's grid


def test_overlay_draws_text_in_the_top_strip_only(store, tmp_path):
    plain = _decode(export_video(store, [SNAP0], tmp_path / "p.mp4", width=320, height=240))
    over = _decode(export_video(store, [SNAP0], tmp_path / "o.mp4", width=320, height=240, overlay=True))
    assert _mad(plain[5, :20, :100], over[5, :20, :100]) > 10  # text at the top left, on a darkened strip
    assert _mad(plain[5, 60:], over[5, 60:]) < 1.0  # the rest of the frame is untouched


def test_bad_arguments_give_one_line_errors(store, tmp_path):
    with pytest.raises(VideoExportError, match="mp4 or .gif"):
        export_video(store, [SNAP0], tmp_path / "x.avi")
    with pytest.raises(VideoExportError, match="1 to 4"):
        export_video(store, [SNAP0] * 5, tmp_path / "x.mp4")
    with pytest.raises(VideoExportError, match="even"):
        export_video(store, [SNAP0], tmp_path / "x.mp4", width=161, height=120)
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_cli_exports_a_compare_video_offscreen(store, tmp_path):
    out = tmp_path / "cli.mp4"
    p = subprocess.run(
        [sys.executable, "-m", "braxscope.cli", "export", str(store), "--episode", SNAP0, "--compare", SNAP3,
         "--out", str(out), "--width", "96", "--height", "64", "--fps", "25", "--overlay"],
        capture_output=True, text=True, timeout=180,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(out)
    frames = _decode(out)
    assert frames.shape == (39, 64, 192, 3)
    assert iio.immeta(out)["fps"] == 25
