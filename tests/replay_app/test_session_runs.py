"""Several runs in one session: two stores side by side, and a sweep of writer groups in one store.

Stores are written with StoreWriter (tests/replay_app/storegen.py: real MuJoCo physics), no
training. Every behaviour here is the session's; the GUI test over two stores is in
test_runs_gui.py."""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest

from braxscope.replay_app import presentation as P
from braxscope.replay_app.runs import derive_labels, make_runs, short_env, split_label
from braxscope.replay_app.session import ReplaySession
from braxscope.schema.episode_id import split_ref
from braxscope.schema.errors import BraxscopeError, EpisodeNotFoundError
from braxscope.schema.reader import open_store

from .conftest import braxscope_cli, live_writer
from .storegen import make_store

IP = dict(name="inverted_pendulum", iterations=3, slots=1, episode_len=30, snapshot_len=25)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """Two stores of one env, seeds 0 and 1."""
    d = tmp_path_factory.mktemp("runs")
    return make_store(d / "s0.zarr", seed=0, **IP), make_store(d / "s1.zarr", seed=1, **IP)


@pytest.fixture(scope="module")
def ant(tmp_path_factory):
    return make_store(tmp_path_factory.mktemp("ant") / "ant.zarr", iterations=2, slots=1, episode_len=20,
                      snapshot_len=20)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """One store written by two processes of a seed sweep: two writer groups."""
    path = tmp_path_factory.mktemp("sweep") / "sweep.zarr"
    make_store(path, seed=0, process_index=0, **IP)
    make_store(path, seed=1, process_index=1, **IP)
    return path


def session_of(*paths, labels=None, clock=None):
    readers = [open_store(p) for p in paths]
    kw = {} if clock is None else {"clock": clock}
    return ReplaySession(readers if len(readers) > 1 else readers[0], labels=labels, **kw)


def first_of(s: ReplaySession, run: int, source: str = "train") -> str:
    """The first episode id of ``source`` in run ``run``."""
    for ep in s.rows():
        if ep.source == source and s.run_of(ep.id).index == run:
            return ep.id
    raise AssertionError(f"no {source} episode in run {run}")


# ------------------------------------------------------------------ labels


def test_labels_name_the_env_and_only_what_differs():
    ip = lambda **c: {"env": "inverted_pendulum", "config": c}  # noqa: E731
    assert derive_labels([ip(seed=0, num_envs=8), ip(seed=1, num_envs=8)]) == ["ip s0", "ip s1"]
    assert derive_labels([ip(seed=0, learning_rate=3e-4), ip(seed=0, learning_rate=1e-3)]) == \
        ["ip lr 0.0003", "ip lr 0.001"]
    assert derive_labels([{"env": "ant", "config": {"seed": 0}}, ip(seed=0)]) == ["ant", "ip"]
    # Settings only tell apart runs of one env.
    assert derive_labels([{"env": "ant", "config": {"episode_length": 80}}, ip(seed=0), ip(seed=1)]) == \
        ["ant", "ip s0", "ip s1"]
    # Object reprs (a progress_fn's address) differ between processes of one run: not a difference.
    assert derive_labels([ip(seed=0, progress_fn="<function f at 0x7f01>"),
                          ip(seed=1, progress_fn="<function f at 0x7f99>")]) == ["ip s0", "ip s1"]
    assert short_env("CartpoleBalance") == "cb" and short_env("ant") == "ant"


def test_labels_fall_back_to_the_store_names_when_nothing_recorded_differs():
    same = {"env": "ant", "config": {"seed": 0}}
    assert derive_labels([dict(same, store="runs/a.zarr"), dict(same, store="runs/b.zarr")]) == ["ant a", "ant b"]


def test_path_label_arguments(tmp_path):
    assert split_label("runs/a.zarr=baseline") == ("runs/a.zarr", "baseline")
    assert split_label("runs/a.zarr") == ("runs/a.zarr", None)
    odd = tmp_path / "lr=0.1.zarr"
    odd.mkdir()
    assert split_label(str(odd)) == (str(odd), None)  # an existing path with "=" stays a path


# ------------------------------------------------------------------ two stores


