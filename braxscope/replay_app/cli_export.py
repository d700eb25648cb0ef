"""``braxscope export``: render episodes to MP4 or GIF offscreen (no display needed)."""

from __future__ import annotations

import argparse
import sys

from .renderer import TRACK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the store (a directory like runs/demo.zarr)")
    parser.add_argument("--episode", nargs="+", required=True, metavar="ID",
                        help="episode id(s) (W:R or R, as 'braxscope info' lists them); 2-4 ids play side by side; "
                             "PATH:ID names an episode of another store")
    parser.add_argument("--compare", nargs="+", default=[], metavar="ID",
                        help="more episodes to play beside --episode (up to 4 in all): ID, or PATH:ID for another "
                             "store's (runs/b.zarr:0:3), so runs play side by side")
    parser.add_argument("--out", required=True, help="output file, .mp4 or .gif")
    parser.add_argument("--width", type=int, default=640, help="width of one tile in pixels (default 640)")
    parser.add_argument("--height", type=int, default=480, help="height of one tile in pixels (default 480)")
    parser.add_argument("--fps", type=float, default=None, help="frames per second (default: real time, 1/dt)")
    parser.add_argument("--camera", default=TRACK, help="track (default), free, or a camera name of the model")
    parser.add_argument("--overlay", action="store_true", help="draw step, reward and return on each tile")
    parser.add_argument("--shadows", action="store_true", help="render shadows (slow on software GL)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _bar(quiet: bool):
    """A tqdm progress callback, or None (quiet, or tqdm not installed)."""
    if quiet:
        return None, None
    try:
        from tqdm import tqdm
    except ModuleNotFoundError:
        return None, None
    holder: list = []  # the bar appears with the first frame, not before an early error

    def progress(done: int, total: int) -> None:
        if not holder:
            holder.append(tqdm(total=total, unit="frame", desc="export", file=sys.stderr, dynamic_ncols=True))
        holder[0].update(done - holder[0].n)

    return progress, holder


def run(args: argparse.Namespace) -> int:
    from .export_video import export_video  # imports mujoco and imageio only when run

    ids = list(args.episode) + list(args.compare)
    camera = int(args.camera) if str(args.camera).isdigit() else args.camera
    progress, bar = _bar(args.quiet)
    try:
        out = export_video(args.path, ids, args.out, width=args.width, height=args.height, fps=args.fps,
                           camera=camera, overlay=args.overlay, progress=progress, shadows=args.shadows)
    finally:
        for b in bar or []:
            b.close()
    print(out)
    return 0
