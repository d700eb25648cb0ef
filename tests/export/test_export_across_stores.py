"""Episodes of several stores side by side: ``PATH:ID`` references in the export, the CLI and
the notebook's compare; each tile is drawn in its own store's model."""

from __future__ import annotations

import subprocess
import sys

import imageio_ffmpeg
import numpy as np
import pytest

from braxscope.replay_app.export_video import export_video
from braxscope.schema.episode_id import EpisodeIdError, split_ref
from replay_app.storegen import make_store


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("runs")
    return {"a": make_store(d / "a.zarr", name="inverted_pendulum", iterations=2, slots=1, episode_len=30),
            "b": make_store(d / "b.zarr", name="inverted_pendulum", iterations=3, slots=1, episode_len=20),
            "ant": make_store(d / "ant.zarr", name="ant", iterations=1, slots=1, episode_len=24)}


def frames(path) -> np.ndarray:
    gen = imageio_ffmpeg.read_frames(str(path))
    w, h = next(gen)["size"]
    return np.stack([np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in gen]).astype(np.int16)


def test_a_reference_names_its_store_from_the_right():
    assert split_ref("0:3") == (None, "0:3") and split_ref("7") == (None, "0:7")
    assert split_ref("runs/a.zarr:0:3") == ("runs/a.zarr", "0:3")
    assert split_ref("runs/a.zarr:3") == ("runs/a.zarr", "0:3")
    assert split_ref("C:/runs/a:b.zarr:1:open-2") == ("C:/runs/a:b.zarr", "1:open-2")
    with pytest.raises(EpisodeIdError, match="PATH:ID"):
        split_ref("runs/a.zarr")


def test_episodes_of_two_runs_play_side_by_side_each_in_its_own_model(runs, tmp_path):
    both = export_video(runs["a"], ["0:1", f"{runs['ant']}:0:1"], tmp_path / "both.mp4", 64, 48)
    alone_a = export_video(runs["a"], ["0:1"], tmp_path / "a.mp4", 64, 48)
    alone_ant = export_video(runs["ant"], ["0:1"], tmp_path / "ant.mp4", 64, 48)
    f, fa, fant = frames(both), frames(alone_a), frames(alone_ant)
    assert f.shape == (30, 48, 128, 3)  # the longer episode's frames, two tiles
    # Each tile is what that store's own export draws (the pendulum on black, the ant on its floor).
    assert np.abs(f[:24, :, :64] - fa[:24]).mean() < 6
    assert np.abs(f[:24, :, 64:] - fant[:24]).mean() < 6
    assert np.abs(fa[0] - fant[0]).mean() > 20


def test_the_cli_takes_path_id_references_and_names_a_bad_one_in_one_line(runs, tmp_path):
    out = tmp_path / "cli.mp4"
    ok = subprocess.run([sys.executable, "-m", "braxscope.cli", "export", str(runs["a"]), "--episode", "0:1",
                         "--compare", f"{runs['b']}:0:5", "--out", str(out), "--width", "32", "--height", "32",
                         "--quiet"], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert frames(out).shape == (30, 32, 64, 3)
    bad = subprocess.run([sys.executable, "-m", "braxscope.cli", "export", str(runs["a"]), "--episode", "0:1",
                          "--compare", f"{runs['b']}", "--out", str(tmp_path / "x.mp4"), "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "PATH:ID" in bad.stderr, bad.stderr


def test_the_notebook_compares_episodes_of_several_runs(runs, tmp_path):
    import braxscope.notebook as bn

    v = bn.compare(runs["a"], ["0:1", (runs["b"], "0:5")], width=32, height=32)
    p = tmp_path / "nb.mp4"
    p.write_bytes(v.mp4)
    assert frames(p).shape == (30, 32, 64, 3) and v.ids == ["0:1", f"{runs['b']}:0:5"]
