"""`make demo`: train inverted_pendulum for about two minutes while recording it into
runs/demo.zarr, then show what was recorded and how to look at it.

Each phase is a function so that others (e.g. opening the viewer live while training) can be
slotted in: main() runs them in order.
"""

from __future__ import annotations

import shutil
import sys
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


def how_to_view(store: Path = STORE) -> None:
    print()
    print("Recorded. Look at it with:")
    print(f"  braxscope view {store}            # the replay app (episodes, snapshots, curve)")
    print(f"  braxscope export {store} --help   # render episodes to MP4/GIF")
    print(f"  braxscope verify {store}          # check the store's integrity")


def main() -> int:
    fresh_store()
    rc = train()
    if rc != 0:
        return rc
    show_info()
    how_to_view()
    return 0


if __name__ == "__main__":
    sys.exit(main())
