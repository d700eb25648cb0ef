"""``braxscope export-hdf5 | import-hdf5 | export-minari | import-minari`` (one module serves the four)."""

from __future__ import annotations

import argparse
import sys

from .hdf5 import LAYOUTS, export_hdf5, export_minari, import_hdf5, import_minari

_EPISODES_HELP = "episode ids (W:R or R, as 'braxscope info' lists them); default: every complete episode"
_DATASETS_HELP = "Minari's datasets root (default: $MINARI_DATASETS_PATH, else ~/.minari/datasets)"


def add_arguments_for(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "export-hdf5":
        parser.add_argument("path", help="the store (a directory like runs/demo.zarr)")
        parser.add_argument("out", help="the HDF5 file to write (e.g. demo.h5)")
        parser.add_argument("--episodes", nargs="+", metavar="ID", help=_EPISODES_HELP)
        # "minari" is accepted so that its one-line error can point to export-minari.
        parser.add_argument("--layout", choices=(*LAYOUTS, "minari"), default="robomimic",
                            help="robomimic: data/demo_N/{states,obs,next_obs,actions,rewards,dones} and mask/ "
                                 "(docs/EXPORT.md); a Minari dataset is a directory: use export-minari")
        parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    elif name == "import-hdf5":
        parser.add_argument("path", help="a robomimic or Minari HDF5 file (the layout is detected)")
        parser.add_argument("out", help="the new store to write (must not exist)")
        parser.add_argument("--model", metavar="FILE", help="MuJoCo model (.xml or .mjb) for a file that holds none")
        parser.add_argument("--env-name", help="env name to record (default: the file's, else its name)")
    elif name == "export-minari":
        parser.add_argument("path", help="the store (a directory like runs/demo.zarr)")
        parser.add_argument("dataset_id", help="the Minari dataset id, NAMESPACE/NAME-vN (e.g. braxscope/ant-v0)")
        parser.add_argument("--episodes", nargs="+", metavar="ID", help=_EPISODES_HELP)
        parser.add_argument("--datasets-path", metavar="DIR", help=_DATASETS_HELP)
        parser.add_argument("--force", action="store_true", help="replace the dataset if it exists")
    elif name == "import-minari":
        parser.add_argument("dataset", help="a Minari dataset directory, or a dataset id under the datasets root")
        parser.add_argument("out", help="the new store to write (must not exist)")
        parser.add_argument("--datasets-path", metavar="DIR", help=_DATASETS_HELP)
        parser.add_argument("--model", metavar="FILE", help="MuJoCo model (.xml or .mjb) for a dataset that holds none")
        parser.add_argument("--env-name", help="env name to record (default: the dataset's, else its name)")
    else:  # pragma: no cover - cli.py only routes the names above
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
    if name == "export-minari":
        r = export_minari(args.path, args.dataset_id, episodes=args.episodes, datasets_path=args.datasets_path,
                          overwrite=args.force, progress=_progress("exporting"))
        print(f"wrote {r.episodes} episodes ({r.steps} steps) as Minari dataset {args.dataset_id} in {r.path}")
        return 0
    if name == "import-minari":
        r = import_minari(args.dataset, args.out, datasets_path=args.datasets_path, model_path=args.model,
                          env_name=args.env_name, progress=_progress("importing"))
    else:
        r = import_hdf5(args.path, args.out, model_path=args.model, env_name=args.env_name,
                        progress=_progress("importing"))
    for note in r.notes:
        print(f"note: {note}")
    print(f"imported {r.episodes} episodes ({r.steps} steps) from a {r.layout} "
          f"{'dataset' if name == 'import-minari' else 'file'} into {r.path}")
    return 0
