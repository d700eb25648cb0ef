"""``braxscope verify PATH``: exit 0 healthy, 1 damaged (one line per problem: what and where),
2 not a store or not checkable (a newer schema version). Never modifies the store."""

from __future__ import annotations

import argparse
import sys

from .errors import BraxscopeError
from .verify import verify


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the store directory (e.g. runs/demo.zarr)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print problems only, no summary line")


def run(args: argparse.Namespace) -> int:
    try:
        report = verify(args.path)
    except BraxscopeError as e:
        print(f"braxscope: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # unreadable path, I/O error: still one line, never a traceback
        print(f"braxscope: error: {args.path} cannot be read ({e.strerror or e})", file=sys.stderr)
        return 2
    for f in report.findings:
        print(f.line())
    n_damage = sum(f.level == "damage" for f in report.findings)
    if not args.quiet:
        rows = ", ".join(f"{k} {v}" for k, v in report.rows.items())
        state = f"DAMAGED ({n_damage} problem{'s' if n_damage != 1 else ''})" if n_damage else "ok"
        print(f"{state}: {report.path}: {report.writers} writer(s), {rows or 'no rows'}, {report.chunks_checked} chunks checked")
    return 1 if n_damage else 0
