"""``braxscope info PATH [--json] [--all]``: the run, its writers, metrics and episodes.

Exit 0 when anything in the store is usable (damaged writers or episodes are named on their
own lines, the rest is shown); 2 when the path is not a store this version can read.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from . import layout
from .errors import BraxscopeError
from .reader import EpisodeInfo, StoreReader, open_store
from .status import episode_status, format_age

# Above this many episodes the table shows the first and last _EDGE (``--all`` shows every one).
_MAX_ROWS = 200
_EDGE = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the store directory (e.g. runs/demo.zarr)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    parser.add_argument("--all", action="store_true",
                        help=f"list every episode (default: the first and last {_EDGE} "
                             f"when there are more than {_MAX_ROWS})")


def run(args: argparse.Namespace) -> int:
    reader = open_store(args.path)  # errors: one line and exit 2, in braxscope.cli.main
    # The table shows the first and last _EDGE of a long catalog: only those become rows.
    doc = describe(reader, edges=None if args.json or args.all else _EDGE)
    if args.json:
        print(json.dumps(doc, indent=1, allow_nan=False, default=str))
    else:
        print(render(doc, show_all=args.all))
    return 0


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _episode_row(ep: EpisodeInfo, process: dict | None = None) -> dict:
    return {
        "process": (process or {}).get(ep.writer, 0),
        "id": ep.id, "source": ep.source, "env": ep.env_id, "device": ep.device, "iteration": ep.iteration,
        "env_step": ep.env_step, "length": ep.length, "return": _finite(ep.ret), "complete": ep.complete,
        "in_progress": ep.in_progress, "status": episode_status(ep), "writer": ep.writer,
    }


def describe(reader: StoreReader, *, edges: int | None = None) -> dict:
    """Everything ``info`` shows, as JSON-safe data. With ``edges``, a catalog of more than
    _MAX_ROWS episodes lists only its first and last ``edges`` (the counts cover them all)."""
    a = reader.info.attrs
    run = {k: a.get(k) for k in ("env_name", "backend", "suite", "impl", "dt", "nq", "nv", "nu", "nmocap",
                                  "schema_version", "run_id", "created", "joint_names", "actuator_names", "versions",
                                  "config")}
    writers = []
    for w in reader.writers():
        writers.append({
            "ordinal": w.ordinal, "writer_id": w.writer_id, "process_index": w.process_index, "host": w.host,
            "state": w.state, "epoch": w.epoch, "heartbeat": w.heartbeat,
            "heartbeat_age_s": round(w.heartbeat_age_s, 1),
            "rows": w.rows, "dropped_rows": w.dropped_rows, "last_env_step": w.last_env_step, "locked": w.locked,
            "error": w.error,
        })
    problems = list(reader.problems)
    metrics: dict = {"rows": 0, "names": [], "last": {}}
    try:
        m = reader.metrics()
        metrics["rows"] = int(m.env_step.shape[0])
        metrics["names"] = m.names
        if metrics["rows"]:
            metrics["last_env_step"] = int(m.env_step[-1])
            for name, v in m.values.items():
                finite = np.flatnonzero(np.isfinite(v))
                if finite.size:
                    metrics["last"][name] = float(v[finite[-1]])
    except BraxscopeError as e:
        problems.append(f"metrics unreadable: {e}")
    try:
        reader.model()
    except BraxscopeError as e:
        problems.append(f"model: {e}")
    sel = reader.query(in_progress=True)
    source, opened = sel.column("source"), sel.column("in_progress")
    counts = {"total": len(sel), "train": int(((source == layout.SOURCE_TRAIN) & ~opened).sum()),
              "snapshot": int((source == layout.SOURCE_SNAPSHOT).sum()), "in_progress": int(opened.sum())}
    shown = sel if edges is None or len(sel) <= _MAX_ROWS else sel[:edges] + sel[len(sel) - edges:]
    process = {w["writer_id"]: w["process_index"] for w in writers}
    episodes = [_episode_row(ep, process) for ep in shown]
    return {"path": str(reader.path), "run": run, "writers": writers, "metrics": metrics, "episodes": episodes,
            "episode_counts": counts, "problems": problems}


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _age(seconds: float) -> str:
    return f"{format_age(seconds)} ago"


def _physics(r: dict) -> str:
    """'backend spring', or for a MuJoCo Playground run 'MuJoCo Playground, impl jax'."""
    if r.get("suite") == "playground":
        return f"MuJoCo Playground, impl {r.get('impl') or '?'}"
    return f"backend {r.get('backend') or '?'}"


def render(doc: dict, *, show_all: bool = False) -> str:
    r = doc["run"]
    out = [
        f"store    {doc['path']}",
        f"run      {r['env_name']} ({_physics(r)}), dt {r['dt']:g} s, "
        f"nq {r['nq']} nv {r['nv']} nu {r['nu']}, "
        f"schema v{r['schema_version']}, run {r.get('run_id')}, created {r.get('created')}",
    ]
    out.append("")
    wrows = []
    for w in doc["writers"]:
        rows = w["rows"]
        wrows.append([str(w["ordinal"]), w["writer_id"], str(w["process_index"]),
                      w["state"] + (" (locked)" if w["locked"] and w["state"] != "closed" else ""),
                      _age(w["heartbeat_age_s"]), str(rows.get("train", 0)), str(rows.get("snapshots", 0)),
                      str(rows.get("catalog", 0)), str(rows.get("metrics", 0)), str(w["dropped_rows"]),
                      str(w["last_env_step"])])
    out += _table(["#", "writer", "proc", "state", "heartbeat", "train rows", "snapshot rows", "episodes", "metrics",
                   "dropped", "last step"], wrows)
    for w in doc["writers"]:
        if w.get("error"):
            out.append(f"writer {w['ordinal']} failed: {w['error']}")
    m = doc["metrics"]
    out.append("")
    if m["rows"]:
        last = ", ".join(f"{k} {v:.4g}" for k, v in list(m["last"].items())[:8])
        more = f" (+{len(m['last']) - 8} more)" if len(m["last"]) > 8 else ""
        out.append(f"metrics  {m['rows']} rows up to env step {m['last_env_step']}; latest: {last}{more}")
    else:
        out.append("metrics  none yet")
    eps, n = doc["episodes"], doc["episode_counts"]
    out += ["", f"episodes {n['total']}: {n['train']} train, {n['snapshot']} snapshot, {n['in_progress']} in progress"]
    if len(eps) < n["total"]:  # describe() listed only the edges
        shown = eps[: len(eps) // 2] + [None] + eps[len(eps) // 2:]
    else:
        shown = eps if show_all or len(eps) <= _MAX_ROWS else eps[:_EDGE] + [None] + eps[-_EDGE:]
    erows = []
    many = len(doc["writers"]) > 1
    for e in shown:
        if e is None:
            erows.append(["...", f"{n['total'] - 2 * _EDGE} more (--all)", "", "", "", "", "", "", ""] + [""] * many)
            continue
        ret = "nan" if e["return"] is None else f"{e['return']:.3f}"
        erows.append([e["id"], e["source"], str(e["env"]), str(e["device"]), str(e["iteration"]), str(e["env_step"]),
                      str(e["length"]), ret, e["status"]])
        if many:  # a sweep or a multi-process run: which process recorded it
            erows[-1].insert(1, f"{e['id'].partition(':')[0]} (p{e.get('process', 0)})")
    if eps:
        header = ["id", "source", "env", "device", "iteration", "env_step", "length", "return", "status"]
        out += _table(header[:1] + ["writer"] + header[1:] if many else header, erows)
    for p in doc["problems"]:
        out.append(f"damaged: {p}")
    return "\n".join(out)
