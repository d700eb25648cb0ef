"""Stores on S3 (moto on loopback): written and read through the same seam as local stores."""

from __future__ import annotations

import numpy as np
import pytest

import braxscope
from braxscope.schema import StoreWriter, WriterLockedError
from braxscope.schema.verify import verify

from tests.schema.conftest import toy_model, train_block


def test_a_store_on_s3_round_trips_and_verifies(s3_bucket):
    url = f"s3://{s3_bucket}/runs/toy.zarr"
    model = toy_model()
    w = StoreWriter.create(url, model, env_name="toy", dt=0.01, train_slots=2)
    w.append_train(**train_block(model, 0, 300, 2))
    w.commit()
    r = braxscope.open_store(url)
    ws = r.writers()[0]
    assert ws.state == "recording" and ws.locked and ws.rows["train"] == 300
    rows = r.train_rows(ws.writer_id, 0, 300)
    assert np.array_equal(rows["env_step"], np.arange(300))
    w.append_train(**train_block(model, 300, 100, 2))
    w.close()
    assert r.refresh() and r.writers()[0].rows["train"] == 400 and not r.writers()[0].locked
    for ep in r.episodes():
        assert len(r.frames(ep)) == ep.length
    report = verify(url)
    assert not report.damaged, [f.line() for f in report.findings]
    assert report.chunks_checked > 0


def test_the_lock_on_s3_is_a_conditional_write(s3_bucket):
    url = f"s3://{s3_bucket}/lock.zarr"
    w = StoreWriter.create(url, toy_model(), env_name="toy", dt=0.01, train_slots=1)
    with pytest.raises(WriterLockedError):
        StoreWriter.resume(url, w.writer_id)  # held by a live process
    w.close()
    StoreWriter.resume(url, w.writer_id).close()
