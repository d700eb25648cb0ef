"""ReplaySession in every state a store can be in, against real stores on disk written by the real
StoreWriter: no writer yet, a writer with no rows, rows but no finished episode, an episode in
progress, a finished run, a second writer, episodes leaving the filter, damaged episodes.

The state machine at the end drives random sequences of user commands, store events and clock
advances; the tests before it pin the states the live viewer of ``make demo`` meets first.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from braxscope.replay_app.session import ReplaySession, episode_key
from braxscope.schema import layout
from braxscope.schema.reader import open_store
from braxscope.schema.writer import StoreWriter

from .conftest import FakeClock
from .storegen import env_dt, load_model

MODEL = load_model("inverted_pendulum")  # nq 2, nv 2, nu 1
ENV = "inverted_pendulum"
DT = env_dt(MODEL, ENV)
SLOTS = 2
SNAPSHOT_TAG = 50.0


def _tag(writer: int, slot: int | None) -> float:
    """qpos[1] of every row a writer writes: which writer and slot (or snapshot) it came from."""
    return 100.0 * writer + (SNAPSHOT_TAG if slot is None else slot)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A store whose writer has closed: its root is what a viewer finds before any writer commits."""
    path = tmp_path_factory.mktemp("template") / "run.zarr"
    StoreWriter.create(path, MODEL, env_name=ENV, dt=DT, train_slots=SLOTS).close()
    return path


def root_only(template: Path, path: Path) -> Path:
    """A store with its root and model but no writer yet: what ``braxscope view --live`` opens
    when training has just created the store (the demo starts the viewer then)."""
    shutil.copytree(template, path, ignore=lambda d, names: names if Path(d).name == layout.WRITERS_GROUP else ())
    return path


class Writer:
    """A real StoreWriter and what the test wrote with it: row r of slot s holds qpos
    ``[r, _tag(writer, s)]``, so any frame on screen names the row it came from."""

    def __init__(self, path: Path, index: int):
        self.index = index
        self.w = StoreWriter.create(path, MODEL, env_name=ENV, dt=DT, train_slots=SLOTS)
        self.id = self.w.writer_id
        self.rows = {layout.TRAIN: 0, layout.SNAPSHOTS: 0}
        self.committed = dict(self.rows)
        self.closed = False

    def append_train(self, k: int, ends: list[bool], env_step: int, iteration: int) -> None:
        r = np.arange(self.rows[layout.TRAIN], self.rows[layout.TRAIN] + k, dtype=np.float32)
        tags = np.array([_tag(self.index, s) for s in range(SLOTS)], np.float32)
        qpos = np.stack([np.broadcast_to(r[:, None], (k, SLOTS)), np.broadcast_to(tags, (k, SLOTS))], axis=-1)
        done = np.zeros((k, SLOTS), bool)
        done[-1] = ends
        self.w.append_train(qpos=qpos, qvel=np.zeros((k, SLOTS, 2)), action=np.zeros((k, SLOTS, 1)),
                            reward=np.ones((k, SLOTS)), done=done,
                            env_id=np.tile(np.arange(SLOTS, dtype=np.int32), (k, 1)),
                            env_step=env_step + np.arange(k), iteration=iteration)
        self.rows[layout.TRAIN] += k

    def append_snapshot(self, length: int, env_step: int, iteration: int) -> None:
        r = np.arange(self.rows[layout.SNAPSHOTS], self.rows[layout.SNAPSHOTS] + length, dtype=np.float32)
        qpos = np.stack([r, np.full(length, _tag(self.index, None), np.float32)], axis=-1)
        self.w.append_snapshot(qpos=qpos, qvel=np.zeros((length, 2)), action=np.zeros((length, 1)),
                               reward=np.ones(length), done=np.arange(length) == length - 1, iteration=iteration,
                               env_step=env_step, complete=True)
        self.w.append_metrics(env_step, {"eval/episode_reward": float(iteration)})
        self.rows[layout.SNAPSHOTS] += length

    def commit(self) -> None:
        self.w.commit()
        self.committed = dict(self.rows)

    def close(self) -> None:
        self.w.close()
        self.committed = dict(self.rows)
        self.closed = True


