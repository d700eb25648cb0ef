"""Notebook Viewer benchmark: the slider's latency against the raw MuJoCo renderer, side by side.

    MUJOCO_GL=egl .venv/bin/python benchmarks/notebook_viewer.py [--moves 100] [--episode-len 1000]

Ant at 640x480, shadows off, in one process (the Viewer without a browser: ipywidgets keeps the
values a front-end would receive):
- raw: ``Renderer.render`` of stored qpos at random frames (what any view must pay per frame);
- the Viewer: its slider set to a random frame (as a front-end's update does) -> the new JPEG
  bytes on its image widget, the reward/return and action plots' cursors redrawn: p50/p95;
- the same latency with a 2x2 compare grid under the slider.
Target (issue 15): p95 <= 100 ms for one episode. Prints medians and the ratio to raw.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
W, H = 640, 480


def _pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def raw(store: Path, moves: int) -> list[float]:
    from braxscope.replay_app.renderer import Renderer
    from braxscope.schema import open_store

    r = open_store(store)
    qpos = r.frames(r.episodes()[0]).qpos
    out = []
    with Renderer(r.model(), W, H) as rend:
        buf = rend.render(qpos[0])
        for _ in range(moves):
            k = random.randrange(len(qpos))
            t0 = time.perf_counter()
            rend.render(qpos[k], out=buf)
            out.append(time.perf_counter() - t0)
    return out


def viewer(store: Path, moves: int, compare: list[str] | None) -> list[float]:
    import braxscope.notebook as bn

    v = bn.Viewer(store, width=W, height=H)
    try:
        if compare:
            v.set_compare(compare)
            v.wait()
        n = v.slider.max + 1
        out = []
        for _ in range(moves):
            k = random.randrange(n)
            while k == v.session.cursor:
                k = random.randrange(n)
            before = v.image.value
            t0 = time.perf_counter()
            v.slider.value = k  # what a front-end's update message does (the widget's observer runs)
            assert v.wait(30), v.error
            assert v.image.value is not before and v.session.cursor == k
            out.append(v.shown_at - t0)
        return out
    finally:
        v.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--moves", type=int, default=100)
    p.add_argument("--episode-len", type=int, default=1000)
    args = p.parse_args()
    random.seed(0)
    from replay_app.storegen import make_store

    with tempfile.TemporaryDirectory(prefix="braxscope-nbbench-") as tmp:
        store = make_store(Path(tmp) / "ant.zarr", name="ant", iterations=2, slots=2, episode_len=args.episode_len,
                           snapshot_len=args.episode_len)
        rows = [("raw Renderer.render", raw(store, args.moves)),
                ("Viewer: slider -> image", viewer(store, args.moves, None)),
                ("Viewer, 2x2 compare", viewer(store, args.moves, ["0:0", "0:1", "0:3", "0:4"]))]
    base = statistics.median(rows[0][1])
    print(f"ant {W}x{H}, {args.moves} random moves each")
    print(f"{'':26s} {'p50 ms':>8s} {'p95 ms':>8s} {'p50 / raw':>10s}")
    for name, xs in rows:
        print(f"{name:26s} {statistics.median(xs) * 1e3:8.1f} {_pct(xs, 95) * 1e3:8.1f} "
              f"{statistics.median(xs) / base:10.2f}")
    p95 = _pct(rows[1][1], 95) * 1e3
    print(f"target: Viewer p95 <= 100 ms: {'met' if p95 <= 100 else 'missed'} ({p95:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
