"""One writer process appending as fast as it can while two reader processes tail it for 30 s."""

from __future__ import annotations

import json
import subprocess

import pytest

from braxscope.schema import StoreWriter, open_store
from braxscope.schema.verify import verify

from .conftest import PYTHON, REPO, subprocess_env, toy_model

SECONDS = 32.0


@pytest.mark.slow
def test_two_tailing_readers_never_see_torn_fill_or_reordered_rows(tmp_path):
    store = tmp_path / "live.zarr"
    w = StoreWriter.create(store, toy_model(), env_name="toy", dt=0.01, train_slots=2)
    w.close()
    env = subprocess_env()
    writer = subprocess.Popen([PYTHON, "-m", "tests.schema._procs", "write", str(store), w.writer_id,
                               "--seconds", str(SECONDS)],
                              cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().startswith("resumed")
    readers = [subprocess.Popen([PYTHON, "-m", "tests.schema._procs", "tail", str(store),
                                 "--seconds", str(SECONDS - 1)],
                                cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    results = []
    for p in readers:
        out, err = p.communicate(timeout=SECONDS + 60)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    w_out, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0
    final = int(w_out.split("closed")[1])
    for c in results:
        print(c)
        assert c["torn"] == 0 and c["fill_rows"] == 0 and c["out_of_order"] == 0 and c["errors"] == 0, c
        assert c["rows"] > 10_000 and c["reads"] > 100 and c["episode_reads"] > 100, c
        assert final * 0.5 < c["last"] <= final, c  # it kept up with the writer to the end
    assert open_store(store).writers()[0].rows["train"] == final
    assert not verify(store).damaged
