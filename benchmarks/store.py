"""The store against HDF5 (h5py, robomimic layout, chunked + gzip) and a plain .npz, side by side.

The same synthetic ant-sized trajectories (nq 15, nv 14, nu 8; 8 envs; at least 1M env-rows)
go to each format. Printed: bytes on disk, write env-rows/s, random-seek latency (one frame of
one env, and 1000 consecutive rows of one env; p50/p95), and tail latency (a writer process
appends and publishes, a reader process polls at braxscope's default interval; time from the
append call to the reader holding the row; p50/p95). Ratios are braxscope / HDF5-gzip.

    MUJOCO_GL=egl .venv/bin/python benchmarks/store.py            # about 2 minutes
    MUJOCO_GL=egl .venv/bin/python benchmarks/store.py --steps 16384 --tail-seconds 3   # quick

Workload details, so the numbers can be judged:
- braxscope: appends of 64 time rows (the recorder's flush size), a commit every 8192 time rows
  (``--commit-every``; the recorder commits about once a second);
  every row carries env_step, iteration, wall_time, flags and env_id besides the physics.
- HDF5: robomimic's layout, ``data/demo_N/{states (qpos|qvel), actions, rewards, dones}``,
  gzip level 4, chunks of up to 1024 rows, each episode written whole when it ends (that is
  how those tools write). Its tail uses SWMR (resize, write, flush; reader ``refresh()``).
- npz: ``np.savez`` of the whole time-major arrays at the end; a read loads whole members;
  it cannot be appended to, so it has no tail latency.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import h5py  # noqa: E402
import mujoco  # noqa: E402
import numpy as np  # noqa: E402

from braxscope.schema import StoreWriter, open_store  # noqa: E402
from braxscope.schema.reader import POLL_INTERVAL_S  # noqa: E402

E, NQ, NV, NU = 8, 15, 14, 8
BLOCK = 64  # time rows per append: the recorder's device-to-host flush
# Time rows per commit. The recorder commits about once a second; at the 200k env-rows/s target
# that is 25k time rows, so 8192 (about three commits a second) is on the frequent side.
COMMIT_EVERY = 8192


def ant_like_model() -> mujoco.MjModel:
    """A free body and 8 hinges with 8 motors: nq 15, nv 14, nu 8 (the ant's sizes)."""
    legs = "".join(
        f"<body pos='0.1 0 0'><joint name='hip{i}' type='hinge'/><geom size='.05'/>"
        f"<body pos='0.1 0 0'><joint name='knee{i}' type='hinge'/><geom size='.05'/></body></body>"
        for i in range(4)
    )
    motors = "".join(f"<motor joint='hip{i}'/><motor joint='knee{i}'/>" for i in range(4))
    xml = (f"<mujoco><worldbody><body><freejoint/><geom size='.1'/>{legs}</body></worldbody>"
           f"<actuator>{motors}</actuator></mujoco>")
    m = mujoco.MjModel.from_xml_string(xml)
    assert (m.nq, m.nv, m.nu) == (NQ, NV, NU)
    return m


def synth(T: int, seed: int = 0) -> dict:
    """Time-major rows [T, E, ...]: smooth random walks with noise, like physics; episodes of
    1000-3000 steps per env."""
    rng = np.random.default_rng(seed)

    def walk(width):
        x = np.cumsum(rng.normal(0, 0.01, size=(T, E, width)), axis=0, dtype=np.float64)
        return (x + rng.normal(0, 1e-3, size=x.shape)).astype(np.float32)

    done = np.zeros((T, E), bool)
    for e in range(E):
        t = int(rng.integers(200, 3000))
        while t < T:
            done[t, e] = True
            t += int(rng.integers(1000, 3000))
    return dict(qpos=walk(NQ), qvel=walk(NV), action=np.clip(walk(NU), -1, 1),
                reward=rng.normal(1, 0.1, size=(T, E)).astype(np.float32), done=done)


def episodes_of(done: np.ndarray) -> list[tuple[int, int, int]]:
    """(env, start, end) of every finished episode, in the order they end."""
    out = []
    for e in range(done.shape[1]):
        start = 0
        for t in np.flatnonzero(done[:, e]):
            out.append((int(t) + 1, e, start))
            start = int(t) + 1
    return [(e, s, end) for end, e, s in sorted(out)]


def du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def pct(xs, q) -> float:
    return float(np.percentile(np.asarray(xs), q)) if xs else float("nan")


# ------------------------------------------------------------------------ writers


def write_braxscope(path: Path, d: dict, model, commit_every: int = COMMIT_EVERY) -> float:
    T = d["qpos"].shape[0]
    t0 = time.perf_counter()
    w = StoreWriter.create(path, model, env_name="ant", backend="synthetic", dt=0.05, train_slots=E)
    env_id = np.tile(np.arange(E, dtype=np.int32), (BLOCK, 1))
    for i in range(0, T, BLOCK):
        j = min(T, i + BLOCK)
        w.append_train(qpos=d["qpos"][i:j], qvel=d["qvel"][i:j], action=d["action"][i:j], reward=d["reward"][i:j],
                       done=d["done"][i:j], env_id=env_id[: j - i], env_step=np.arange(i, j), iteration=i // 4096)
        if j % commit_every == 0:
            w.commit()
    w.close()
    return time.perf_counter() - t0


def write_hdf5(path: Path, d: dict, eps) -> float:
    t0 = time.perf_counter()
    with h5py.File(path, "w") as f:
        data = f.create_group("data")
        data.attrs["env_args"] = json.dumps({"env_name": "ant", "type": 0})
        total = 0
        for i, (e, s, end) in enumerate(eps):
            g = data.create_group(f"demo_{i}")
            L = end - s
            kw = dict(compression="gzip", chunks=None)
            states = np.concatenate([d["qpos"][s:end, e], d["qvel"][s:end, e]], axis=1)
            for name, arr in (("states", states), ("actions", d["action"][s:end, e]),
                              ("rewards", d["reward"][s:end, e]), ("dones", d["done"][s:end, e].astype(np.uint8))):
                kw["chunks"] = (min(L, 1024), *arr.shape[1:])
                g.create_dataset(name, data=arr, **kw)
            g.attrs["num_samples"] = L
            total += L
        data.attrs["total"] = total
    return time.perf_counter() - t0


def write_npz(path: Path, d: dict) -> float:
    t0 = time.perf_counter()
    np.savez(path, **d, env_step=np.arange(d["qpos"].shape[0]))
    return time.perf_counter() - t0


# ------------------------------------------------------------------------ seeks


def seeks_braxscope(path: Path, n: int, rng) -> tuple[list, list]:
    r = open_store(path)
    eps = [e for e in r.episodes() if e.length >= 1000]
    one, block = [], []
    for _ in range(n):
        ep = eps[int(rng.integers(len(eps)))]
        i = int(rng.integers(ep.length))
        t = time.perf_counter()
        f = r.frames(ep, i, i + 1)
        one.append(time.perf_counter() - t)
        assert len(f) == 1
        lo = int(rng.integers(ep.length - 999))
        t = time.perf_counter()
        f = r.frames(ep, lo, lo + 1000)
        block.append(time.perf_counter() - t)
        assert f.qpos.shape == (1000, NQ)
    return one, block


def seeks_hdf5(path: Path, n: int, rng) -> tuple[list, list]:
    one, block = [], []
    with h5py.File(path, "r") as f:
        demos = [g for g in f["data"].values() if g.attrs["num_samples"] >= 1000]
        for _ in range(n):
            g = demos[int(rng.integers(len(demos)))]
            L = int(g.attrs["num_samples"])
            i = int(rng.integers(L))
            t = time.perf_counter()
            row = [g[k][i] for k in ("states", "actions", "rewards", "dones")]
            one.append(time.perf_counter() - t)
            lo = int(rng.integers(L - 999))
            t = time.perf_counter()
            rows = [g[k][lo : lo + 1000] for k in ("states", "actions", "rewards", "dones")]
            block.append(time.perf_counter() - t)
            assert rows[0].shape == (1000, NQ + NV) and len(row) == 4
    return one, block


def seeks_npz(path: Path, n: int, rng, T: int) -> tuple[list, list]:
    one, block = [], []
    with np.load(path) as z:  # opened once; every member read decompresses/loads the whole member
        for _ in range(n):
            e, i = int(rng.integers(E)), int(rng.integers(T))
            t = time.perf_counter()
            row = [z[k][i, e] for k in ("qpos", "qvel", "action", "reward", "done")]
            one.append(time.perf_counter() - t)
            lo = int(rng.integers(T - 1000))
            t = time.perf_counter()
            rows = [z[k][lo : lo + 1000, e] for k in ("qpos", "qvel", "action", "reward", "done")]
            block.append(time.perf_counter() - t)
            assert rows[0].shape == (1000, NQ) and len(row) == 5
    return one, block


# ------------------------------------------------------------------------ tail


def _tail_writer_braxscope(path: str, seconds: float, started) -> None:
    w = StoreWriter.resume(path, next(p.name for p in (Path(path) / "writers").iterdir() if p.is_dir()))
    rng = np.random.default_rng(1)
    n = w.committed_rows["train"]
    env_id = np.tile(np.arange(E, dtype=np.int32), (BLOCK, 1))
    z = lambda *s: np.zeros((BLOCK, *s), np.float32)  # noqa: E731
    started.set()
    end = time.time() + seconds
    while time.time() < end:
        time.sleep(float(rng.uniform(0.02, 0.1)))  # appends at random phases against the poll
        now = time.time()
        w.append_train(qpos=z(E, NQ), qvel=z(E, NV), action=z(E, NU), reward=z(E), done=np.zeros((BLOCK, E), bool),
                       env_id=env_id, env_step=np.arange(n, n + BLOCK), iteration=0, wall_time=np.full(BLOCK, now))
        w.commit()
        n += BLOCK
    w.close()


def _tail_writer_hdf5(path: str, seconds: float, started) -> None:
    rng = np.random.default_rng(1)
    with h5py.File(path, "a", libver="latest") as f:
        ds, ts = f["data/live/states"], f["data/live/wall_time"]
        f.swmr_mode = True
        started.set()
        end = time.time() + seconds
        while time.time() < end:
            time.sleep(float(rng.uniform(0.02, 0.1)))
            now = time.time()
            n = ds.shape[0]
            ds.resize((n + BLOCK * E, ds.shape[1]))
            ts.resize((n + BLOCK * E,))
            ds[n:] = 0
            ts[n:] = now
            ds.flush()
            ts.flush()


def tail(kind: str, path: Path, seconds: float) -> list[float]:
    """Latencies (s) from the writer's append call to a polling reader holding the rows."""
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    target = _tail_writer_braxscope if kind == "braxscope" else _tail_writer_hdf5
    p = ctx.Process(target=target, args=(str(path), seconds, started))
    p.start()
    started.wait(60)
    lat = []
    end = time.time() + seconds
    if kind == "braxscope":
        r = open_store(path)
        wid = r.writer_ids[0]
        seen = r.writers()[0].rows["train"]
        while time.time() < end:
            time.sleep(POLL_INTERVAL_S)
            if r.refresh():
                n = r.writers()[0].rows["train"]
                if n > seen:
                    rows = r.train_rows(wid, seen, n)
                    now = time.time()
                    # One sample per append block: its first row's stamp.
                    lat += [now - t for t in rows["wall_time"][::BLOCK]]
                    seen = n
    else:
        with h5py.File(path, "r", libver="latest", swmr=True) as f:
            ts = f["data/live/wall_time"]
            seen = ts.shape[0]
            while time.time() < end:
                time.sleep(POLL_INTERVAL_S)
                ts.refresh()
                n = ts.shape[0]
                if n > seen:
                    stamps = ts[seen:n]
                    now = time.time()
                    lat += [now - t for t in stamps[:: BLOCK * E]]
                    seen = n
    p.join(60)
    return lat


# ------------------------------------------------------------------------ main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=131072,
                    help="time steps (x 8 envs = env-rows); default 1,048,576 env-rows")
    ap.add_argument("--seeks", type=int, default=200, help="random seeks per format (npz: a tenth of it)")
    ap.add_argument("--tail-seconds", type=float, default=12.0)
    ap.add_argument("--commit-every", type=int, default=COMMIT_EVERY,
                    help="braxscope: time rows per commit (multiple of 64)")
    ap.add_argument("--dir", default=None, help="where to write (default: a temp dir, removed after)")
    args = ap.parse_args()

    work = Path(args.dir or tempfile.mkdtemp(prefix="braxscope-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    T = args.steps
    load0 = os.getloadavg()[0]
    rows = T * E
    print(f"data: {T} steps x {E} envs = {rows:,} env-rows (nq {NQ}, nv {NV}, nu {NU}); dir {work}", flush=True)
    d = synth(T)
    eps = episodes_of(d["done"])
    model = ant_like_model()
    res: dict[str, dict] = {k: {} for k in ("braxscope", "hdf5-gzip", "npz")}
    paths = {"braxscope": work / "run.zarr", "hdf5-gzip": work / "run.h5", "npz": work / "run.npz"}
    for p in paths.values():
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)

    for key, fn in (("braxscope", lambda: write_braxscope(paths["braxscope"], d, model, args.commit_every)),
                    ("hdf5-gzip", lambda: write_hdf5(paths["hdf5-gzip"], d, eps)),
                    ("npz", lambda: write_npz(paths["npz"], d))):
        t0 = os.times()
        res[key]["write_s"] = fn()
        t1 = os.times()
        # CPU seconds of all threads: what the write costs, apart from waiting for a shared CPU.
        res[key]["cpu_s"] = (t1.user - t0.user) + (t1.system - t0.system)
    for k, p in paths.items():
        res[k]["bytes"] = du(p)
        res[k]["rows_s"] = rows / res[k]["write_s"]
    print("written; seeking", flush=True)

    rng = np.random.default_rng(7)
    res["braxscope"]["seek1"], res["braxscope"]["seek1000"] = seeks_braxscope(paths["braxscope"], args.seeks, rng)
    res["hdf5-gzip"]["seek1"], res["hdf5-gzip"]["seek1000"] = seeks_hdf5(paths["hdf5-gzip"], args.seeks, rng)
    res["npz"]["seek1"], res["npz"]["seek1000"] = seeks_npz(paths["npz"], max(5, args.seeks // 10), rng, T)
    print("tailing", flush=True)

    res["braxscope"]["tail"] = tail("braxscope", paths["braxscope"], args.tail_seconds)
    live = work / "live.h5"
    with h5py.File(live, "w", libver="latest") as f:
        g = f.create_group("data/live")
        g.create_dataset("states", shape=(0, NQ + NV), maxshape=(None, NQ + NV), chunks=(1024, NQ + NV), dtype="f4",
                         compression="gzip")
        g.create_dataset("wall_time", shape=(0,), maxshape=(None,), chunks=(1024,), dtype="f8", compression="gzip")
    res["hdf5-gzip"]["tail"] = tail("hdf5", live, args.tail_seconds)
    res["npz"]["tail"] = None

    def ms(xs, q):
        return f"{pct(xs, q) * 1e3:.2f}" if xs else "n/a (no samples)"

    lines = [
        ("bytes on disk (MB)", lambda r: f"{r['bytes'] / 1e6:.1f}", lambda a, b: a["bytes"] / b["bytes"]),
        ("write env-rows/s", lambda r: f"{r['rows_s']:,.0f}", lambda a, b: a["rows_s"] / b["rows_s"]),
        ("write CPU s (user+sys)", lambda r: f"{r['cpu_s']:.2f}", lambda a, b: a["cpu_s"] / b["cpu_s"]),
        ("seek 1 frame p50 (ms)", lambda r: ms(r["seek1"], 50), lambda a, b: pct(a["seek1"], 50) / pct(b["seek1"], 50)),
        ("seek 1 frame p95 (ms)", lambda r: ms(r["seek1"], 95), lambda a, b: pct(a["seek1"], 95) / pct(b["seek1"], 95)),
        ("seek 1000 rows p50 (ms)", lambda r: ms(r["seek1000"], 50),
         lambda a, b: pct(a["seek1000"], 50) / pct(b["seek1000"], 50)),
        ("seek 1000 rows p95 (ms)", lambda r: ms(r["seek1000"], 95),
         lambda a, b: pct(a["seek1000"], 95) / pct(b["seek1000"], 95)),
        ("tail p50 (ms)", lambda r: ms(r["tail"], 50) if r["tail"] is not None else "n/a",
         lambda a, b: pct(a["tail"], 50) / pct(b["tail"], 50)),
        ("tail p95 (ms)", lambda r: ms(r["tail"], 95) if r["tail"] is not None else "n/a",
         lambda a, b: pct(a["tail"], 95) / pct(b["tail"], 95)),
    ]
    b, h = res["braxscope"], res["hdf5-gzip"]
    header = ["", "braxscope", "hdf5-gzip", "npz", "braxscope/hdf5"]
    table = [[name, f(res["braxscope"]), f(res["hdf5-gzip"]), f(res["npz"]), f"{ratio(b, h):.2f}x"]
             for name, f, ratio in lines]
    widths = [max(len(r[i]) for r in [header] + table) for i in range(len(header))]
    print()
    print(f"tail: poll interval {POLL_INTERVAL_S * 1e3:.0f} ms; "
          f"samples braxscope {len(b['tail'])}, hdf5 {len(h['tail'])}; "
          f"load average {load0:.1f} at start, {os.getloadavg()[0]:.1f} at end on {os.cpu_count()} CPUs")
    for r in [header] + table:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    targets = [
        ("bytes <= HDF5-gzip", b["bytes"] <= h["bytes"]),
        ("seek p95 <= 20 ms (1 frame and 1000 rows)", max(pct(b["seek1"], 95), pct(b["seek1000"], 95)) <= 0.020),
        ("tail p95 <= 0.5 s", pct(b["tail"], 95) <= 0.5),
        ("write >= 200k env-rows/s", b["rows_s"] >= 200_000),
    ]
    print()
    for name, ok in targets:
        print(f"target {name}: {'met' if ok else 'MISSED'}")
    if not args.dir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
