"""Two stores of different seeds in the DearPyGui app under Xvfb, on a 1366x768 laptop screen:
both runs listed, both training curves drawn, a cross-run compare that plays under one cursor.
Driven with real X input by runs_driver.py in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import ROOT, start_xvfb
from .storegen import make_store

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def two_seeds(tmp_path_factory):
    d = tmp_path_factory.mktemp("gui_runs")
    kw = dict(name="inverted_pendulum", iterations=2, slots=1, episode_len=60, snapshot_len=60)
    return make_store(d / "ip_s0.zarr", seed=0, **kw), make_store(d / "ip_s1.zarr", seed=1, **kw)


@pytest.fixture(scope="module")
def shown(two_seeds, artifacts) -> dict:
    proc, display = start_xvfb("1366x768")
    out = artifacts / "runs_1366x768"
    try:
        env = dict(os.environ, DISPLAY=display, MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"), PYTHONPATH=str(ROOT))
        r = subprocess.run([sys.executable, "-m", "tests.replay_app.runs_driver", str(out), *map(str, two_seeds)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    results = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
    assert r.returncode == 0, r.stderr[-3000:]
    assert results["errors"]["count"] == 0, results["errors"]
    return results


def test_both_runs_are_listed_with_their_labels(shown):
    assert shown["labels"] == ["ip s0", "ip s1"]
    assert shown["run_column_shown"]
    assert shown["listed_runs"] == ["ip s0", "ip s1"] == shown["run_cell_texts"]


def test_both_training_curves_are_drawn_in_one_plot(shown):
    assert shown["curve_series"] == ["ip s0", "ip s1"]
    assert all(n > 30 for n in shown["curve_pixels"]), shown["curve_pixels"]  # each run's colour is on screen


def test_a_cross_run_compare_plays_under_one_cursor(shown):
    assert shown["compare_runs"] == ["ip s0", "ip s1"]
    assert shown["marked"] == shown["compare_views"]
    assert shown["playing"]
    after = shown["after_play"]
    assert after["views"] == shown["compare_views"] and after["loaded"] == [True, True] and after["grid"] == [1, 2]
    assert after["cursor"] > 10 and after["frames"] == [after["cursor"]] * 2  # one cursor, both cells
    assert after["lines"][0].startswith("ip s0 ") and after["lines"][1].startswith("ip s1 ")
    assert min(shown["cells_std"]) > 10 and shown["cells_differ"] > 1.0  # two drawn scenes, not the same picture
    assert any("ip s1" in lab for lab in shown["reward_series"])


def test_the_window_and_browser_fit_the_laptop_screen(shown):
    x, y, w, h = shown["window"]
    assert x >= 0 and y >= 0 and x + w <= 1366 and y + h <= 768
    for cell in ("browser_rect", "run_cell_rect"):
        bx, by, bw, bh = shown[cell]
        assert bx + bw <= w and by + bh <= h and bw > 20, (cell, shown[cell])  # the table is not cut
