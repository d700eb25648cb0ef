"""`make demo` on a desktop, as a user runs it: examples/demo.py with DISPLAY on an Xvfb, a short
training run (``--steps``). The replay app opens live on the new store and shows the policy
learning until training ends; the window stays open; closing it (the close request a window
manager sends) ends the demo cleanly. And a viewer that fails is reported, not hidden.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from braxscope.replay_app.presentation import LIVE_ON
from braxscope.schema.reader import open_store

from .conftest import ROOT
from .storegen import make_store
from .xscreen import XScreen

DEMO = ROOT / "examples" / "demo.py"
SUCCESS = "close its window to end the demo"


def _live_badge_pixels(img: np.ndarray) -> int:
    """Pixels of the lit LIVE badge's fill (exactly its colour; text is anti-aliased)."""
    return int((img == np.array(LIVE_ON[:3], np.uint8)).all(axis=-1).sum())


def _viewport(img: np.ndarray) -> tuple[slice, slice] | None:
    """Where the rendered scene is: the bounding box of its pure black background (the window's
    own colours are never black; a viewport that shows nothing yet is grey)."""
    ys, xs = np.nonzero((img == 0).all(axis=-1))
    if len(ys) < 10_000:
        return None
    return slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1)


def _changed_pixels(a: np.ndarray, b: np.ndarray) -> int:
    return int((np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=-1) > 24).sum())


@pytest.mark.slow
@pytest.mark.gui
def test_make_demo_on_a_desktop_shows_training_live_and_ends_when_the_window_is_closed(xvfb, tmp_path, artifacts):
    out = artifacts / "demo_display"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    stats, log = tmp_path / "view_stats.json", tmp_path / "view.log"
    env = dict(os.environ, DISPLAY=xvfb, MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"), PYTHONPATH=str(ROOT),
               BRAXSCOPE_VIEW_STATS=str(stats), BRAXSCOPE_VIEW_LOG=str(log))
    # --steps 30000: brax rounds it up to one PPO training step per evaluation (4 x 20480 env steps).
    demo = subprocess.Popen([sys.executable, str(DEMO), "--steps", "30000"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[tuple[float, str]] = []
    reader = threading.Thread(target=lambda: lines.extend((time.time(), ln) for ln in demo.stdout), daemon=True)
    reader.start()
    screen = XScreen(xvfb)
    shots: list[dict] = []  # per screenshot: its time, the LIVE badge, the scene and how it changed
    last = None
    window, training_end = None, None
    # Training takes one to two minutes on an idle 2-core machine; far longer when it is shared.
    deadline = time.time() + 1500
    try:
        while time.time() < deadline and demo.poll() is None:
            window = screen.find("braxscope") or window
            done = next((t for t, ln in lines if SUCCESS in ln), None)
            if window is not None:
                img = screen.capture(window)
                if not img.any():  # mapped, but its first frame is not drawn yet: not a picture of the app
                    time.sleep(0.1)
                    continue
                vp = _viewport(img)
                shot = {"t": time.time(), "live_px": _live_badge_pixels(img), "scene": vp is not None}
                if vp is not None and last is not None and last[1] is not None:
                    both = (slice(min(vp[0].start, last[1][0].start), max(vp[0].stop, last[1][0].stop)),
                            slice(min(vp[1].start, last[1][1].start), max(vp[1].stop, last[1][1].stop)))
                    shot["changed_px"] = _changed_pixels(img[both], last[0][both])
                shots.append(shot)
                last = (img, vp)
                if len(shots) <= 20 or len(shots) % 5 == 0:
                    Image.fromarray(img).save(out / f"shot_{len(shots):03d}.png")
            if done is not None:
                training_end = done
                break
            time.sleep(3.0)
        text = "".join(ln for _, ln in lines)
        assert training_end is not None, f"the demo did not reach the end of training:\n{text[-3000:]}"
        # Training has ended and the app is still running: its window is on the screen.
        window = screen.find("braxscope")
        assert window is not None and demo.poll() is None, text[-3000:]
        final = screen.capture(window)
        Image.fromarray(final).save(out / "after_training.png")
        screen.close(window)  # what a window manager sends for the close button
        rc = demo.wait(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        (out / "shots.json").write_text(json.dumps(shots, indent=1))
    reader.join(timeout=10)
    text = "".join(ln for _, ln in lines)
    assert rc == 0, text[-3000:]
    assert "braxscope demo:" not in text and "Traceback" not in text, text[-3000:]
    assert not log.exists(), log.read_text()  # the viewer logged no error
    st = json.loads(stats.read_text())
    assert st["errors"] == 0 and st["live"], st["errors"]

    # Screenshots while training ran: the LIVE badge is lit in every one; once the first episode
    # is on screen, the scene moves from one screenshot to the next.
    during = [s for s in shots if s["t"] < training_end]
    assert during and all(s["live_px"] > 300 for s in during), [s["live_px"] for s in during]
    assert _live_badge_pixels(final) > 300
    assert st["first_frame_wall"] is not None, "the viewer never showed a frame"
    showing = [s for s in during if s["t"] > st["first_frame_wall"] + 1 and "changed_px" in s]
    assert len(showing) >= 3, during
    # (A frozen picture changes no pixel; the pendulum of an early policy moves little.)
    moving = [s["changed_px"] > 30 for s in showing]
    assert sum(moving) >= 0.8 * len(moving), [s["changed_px"] for s in showing]

    # The shown episode moved on to newer data while training went on (the viewer's own record).
    shown = [(t, starts[0]) for t, views, starts in st["episodes"] if views and starts and starts[0] is not None]
    in_training = [start for t, start in shown if t < training_end]
    assert len(set(in_training)) >= 3, shown[:20]
    assert in_training[-1] > in_training[0]
    # ... up to the end: the last one shown during training is one of the run's newer episodes.
    train = sorted(e.start for e in open_store(tmp_path / "runs" / "demo.zarr").episodes() if e.source == "train")
    assert in_training[-1] >= train[len(train) // 2], (in_training[-1], train[-5:])


# ------------------------------------------------------------------ a viewer that fails


def _load_demo():
    spec = importlib.util.spec_from_file_location("braxscope_demo", DEMO)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_viewer_that_fails_is_one_line_and_a_non_zero_exit_not_the_success_message(tmp_path, monkeypatch, capsys):
    store = make_store(tmp_path / "run.zarr", name="inverted_pendulum", iterations=1)
    monkeypatch.setenv("DISPLAY", ":1999")  # no X server there: the viewer cannot open its window
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    demo = _load_demo()
    viewer = demo.LiveViewer(Path(store))
    viewer.start()
    viewer.join(timeout=120)
    assert demo.wait_for_viewer(viewer) == 1
    err = capsys.readouterr()
    assert SUCCESS not in err.out
    last = err.err.strip().splitlines()[-1]
    assert last.startswith("braxscope demo: the replay app exited with an error (exit code 2)"), err.err
