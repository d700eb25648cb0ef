"""Several runs in one viewer session against one: what a second store (or a sweep's second
writer group) costs the replay session.

Side by side, each in the same process on the same stores: a session over one store, over two
stores (two seeds), and over one store that a two-process sweep wrote (two writer groups of
different seeds, so two runs). Measured: opening the session (its first poll of the store
included), a browser query (sorted by return, the visible window of rows built), an idle poll
(what live mode pays every 0.25 s), and a cross-run compare's first frame data (two episodes
loaded). Medians over ``--repeat`` rounds, and each line's ratio to the one-store session.

    python benchmarks/runs.py [--episodes 200000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import braxscope  # noqa: E402,F401  (MUJOCO_GL before mujoco)
from braxscope.replay_app.session import ReplaySession  # noqa: E402
from braxscope.schema import StoreWriter, open_store  # noqa: E402
from store import E, ant_like_model  # noqa: E402

DONE_EVERY = 5  # steps per episode
BLOCK = 4096  # time rows per append and commit


def write(path: Path, episodes: int, seed: int, process_index: int = 0) -> None:
    """A writer group of ``episodes`` train episodes over E slots (ant-sized rows), config seed ``seed``."""
    model = ant_like_model()
    rng = np.random.default_rng(seed)
    w = StoreWriter.create(path, model, env_name="ant", backend="generalized", dt=0.05, train_slots=E,
                           config={"seed": seed, "num_envs": E}, process_index=process_index)
    rows = episodes * DONE_EVERY // E
    for lo in range(0, rows, BLOCK):
        k = min(BLOCK, rows - lo)
        steps = np.arange(lo, lo + k)
        w.append_train(qpos=rng.standard_normal((k, E, model.nq), np.float32),
                       qvel=rng.standard_normal((k, E, model.nv), np.float32),
                       action=rng.standard_normal((k, E, model.nu), np.float32),
                       reward=rng.standard_normal((k, E), np.float32),
                       done=np.repeat(((steps % DONE_EVERY) == DONE_EVERY - 1)[:, None], E, axis=1),
                       env_id=np.tile(np.arange(E, dtype=np.int32), (k, 1)), env_step=steps * E,
                       iteration=lo // (rows // 10 + 1))
        w.append_metrics(int(lo * E), {"eval/episode_reward": float(lo) / rows * (1 + seed)})
        w.commit()
    w.close()


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def measure(paths: list[Path], repeat: int) -> dict:
    out = {"open": [], "query": [], "idle poll": [], "compare load": []}
    for _ in range(repeat):
        readers = [open_store(p) for p in paths]
        t, s = timed(lambda: ReplaySession(readers if len(readers) > 1 else readers[0]))
        out["open"].append(t)

        def query():
            s.set_sort("return", descending=True)
            s.scroll_table(0, 30)
            return s.snapshot().table

        out["query"].append(timed(query)[0])
        polls = [timed(s.poll_store)[0] for _ in range(20)]
        out["idle poll"].append(statistics.median(polls))
        last = {s.run_of(e.id).index: e.id for e in s.rows()[:200]}  # an episode of each run
        ids = list(last.values())[:2] or [s.rows()[0].id]
        s.set_compare(ids) if len(ids) > 1 else s.select(ids[0])
        out["compare load"].append(timed(s.poll_store)[0])
        assert not s.loading
        out["runs"] = len(s.runs)
    return {k: (statistics.median(v) if isinstance(v, list) else v) for k, v in out.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--episodes", type=int, default=200_000, help="episodes per writer group")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="braxscope-runs-") as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        write(d / "s0.zarr", args.episodes, 0)
        write(d / "s1.zarr", args.episodes, 1)
        write(d / "sweep.zarr", args.episodes, 0, 0)
        write(d / "sweep.zarr", args.episodes, 1, 1)
        print(f"wrote 4 writer groups of {args.episodes:,} episodes in {time.perf_counter() - t0:.0f} s")
        cases = [("one store", [d / "s0.zarr"]), ("two stores", [d / "s0.zarr", d / "s1.zarr"]),
                 ("sweep in one store", [d / "sweep.zarr"])]
        res = {name: measure(paths, args.repeat) for name, paths in cases}
    base = res["one store"]
    keys = ["open", "query", "idle poll", "compare load"]
    print(f"\n{'':<20}{'runs':>5}" + "".join(f"{k + ' ms':>16}" for k in keys))
    for name, r in res.items():
        cells = "".join(f"{r[k] * 1e3:>9.1f} ({r[k] / base[k]:.2f}x)" for k in keys)
        print(f"{name:<20}{r['runs']:>5}{cells}")
    print(f"\nmedians of {args.repeat} rounds; ratios to the one-store session; idle poll: median of 20 per round")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
