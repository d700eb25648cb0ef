"""`make demo`: train inverted_pendulum for about two minutes while recording it into
runs/demo.zarr. With a display, the replay app opens live on the run as soon as the store exists,
so you watch the policy learn. Without one, the demo ends by writing the first and the latest
policy snapshot side by side as an MP4 and the training curve as a PNG.

Each phase is a function; main() runs them in order.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from braxscope import cli

STORE = Path("runs/demo.zarr")
ENV = "inverted_pendulum"


def fresh_store(store: Path = STORE) -> None:
    """Start from an empty path (the demo is re-runnable)."""
    if store.exists():
        shutil.rmtree(store)
    video_dir = store.with_name(store.name + ".videos")
    if video_dir.exists():
        shutil.rmtree(video_dir)
    store.parent.mkdir(parents=True, exist_ok=True)


def train(store: Path = STORE) -> int:
    """Train with PPO (the env's defaults: 128 envs, ~250k steps, 5 evaluations) and record
    envs 0-3 of the training batch, a policy snapshot per evaluation and the training curve."""
    return cli.main(["train", ENV, "--store", str(store)])


def show_info(store: Path = STORE) -> int:
    """The `braxscope info` table of the run."""
    print()
    return cli.main(["info", str(store)])


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_viewer_live(store: Path = STORE, wait_s: float = 300.0) -> threading.Thread:
    """Start `braxscope view STORE --live` in its own process once training has created the store.

    Returns the thread that waits for the store and then for the viewer; join it to wait until the
    user closes the window."""
    def run() -> None:
        deadline = time.monotonic() + wait_s
        while not (store / "zarr.json").exists():
            if time.monotonic() > deadline:
                return
            time.sleep(0.2)
        # A separate process: the viewer owns its GL contexts and never imports JAX.
        subprocess.run([sys.executable, "-m", "braxscope.cli", "view", str(store), "--live"], check=False)

    t = threading.Thread(target=run, name="demo-viewer", daemon=True)
    t.start()
    return t


def export_results(store: Path = STORE) -> tuple[Path, Path] | None:
    """The first and the latest policy snapshot side by side (MP4) and the training curve (PNG)."""
    from braxscope import open_store
    from braxscope.replay_app.curve_png import training_curve_png

    reader = open_store(store)
    snapshots = [ep for ep in reader.episodes() if ep.source == "snapshot"]
    if len(snapshots) < 2:
        print("fewer than two policy snapshots were recorded: nothing to compare")
        return None
    first, latest = min(snapshots, key=lambda e: e.iteration), max(snapshots, key=lambda e: e.iteration)
    video = store.with_name("demo_snapshots.mp4")
    curve = store.with_name("demo_curve.png")
    # Its own process: the encoder (ffmpeg) would otherwise be forked from this JAX process.
    rc = subprocess.run([sys.executable, "-m", "braxscope.cli", "export", str(store), "--episode", first.id,
                         "--compare", latest.id, "--out", str(video), "--width", "480", "--height", "360",
                         "--overlay"], check=False).returncode
    if rc != 0:
        return None
    training_curve_png(reader, curve)
    print()
    print(f"Policy snapshots, iteration {first.iteration} (left) and {latest.iteration} (right): {video}")
    print(f"Training curve: {curve}")
    return video, curve


def how_to_view(store: Path = STORE) -> None:
    print()
    print("Recorded. Look at it with:")
    print(f"  braxscope view {store}            # the replay app (episodes, snapshots, curve)")
    print(f"  braxscope export {store} --help   # render episodes to MP4/GIF")
    print(f"  braxscope verify {store}          # check the store's integrity")


def main() -> int:
    fresh_store()
    viewer = open_viewer_live() if has_display() else None
    if viewer is None:
        print("No display: the replay app cannot open here. The demo trains, then exports a video and a plot.")
        print(f"  (on a desktop, watch it live with: braxscope view {STORE} --live)")
    rc = train()
    if rc != 0:
        return rc
    show_info()
    if viewer is None:
        export_results()
    how_to_view()
    if viewer is not None:
        print("The replay app stays open on the run; close its window to end the demo.")
        viewer.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