def test_two_stores_list_both_runs_with_their_labels(seeds):
    a, b = seeds
    s = session_of(a, b)
    assert [r.label for r in s.runs] == ["ip s0", "ip s1"]
    assert len(s.catalog) == len(open_store(a).catalog()) + len(open_store(b).catalog())
    t = s.snapshot().table
    assert "run" in t.columns and "writer" not in t.columns  # one writer group in each store
    s.scroll_table(0, 100)
    t = s.snapshot().table
    runs_listed = {r.cells[1] for r in t.rows}
    assert runs_listed == {"ip s0", "ip s1"}
    # Ids name their store (PATH:ID, as export --compare takes them); the id column shows the store's own id.
    row = next(r for r in t.rows if r.cells[1] == "ip s1")
    where, local = split_ref(row.id)
    assert where == str(b) and row.cells[0] == local
    assert "2 runs" in t.count_text


def test_one_store_keeps_its_ids_and_columns(seeds):
    s = session_of(seeds[0])
    assert len(s.runs) == 1 and s.rows()[0].id == "0:0"
    t = s.snapshot().table
    assert "run" not in t.columns and "writer" not in t.columns
    assert [c.label for c in s.snapshot().plots.curves] == ["eval/episode_reward"]


def test_labels_can_be_given(seeds):
    s = session_of(*seeds, labels=["baseline", None])
    assert [r.label for r in s.runs][0] == "baseline"


def test_training_curves_of_every_run_overlay_with_a_legend(seeds):
    s = session_of(*seeds)
    p = s.snapshot().plots
    assert [c.label for c in p.curves] == ["ip s0", "ip s1"]
    assert p.curves[0].colour != p.curves[1].colour
    assert not np.allclose(p.curves[0].y, p.curves[1].y)  # each run's own metrics
    assert p.curve_title == "Training curve: eval/episode_reward"


def test_cross_run_compare_plays_under_one_cursor(seeds, clock):
    a, b = seeds
    s = session_of(a, b, clock=clock)
    ea, eb = first_of(s, 0), first_of(s, 1)
    assert s.set_compare([ea, eb]) and s.views == [ea, eb]
    s.poll_store()
    assert not s.loading
    s.play()
    clock.advance(10 * s.dt)
    s.tick()
    assert s.cursor == 10 and s.frame_of(0) == s.frame_of(1) == 10
    sc = s.snapshot().scene
    assert len(sc.cells) == 2 and all(c.qpos is not None for c in sc.cells)
    assert not np.allclose(sc.cells[0].qpos, sc.cells[1].qpos)  # two seeds, two trajectories
    # Views name the run: overlays, plot legends.
    assert sc.cells[1].lines[0][0].startswith(f"ip s1 {split_ref(eb)[1]}")
    assert any(r.label.startswith(" ".join(["reward", "ip s1"])) for r in s.snapshot().plots.reward)
    assert len(s.snapshot().plots.marks) == 2


def test_episodes_are_named_by_path_label_or_plain_id(seeds):
    a, b = seeds
    s = session_of(a, b)
    assert s.set_compare(["0:1", f"{b}:0:1"])  # a plain id is the first store's
    assert s.views == [f"{a}:0:1", f"{b}:0:1"]
    assert s.set_compare(["ip s0:0:2", "ip s1:0:2"])  # or by the run's label
    assert s.views == [f"{a}:0:2", f"{b}:0:2"]
    assert s.check_episode(f"{b}:0:1").id == "0:1"
    with pytest.raises(EpisodeNotFoundError, match="names none of the stores"):
        s.check_episode("elsewhere.zarr:0:1")
    assert not s.select("elsewhere.zarr:0:1") and "these stores" in s.message


def test_compare_snapshots_takes_the_latest_of_each_run(seeds):
    s = session_of(*seeds)
    assert s.compare_snapshots()
    assert [s.run_of(v).label for v in s.views] == ["ip s0", "ip s1"]
    assert all(s.info(v).source == "snapshot" and s.info(v).iteration == 2 for v in s.views)


def test_ghost_needs_one_model(seeds, ant):
    same = session_of(*seeds)
    same.set_compare([first_of(same, 0), first_of(same, 1)])
    same.set_ghost(True)
    same.poll_store()
    assert same.snapshot().scene.ghost
    s = session_of(seeds[0], ant)
    s.set_compare([first_of(s, 0), first_of(s, 1)])
    s.set_ghost(True)
    assert s.message == P.GHOST_NOTE
    s.poll_store()
    sc = s.snapshot().scene
    assert not sc.ghost and sc.grid == (1, 2)  # side by side instead
    assert (P.GHOST_NOTE, P.WARN) in sc.cells[0].lines
    # Each cell is drawn with its own store's model.
    assert sc.cells[0].model is None and sc.cells[1].model is not None
    assert sc.cells[1].qpos.shape == (sc.cells[1].model.nq,) != sc.cells[0].qpos.shape


