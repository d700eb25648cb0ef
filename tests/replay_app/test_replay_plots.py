"""Plot decimation: long episodes are drawn with a bounded number of points, peaks kept."""

import numpy as np

from braxscope.replay_app.presentation import decimate


def test_decimate_bounds_points_keeps_peaks_and_step_order():
    y = np.sin(np.arange(5000) / 30.0)
    y[1234], y[4321] = 9.0, -9.0
    x, v = decimate(y, 400)
    assert len(x) <= 402
    assert v.max() == 9.0 and v.min() == -9.0
    assert (np.diff(x) >= 0).all()
    np.testing.assert_array_equal(v, y[x.astype(int)])


def test_short_series_are_drawn_whole_and_nan_as_zero():
    y = np.array([1.0, np.nan, 3.0])
    x, v = decimate(y)
    np.testing.assert_array_equal(x, [0, 1, 2])
    np.testing.assert_array_equal(v, [1, 0, 3])
