"""robomimic 0.3.0's own SequenceDataset loads an export (obs keys qpos, qvel; dataset keys actions,
rewards, dones; every demo, and the train and valid filter keys), run in robomimic's own
environment (.venv-robomimic: torch, robomimic, no braxscope), and reads the store's rows."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from braxscope.schema import open_store
from braxscope.schema.hdf5 import export_hdf5
from braxscope.schema.hdf5.robomimic import split_valid

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("_robomimic_probe.py")
SEQ = 10  # the probe's seq_length


def _robomimic_python() -> str:
    py = os.environ.get("ROBOMIMIC_PYTHON") or str(REPO / ".venv-robomimic" / "bin" / "python")
    if not Path(py).exists():
        msg = f"robomimic's environment is missing ({py}): make robomimic-venv creates it"
        if os.environ.get("BRAXSCOPE_REQUIRE_INTEROP"):
            pytest.fail(msg)  # make test sets this: there the interop tests must run
        pytest.skip(msg)
    return py


@pytest.fixture(scope="module")
def probed(store, tmp_path_factory):
    py = _robomimic_python()
    tmp = tmp_path_factory.mktemp("robomimic")
    src = open_store(store)
    ids = [e.id for e in src.episodes() if e.length > 3 + SEQ]
    h5 = export_hdf5(store, tmp / "r.h5", episodes=ids).path
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([py, str(PROBE), str(h5), str(tmp / "out.npz")], capture_output=True, text=True,
                         timeout=300, cwd=tmp, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    return src, ids, dict(np.load(tmp / "out.npz"))


def test_sequence_dataset_loads_every_demo_and_the_filter_keys(probed):
    _, ids, got = probed
    names = [f"demo_{i}" for i in range(len(ids))]
    valid = [names[i] for i in sorted(split_valid(len(ids)))]
    assert [d.decode() for d in got["all/demos"]] == names
    assert [d.decode() for d in got["valid/demos"]] == valid and valid
    assert [d.decode() for d in got["train/demos"]] == [n for n in names if n not in valid]
    assert int(got["train/len"]) + int(got["valid/len"]) == int(got["all/len"])


@pytest.mark.parametrize("split", ["all", "train", "valid"])
def test_a_sample_equals_the_stores_rows(probed, split):
    src, ids, got = probed
    demo = got[f"{split}/demo"].item().decode()
    t0 = int(got[f"{split}/offset"])
    fr = src.frames(ids[int(demo.split("_")[1])])
    rows = slice(t0, t0 + SEQ)
    before = slice(t0 - 1, t0 - 1 + SEQ)  # obs[t] is the state before actions[t]: row t-1
    np.testing.assert_array_equal(got[f"{split}/next_obs/qpos"], fr.qpos[rows])
    np.testing.assert_array_equal(got[f"{split}/next_obs/qvel"], fr.qvel[rows])
    np.testing.assert_array_equal(got[f"{split}/obs/qpos"], fr.qpos[before])
    np.testing.assert_array_equal(got[f"{split}/obs/qvel"], fr.qvel[before])
    np.testing.assert_array_equal(got[f"{split}/actions"], fr.action[rows])
    np.testing.assert_array_equal(got[f"{split}/rewards"], fr.reward[rows])
    np.testing.assert_array_equal(got[f"{split}/dones"], fr.done[rows].astype(np.float32))