def _session(path: Path, clock: FakeClock) -> ReplaySession:
    return ReplaySession(open_store(path), clock=clock)


# ---------------------------------------------------------------- the states live mode meets first


def test_live_on_a_store_with_no_writer_yet_waits_through_every_frame(template, tmp_path, clock):
    s = _session(root_only(template, tmp_path / "run.zarr"), clock)
    assert not s.go_live() and s.live and "waiting" in s.message
    for _ in range(20):  # the GUI loop ticks every frame and the store thread polls
        clock.advance(0.05)
        s.tick()
        s.poll_store()
    assert s.live and s.views == [] and s.cursor == 0 and s.qpos() == [] and s.frame_of(0) == 0


def test_live_on_a_writer_with_no_rows_waits_then_shows_the_first_rows(template, tmp_path, clock):
    path = root_only(template, tmp_path / "run.zarr")
    s = _session(path, clock)
    s.go_live()
    w = Writer(path, 0)
    for _ in range(5):
        clock.advance(0.5)
        s.poll_store()
        s.tick()
    assert s.live and s.views == []
    w.append_train(6, [False, False], 0, 0)  # rows, but no finished episode
    w.commit()
    s.poll_store()
    s.tick()
    s.poll_store()
    info = s.info(s.views[0])
    assert info.in_progress and s.data(s.views[0]) is not None and s.message == ""
    clock.advance(10.0)  # far past the rows there are: hold the newest frame
    s.tick()
    assert s.live and s.cursor == 5 and s.qpos()[0][0] == info.start + 5
    w.close()


def test_live_follows_an_episode_that_ends_to_the_slots_next_one(template, tmp_path, clock):
    path = root_only(template, tmp_path / "run.zarr")
    w = Writer(path, 0)
    w.append_train(5, [False, False], 0, 0)
    w.commit()
    s = _session(path, clock)
    s.go_live()
    s.poll_store()
    first = s.info(s.views[0])
    assert first.in_progress and first.start == 0
    w.append_train(2, [True, True], 5, 0)  # it ends, and the slot's next episode starts
    w.append_train(3, [False, False], 7, 0)
    w.commit()
    s.poll_store()
    ended = s.info(s.views[0])
    assert episode_key(ended) == episode_key(first) and not ended.in_progress and ended.length == 7
    clock.advance(1.0)  # played to its end
    s.tick()
    s.poll_store()
    shown = s.info(s.views[0])
    assert shown.slot == first.slot and shown.start == 7 and shown.in_progress
    assert s.qpos()[0][0] == 7 + s.cursor
    w.close()


def test_pausing_a_live_view_leaves_live_mode(template, tmp_path, clock):
    path = root_only(template, tmp_path / "run.zarr")
    w = Writer(path, 0)
    w.append_train(5, [False, False], 0, 0)
    w.commit()
    s = _session(path, clock)
    s.go_live()
    s.pause()
    assert not s.live and not s.playing
    w.close()


def test_damage_marks_rows_not_ids_so_the_slots_next_episode_still_plays(template, tmp_path, clock):
    path = root_only(template, tmp_path / "run.zarr")
    w = Writer(path, 0)
    w.append_train(5, [False, False], 0, 0)
    w.commit()
    chunk = path / layout.WRITERS_GROUP / w.id / layout.TRAIN / "qpos" / "c.0.0.0"  # SCHEMA.md's chunk keys
    chunk.write_bytes(b"this is not a blosc chunk")
    s = _session(path, clock)
    s.select("0:open-0")
    s.poll_store()
    assert s.status_of(s.info("0:open-0")) == "damaged"
    # The episode ends and the slot's next one is listed as "0:open-0" again; the writer's commit
    # rewrites the tail chunk, so the new episode's rows read fine.
    w.append_train(2, [True, True], 5, 0)
    w.append_train(3, [False, False], 7, 0)
    w.commit()
    s.poll_store()
    assert s.status_of(s.info(s.views[0])) == "damaged" and s.info(s.views[0]).start == 0  # the same rows
    assert "0:open-0" not in s.damaged and s.select("0:open-0")
    s.poll_store()
    assert s.data("0:open-0") is not None and s.qpos()[0][0] == 7
    w.close()
