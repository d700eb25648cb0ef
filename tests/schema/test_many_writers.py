"""Several writers creating one new store at the same moment: the run metadata is written once
(one run id, one model), each gets its own writer group, and a writer of another model is refused."""

from __future__ import annotations

import multiprocessing
import time

import mujoco
import pytest

from braxscope.schema import StoreWriter, open_store
from braxscope.schema.verify import verify
from braxscope.schema.writer import RunMismatchError

from .conftest import toy_model, train_block


def _create_at(path, t0, pi, out):
    while time.time() < t0:
        pass  # all start within a few microseconds of each other
    model = toy_model()
    w = StoreWriter.create(path, model, env_name="toy", dt=0.01, train_slots=1, process_index=pi)
    w.append_train(**train_block(model, 0, 50, 1))
    w.close()
    out.put((pi, w.writer_id, open_store(path).info.run_id))


def test_writers_racing_to_create_a_store_write_its_metadata_once(tmp_path):
    path = str(tmp_path / "race.zarr")
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    t0 = time.time() + 1.0
    procs = [ctx.Process(target=_create_at, args=(path, t0, i, out)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    results = [out.get(timeout=5) for _ in procs]
    assert len({run_id for _, _, run_id in results}) == 1  # every writer joined the same run
    r = open_store(path)
    assert sorted(w.process_index for w in r.writers()) == [0, 1, 2, 3]
    assert all(w.rows["train"] == 50 for w in r.writers())
    assert not verify(path).damaged


def test_a_writer_of_another_model_or_env_is_refused(tmp_path):
    path = tmp_path / "s.zarr"
    StoreWriter.create(path, toy_model(), env_name="toy", dt=0.01, train_slots=1).close()
    other = mujoco.MjModel.from_xml_string("<mujoco><worldbody><body><joint type='hinge'/><geom size='.1'/>"
                                           "</body></worldbody></mujoco>")
    with pytest.raises(RunMismatchError, match="differs from this recorder's .*record into a new store path"):
        StoreWriter.check_can_join(path, other, env_name="toy")
    with pytest.raises(RunMismatchError, match="env name"):
        StoreWriter.check_can_join(path, toy_model(), env_name="ant")
    with pytest.raises(RunMismatchError):
        StoreWriter.create(path, other, env_name="toy", dt=0.01, train_slots=1)
    assert len(open_store(path).writers()) == 1  # nothing was added by the refused writers
    StoreWriter.check_can_join(path, toy_model(), env_name="toy")  # the same run: accepted
