"""The DearPyGui app under Xvfb: drive it, capture its frame buffer, assert on pixels and state."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from .conftest import ROOT, braxscope_cli, live_writer
from .storegen import make_store

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def shown(xvfb, tmp_path_factory, artifacts) -> dict:
    """Runs the scenario in gui_driver.py (its own process) once; the tests below check parts of it."""
    path = make_store(tmp_path_factory.mktemp("gui") / "ant.zarr", iterations=3, slots=2, episode_len=80,
                      snapshot_len=60, nan_snapshot=True)
    out = artifacts / "app"
    env = dict(os.environ, DISPLAY=xvfb, MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"), PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "tests.replay_app.gui_driver", str(path), str(out)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    results = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
    assert r.returncode == 0, r.stderr[-3000:]
    errors = results.get("errors", {})
    assert errors.get("count") == 0, f"the app showed an error: {errors}"  # nothing is hidden by the banner
    return results


def test_app_opens_a_store_and_draws_the_frame_the_plots_and_the_browser(shown):
    o = shown["open"]
    assert shown["settled_open"]
    assert o["viewport_h"] > 300 and o["viewport_std"] > 20  # a rendered scene, not a blank texture
    for plot in ("p_reward", "p_action", "p_train"):
        assert o[f"{plot}_colours"] > 40, plot  # axes, ticks and coloured series are drawn
    assert o["table_rows"] == 10  # every episode listed
    assert o["first_frame_s"] is not None


def test_play_advances_the_cursor_and_the_displayed_frame(shown):
    p = shown["play"]
    assert p["cursor"] > 20 and p["frames_shown"] >= 4
    assert p["shown_frame"] > 5  # the frame on screen moved with the clock


def test_scrubbing_changes_the_viewport(shown):
    assert shown["scrub_cursor"] == 70
    assert shown["scrub_diff"] > 2


def test_switching_episodes_from_the_browser(shown):
    sw = shown["switch"]
    assert sw["views"] == ["0:7"] and sw["cursor"] == 0
    assert sw["marked"] == ["0:7"]  # the browser highlights that row only
    assert sw["plot_diff"] > 1 and sw["action_diff"] > 1  # the plots show the new episode


def test_overlays_toggle_on_and_off(shown):
    assert shown["overlay_diff"] > 5


def test_camera_orbit_zoom_model_camera_and_reset(shown):
    c = shown["camera"]
    assert c["names"] == ["track", "free", "model: track"]
    assert c["orbit"] > 5 and c["zoom"] > 5 and c["model"] > 5  # each changes the view
    assert c["reset"] < 1  # back to the tracking camera's default view


def test_keys_space_right_home_end_and_L(shown):
    k = shown["keys"]
    assert k["right"] == 11 and k["end"] == 79 and k["home"] == 0
    assert k["space_playing"] and k["L_live"] and not k["L_again_live"]


def test_shadows_toggle_changes_the_picture(shown):
    assert shown["shadows_diff"] > 1


def test_nan_qpos_frames_show_the_invalid_frame(shown):
    assert shown["nan_invalid_fraction"] > 0.8


def test_compare_mode_draws_two_and_four_viewports_that_differ(shown):
    c2, c4 = shown["compare2"], shown["compare4"]
    assert min(c2["std"]) > 15 and c2["diff"] > 2
    assert min(c4["std"]) > 15 and c4["diff"] > 2


def test_ghost_mode_draws_the_compared_episodes_in_one_scene(shown):
    g = shown["ghost"]
    assert g["shown_ghost"] and g["std"] > 15 and g["diff_from_grid"] > 5


def test_compare_snapshots_is_one_click_first_middle_latest(shown):
    c = shown["compare_snapshots"]
    assert len(c["views"]) == 3 and c["iterations"] == sorted(c["iterations"])
    assert c["iterations"][0] == 0 and c["iterations"][-1] == 3
    assert sorted(c["marked"]) == sorted(c["views"])  # a selection made by a button is highlighted too


def test_browser_highlight_follows_a_selection_made_in_code(shown):
    n = shown["nan_marked"]
    assert n["marked"] == n["views"] and len(n["views"]) == 1


def test_export_button_writes_a_video_of_the_view_while_the_window_keeps_drawing(shown, artifacts):
    import imageio

    e = shown["export"]
    assert e["exists"] and e["status"].startswith("saved"), e
    assert e["gui_frames_during"] > 3
    reader = imageio.get_reader(str(artifacts / "app" / "export.mp4"))
    n = sum(1 for _ in reader)
    assert n == 60  # the 60-step snapshot 0:2, one video frame per step


def test_clicking_a_plot_with_the_real_pointer_moves_the_cursor_there(shown):
    r = shown["real_input"]
    n = r["click_left"]["len"]
    left, right = r["click_left"]["cursor"], r["click_right"]["cursor"]
    # the plots span the episode: a click at 20% / 80% of the plot's width lands near those steps
    # (the plot area is a little narrower than the item: axis labels take the left edge)
    assert 0.05 * n < left < 0.35 * n and 0.6 * n < right < 0.95 * n, (left, right, n)
    assert r["click_left"]["shown"] == left and r["click_right"]["shown"] == right  # that frame is on screen
    assert r["click_viewport_diff"] > 2 and r["click_before_diff"] > 2  # and the picture changed
    assert r["click_plot_diff"] > 0.05  # the cursor line in the plot moved


def test_real_key_presses_step_and_jump(shown):
    r = shown["real_input"]
    assert r["key_right"]["to"] == r["key_right"]["from"] + 1
    assert r["key_home"] == 0


def test_recording_toggle_is_the_only_write(shown):
    assert shown["control_before"] is False  # nothing before the click wrote to the store
    assert shown["control_after"]["recording"] is False


# ---------------------------------------------------------------- the CLI, in its own process


def test_cli_shows_the_first_frame_soon_after_opening_the_store(xvfb, ant_store, tmp_path, artifacts):
    # Measured from the command's start (after Python has imported numpy, zarr and mujoco, which
    # on a loaded 2-core CI box alone can take 2 s); benchmarks/viewer.py reports the total.
    stats = tmp_path / "stats.json"
    t0 = time.time()
    r = braxscope_cli("view", str(ant_store), "--exit-after", "3", "--stats", str(stats),
                      "--screenshot", str(artifacts / "cli_view.png"), env={"DISPLAY": xvfb})
    assert r.returncode == 0, r.stderr
    st = json.loads(stats.read_text())
    assert st["first_frame_s"] < 4.0, st  # the 2 s target: benchmarks/viewer.py (a loaded CI box is slower)
    assert st["first_frame_wall"] - t0 < 10.0


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
