"""Export throughput: the raw Renderer's frames/s against export_video's, side by side.

For each case, one run renders every frame of the episode with the bare Renderer (no encoding,
same size, camera and flags: the physical limit), and one exports the same episode to a file;
the two alternate for ``--repeats`` rounds. Prints the median frames/s of each, the median of the
per-round ratios export/raw (each round's pair ran back to back, so it is the figure least
disturbed by other load; target >= 0.90: encoding must overlap rendering, not add to it), and
the CPU seconds per frame of each (this process plus ffmpeg), which is what the encoder costs
on a machine whose cores the software renderer already fills.

    MUJOCO_GL=egl .venv/bin/python benchmarks/export.py [--frames 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
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


def _cpu_s() -> float:
    """CPU seconds of this process (all threads, so llvmpipe's too) and its finished children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def raw_run(reader, eid: str, width: int, height: int, tiles: int) -> tuple[float, float]:
    """(frames/s, CPU s per frame) of the bare renderer doing one frame's work (``tiles`` renders)."""
    qpos = reader.frames(eid).qpos
    with Renderer(reader.model(), width, height) as r:
        out = np.empty((height, width, 3), np.uint8)
        r.render(qpos[0], out=out)  # first frame outside the timing (context warm-up)
        c0, t0 = _cpu_s(), time.perf_counter()
        for q in qpos:
            for _ in range(tiles):
                r.render(q, out=out)
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    return len(qpos) / wall, cpu / len(qpos)


def export_run(reader, ids: list[str], out: Path, width: int, height: int, n: int) -> tuple[float, float]:
    c0, t0 = _cpu_s(), time.perf_counter()
    export_video(reader, ids, out, width=width, height=height)
    wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    return n / wall, cpu / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--repeats", type=int, default=5)
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
                raw.append(raw_run(reader, eid, W, H, tiles))
                exp.append(export_run(reader, [eid] * tiles, tmp / f"out{i}{suffix}", W, H, args.frames))
            rows.append((label, f"{W}x{H}" + (f" x{tiles}" if tiles > 1 else ""), raw, exp))
    med = statistics.median
    print(f"\nexport throughput, {args.frames} frames, {args.repeats} alternated rounds, medians "
          f"(MUJOCO_GL={__import__('os').environ.get('MUJOCO_GL')}, mujoco {mujoco.__version__}, "
          f"{__import__('os').cpu_count()} CPUs, load {__import__('os').getloadavg()[0]:.1f})")
    print(f"{'case':<19} {'size':<13} {'raw fps':>8} {'export fps':>10} {'ratio':>6} {'pair ratio':>10} "
          f"{'raw cpu ms/f':>12} {'export cpu ms/f':>15}")
    for label, size, raw, exp in rows:
        r, e = med(x[0] for x in raw), med(x[0] for x in exp)
        pair = med(b[0] / a[0] for a, b in zip(raw, exp))
        print(f"{label:<19} {size:<13} {r:8.1f} {e:10.1f} {e / r:6.2f} {pair:10.2f} "
              f"{1000 * med(x[1] for x in raw):12.1f} {1000 * med(x[1] for x in exp):15.1f}")
    print("ratio = median export fps / median raw fps; pair ratio = median over rounds of export/raw")

if __name__ == "__main__":
    main()
