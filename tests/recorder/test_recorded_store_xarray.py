"""xarray opens every stream of a store recorded by a real ppo.train run."""

from __future__ import annotations

import pytest

from tests.schema.xarray_check import assert_streams_match

pytestmark = pytest.mark.slow


def test_xarray_reads_the_recorded_store_as_the_reader_does(recorded_run):
    assert_streams_match(recorded_run.reader)
