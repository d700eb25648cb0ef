"""``braxscope verify PATH``: exit 0 healthy, 1 damaged (one line per problem: what and where),
2 not a store or not checkable (a newer schema version). Never modifies the store."""

from __future__ import annotations

import argparse

from .verify import verify


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the store directory (e.g. runs/demo.zarr)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print problems only, no summary line")


def run(args: argparse.Namespace) -> int:
    report = verify(args.path)  # errors: one line and exit 2, in braxscope.cli.main
    for f in report.findings:
        print(f.line())
    n_damage = sum(f.level == "damage" for f in report.findings)
    if not args.quiet:
        rows = ", ".join(f"{k} {v}" for k, v in report.rows.items())
        state = f"DAMAGED ({n_damage} problem{'s' if n_damage != 1 else ''})" if n_damage else "ok"
        print(f"{state}: {report.path}: {report.writers} writer(s), {rows or 'no rows'}, "
              f"{report.chunks_checked} chunks checked")
    return 1 if n_damage else 0