def test_a_store_given_twice_or_a_copy_is_refused(seeds, tmp_path):
    a, _ = seeds
    with pytest.raises(BraxscopeError, match="given twice"):
        session_of(a, a)
    copy = tmp_path / "copy.zarr"
    shutil.copytree(a, copy)
    with pytest.raises(BraxscopeError, match="same writer group"):
        session_of(a, copy)


def test_export_of_a_cross_run_compare_has_both_runs_tiles(seeds, tmp_path):
    import imageio.v3 as iio

    a, b = seeds
    readers = [open_store(a), open_store(b)]
    s = ReplaySession(readers, viewport=(160, 120))
    s.set_compare([f"{a}:0:0", f"{b}:0:0"])
    s.poll_store()
    assert s.export(str(tmp_path / "runs.mp4"), wait=True), s.export_status
    assert s.export_status.startswith("saved"), s.export_status
    frames = iio.imread(tmp_path / "runs.mp4", index=None)
    assert frames.shape[1:3] == (120, 160) and len(frames) == 30
    left, right = frames[:, :, :80].astype(np.int16), frames[:, :, 80:].astype(np.int16)
    assert np.abs(left - right).mean() > 1.0  # two seeds' episodes, not one twice


def test_live_over_two_stores_follows_the_recording_one_and_pauses_only_it(seeds, tmp_path):
    path = tmp_path / "live.zarr"
    with live_writer(path, iterations=30, episode_len=20, block=4, sleep_s=0.03):
        s = ReplaySession([open_store(seeds[0]), open_store(path)])
        assert s.go_live()
        t_end = time.time() + 3
        while time.time() < t_end:
            s.poll_store()
            s.tick()
            time.sleep(0.05)
        assert s.live and s.views and split_ref(s.views[0])[0] == str(path)  # the run that records
        assert s.recorder_status().state == "recording"
        assert s.toggle_recording()
        assert json.loads((path / "control.json").read_text())["recording"] is False
        assert not (seeds[0] / "control.json").exists()  # the finished store is never written


# ------------------------------------------------------------------ a sweep in one store


def test_a_sweep_in_one_store_shows_as_runs(sweep):
    s = session_of(sweep)
    assert [r.label for r in s.runs] == ["ip s0", "ip s1"]
    assert [len(r.writers) for r in s.runs] == [1, 1]
    assert s.rows()[0].id == "0:0"  # one store: ids as always
    t = s.snapshot().table
    assert "run" in t.columns and "writer" in t.columns
    s.scroll_table(0, 100)
    cells = {(r.cells[1], r.cells[2]) for r in s.snapshot().table.rows}
    assert cells == {("ip s0", "w0 p0"), ("ip s1", "w1 p1")}  # each episode's run, writer and process
    p = s.snapshot().plots
    assert [c.label for c in p.curves] == ["ip s0", "ip s1"] and not np.allclose(p.curves[0].y, p.curves[1].y)
    assert s.set_compare([first_of(s, 0), first_of(s, 1)])


def test_writer_groups_of_one_config_are_one_run(sweep):
    """Processes of one run (a multi-host run) record the same config: one run, two writers."""
    class W:
        def __init__(self, wid, config):
            self.writer_id, self.config = wid, config

    attrs = {"env_name": "inverted_pendulum"}
    runs = make_runs([{"path": "x.zarr", "label": None, "attrs": attrs,
                       "writers": [W("p0-a", {"seed": 0}), W("p1-a", {"seed": 0})]}])
    assert len(runs) == 1 and runs[0].writers == ("p0-a", "p1-a") and runs[0].label == "ip"


def test_sorting_by_run(seeds):
    s = session_of(*seeds)
    s.set_sort("run", descending=True)
    labels = [s.run_of(e.id).label for e in s.rows()]
    assert labels == sorted(labels, reverse=True) and len(set(labels)) == 2


# ------------------------------------------------------------------ the command line


def test_view_cli_names_a_missing_cross_store_episode_in_one_line(seeds):
    a, b = seeds
    r = braxscope_cli("view", str(a), f"{b}=other", "--compare", "0:1", f"{b}:9:99", env={"DISPLAY": ""})
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "no episode" in r.stderr and "Traceback" not in r.stderr
