"""Compaction (braxscope compact): a closed writer group's rows move into sharded arrays with the
same catalog and bit-identical rows, far fewer files, and a store that verifies; killed at any
moment it leaves a store that verifies and reads every row; a reader tailing the store while it
runs sees only valid rows."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from braxscope.schema import StoreWriter, compact as compact_mod, open_store
from braxscope.schema.compact import compact
from braxscope.schema.verify import verify

from .conftest import BRAXSCOPE, toy_model, train_block, value_of

pytestmark = pytest.mark.slow

ROWS, SLOTS = 24_000, 4


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))


def write_run(path: Path, *, writer_id: str | None = None, rows: int = ROWS, close: bool = True) -> StoreWriter:
    """A finished run: train rows whose values are a pure function of env_step (see train_block),
    cut into episodes, one snapshot and one metrics row every 2000 rows."""
    model = toy_model()
    w = StoreWriter.create(path, model, env_name="toy", backend="generalized", dt=0.01, train_slots=SLOTS,
                           writer_id=writer_id)
    for it, lo in enumerate(range(0, rows, 2000)):
        w.append_train(**train_block(model, lo, 2000, SLOTS, done_every=37, iteration=it))
        t = np.arange(50)
        w.append_snapshot(qpos=value_of(t, 0, model.nq)[:, 0], qvel=value_of(t, 0, model.nv, 1.0)[:, 0],
                          action=value_of(t, 0, model.nu, 2.0)[:, 0], reward=np.full(50, float(it)),
                          done=t == 49, iteration=it, env_step=lo, complete=True)
        w.append_metrics(lo, {"eval/episode_reward": float(it), f"m{it % 3}": 1.0})
        w.commit()
    if close:
        w.close()
    return w


def snapshot_of(path: Path) -> dict:
    """Everything a reader can read: catalog rows, every stream's rows (hashed), the metrics."""
    r = open_store(path)
    out = {"episodes": r.episodes(), "metrics": r.metrics()}
    for wid in r.writer_ids:
        st = next(s for s in r.writers() if s.writer_id == wid)
        for stream in ("train", "snapshots"):
            rows = r.train_rows(wid, 0, st.rows[stream], stream)
            out[(wid, stream)] = {k: hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()
                                  for k, v in rows.items()}
    out["frames"] = {e.id: hashlib.sha256(r.frames(e).qpos.tobytes()).hexdigest() for e in r.episodes()[::97]}
    return out


def assert_same(a: dict, b: dict) -> None:
    assert a["episodes"] == b["episodes"]
    assert a["metrics"].names == b["metrics"].names
    assert np.array_equal(a["metrics"].env_step, b["metrics"].env_step)
    for m in a["metrics"].names:
        assert np.array_equal(a["metrics"].values[m], b["metrics"].values[m], equal_nan=True)
    assert {k: v for k, v in a.items() if isinstance(k, tuple)} == {k: v for k, v in b.items() if isinstance(k, tuple)}
    assert a["frames"] == b["frames"]


def files_in(path: Path) -> int:
    return sum(1 for f in path.rglob("*") if f.is_file())


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """(path, what a reader reads, files, qpos hash of every episode) of a store nothing compacts."""
    path = tmp_path_factory.mktemp("compact") / "run.zarr"
    write_run(path)
    r = open_store(path)
    qpos = {e.id: hashlib.sha256(r.frames(e).qpos.tobytes()).hexdigest() for e in r.episodes()}
    return path, snapshot_of(path), files_in(path), qpos


def test_compaction_keeps_catalog_and_every_row_with_far_fewer_files(pristine, tmp_path):
    src, before, n_files, _ = pristine
    path = tmp_path / "run.zarr"
    shutil.copytree(src, path)
    (result,) = compact(path)
    assert result.action == "compacted" and result.files_before > 4 * result.files_after
    assert files_in(path) * 4 < n_files
    assert_same(snapshot_of(path), before)
    report = verify(path)
    assert not report.findings and report.chunks_checked > 0
    assert [r.action for r in compact(path)] == ["already compacted"]
    wid = open_store(path).writer_ids[0]
    assert (path / "writers" / wid / "g1" / "train" / "qpos" / "zarr.json").is_file()
    assert not (path / "writers" / wid / "train").exists()


def test_compaction_skips_a_group_that_is_still_recording(tmp_path):
    w = write_run(tmp_path / "run.zarr", rows=4000, close=False)
    (result,) = compact(tmp_path / "run.zarr")
    assert result.action == "skipped" and "not closed" in result.why
    w.close()
    assert [r.action for r in compact(tmp_path / "run.zarr")] == ["compacted"]


def test_a_compacted_group_cannot_be_resumed(tmp_path):
    from braxscope.schema import CorruptStoreError

    write_run(tmp_path / "run.zarr", rows=2000)
    compact(tmp_path / "run.zarr")
    wid = open_store(tmp_path / "run.zarr").writer_ids[0]
    with pytest.raises(CorruptStoreError, match="compacted"):
        StoreWriter.resume(tmp_path / "run.zarr", wid)


