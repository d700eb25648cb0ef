"""ReplaySession: the viewer's model, tested without a window against real stores on disk."""

from __future__ import annotations

import time

import numpy as np
import pytest

from braxscope.replay_app.session import LiveTarget, ReplaySession
from braxscope.schema import layout
from braxscope.schema.control import read_control
from braxscope.schema.reader import open_store

from .conftest import FakeClock, live_writer


def session_of(path, clock=None, **kw) -> ReplaySession:
    return ReplaySession(open_store(path), clock=clock or FakeClock(), **kw)


def loaded(s: ReplaySession, eid: str) -> ReplaySession:
    s.select(eid)
    s.poll_store()
    assert s.data(s.views[0]) is not None
    return s


# ------------------------------------------------------------------ catalog


def test_catalog_lists_every_episode_with_source_and_status(ant_store):
    s = session_of(ant_store)
    assert len(s.catalog) == 9
    assert {e.source for e in s.catalog} == {"train", "snapshot"}
    assert all(s.status_of(e) == "done" for e in s.catalog)


def test_filter_by_source_iteration_and_return(ant_store):
    s = session_of(ant_store)
    s.set_filter(source="snapshot")
    assert [e.iteration for e in s.rows()] == [0, 1, 2]
    s.set_filter(source=None, iter_min=1, iter_max=1)
    assert {e.iteration for e in s.rows()} == {1} and len(s.rows()) == 3
    rets = sorted(e.ret for e in s.catalog)
    s.set_filter(iter_min=None, iter_max=None, ret_min=rets[3], ret_max=rets[5])
    assert sorted(e.ret for e in s.rows()) == rets[3:6]


def test_sort_by_return_descending(ant_store):
    s = session_of(ant_store)
    s.set_sort("return", descending=True)
    rets = [e.ret for e in s.rows()]
    assert rets == sorted(rets, reverse=True)
    s.set_sort("id")
    assert [e.id for e in s.rows()][:3] == ["0:0", "0:1", "0:2"]


def test_select_unknown_episode_gives_a_message_not_an_error(ant_store):
    s = session_of(ant_store)
    assert not s.select("0:999")
    assert "no episode" in s.message


# ------------------------------------------------------------------ playback


def test_playback_follows_the_real_time_clock_from_the_model_dt(ant_store, clock):
    s = loaded(session_of(ant_store, clock), "0:0")
    assert s.dt == pytest.approx(0.05)
    s.play()
    clock.advance(0.5)
    s.tick()
    assert s.cursor == 10  # 0.5 s / 0.05 s per step


def test_playback_drops_frames_rather_than_falling_behind(ant_store, clock):
    s = loaded(session_of(ant_store, clock), "0:0")
    s.play()
    seen = []
    for dt_wall in (0.01, 0.6, 0.02, 1.1):  # a slow frame in between: the cursor jumps
        clock.advance(dt_wall)
        s.tick()
        seen.append(s.cursor)
    assert seen == [0, 12, 12, 34]


@pytest.mark.parametrize("speed,expected", [(0.25, 5), (2.0, 40), (8.0, 79)])
def test_speed_scales_the_clock(ant_store, clock, speed, expected):
    s = loaded(session_of(ant_store, clock), "0:0")
    s.set_speed(speed)
    s.play()
    clock.advance(1.0)
    s.tick()
    assert s.cursor == expected


def test_speed_is_clamped_to_quarter_to_eight_times(ant_store):
    s = session_of(ant_store)
    s.set_speed(100)
    assert s.speed == 8.0
    s.set_speed(0.01)
    assert s.speed == 0.25


def test_play_stops_at_the_end_without_loop(ant_store, clock):
    s = loaded(session_of(ant_store, clock), "0:0")
    s.play()
    clock.advance(10.0)
    s.tick()
    assert s.cursor == 79 and not s.playing


def test_loop_wraps_to_the_start(ant_store, clock):
    s = loaded(session_of(ant_store, clock), "0:0")
    s.set_loop(True)
    s.play()
    clock.advance(4.5)  # 90 frames into an 80-frame episode
    s.tick()
    assert s.playing and s.cursor == 10


def test_step_pauses_and_moves_one_frame(ant_store, clock):
    s = loaded(session_of(ant_store, clock), "0:0")
    s.play()
    clock.advance(0.5)
    s.tick()
    s.step(1)
    assert not s.playing and s.cursor == 11
    s.step(-1)
    assert s.cursor == 10
    s.home()
    s.step(-1)
    assert s.cursor == 0
    s.end()
    s.step(1)
    assert s.cursor == 79


