"""The ``braxscope`` command. Each subcommand lives in the component that owns it and is
imported only when used, so ``braxscope view`` never imports JAX and ``braxscope train`` never
imports DearPyGui.

A subcommand module exposes ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .schema.errors import BraxscopeError

# name -> (module, one-line help)
SUBCOMMANDS = {
    "info": ("braxscope.schema.cli_info", "show a run and its episodes"),
    "verify": ("braxscope.schema.cli_verify", "check a store's integrity (exit 0 healthy, 1 damaged, 2 not a store)"),
    "compact": ("braxscope.schema.cli_compact", "rewrite finished writer groups into sharded arrays (few files)"),
    "train": ("braxscope.recorder.cli_train", "train a brax or MuJoCo Playground env with PPO and record it"),
    "view": ("braxscope.replay_app.cli_view", "open the replay app on one or several stores (live or history)"),
    "export": ("braxscope.replay_app.cli_export", "render episodes to MP4 or GIF"),
    "export-hdf5": ("braxscope.schema.cli_hdf5", "write finished episodes to an HDF5 file (robomimic layout)"),
    "import-hdf5": ("braxscope.schema.cli_hdf5", "read a robomimic or minari HDF5 file into a new store"),
    "export-minari": ("braxscope.schema.cli_hdf5", "write finished episodes as a Minari dataset (braxscope[minari])"),
    "import-minari": ("braxscope.schema.cli_hdf5", "read a Minari dataset into a new store (braxscope[minari])"),
}


def _parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = argparse.ArgumentParser(prog="braxscope",
                                     description="Record Brax PPO training; replay it live or afterwards.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = {}
    wanted = sys.argv[1] if len(sys.argv) > 1 else None
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        # Import only the module of the command being run (keeps `view` free of JAX).
        if name == wanted:
            mod = importlib.import_module(module)
            if hasattr(mod, "add_arguments_for"):
                mod.add_arguments_for(name, p)
            else:
                mod.add_arguments(p)
            modules[name] = mod
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    try:
        parser, modules = _parser()
    except ModuleNotFoundError as e:
        print(f"braxscope: error: this command needs {e.name}, which is not installed: pip install 'braxscope[all]'",
              file=sys.stderr)
        return 2
    args = parser.parse_args(sys.argv[1:])
    if not args.command:
        parser.print_help()
        return 2
    mod = modules[args.command]
    try:
        if hasattr(mod, "run_for"):
            return int(mod.run_for(args.command, args) or 0)
        return int(mod.run(args) or 0)
    except BraxscopeError as e:
        print(f"braxscope: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `braxscope info ... | head`: the reader left; not an error. Silence the flush at exit.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:
        # An unreadable path or an I/O error: still one line, never a traceback.
        print(f"braxscope: error: {e.filename or 'a file'} cannot be read ({e.strerror or e})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
