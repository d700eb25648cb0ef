"""Export throughput: the raw Renderer's frames/s against export_video's, side by side.

For each case, one run renders every frame of the episode with the bare Renderer (no encoding,
same size, camera and flags: the physical limit), and one exports the same episode to a file;
the two alternate for ``--repeats`` rounds. Prints medians and the ratio export/raw (target
>= 0.90: encoding must overlap rendering, not add to it).

    MUJOCO_GL=egl .venv/bin/python benchmarks/export.py [--frames 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

import braxscope  # noqa: F401  (chooses the GL backend before mujoco is imported)
import mujoco
import numpy as np

from braxscope.replay_app.export_video import export_video
from braxscope.replay_app.renderer import Renderer
from braxscope.schema import StoreWriter, open_store


def _brax_asset(name: str) -> Path:
    # The XML files only; brax itself (and JAX) is not imported.
    spec = importlib.util.find_spec("brax")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("benchmarks/export.py needs brax installed for its ant model (pip install 'braxscope[record]')")
    return Path(list(spec.submodule_search_locations)[0]) / "envs" / "assets" / name


def make_store(path: Path, xml: Path, frames: int) -> tuple[Path, mujoco.MjModel]:
    """A store with one snapshot episode of ``frames`` rows: the body drifts, the joints swing."""
    model = mujoco.MjModel.from_xml_path(str(xml))
    t = np.arange(frames) * 0.05
    qpos = np.tile(model.qpos0.astype(np.float32), (frames, 1))
    qpos[:, 0] = 0.3 * t
    if model.nq > 7:
        qpos[:, 7:] += 0.5 * np.sin(3 * t[:, None] + np.arange(model.nq - 7)[None, :])
    z = np.zeros((frames, model.nv), np.float32)
    w = StoreWriter.create(path, model, env_name=xml.stem, dt=0.05, train_slots=1)
    w.append_snapshot(qpos=qpos, qvel=z, action=np.zeros((frames, model.nu), np.float32),
                      reward=np.zeros(frames, np.float32), done=np.zeros(frames, np.uint8),
                      iteration=0, env_step=0, complete=True)
    w.close()
    return path, model


def raw_fps(reader, eid: str, width: int, height: int) -> float:
    qpos = reader.frames(eid).qpos
    with Renderer(reader.model(), width, height) as r:
        out = np.empty((height, width, 3), np.uint8)
        r.render(qpos[0], out=out)  # first frame outside the timing (context warm-up)
        t0 = time.perf_counter()
        for q in qpos:
            r.render(q, out=out)
        return len(qpos) / (time.perf_counter() - t0)


def export_fps(reader, ids: list[str], out: Path, width: int, height: int, n: int) -> float:
    t0 = time.perf_counter()
    export_video(reader, ids, out, width=width, height=height)
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    args = ap.parse_args()
    W, H = args.width, args.height
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store, _ = make_store(tmp / "ant.zarr", _brax_asset("ant.xml"), args.frames)
        reader = open_store(store)
        eid = reader.episodes()[0].id
        for label, suffix, tiles in (("ant MP4", ".mp4", 1), ("ant GIF", ".gif", 1), ("ant MP4 compare 2", ".mp4", 2)):
            raw, exp = [], []
            for i in range(args.repeats):
                # Raw rate of the same work: one render per tile per frame.
                raw.append(raw_fps(reader, eid, W, H) / tiles)
                exp.append(export_fps(reader, [eid] * tiles, tmp / f"out{i}{suffix}", W, H, args.frames))
            rows.append((label, f"{W}x{H}" + (f" x{tiles}" if tiles > 1 else ""), statistics.median(raw),
                         statistics.median(exp), raw, exp))
    print(f"\nexport throughput, {args.frames} frames, median of {args.repeats} alternated runs "
          f"(MUJOCO_GL={__import__('os').environ.get('MUJOCO_GL')}, mujoco {mujoco.__version__})")
    print(f"{'case':<20} {'size':<14} {'raw fps':>9} {'export fps':>11} {'ratio':>7}   runs raw / export")
    for label, size, r, e, rr, ee in rows:
        print(f"{label:<20} {size:<14} {r:9.1f} {e:11.1f} {e / r:7.2f}   "
              f"{' '.join(f'{x:.1f}' for x in rr)} / {' '.join(f'{x:.1f}' for x in ee)}")


if __name__ == "__main__":
    main()
