"""Every user action of the app as a ReplaySession command, and the per-frame snapshot the views
draw: tested without a window, against real stores on disk."""

from __future__ import annotations

import numpy as np
import pytest

from braxscope.replay_app import presentation as P
from braxscope.replay_app.export_video import _load, tile_lines
from braxscope.replay_app.session import ReplaySession
from braxscope.schema.reader import open_store
from braxscope.schema.writer import StoreWriter

from .conftest import FakeClock
from .storegen import env_dt, load_model, simulate


def session_of(path, **kw) -> ReplaySession:
    s = ReplaySession(open_store(path), clock=FakeClock(), **kw)
    return s


def shown(s: ReplaySession, *ids) -> ReplaySession:
    (s.select(ids[0]) if len(ids) == 1 else s.set_compare(list(ids)))
    s.poll_store()
    return s


def test_click_row_selects_and_shift_click_toggles_compare(ant_store):
    s = session_of(ant_store)
    assert s.click_row("0:3") and s.views == ["0:3"]
    assert s.click_row("0:5", add=True) and s.views == ["0:3", "0:5"]
    assert s.click_row("0:5", add=True) and s.views == ["0:3"]
    assert s.click_row("0:1") and s.views == ["0:1"]  # a plain click leaves compare mode


def test_compare_snapshots_command_and_its_fallbacks(ant_store, tmp_path):
    s = session_of(ant_store)
    assert s.compare_snapshots() and [s.info(v).iteration for v in s.views] == [0, 1, 2]
    model = load_model("inverted_pendulum")
    w = StoreWriter.create(tmp_path / "one.zarr", model, env_name="inverted_pendulum",
                           dt=env_dt(model, "inverted_pendulum"), train_slots=1)
    ep = simulate(model, "inverted_pendulum", 10, seed=0)
    w.append_snapshot(**ep, iteration=0, env_step=0, complete=True)
    w.close()
    one = session_of(tmp_path / "one.zarr")
    assert one.compare_snapshots() and len(one.views) == 1  # one snapshot: shown alone
    from .storegen import make_store

    none = session_of(make_store(tmp_path / "none.zarr", name="inverted_pendulum", iterations=1, slots=1,
                                 episode_len=10, snapshots=False))
    assert not none.compare_snapshots() and "no policy snapshots" in none.message


def test_filters_take_the_boxes_text_and_bad_text_means_no_bound(ant_store):
    s = session_of(ant_store)
    s.set_filter(source="snapshot", iter_min="1", iter_max="")
    assert [e.iteration for e in s.rows()] == [1, 2]
    s.set_filter(source="all sources", iter_min="abc")
    assert len(s.rows()) == 9


def test_ghost_overlays_camera_and_shadows_are_session_state(ant_store):
    s = shown(session_of(ant_store), "0:0", "0:3")
    s.set_ghost(True)
    s.set_overlay("reward", False)
    s.set_camera("free")
    s.set_shadows(True)
    s.drag("orbit", 10, -5)
    s.wheel(2)
    snap = s.snapshot()
    assert snap.scene.ghost and snap.header.ghost and not snap.header.overlays.reward
    assert snap.header.camera == "free" and snap.header.shadows
    assert s.take_camera_moves() == [("camera", "free"), ("shadows", True), ("orbit", -4.0, 2.0),
                                     ("zoom", pytest.approx(0.81))]
    assert s.take_camera_moves() == []
    with pytest.raises(ValueError):
        s.set_overlay("nope", True)


def test_snapshot_revisions_change_only_with_their_aspect(ant_store):
    s = shown(session_of(ant_store), "0:0")
    a = s.snapshot()
    b = s.snapshot()
    assert b is not a and b.scene is a.scene and b.table is a.table and b.plots is a.plots  # nothing changed
    s.seek(10)
    c = s.snapshot()
    assert c.scene.rev > a.scene.rev and c.timeline.rev > a.timeline.rev
    assert c.table is a.table and c.plots is a.plots  # the cursor does not touch the browser or the series
    s.set_overlay("step", False)
    d = s.snapshot()
    assert d.scene.rev > c.scene.rev and d.scene.picture == c.scene.picture  # new text, same picture
    s.click_row("0:4")
    s.poll_store()
    e = s.snapshot()
    assert e.table.rev > d.table.rev and e.plots.rev > d.plots.rev
    assert [r.id for r in e.table.rows if r.marked] == ["0:4"]


