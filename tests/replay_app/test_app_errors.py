"""The window never dies silently: an error in the model or the view is shown in it as one line
naming the log file that holds the traceback, the window keeps drawing and taking input, and
``braxscope view`` exits non-zero afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def faulted(xvfb, ant_store, artifacts) -> dict:
    out = artifacts / "app_errors"
    env = dict(os.environ, DISPLAY=xvfb, MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"), PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "tests.replay_app.error_driver", str(ant_store), str(out)], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads((out / "results.json").read_text()) | {"out": str(out)}


def test_an_error_in_the_model_is_a_one_line_banner_in_the_window_naming_the_log(faulted):
    assert faulted["settled"] and not faulted["banner_before"]
    d = faulted["during"]
    assert d["shown"] and d["banner_error_px"] > 30  # drawn in the error colour
    assert 10 < d["banner_h"] < 40  # one line of text
    assert "RuntimeError: injected fault in the session's clock" in d["text"]
    assert f"traceback in {faulted['out']}/viewer.log" in d["text"]


def test_the_log_holds_the_traceback_once_however_often_the_error_repeats(faulted):
    log = faulted["log"]
    assert log.count("Traceback (most recent call last)") == 1
    assert "broken_tick" in log and "RuntimeError: injected fault" in log
    assert faulted["during"]["count"] > 3  # it repeated every frame; counted, not logged again
    assert "times)" in faulted["during"]["text"]


def test_the_window_keeps_drawing_and_taking_input_through_the_error_and_recovers(faulted):
    d = faulted["during"]
    assert d["gui_frames"] > 3
    assert d["cursor_after_scrub"] == 50
    assert faulted["after_settled"] and faulted["after"]["shown_frame"] == 70
    assert faulted["after"]["viewport_diff"] > 2