def test_scrubbing_moves_the_cursor_and_playback_continues_from_there(ant_store, clock):
    s = loaded(session_of(ant_store, clock), "0:0")
    s.play()
    s.seek(50)
    clock.advance(0.25)
    s.tick()
    assert s.cursor == 55
    s.seek(10_000)
    assert s.cursor == 79


def test_qpos_at_the_cursor_is_the_stored_row(ant_store):
    s = loaded(session_of(ant_store), "0:3")
    s.seek(17)
    want = open_store(ant_store).frames("0:3").qpos[17]
    np.testing.assert_array_equal(s.qpos()[0], want)


# ------------------------------------------------------------------ compare


def test_compare_aligns_by_step_and_shorter_episodes_hold_their_last_frame(ant_store):
    s = session_of(ant_store)
    assert s.set_compare(["0:0", "0:2"])  # 80-step train episode and 50-step snapshot
    s.poll_store()
    assert s.length == 80
    s.seek(30)
    assert [s.frame_of(0), s.frame_of(1)] == [30, 30]
    s.seek(70)
    assert [s.frame_of(0), s.frame_of(1)] == [70, 49]
    snap = open_store(ant_store).frames("0:2").qpos
    np.testing.assert_array_equal(s.qpos()[1], snap[49])


def test_compare_add_and_remove_keep_the_shared_cursor(ant_store):
    s = session_of(ant_store)
    s.set_compare(["0:0", "0:3"])
    s.poll_store()
    s.seek(40)
    assert s.add_compare("0:6") and s.add_compare("0:7")
    assert not s.add_compare("0:1")  # at most 4
    assert len(s.views) == 4 and s.cursor == 40
    s.remove_compare("0:3")
    assert s.views == ["0:0", "0:6", "0:7"] and s.cursor == 40


def test_compare_snapshots_picks_first_middle_and_latest(ant_store):
    s = session_of(ant_store)
    picks = s.snapshot_picks()
    assert [s.info(p).iteration for p in picks] == [0, 1, 2]


# ------------------------------------------------------------------ memory, damage


def test_cache_is_bounded_and_keeps_the_shown_episode(ant_store):
    one = session_of(ant_store)
    loaded(one, "0:0")
    per_episode = one.cached_bytes
    s = session_of(ant_store, cache_bytes=int(per_episode * 2.5))
    for e in s.catalog:
        loaded(s, e.id)
    assert s.cached_count <= 3
    assert s.data(s.views[0]) is not None


def test_damaged_episode_is_listed_as_damaged_and_others_still_play(ant_copy):
    writer = next(p for p in (ant_copy / "writers").iterdir() if p.is_dir())
    chunk = writer / "snapshots" / "qpos" / "c.0.0.0"  # layout v1 chunk keys use "." (SCHEMA.md)
    chunk.write_bytes(b"this is not a blosc chunk")
    s = session_of(ant_copy)
    s.select("0:2")  # a snapshot: its chunk is damaged
    s.poll_store()
    assert s.status_of(s.info("0:2")) == "damaged"
    assert "damaged" in s.message
    assert s.qpos() == [None]
    loaded(s, "0:0")  # a train episode plays
    assert s.qpos()[0] is not None


# ------------------------------------------------------------------ recorder status, control


def test_recording_toggle_writes_the_control_file_only_when_asked(ant_copy):
    s = session_of(ant_copy)
    loaded(s, "0:0")
    s.play()
    s.tick()
    assert not (ant_copy / layout.CONTROL_FILE).exists()
    s.set_recording(False)
    assert read_control(ant_copy)["recording"] is False
    s.set_recording(True)
    assert read_control(ant_copy)["recording"] is True


def test_a_quiet_writer_shows_recorder_stopped(tmp_path):
    from .storegen import make_store

    path = make_store(tmp_path / "open.zarr", iterations=1, close=False)
    hb = open_store(path).writers()[0].heartbeat
    wall = [hb + 1.0]
    s = ReplaySession(open_store(path), wall=lambda: wall[0], heartbeat_timeout_s=15)
    assert s.recorder_status().state == "recording"
    wall[0] = hb + 60
    st = s.recorder_status()
    assert st.state == "stopped" and "recorder stopped" in st.text


def test_a_finished_run_shows_as_finished(ant_store):
    assert session_of(ant_store).recorder_status().state == "closed"


# ------------------------------------------------------------------ live follow


