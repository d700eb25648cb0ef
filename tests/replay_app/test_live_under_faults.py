"""The replay app tailing a run through storage that misbehaves like a network filesystem (files
that show late, stale metadata, transient ESTALE and EIO), as a laptop tailing a cluster run does.

- The session (all of the app's behaviour) over the fault-injecting storage layer: every frame it
  shows is the committed frame of its episode, and it keeps following the run.
- The app itself under Xvfb, on a FUSE mount that injects the same faults at the kernel boundary
  (tests/schema/_faultfs.py): it keeps drawing, logs no error, follows newer episodes, and
  catches up once the faults stop.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from braxscope.replay_app.session import LiveTarget, ReplaySession
from braxscope.schema import open_store
from tests.schema.test_faulty_storage import FaultyStorage

from .conftest import ROOT, braxscope_cli, live_writer

pytestmark = pytest.mark.slow


def test_the_live_session_over_injected_faults_shows_only_committed_frames(tmp_path):
    path = tmp_path / "live.zarr"
    shown = []  # (writer, slot, row in the train stream, qpos shown)
    with live_writer(path, iterations=30, episode_len=30, block=3, sleep_s=0.04):
        # Faults a quarter as often as the reader-level test's: an episode's load reads ten arrays.
        storage = FaultyStorage(path, rate=0.25)
        s = ReplaySession(open_store(storage))
        assert s.go_live(LiveTarget("slot", None, 0))
        t_end = time.time() + 6
        while time.time() < t_end:
            s.poll_store()
            s.tick()
            for k, (eid, q) in enumerate(zip(s.views, s.qpos())):
                ep = s.info(eid)
                if q is not None and ep is not None and ep.source == "train":
                    shown.append((ep.writer, ep.slot, ep.start + s.frame_of(k), q.copy()))
            time.sleep(0.03)
        assert s.live
    assert min(storage.faults.values()) >= 1, storage.faults
    assert len({row for _, _, row, _ in shown}) > 20  # it moved through the run, not one frame
    truth = open_store(path)  # read again without faults (the rows shown were committed: they stay)
    wrong = 0
    for w, slot, row, q in shown:
        wrong += not np.array_equal(truth.train_rows(w, row, row + 1)["qpos"][0, slot], q)
    assert wrong == 0, f"{wrong} of {len(shown)} frames shown were not the committed frame"


def test_the_app_keeps_drawing_live_on_a_fuse_mount_that_injects_faults(xvfb, tmp_path):
    if not os.path.exists("/dev/fuse") or shutil.which("fusermount") is None:
        pytest.skip("no FUSE here (Debian: fuse3 libfuse2; make test installs them)")
    pytest.importorskip("fuse", reason="fusepy is not installed (the test extra)")
    src, mnt = tmp_path / "live.zarr", tmp_path / "mnt"
    mnt.mkdir()
    log = Path(f"{src}.faults.log")
    with live_writer(src, iterations=60, episode_len=30, block=3, sleep_s=0.05):
        fs = subprocess.Popen([sys.executable, "-m", "tests.schema._faultfs", str(src), str(mnt)], cwd=ROOT,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)), stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while not os.path.ismount(mnt) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert os.path.ismount(mnt), "the FUSE filesystem did not mount"
            stats = tmp_path / "stats.json"
            r = braxscope_cli("view", str(mnt), "--live", "--exit-after", "8", "--stats", str(stats),
                              env={"DISPLAY": xvfb}, timeout=120)
        finally:
            subprocess.run(["fusermount", "-u", str(mnt)], capture_output=True)
            fs.wait(20)
    # Exit 0: the window drew to the end and logged no error (an error banner makes it exit 1).
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    faults = log.read_text().split() if log.exists() else []
    assert len(faults) >= 3 and len(set(faults)) >= 2, faults
    st = json.loads(stats.read_text())
    assert st["live"] and st["frames_shown"] > 20
    starts = [starts[0] for _, views, frames, starts in st["trace"] if starts]
    assert starts and starts[-1] > starts[0]  # followed newer episodes through the faults