def test_compact_cli_prints_one_line_per_writer_and_exits_2_on_a_non_store(pristine, tmp_path):
    src, _, _, _ = pristine
    path = tmp_path / "run.zarr"
    shutil.copytree(src, path)
    res = subprocess.run([BRAXSCOPE, "compact", str(path)], capture_output=True, text=True, env=_env(), timeout=300)
    assert res.returncode == 0 and res.stderr == ""
    lines = res.stdout.splitlines()
    assert lines[0] == f"compacting {path}" and " compacted " in lines[1] and len(lines) == 2
    bad = subprocess.run([BRAXSCOPE, "compact", str(tmp_path)], capture_output=True, text=True, env=_env(), timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and len(bad.stderr.splitlines()) == 1


@pytest.mark.parametrize("step", ["copy", "publish", "remove"])
def test_a_compaction_stopped_at_each_step_leaves_a_store_that_verifies_and_reads(pristine, tmp_path, monkeypatch,
                                                                                 step):
    """Stopped before an array is copied, right after publishing, or before each removal (an
    exception where a kill would land): the store verifies, reads as before, and a second
    compaction finishes the job."""
    src, before, _, _ = pristine
    target = {"copy": "_copy_array", "publish": "_remove_generation", "remove": "_remove_tree"}[step]
    real = getattr(compact_mod, target)
    stops = 0
    for k in range(0, 60, 7 if step == "copy" else 1):
        path = tmp_path / f"k{k}.zarr"
        shutil.copytree(src, path)
        calls = [0]

        def dying(*a, _k=k, **kw):
            calls[0] += 1
            if calls[0] > _k:
                raise KeyboardInterrupt  # where a SIGKILL would land
            return real(*a, **kw)

        monkeypatch.setattr(compact_mod, target, dying)
        try:
            compact(path)
        except KeyboardInterrupt:
            stops += 1
        monkeypatch.setattr(compact_mod, target, real)
        if calls[0] <= k:
            break  # the step has no call k: every one was covered
        assert not verify(path).damaged, [f.line() for f in verify(path).findings]
        assert_same(snapshot_of(path), before)
        if k == 0:
            assert [r.action for r in compact(path)] in (["compacted"], ["already compacted"])
            assert not verify(path).findings
            assert_same(snapshot_of(path), before)
        shutil.rmtree(path)
    assert stops >= 1


def test_compaction_killed_at_random_moments_always_leaves_a_store_that_verifies_and_reads(pristine, tmp_path):
    src, before, _, _ = pristine
    # How long one compaction takes here (from its first line to its exit), to spread the kills.
    path = tmp_path / "timing.zarr"
    shutil.copytree(src, path)
    proc = subprocess.Popen([BRAXSCOPE, "compact", str(path)], stdout=subprocess.PIPE, text=True, env=_env())
    proc.stdout.readline()
    t0 = time.monotonic()
    proc.wait(timeout=300)
    duration = time.monotonic() - t0
    rng = random.Random(16)

    def kill_once(k: int) -> bool:
        p = tmp_path / f"kill{k}.zarr"
        shutil.copytree(src, p)
        proc = subprocess.Popen([BRAXSCOPE, "compact", str(p)], stdout=subprocess.PIPE, text=True, env=_env())
        proc.stdout.readline()  # "compacting ...": it has started
        time.sleep(rng.uniform(0, duration))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        report = verify(p)
        assert not report.damaged, [f.line() for f in report.findings]
        assert_same(snapshot_of(p), before)
        return proc.returncode == -signal.SIGKILL  # False: it had finished before the signal

    killed = 0
    with ThreadPoolExecutor(3) as pool:
        for batch in range(0, 40, 3):
            killed += sum(pool.map(kill_once, range(batch, batch + 3)))
            if killed >= 20:
                break
    assert killed >= 20
    # A compaction after any of those finishes the job.
    last = tmp_path / "kill0.zarr"
    compact(last)
    assert not verify(last).findings
    assert_same(snapshot_of(last), before)


def test_a_reader_tailing_during_compaction_sees_only_valid_rows(pristine, tmp_path):
    """One closed writer group is compacted while a second one records; a reader polls both and
    checks every row it gets (train rows are a pure function of env_step)."""
    src, before, _, qpos = pristine
    path = tmp_path / "run.zarr"
    shutil.copytree(src, path)
    model = toy_model()
    live = StoreWriter.create(path, model, env_name="toy", backend="generalized", dt=0.01, train_slots=SLOTS)
    stop = threading.Event()

    def record():
        lo = 0
        while not stop.is_set():
            live.append_train(**train_block(model, lo, 64, SLOTS, done_every=37))
            live.commit()
            lo += 64
            time.sleep(0.01)

    r = open_store(path)
    closed = r.writer_ids[0]
    proc = subprocess.Popen([BRAXSCOPE, "compact", str(path), "--writer", closed], stdout=subprocess.PIPE,
                            text=True, env=_env())
    thread = threading.Thread(target=record)
    thread.start()
    reads = 0
    eps = before["episodes"]
    rng = random.Random(0)
    try:
        while proc.poll() is None or reads < 20:
            r.refresh()
            ep = eps[rng.randrange(len(eps))]
            assert hashlib.sha256(r.frames(ep).qpos.tobytes()).hexdigest() == qpos[ep.id]
            st = next(s for s in r.writers() if s.writer_id == live.writer_id)
            n = st.rows["train"]
            if n:
                rows = r.train_rows(live.writer_id, max(0, n - 200), n)
                want = train_block(model, int(rows["env_step"][0]), rows["env_step"].shape[0], SLOTS, done_every=37)
                assert np.array_equal(rows["env_step"], want["env_step"])
                assert rows["qpos"].tobytes() == want["qpos"].tobytes()
            reads += 1
    finally:
        stop.set()
        thread.join()
        proc.wait(timeout=300)
    live.close()
    assert proc.returncode == 0 and reads >= 20
    assert r._writers[closed].generation == 1  # the reader followed the move
    after = snapshot_of(path)
    assert [e for e in after["episodes"] if e.writer == closed] == before["episodes"]
    assert {k: v for k, v in after.items() if isinstance(k, tuple) and k[0] == closed} == \
        {k: v for k, v in before.items() if isinstance(k, tuple)}
