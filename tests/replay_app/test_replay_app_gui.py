"""The DearPyGui app under Xvfb: drive it, capture its frame buffer, assert on pixels and state."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from .conftest import ROOT, braxscope_cli, live_writer, start_xvfb
from .storegen import make_store

pytestmark = pytest.mark.gui


def _drive(mode: str, display: str, store, out) -> dict:
    env = dict(os.environ, DISPLAY=display, MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"), PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "tests.replay_app.gui_driver", mode, str(store), str(out)], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=400)
    results = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
    assert r.returncode == 0, r.stderr[-3000:]
    errors = results.get("errors", {})
    assert errors.get("count") == 0, f"the app showed an error: {errors}"  # nothing is hidden by the banner
    return results


@pytest.fixture(scope="module")
def gui_store(tmp_path_factory):
    return make_store(tmp_path_factory.mktemp("gui") / "ant.zarr", iterations=3, slots=2, episode_len=80,
                      snapshot_len=60, nan_snapshot=True)


@pytest.fixture(scope="module")
def shown(xvfb, gui_store, artifacts) -> dict:
    """Runs the scenario in gui_driver.py (its own process, real X input) once; the tests below
    check parts of it."""
    return _drive("scenario", xvfb, gui_store, artifacts / "app")


def test_app_opens_a_store_and_draws_the_frame_the_plots_and_the_browser(shown):
    o = shown["open"]
    assert shown["settled_open"]
    assert o["viewport_h"] > 300 and o["viewport_std"] > 20  # a rendered scene, not a blank texture
    for plot in ("p_reward", "p_action", "p_train"):
        assert o[f"{plot}_colours"] > 40, plot  # axes, ticks and coloured series are drawn
    assert o["table_rows"] == 10  # every episode listed
    assert o["first_frame_s"] is not None


def test_the_space_key_plays_and_pauses_and_the_shown_frame_follows_the_clock(shown):
    p = shown["play"]
    assert shown["space_plays"] and p["paused"]
    assert p["cursor"] > 20 and p["frames_shown"] >= 4
    assert p["shown_frame"] == p["cursor"]  # the frame on screen is the cursor's


def test_dragging_the_scrubber_moves_the_cursor_and_the_picture(shown):
    sc = shown["scrub"]
    assert 0.55 * sc["len"] < sc["cursor"] < 0.85 * sc["len"], sc  # dragged to 70% of the slider
    assert sc["shown"] == sc["cursor"]
    assert shown["scrub_diff"] > 2


def test_keys_right_left_end_home_and_L_pressed_on_the_keyboard(shown):
    k = shown["keys"]
    assert (k["right"], k["left"], k["end"], k["home"]) == (11, 10, 79, 0)
    assert k["L_live"] and not k["L_again_live"]


def test_clicking_a_row_selects_it_and_shift_click_toggles_compare(shown):
    sw = shown["switch"]
    assert sw["views"] == ["0:7"] and sw["cursor"] == 0
    assert sw["marked"] == ["0:7"]  # the browser highlights that row only
    assert sw["plot_diff"] > 1 and sw["action_diff"] > 1  # the plots show the new episode
    sc = shown["shift_click"]
    assert sc["views"] == ["0:7", "0:3"] and sc["marked"] == ["0:3", "0:7"] and sc["cells"] == 2
    assert shown["shift_click_again"] == ["0:7"]


def test_clicking_the_overlay_checkboxes_turns_the_overlay_text_off(shown):
    assert not any(shown["overlays_after_clicks"].values())
    assert shown["overlay_diff"] > 5


def test_drag_orbits_right_drag_pans_wheel_zooms_and_reset_view_restores(shown):
    c = shown["camera"]
    assert c["names"] == ["track", "free", "model: track"]
    assert c["orbit"] > 5 and c["pan"] > 5 and c["zoom"] > 5  # each real mouse gesture changes the view
    assert c["orbit_reset"] < 1 and c["pan_reset"] < 1 and c["zoom_reset"] < 1  # the button goes back


def test_the_shadows_checkbox_changes_the_picture(shown):
    assert shown["shadows_on"] and shown["shadows_diff"] > 1


def test_nan_qpos_frames_show_the_invalid_frame(shown):
    assert shown["nan_invalid_fraction"] > 0.8


def test_compare_mode_draws_two_and_four_viewports_that_differ(shown):
    c2, c4 = shown["compare2"], shown["compare4"]
    assert min(c2["std"]) > 15 and c2["diff"] > 2
    assert min(c4["std"]) > 15 and c4["diff"] > 2


def test_the_ghost_checkbox_draws_the_others_into_the_first_episodes_scene(shown):
    g = shown["ghost"]
    assert g["shown_ghost"] and g["session_ghost"] and g["std"] > 15
    assert g["diff_from_alone"] > 1  # the first episode alone at the same frame, plus the translucent others


def test_compare_snapshots_is_one_click_first_middle_latest(shown):
    c = shown["compare_snapshots"]
    assert len(c["views"]) == 3 and c["iterations"] == sorted(c["iterations"])
    assert c["iterations"][0] == 0 and c["iterations"][-1] == 3
    assert c["marked"] == sorted(c["views"])  # a selection made by a button is highlighted too


def test_export_button_writes_the_screens_grid_while_the_window_keeps_drawing(shown, artifacts):
    import imageio.v3 as iio

    e = shown["export"]
    assert e["exists"] and e["status"].startswith("saved"), e
    assert e["gui_frames_during"] > 3
    frames = iio.imread(artifacts / "app" / "export_compare.mp4", index=None)
    cw, ch = (x // 2 * 2 for x in e["cell"])
    assert e["grid"] == [2, 2] and frames.shape[1:3] == (2 * ch, 2 * cw)  # the screen's 2x2, its cell size
    assert len(frames) == 60  # the longest of the three 60-step snapshots
    empty = frames[5, ch + 10:, cw + 10:].reshape(-1, 3).astype(int)
    assert np.abs(empty - np.array([33, 36, 41])).max(axis=1).mean() < 6  # the fourth cell is empty, as on screen


def test_clicking_a_plot_with_the_real_pointer_moves_the_cursor_there(shown):
    n = shown["click_left"]["len"]
    left, right = shown["click_left"]["cursor"], shown["click_right"]["cursor"]
    # the plots span the episode: a click at 20% / 80% of the plot's width lands near those steps
    # (the plot area is a little narrower than the item: axis labels take the left edge)
    assert 0.05 * n < left < 0.35 * n and 0.6 * n < right < 0.95 * n, (left, right, n)
    assert shown["click_left"]["shown"] == left and shown["click_right"]["shown"] == right
    assert shown["click_viewport_diff"] > 2 and shown["click_plot_diff"] > 0.05


def test_no_gui_action_writes_to_the_store(shown):
    assert shown["store_checks"] >= 8 and shown["store_unchanged"] == []  # a hash of every file, after each


@pytest.mark.slow
@pytest.mark.timing  # how far behind the writer it stays is wall-clock: run alone (see the Makefile)
def test_live_follow_moves_on_to_new_episodes_close_behind_the_writer_and_only_the_toggle_writes(
        xvfb, tmp_path, artifacts):
    path = tmp_path / "live.zarr"
    # 3 rows every 0.12 s: the writer records at about real time (dt 0.04 s), as training shown live does.
    with live_writer(path, iterations=400, episode_len=30, block=3, sleep_s=0.12):
        R = _drive("live", xvfb, path, artifacts / "live")
    assert R["live_after_L"] and R["live_still"]
    # Following, not plain playback: it moved on to newer episodes as they were written (30-step
    # episodes last 1.2 s; 6 s of following spans several) ...
    assert len(R["starts"]) >= 3, R["starts"]
    # ... and the shown row stays about a second behind the writer's newest committed row.
    assert R["lag_max_last_half"] is not None and R["lag_max_last_half"] < 1.5, R
    # The viewer wrote nothing while following; the recording toggle wrote control.json only.
    assert R["unchanged_while_following"]
    assert R["button"] == "Pause recording" and R["changed_by_toggle"] == ["control.json"]
    assert R["control"]["recording"] is False and R["button_after"] == "Resume recording"


# ---------------------------------------------------------------- the window on the screen


@pytest.mark.parametrize("size", ["1366x768", "1920x1080"])
def test_the_window_fits_the_screen_and_reflows_when_resized(size, gui_store, artifacts):
    proc, display = start_xvfb(size)
    try:
        R = _drive("screen", display, gui_store, artifacts / f"screen_{size}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    sw, sh = R["screen"]
    x, y, w, h = R["window"]
    assert x >= 0 and y >= 0 and x + w <= sw and y + h <= sh, (R["window"], R["screen"])  # inside the screen
    for name in ("open", "small", "large"):
        m = R[name]
        vx, vy, vw, vh = m["viewport_rect"]
        win_w, win_h = (w, h) if name == "open" else m["client"]
        assert vx >= 0 and vy >= 0 and vx + vw <= win_w and vy + vh <= win_h, (name, m)  # not cut
        assert abs(vw / vh - 640 / 480) < 0.02, (name, m)  # keeps its aspect ratio
        assert m["viewport_std"] > 20 and m["bottom_std"] > 5 and m["right_std"] > 5, (name, m)  # drawn to its edges
        for panel in ("plots_rect", "browser_rect", "train_rect"):
            px, py, pw, ph = m[panel]
            assert px + pw <= win_w + 1 and py + ph <= win_h + 1 and pw > 10 and ph > 10, (name, panel, m)
        assert m["plots_rect"][2] > 150 and m["train_rect"][3] > 60, (name, m)  # the plots take the rest
        assert m["render"][0] <= 640 and m["render"][1] <= 480
    small, large = R["small"], R["large"]
    assert small["client"] == [1000, 640] and large["client"] == [sw, sh]
    assert small["viewport_rect"][2] < large["viewport_rect"][2]  # the viewport grows with the window
    assert small["render"][0] < 640  # and the renderer renders at the smaller size


# ---------------------------------------------------------------- the CLI, in its own process


def test_cli_opens_the_store_on_its_newest_snapshot_and_the_screenshot_shows_the_frame(xvfb, ant_store, tmp_path,
                                                                                      artifacts):
    # How soon the first frame comes is a speed figure: benchmarks/viewer.py measures it (target 2 s).
    stats = tmp_path / "stats.json"
    r = braxscope_cli("view", str(ant_store), "--exit-after", "3", "--stats", str(stats),
                      "--screenshot", str(artifacts / "cli_view.png"), env={"DISPLAY": xvfb})
    assert r.returncode == 0, r.stderr
    st = json.loads(stats.read_text())
    assert st["first_frame_s"] is not None, st  # shown before the window closed
    # and the screenshot taken then shows it: a rendered scene in the viewport, the browser's rows
    from PIL import Image

    img = np.asarray(Image.open(artifacts / "cli_view.png").convert("RGB")).astype(np.int16)
    h, w = img.shape[:2]
    view = img[h // 10: h // 2, int(w * 0.3): int(w * 0.6)]  # inside the viewport column, any screen size
    assert view.std() > 20, view.std()
    assert st["frames_shown"] >= 1 and st["trace"][0][1] == ["0:8"]  # the newest snapshot, opened by default


@pytest.mark.slow
def test_live_mode_the_displayed_frame_advances_while_a_writer_appends(xvfb, tmp_path):
    path = tmp_path / "live.zarr"
    with live_writer(path, iterations=200, episode_len=30, block=3, sleep_s=0.05):
        stats = tmp_path / "stats.json"
        r = braxscope_cli("view", str(path), "--live", "--exit-after", "6", "--stats", str(stats),
                          env={"DISPLAY": xvfb})
        assert r.returncode == 0, r.stderr
    st = json.loads(stats.read_text())
    assert st["live"]
    shown = [(starts[0], frames[0]) for _, views, frames, starts in st["trace"]]
    assert len(shown) > 10
    assert shown[-1] > shown[0]  # a newer episode, or further into the growing one


def test_cli_bad_input_is_one_line_and_exit_2(xvfb, ant_store, tmp_path):
    env = {"DISPLAY": xvfb}
    r = braxscope_cli("view", str(tmp_path / "nope.zarr"), env=env)
    assert r.returncode == 2 and "does not exist" in r.stderr and "Traceback" not in r.stderr
    r = braxscope_cli("view", str(ant_store), "--episode", "0:999", env=env)
    assert r.returncode == 2 and "no episode" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = braxscope_cli("view", str(ant_store), "--compare", "0:0", env=env)
    assert r.returncode == 2 and "--compare" in r.stderr


def test_cli_newer_or_damaged_store_is_a_clear_message(ant_store, tmp_path):
    newer = tmp_path / "newer.zarr"
    shutil.copytree(ant_store, newer)
    doc = json.loads((newer / "zarr.json").read_text())
    doc["attributes"]["braxscope"]["schema_version"] = 99
    (newer / "zarr.json").write_text(json.dumps(doc))
    r = braxscope_cli("view", str(newer))
    assert r.returncode == 2 and "schema version 99" in r.stderr and "Traceback" not in r.stderr
    damaged = tmp_path / "damaged.zarr"
    shutil.copytree(ant_store, damaged)
    (damaged / "zarr.json").write_text("{not json")
    r = braxscope_cli("view", str(damaged))
    assert r.returncode == 2 and "damaged" in r.stderr and "Traceback" not in r.stderr


def test_cli_without_a_display_says_so(ant_store):
    r = braxscope_cli("view", str(ant_store), env={"DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert r.returncode == 2 and "no display" in r.stderr


def test_a_training_curve_of_one_evaluation_is_drawn_as_a_marker(xvfb, tmp_path):
    # The first minutes of a run: one metrics row. A line of one point draws nothing.
    store = make_store(tmp_path / "one_eval.zarr", iterations=1, slots=1, episode_len=30, snapshot_len=20)
    R = _drive("first_eval", xvfb, store, tmp_path / "out")
    # a marker, left out of the legend (the line's entry names the curve once)
    assert ["mvScatterSeries", "##eval/episode_reward"] in R["curve_items"], R["curve_items"]
    assert R["with_marker"] > R["without_marker"] + 10, R  # the marker's own pixels, in the curve's colour