def test_the_table_snapshot_holds_only_the_visible_window(ant_store):
    s = session_of(ant_store)
    s.scroll_table(3, 4)
    t = s.snapshot().table
    assert t.total == 9 and t.first == 3 and [r.id for r in t.rows] == ["0:3", "0:4", "0:5", "0:6"]
    assert t.rows[0].cells[0] == "0:3" and t.rows[0].status == "done" and t.rows[0].cells[-1] == "done"
    s.scroll_table(100)
    assert s.snapshot().table.first == 5  # clamped: the window stays full


def test_plot_series_and_the_training_metric(ant_store):
    s = shown(session_of(ant_store), "0:0", "0:2")
    p = s.snapshot().plots
    assert [x.label for x in p.reward] == ["reward 0:0 (it 0)", "reward 0:2 (it 0)"]
    assert len(p.actions) == 8 and p.actions_title == "Actions (0:0)"
    assert p.curve is not None and p.curve_title == "Training curve: eval/episode_reward"
    assert [m[3] for m in p.marks] == list(P.COMPARE_COLOURS[:2])


def test_header_texts_and_the_recording_toggle(ant_copy):
    s = shown(session_of(ant_copy), "0:0")
    h = s.snapshot().header
    assert h.recorder_text == "run finished" and h.recording_button is None and not h.live
    assert s.toggle_recording() and s.control["recording"] is False


def test_export_is_what_is_on_screen_in_the_screens_grid(ant_store, tmp_path):
    import imageio.v3 as iio

    s = shown(session_of(ant_store, viewport=(320, 240)), "0:2", "0:5", "0:8")
    grid = s.snapshot().scene.grid
    assert s.export(str(tmp_path / "three.mp4"), wait=True), s.export_status
    assert s.export_status.startswith("saved")
    frames = iio.imread(tmp_path / "three.mp4", index=None)
    cw, ch = s.cell_size()
    assert grid == (2, 2) and frames.shape[1:3] == (grid[0] * ch, grid[1] * cw)  # the screen's layout


def _nan_store(tmp_path):
    model = load_model("inverted_pendulum")
    w = StoreWriter.create(tmp_path / "nan.zarr", model, env_name="inverted_pendulum",
                           dt=env_dt(model, "inverted_pendulum"), train_slots=1)
    ep = simulate(model, "inverted_pendulum", 12, seed=3)
    ep["reward"][4] = np.nan
    w.append_snapshot(**ep, iteration=0, env_step=0, complete=True)
    w.close()
    return tmp_path / "nan.zarr", ep["reward"]


def test_running_return_skips_a_nan_reward_instead_of_blanking_the_rest(tmp_path):
    _, reward = _nan_store(tmp_path)
    ret = P.running_return(reward)
    assert np.isfinite(ret).all()
    np.testing.assert_allclose(ret[-1], np.nansum(reward.astype(np.float64)))


@pytest.mark.parametrize("step", [0, 4, 7, 11, 30])
def test_overlay_text_is_the_same_in_the_app_and_the_export_even_with_a_nan_reward(tmp_path, step):
    path, _ = _nan_store(tmp_path)
    s = shown(session_of(path), "0:0")
    s.seek(step)
    app_lines = s.snapshot().scene.cells[0].lines
    tr = _load(open_store(path), "0:0")
    export_lines = tile_lines(tr, step, 0, False, s.overlays)
    assert app_lines == export_lines
    assert app_lines[0][0] == f"step {min(step, 11)} / 11"
    if step == 4:
        assert "reward +nan" in [t for t, _ in app_lines] or "reward nan" in [t for t, _ in app_lines]
    # compare cells too (the label line, step and return)
    s.set_compare(["0:0", "0:0"])
    assert tile_lines(tr, step, 0, True, s.overlays)[1][0].startswith(f"step {min(step, 11)} / 11")
