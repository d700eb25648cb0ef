"""The issue's repro, as a new user would meet it: during `braxscope train inverted_pendulum`, a
malformed control.json is written (recording must go on, with one warning), then the store's train
stream is taken away (the writer thread fails: one clear error, exit 1, the group marked failed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

import braxscope

pytestmark = pytest.mark.slow

SMALL = ["--steps", "30000", "--num-envs", "16", "--batch-size", "16", "--num-minibatches", "4",
         "--num-evals", "4", "--episode-length", "100", "--num-eval-envs", "16", "--updates-per-batch", "1",
         "--no-progress", "--track", "0,1"]


def _writer_dir(store):
    # writers/ holds the group's own zarr.json beside one directory per writer; listing order varies.
    return next(p for p in (store / "writers").iterdir() if p.is_dir())


def _commit(store) -> dict:
    w = _writer_dir(store)
    return json.loads((w / "zarr.json").read_text())["attributes"].get("braxscope_commit", {})


def _wait(cond, timeout, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline and (proc is None or proc.poll() is None):
        try:
            if cond():
                return True
        except (OSError, ValueError, StopIteration):
            pass
        time.sleep(0.1)
    return False


def test_train_survives_a_malformed_control_file_and_fails_loudly_when_storage_dies(tmp_path):
    store = tmp_path / "run.zarr"
    env = dict(os.environ, PYTHONPATH=os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "braxscope.cli", "train", "inverted_pendulum", "--store", str(store),
                             *SMALL], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        assert _wait(lambda: "rows" in _commit(store), 600, proc), "the store never appeared: " + "".join(err)[-2000:]
        (store / "control.json").write_text('{"recording": "yes", "track": ["a"], "updated": "soon"}')
        assert _wait(lambda: any("ignoring control.json" in line for line in err), 60), "".join(err)[-2000:]
        # Recording goes on: train rows are committed after the warning.
        assert _wait(lambda: _commit(store)["rows"]["train"] > 0, 600, proc), "".join(err)[-2000:]
        committed = _commit(store)["rows"]["train"]
        # Take the train stream away (being root here, a chmod would not stop the writes).
        train = _writer_dir(store) / "train"
        train.rename(train.with_name("train.saved"))
        train.write_text("sabotaged")
        proc.wait(900)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(10)
    text = "".join(err)
    assert proc.returncode == 1, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    assert sum("ignoring control.json" in line for line in err) == 1
    assert sum("recording stopped (" in line for line in err) == 1  # logged when it happened
    last = err[-1].strip()
    assert last.startswith("braxscope: error: training finished") and "recording stopped early" in last, text[-3000:]
    assert "done in" not in text  # never the success line
    train.unlink()
    train.with_name("train.saved").rename(train)
    ws = braxscope.open_store(store).writers()[0]
    assert ws.state == "failed" and ws.error and not ws.locked
    assert ws.rows["train"] >= committed