def test_live_follow_with_a_writer_appending_in_another_process(tmp_path):
    path = tmp_path / "live.zarr"
    with live_writer(path, iterations=30, episode_len=30, block=3, sleep_s=0.04):
        s = ReplaySession(open_store(path))
        assert s.go_live(LiveTarget("slot", None, 0))
        seen_open, shown = set(), []
        t_end = time.time() + 6
        while time.time() < t_end:
            s.poll_store()
            s.tick()
            if s.views:
                info = s.info(s.views[0])
                if info is not None:
                    seen_open.add(info.in_progress)
                    shown.append((info.start, s.cursor))
            time.sleep(0.05)
        assert s.live
        assert True in seen_open  # it followed an episode still being recorded
        starts = [st for st, _ in shown]
        assert starts[-1] > starts[0]  # moved on to newer episodes as they were written
        s.poll_store()  # the episode it last switched to is loaded
        assert s.lag_s() is not None and s.lag_s() < 5.0
        assert s.recorder_status().state == "recording"


def test_leaving_and_rejoining_live(tmp_path):
    path = tmp_path / "live.zarr"
    with live_writer(path, iterations=30, episode_len=20, block=4, sleep_s=0.03):
        s = ReplaySession(open_store(path))
        s.go_live()
        s.poll_store()
        s.seek(0)  # scrubbing back leaves live
        assert not s.live
        old = s.info(s.views[0]).start
        time.sleep(1.5)
        s.poll_store()
        s.tick()
        assert s.info(s.views[0]).start == old  # no longer following (same rows, maybe catalogued since)
        assert s.go_live()  # L
        newest = max((e for e in s.catalog if e.source == "train"), key=lambda e: e.start)
        assert s.live and s.info(s.views[0]).start == newest.start


def test_live_snapshot_target_follows_the_newest_snapshot(tmp_path):
    path = tmp_path / "live.zarr"
    with live_writer(path, iterations=30, episode_len=10, block=5, sleep_s=0.02):
        s = ReplaySession(open_store(path))
        t_end = time.time() + 10
        while time.time() < t_end and not any(e.source == "snapshot" for e in s.catalog):
            s.poll_store()
            time.sleep(0.05)
        s.set_speed(8)
        assert s.go_live(LiveTarget("snapshot"))
        its = []
        t_end = time.time() + 4
        while time.time() < t_end:
            s.poll_store()
            s.tick()
            its.append(s.info(s.views[0]).iteration)
            time.sleep(0.03)
        assert its[-1] > its[0]


def test_an_open_episode_keeps_its_rows_when_it_is_catalogued(tmp_path):
    from braxscope.schema.writer import StoreWriter

    from .storegen import env_dt, load_model, simulate

    model = load_model("inverted_pendulum")
    w = StoreWriter.create(tmp_path / "s.zarr", model, env_name="inverted_pendulum",
                           dt=env_dt(model, "inverted_pendulum"), train_slots=1)
    a, b = simulate(model, "inverted_pendulum", 20, seed=1), simulate(model, "inverted_pendulum", 10, seed=2)

    def append(ep, lo, hi, step0):
        w.append_train(qpos=ep["qpos"][lo:hi, None], qvel=ep["qvel"][lo:hi, None], action=ep["action"][lo:hi, None],
                       reward=ep["reward"][lo:hi, None], done=ep["done"][lo:hi, None],
                       env_id=np.zeros((hi - lo, 1), np.int32), env_step=step0 + np.arange(lo, hi), iteration=0)
        w.commit()

    append(a, 0, 10, 0)
    s = session_of(tmp_path / "s.zarr")
    loaded(s, "0:open-0")
    assert s.info("0:open-0").in_progress and len(s.data("0:open-0")) == 10
    append(a, 10, 20, 0)  # the episode ends (done) ...
    append(b, 0, 5, 20)  # ... and the slot's next one opens under the same "0:open-0"
    s.poll_store()
    info = s.info(s.views[0])
    assert not info.in_progress and info.start == 0 and info.length == 20
    np.testing.assert_array_equal(s.data(s.views[0]).frames.qpos, a["qpos"])
    w.close()


def test_live_on_an_empty_store_waits_for_the_first_episode(tmp_path):
    from braxscope.schema.writer import StoreWriter

    from .storegen import append_iteration, env_dt, load_model

    model = load_model("inverted_pendulum")
    w = StoreWriter.create(tmp_path / "s.zarr", model, env_name="inverted_pendulum",
                           dt=env_dt(model, "inverted_pendulum"), train_slots=1)
    s = session_of(tmp_path / "s.zarr")
    assert not s.go_live() and s.live and "waiting" in s.message
    append_iteration(w, model, "inverted_pendulum", 0, 0, 1, 20, 1.0, block=5, sleep_s=0.0)
    w.commit()
    s.poll_store()
    s.tick()
    s.poll_store()
    assert s.live and s.views and s.data(s.views[0]) is not None and s.message == ""
    w.close()
