"""`make demo`: train inverted_pendulum for about two minutes while recording it into
runs/demo.zarr. With a display, the replay app opens live on the run as soon as the store exists,
so you watch the policy learn. Without one, the demo ends by writing the first and the latest
policy snapshot side by side as an MP4 and the training curve as a PNG.

Each phase is a function; main() runs them in order. ``--steps N`` trains for N env steps instead
of the env's default (a shorter demo; the end-to-end test uses it).
"""

from __future__ import annotations

import argparse
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


def train(store: Path = STORE, steps: int | None = None) -> int:
    """Train with PPO (the env's defaults: 128 envs, 200k steps, 5 evaluations) and record
    envs 0-3 of the training batch, a policy snapshot per evaluation and the training curve."""
    return cli.main(["train", ENV, "--store", str(store)] + (["--steps", str(steps)] if steps else []))


def show_info(store: Path = STORE) -> int:
    """The `braxscope info` table of the run."""
    print()
    return cli.main(["info", str(store)])


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class LiveViewer(threading.Thread):
    """`braxscope view STORE --live` in its own process, started once training has created the
    store (a separate process: the viewer owns its GL contexts and never imports JAX).

    ``failure`` is one line when the viewer did not start or exited with an error, else None;
    it is also printed the moment the viewer dies, while training goes on."""

    def __init__(self, store: Path = STORE, wait_s: float = 300.0):
        super().__init__(name="demo-viewer", daemon=True)
        self.store, self.wait_s = store, wait_s
        self.returncode: int | None = None
        self.failure: str | None = None

    def run(self) -> None:
        deadline = time.monotonic() + self.wait_s
        while not (self.store / "zarr.json").exists():
            if time.monotonic() > deadline:
                self.failure = f"the replay app did not start: {self.store} did not appear in {self.wait_s:.0f} s"
                return
            time.sleep(0.2)
        command = [sys.executable, "-m", "braxscope.cli", "view", str(self.store), "--live"]
        self.returncode = subprocess.run(command, check=False).returncode
        if self.returncode != 0:
            how = f"exit code {self.returncode}" if self.returncode > 0 else f"killed by signal {-self.returncode}"
            self.failure = f"the replay app exited with an error ({how}); its own message is above"
            print(f"\nbraxscope demo: {self.failure}", file=sys.stderr, flush=True)


def wait_for_viewer(viewer: LiveViewer) -> int:
    """After training: leave the window open until the user closes it. 0 when the viewer ran and
    closed cleanly; 1, with a one-line message, when it failed."""
    if viewer.failure is None and viewer.is_alive():
        print("The replay app stays open on the run; close its window to end the demo.", flush=True)
        viewer.join()
    if viewer.failure is not None:
        print(f"braxscope demo: {viewer.failure}", file=sys.stderr)
        return 1
    return 0


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train inverted_pendulum while recording it, and show the run.")
    parser.add_argument("--steps", type=int, default=None, help="env steps to train (default: the env's, 200k)")
    args = parser.parse_args(argv)
    fresh_store()
    viewer = LiveViewer() if has_display() else None
    if viewer is None:
        print("No display: the replay app cannot open here. The demo trains, then exports a video and a plot.")
        print(f"  (on a desktop, watch it live with: braxscope view {STORE} --live)")
    else:
        viewer.start()
    rc = train(steps=args.steps)
    if rc != 0:
        return rc
    show_info()
    if viewer is None:
        export_results()
    how_to_view()
    return 0 if viewer is None else wait_for_viewer(viewer)


if __name__ == "__main__":
    sys.exit(main())
