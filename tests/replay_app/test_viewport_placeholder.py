"""Before a run has its first episode, the app's viewport says so in its middle (not a bare grey box)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from braxscope.schema import StoreWriter

from .conftest import braxscope_cli
from .storegen import env_dt, load_model


def test_an_empty_live_store_shows_waiting_for_the_first_episode_in_the_viewport(xvfb, tmp_path, artifacts):
    model = load_model("inverted_pendulum")
    w = StoreWriter.create(tmp_path / "new.zarr", model, env_name="inverted_pendulum",
                           dt=env_dt(model, "inverted_pendulum"), train_slots=2)
    w.commit()  # a run that has started but recorded no episode yet
    shot = artifacts / "empty_store.png"
    r = braxscope_cli("view", str(tmp_path / "new.zarr"), "--live", "--exit-after", "3", "--screenshot", str(shot),
                      env={"DISPLAY": xvfb})
    w.close()
    assert r.returncode == 0, r.stderr
    img = np.asarray(Image.open(shot).convert("RGB")).astype(np.int16)
    h, wd = img.shape[:2]
    middle = img[h // 10: h // 2, int(wd * 0.3): int(wd * 0.6)]  # inside the viewport column, any screen size
    background = np.median(middle.reshape(-1, 3), axis=0)
    text = (np.abs(middle - background).max(axis=2) > 60).sum()
    assert text > 200, text  # the line of text drawn there; an empty viewport is one flat colour
