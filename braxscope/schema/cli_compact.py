"""``braxscope compact PATH``: rewrite finished writer groups into sharded arrays (few files).

Exit 0 when every group is compacted, already was, or was skipped for a reason it prints (still
recording, locked); 2 when the path is not a store. Safe to stop at any moment (see compact.py).
"""

from __future__ import annotations

import argparse

from .compact import compact


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the store directory (e.g. runs/demo.zarr)")
    parser.add_argument("--writer", action="append", default=None,
                        help="compact only this writer group (repeatable; default: every closed one)")


def run(args: argparse.Namespace) -> int:
    print(f"compacting {args.path}", flush=True)
    for result in compact(args.path, writers=args.writer):  # errors: one line and exit 2, in cli.main
        print(result.line(), flush=True)
    return 0
