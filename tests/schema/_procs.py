"""Child processes for the concurrency and crash tests (run as ``python -m tests.schema._procs``).

write STORE WRITER_ID [--seconds S] [--seed N]: resume the writer group and append forever (or
for S seconds) as fast as it can, in random block sizes, committing after every block; rows are
a pure function of the global env step (== the row index), so any reader can check any row.

tail STORE --seconds S: follow the store the way the viewer does (refresh, read what is new,
plus random earlier ranges and episodes) and print one JSON line of counts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from braxscope.schema import BraxscopeError, StoreWriter, open_store
from tests.schema.conftest import toy_model, train_block, value_of

SLOTS = 2


def write(args, ready=None) -> int:
    model = toy_model()
    w = StoreWriter.resume(args.store, args.writer)
    rng = np.random.default_rng(args.seed)
    n = w.committed_rows["train"]
    if ready is not None:
        ready(n)
    else:
        print(f"resumed {n}", flush=True)
    end = time.monotonic() + args.seconds if args.seconds else None
    i = 0
    while end is None or time.monotonic() < end:
        k = int(rng.integers(1, 80))
        w.append_train(**train_block(model, n, k, SLOTS, iteration=n // 1000))
        n += k
        if i % 10 == 0:
            L = int(rng.integers(1, 40))
            steps = np.arange(L)
            w.append_snapshot(qpos=value_of(steps, 0, model.nq)[:, 0], qvel=value_of(steps, 0, model.nv)[:, 0],
                              action=value_of(steps, 0, model.nu)[:, 0], reward=np.ones(L, np.float32),
                              done=steps == L - 1, iteration=n // 1000, env_step=n, complete=True)
            w.append_metrics(n, {"reward": float(n), f"m{i % 50}": 1.0})
        w.commit()
        i += 1
    w.close()
    print(f"closed {n}", flush=True)
    return 0


def tail(args) -> int:
    model = toy_model()
    counts = dict(polls=0, reads=0, rows=0, torn=0, fill_rows=0, out_of_order=0, errors=0, episode_reads=0, last=0)
    rng = np.random.default_rng()
    r = open_store(args.store)
    wid = None
    seen = 0
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        counts["polls"] += 1
        try:
            r.refresh()
            if not r.writer_ids:
                time.sleep(0.01)
                continue
            wid = r.writer_ids[0]
            n = r.writers()[0].rows["train"]
            if n < seen:
                counts["out_of_order"] += 1  # the committed length went backwards
            if n > seen:
                rows = r.train_rows(wid, seen, n)
                _check(model, rows, seen, counts)
                seen = n
            if seen > 1000:  # a random earlier range, like a scrubbing viewer
                lo = int(rng.integers(0, seen - 1000))
                _check(model, r.train_rows(wid, lo, lo + 1000), lo, counts)
            eps = r.episodes(in_progress=True)
            if eps:
                ep = eps[int(rng.integers(len(eps)))] if rng.random() < 0.5 else eps[-1]
                f = r.frames(ep)
                counts["episode_reads"] += 1
                if ep.source == "train":
                    want = value_of(f.env_step, ep.env_id, model.nq)[:, 0]
                    counts["torn"] += int(f.qpos.tobytes() != want.tobytes())
                counts["fill_rows"] += int((f.env_step < 0).sum() + np.isnan(f.qpos).any(axis=1).sum())
        except BraxscopeError as e:
            counts["errors"] += 1
            print(f"error: {e}", file=sys.stderr)
        time.sleep(0.002)
    counts["last"] = seen
    print(json.dumps(counts), flush=True)
    return 0


def _check(model, rows, lo, counts) -> None:
    counts["reads"] += 1
    k = rows["env_step"].shape[0]
    counts["rows"] += k
    counts["fill_rows"] += int((rows["env_step"] < 0).sum() + np.isnan(rows["qpos"]).any(axis=(1, 2)).sum())
    if not np.array_equal(rows["env_step"], np.arange(lo, lo + k)):
        counts["out_of_order"] += 1
    want = train_block(model, lo, k, SLOTS)
    if rows["qpos"].tobytes() != want["qpos"].tobytes() or rows["action"].tobytes() != want["action"].tobytes():
        counts["torn"] += 1


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("write")
    p.add_argument("store")
    p.add_argument("writer")
    p.add_argument("--seconds", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("tail")
    p.add_argument("store")
    p.add_argument("--seconds", type=float, required=True)
    args = ap.parse_args()
    return write(args) if args.cmd == "write" else tail(args)


if __name__ == "__main__":
    sys.exit(main())
