"""``braxscope export-hdf5`` and ``braxscope import-hdf5`` (one module serves both commands)."""

from __future__ import annotations

import argparse
import sys

from .hdf5 import LAYOUTS, export_hdf5, import_hdf5


def add_arguments_for(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "export-hdf5":
        parser.add_argument("path", help="the store (a directory like runs/demo.zarr)")
        parser.add_argument("out", help="the HDF5 file to write (e.g. demo.h5)")
        parser.add_argument("--episodes", nargs="+", metavar="ID",
                            help="episode ids (W:R or R, as 'braxscope info' lists them); "
                                 "default: every complete episode")
        parser.add_argument("--layout", choices=LAYOUTS, default="robomimic",
                            help="robomimic: data/demo_N/{states,actions,rewards,dones}; "
                                 "minari: episode_N/{observations,...} "
                                 "(docs/EXPORT.md); default robomimic")
        parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    elif name == "import-hdf5":
        parser.add_argument("path", help="a robomimic or Minari HDF5 file (the layout is detected)")
        parser.add_argument("out", help="the new store to write (must not exist)")
        parser.add_argument("--model", metavar="FILE", help="MuJoCo model (.xml or .mjb) for a file that holds none")
        parser.add_argument("--env-name", help="env name to record (default: the file's, else its name)")
    else:  # pragma: no cover - cli.py only routes the two names above
        raise ValueError(name)


def _progress(label: str):
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\r{label} {done}/{total} episodes", end=end, file=sys.stderr, flush=True)

    return show


def run_for(name: str, args: argparse.Namespace) -> int:
    if name == "export-hdf5":
        r = export_hdf5(args.path, args.out, episodes=args.episodes, layout=args.layout, overwrite=args.force,
                        progress=_progress("exporting"))
        print(f"wrote {r.episodes} episodes ({r.steps} steps) to {r.path} in the {r.layout} layout")
        return 0
    r = import_hdf5(args.path, args.out, model_path=args.model, env_name=args.env_name, progress=_progress("importing"))
    for note in r.notes:
        print(f"note: {note}")
    print(f"imported {r.episodes} episodes ({r.steps} steps) from a {r.layout} file into {r.path}")
    return 0
