"""Big runs: a synthetic ant-sized store of 20M env-rows and 1M episodes over 8 writer groups,
before and after compaction, side by side.

Printed: files and bytes (and bytes per env-row against HDF5-gzip in robomimic's layout for the
same rows), ``open_store`` + a catalog query, ``braxscope info``, seek p50/p95 (a whole episode),
the viewer session's first frame and peak resident memory while it scrubs end to end, tail
latency of a writer appending beside the big catalog; then the targets, met or missed.

    MUJOCO_GL=egl .venv/bin/python benchmarks/scale.py                    # first run writes the store (minutes)
    MUJOCO_GL=egl .venv/bin/python benchmarks/scale.py --env-rows 2000000  # a smaller store, quick

The store is written once with StoreWriter (8 processes' worth of writer groups, 8 tracked
slots each, episodes of 10-30 steps: random walks with noise, like physics) and cached under
``--cache`` (default /tmp/braxscope-scale); the compacted copy is cached beside it. Seeks and
tail over loopback S3 (moto's server; needs braxscope[remote] and moto[server]) run on a smaller
compacted store uploaded there.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from store import E, NQ, NU, NV, ant_like_model, du, episodes_of, write_hdf5  # noqa: E402

WRITERS = 8
BLOCK = 4096  # time rows per append (and per iteration)
TARGETS = {"query_s": 0.2, "info_s": 2.0, "first_frame_s": 2.0, "rss_mb": 400.0, "bytes_vs_hdf5": 0.75}


def _pct(xs, q) -> float:
    return float(np.percentile(np.asarray(xs, float), q)) if len(xs) else float("nan")


def _files(path: Path) -> int:
    return sum(1 for f in path.rglob("*") if f.is_file())


# ---------------------------------------------------------------------------- the store


def _block(rng, T: int, state: dict) -> dict:
    """T time rows of E slots, continuing each slot's walk and episode from ``state``."""
    def walk(key, width):
        x = state[key] + np.cumsum(rng.normal(0, 0.01, size=(T, E, width)), axis=0)
        state[key] = x[-1]
        return (x + rng.normal(0, 1e-3, size=x.shape)).astype(np.float32)

    done = np.zeros((T, E), bool)
    for e in range(E):
        t = state["left"][e]
        while t < T:
            done[t, e] = True
            t += int(rng.integers(10, 31))
        state["left"][e] = t - T
    return dict(qpos=walk("q", NQ), qvel=walk("v", NV), action=np.clip(walk("a", NU), -1, 1),
                reward=rng.normal(1, 0.1, size=(T, E)).astype(np.float32), done=done)


def write_writer(path: str, i: int, rows: int) -> None:
    from braxscope.schema import StoreWriter

    model = ant_like_model()
    w = StoreWriter.create(path, model, env_name="ant", backend="generalized", dt=0.05, train_slots=E,
                           process_index=i, writer_id=f"p{i}-20261201T000000-{i:04x}")
    rng = np.random.default_rng(i)
    state = {"q": np.zeros((E, NQ)), "v": np.zeros((E, NV)), "a": np.zeros((E, NU)),
             "left": rng.integers(0, 30, E).tolist()}
    env_id = np.tile(np.arange(E, dtype=np.int32), (BLOCK, 1))
    for it, lo in enumerate(range(0, rows, BLOCK)):
        k = min(BLOCK, rows - lo)
        d = _block(rng, k, state)
        w.append_train(**d, env_id=env_id[:k], env_step=np.arange(lo, lo + k) * E, iteration=it,
                       wall_time=1.8e9 + np.arange(lo, lo + k) * 0.01)
        snap = _block(rng, 200, {"q": np.zeros((E, NQ)), "v": np.zeros((E, NV)), "a": np.zeros((E, NU)),
                                 "left": [10**9] * E})
        w.append_snapshot(qpos=snap["qpos"][:, 0], qvel=snap["qvel"][:, 0], action=snap["action"][:, 0],
                          reward=snap["reward"][:, 0], done=np.arange(200) == 199, iteration=it,
                          env_step=lo * E, complete=True)
        w.append_metrics(lo * E, {"eval/episode_reward": float(it), "training/sps": 1e5})
        w.commit()
    w.close()


def ensure_store(cache: Path, env_rows: int) -> Path:
    path = cache / f"base-{env_rows}.zarr"
    done = cache / f"{path.name}.done"  # beside the store: written once it is whole
    if done.exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    rows = env_rows // (WRITERS * E)
    t0 = time.perf_counter()
    print(f"writing {path} ({WRITERS} writers x {rows:,} time rows x {E} slots; once) ...", flush=True)
    write_writer(str(path), 0, rows)  # creates the store
    ctx = get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.starmap(write_writer, [(str(path), i, rows) for i in range(1, WRITERS)])
    done.write_text(f"{time.perf_counter() - t0:.0f} s\n")
    return path


def ensure_compacted(cache: Path, base: Path) -> tuple[Path, float]:
    path = cache / base.name.replace("base-", "compacted-")
    done = cache / f"{path.name}.done"
    if done.exists():
        return path, float(done.read_text().split()[0])
    shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(base, path)
    from braxscope.schema.compact import compact

    t0 = time.perf_counter()
    compact(path)
    s = time.perf_counter() - t0
    done.write_text(f"{s:.1f} s\n")
    return path, s


# ---------------------------------------------------------------------------- measurements


def hdf5_bytes_per_env_row(work: Path, rows: int = 16384) -> tuple[float, float]:
    """Bytes per env-row of HDF5-gzip for the same kind of rows: robomimic's layout (a group per
    episode: benchmarks/store.py's writer), and time-major arrays (one gzip dataset per column)."""
    import h5py

    rng = np.random.default_rng(0)
    d = _block(rng, rows, {"q": np.zeros((E, NQ)), "v": np.zeros((E, NV)), "a": np.zeros((E, NU)),
                           "left": rng.integers(0, 30, E).tolist()})
    eps = episodes_of(d["done"])
    h5 = work / "rows.h5"
    write_hdf5(h5, d, eps)
    per_episode = du(h5) / sum(end - s for _, s, end in eps)
    flat = work / "flat.h5"
    with h5py.File(flat, "w") as f:
        for k, v in d.items():
            f.create_dataset(k, data=v.astype(np.uint8) if v.dtype == bool else v, compression="gzip",
                             chunks=(1024, *v.shape[1:]))
    return per_episode, du(flat) / (rows * E)


def query_times(path: Path, n: int = 5) -> dict:
    from braxscope.schema import open_store

    opens, queries, hits = [], [], 0
    for _ in range(n):
        t = time.perf_counter()
        r = open_store(path)
        opens.append(time.perf_counter() - t)
        t = time.perf_counter()
        sel = r.query(source="train", env=[1, 5], iteration=(10, 40), ret=(15.0, 25.0), sort="return",
                      descending=True)
        first = sel[:50]
        queries.append(time.perf_counter() - t)
        hits = len(sel)
        assert len(first) == min(50, hits)
    return {"open_s": float(np.median(opens)), "query_s": float(np.median(queries)), "hits": hits,
            "episodes": len(r.catalog())}


def info_time(path: Path) -> float:
    exe = str(Path(sys.executable).parent / "braxscope")
    t = time.perf_counter()
    subprocess.run([exe, "info", str(path)], check=True, capture_output=True, env=_child_env())
    return time.perf_counter() - t


def seeks(path, n: int = 300) -> list[float]:
    from braxscope.schema import open_store

    r = open_store(path)
    cat = r.catalog()
    sel = cat.query(source="train")
    rng = np.random.default_rng(1)
    out = []
    for i in rng.integers(0, len(sel), n).tolist():
        ep = sel[i]
        t = time.perf_counter()
        f = r.frames(ep)
        out.append(time.perf_counter() - t)
        assert len(f) == ep.length
    return out


_VIEWER = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from braxscope.replay_app.session import ReplaySession
from braxscope.replay_app.renderer import Renderer
from braxscope.schema import open_store
s = ReplaySession(open_store(sys.argv[1]))
rows = s.rows()
s.select(rows[0].id)
s.poll_store()
q = s.qpos()[0]
with Renderer(s.reader.model(), 320, 240) as r:
    img = r.render(q)
first = time.perf_counter() - t0
n = len(rows)
picks = list(range(0, n, max(1, n // 200)))  # end to end through the browser's rows
t1 = time.perf_counter()
for i in picks:
    s.select(rows[i].id)
    s.poll_store()
    for f in range(0, s.length, 2):
        s.seek(f)
        s.qpos()
def peak_mb():
    # VmHWM: this process's own peak (ru_maxrss keeps the parent's across fork and exec).
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"first_frame_s": first, "scrub_s": time.perf_counter() - t1, "episodes_scrubbed": len(picks),
                  "rows": n, "rss_mb": peak_mb()}))
"""


def _child_env() -> dict:
    root = str(Path(__file__).resolve().parent.parent)
    return dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))


def viewer(path: Path) -> dict:
    res = subprocess.run([sys.executable, "-c", _VIEWER, str(path)], capture_output=True, text=True,
                         env=_child_env(), timeout=1200)
    if res.returncode:
        return {"error": res.stderr.strip().splitlines()[-1] if res.stderr.strip() else f"exit {res.returncode}"}
    return json.loads(res.stdout.strip().splitlines()[-1])


def _tail_writer(path: str, seconds: float, started) -> None:
    from braxscope.schema import StoreWriter

    w = StoreWriter.create(path, ant_like_model(), env_name="ant", backend="generalized", dt=0.05, train_slots=E,
                           process_index=99, writer_id="p99-tail")
    rng = np.random.default_rng(1)
    env_id = np.tile(np.arange(E, dtype=np.int32), (64, 1))
    z = lambda *s: np.zeros((64, *s), np.float32)  # noqa: E731
    n = 0
    started.set()
    end = time.time() + seconds
    while time.time() < end:
        time.sleep(float(rng.uniform(0.02, 0.1)))
        now = time.time()
        w.append_train(qpos=z(E, NQ), qvel=z(E, NV), action=z(E, NU), reward=z(E), done=np.zeros((64, E), bool),
                       env_id=env_id, env_step=np.arange(n, n + 64), iteration=0, wall_time=np.full(64, now))
        w.commit()
        n += 64
    w.close()


def tail(path, seconds: float) -> list[float]:
    """A new writer group appends into the big store; a reader that holds its 1M-episode catalog
    polls at the default interval. Latency: append call to the reader holding the rows."""
    from braxscope.schema import open_store
    from braxscope.schema.reader import POLL_INTERVAL_S

    ctx = get_context("spawn")
    started = ctx.Event()
    p = ctx.Process(target=_tail_writer, args=(str(path), seconds, started))
    p.start()
    started.wait(120)
    r = open_store(path)
    lat, seen = [], 0
    end = time.time() + seconds
    try:
        while time.time() < end:
            time.sleep(POLL_INTERVAL_S)
            if r.refresh() and "p99-tail" in r.writer_ids:
                n = next(w for w in r.writers() if w.writer_id == "p99-tail").rows["train"]
                if n > seen:
                    rows = r.train_rows("p99-tail", seen, n)
                    now = time.time()
                    lat += [now - t for t in rows["wall_time"][::64]]
                    seen = n
    finally:
        p.join(120)
        if isinstance(path, Path):
            shutil.rmtree(path / "writers" / "p99-tail", ignore_errors=True)  # the cached store stays as it was
    return lat


def s3_figures(cache: Path, seconds: float) -> dict:
    """Seeks and tail over loopback S3 (moto's server), on a smaller compacted store uploaded
    there (262,144 env-rows, 2 writer groups): uploading the big one would measure moto's memory."""
    import boto3
    from moto.server import ThreadedMotoServer

    from braxscope.schema.compact import compact

    small = cache / "s3-source.zarr"
    if not (cache / "s3-source.zarr.done").exists():
        shutil.rmtree(small, ignore_errors=True)
        for i in range(2):
            write_writer(str(small), i, 16384)
        compact(small)
        (cache / "s3-source.zarr.done").write_text("ok\n")
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://{host}:{port}"})
        s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
        s3.create_bucket(Bucket="scale")
        for f in small.rglob("*"):
            if f.is_file():
                s3.upload_file(str(f), "scale", f"run.zarr/{f.relative_to(small).as_posix()}")
        return {"seek_local": seeks(small, 100), "seek_s3": seeks("s3://scale/run.zarr", 100),
                "tail_s3": tail("s3://scale/tail.zarr", seconds)}
    finally:
        server.stop()


# ---------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--env-rows", type=int, default=20_971_520, help="env-rows in all (8 writers x 8 slots)")
    ap.add_argument("--cache", default="/tmp/braxscope-scale", help="where the generated stores are kept")
    ap.add_argument("--tail-seconds", type=float, default=10.0)
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    base = ensure_store(cache, args.env_rows)
    compacted, compact_s = ensure_compacted(cache, base)
    work = Path(tempfile.mkdtemp(prefix="scale-"))
    try:
        res = {}
        for name, path in (("recorded", base), ("compacted", compacted)):
            res[name] = {"files": _files(path), "bytes": du(path), **query_times(path), "info_s": info_time(path),
                         "seek": seeks(path)}
        h5_per_row, h5_flat = hdf5_bytes_per_env_row(work)
        res["viewer"] = viewer(compacted)
        res["viewer_recorded"] = viewer(base)
        res["tail"] = tail(compacted, args.tail_seconds)
        try:
            res["s3"] = s3_figures(cache, args.tail_seconds)
        except Exception as e:  # noqa: BLE001  (moto or the remote extra missing, or S3 failing)
            res["s3"] = {"error": f"{e.__class__.__name__}: {str(e).splitlines()[0] if str(e) else ''}"}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    env_rows = args.env_rows
    b, c = res["recorded"], res["compacted"]
    print(f"\nstore: {env_rows:,} env-rows, {c['episodes']:,} episodes, {WRITERS} writer groups "
          f"(nq {NQ}, nv {NV}, nu {NU}, {E} slots); compaction took {compact_s:.0f} s\n")
    rows = [
        ("files", f"{b['files']:,}", f"{c['files']:,}", f"{c['files'] / b['files']:.3f}"),
        ("bytes on disk", f"{b['bytes'] / 1e9:.2f} GB", f"{c['bytes'] / 1e9:.2f} GB", f"{c['bytes'] / b['bytes']:.3f}"),
        ("bytes per env-row (HDF5-gzip: %.1f)" % h5_per_row, f"{b['bytes'] / env_rows:.1f}",
         f"{c['bytes'] / env_rows:.1f}", f"{c['bytes'] / env_rows / h5_per_row:.2f}x HDF5"),
        ("  vs HDF5-gzip time-major arrays: %.1f" % h5_flat, f"{b['bytes'] / env_rows / h5_flat:.2f}x",
         f"{c['bytes'] / env_rows / h5_flat:.2f}x", ""),
        ("open_store", f"{b['open_s'] * 1e3:.0f} ms", f"{c['open_s'] * 1e3:.0f} ms", ""),
        (f"query ({c['hits']:,} hits, first 50 built)", f"{b['query_s'] * 1e3:.1f} ms", f"{c['query_s'] * 1e3:.1f} ms",
         ""),
        ("braxscope info (process)", f"{b['info_s']:.2f} s", f"{c['info_s']:.2f} s", ""),
        ("seek p50 / p95 (an episode)", f"{_pct(b['seek'], 50) * 1e3:.2f} / {_pct(b['seek'], 95) * 1e3:.2f} ms",
         f"{_pct(c['seek'], 50) * 1e3:.2f} / {_pct(c['seek'], 95) * 1e3:.2f} ms", ""),
    ]
    w = [max(len(r[i]) for r in rows + [("", "recorded", "compacted", "ratio")]) for i in range(4)]
    for r in [("", "recorded", "compacted", "ratio")] + rows:
        print("  ".join(x.ljust(w[i]) if i == 0 else x.rjust(w[i]) for i, x in enumerate(r)))
    s3 = res["s3"]
    if "error" in s3:
        print(f"over loopback S3: not measured ({s3['error']})")
    else:
        print(f"seek p50 / p95, a smaller compacted store (262,144 env-rows): local "
              f"{_pct(s3['seek_local'], 50) * 1e3:.2f} / {_pct(s3['seek_local'], 95) * 1e3:.2f} ms, loopback S3 "
              f"{_pct(s3['seek_s3'], 50) * 1e3:.1f} / {_pct(s3['seek_s3'], 95) * 1e3:.1f} ms")
    v, vr = res["viewer"], res["viewer_recorded"]
    for label, x in (("compacted", v), ("recorded", vr)):
        if "error" in x:
            print(f"viewer session ({label}): failed: {x['error']}")
        else:
            print(f"viewer session ({label}, no window): first frame {x['first_frame_s']:.2f} s, peak RSS "
                  f"{x['rss_mb']:.0f} MB scrubbing {x['episodes_scrubbed']} episodes end to end of {x['rows']:,} rows "
                  f"in {x['scrub_s']:.1f} s")
    t = res["tail"]
    print(f"tail latency beside the big catalog (local): p50 {_pct(t, 50) * 1e3:.0f} ms, "
          f"p95 {_pct(t, 95) * 1e3:.0f} ms ({len(t)} appends)")
    if "error" not in s3:
        t = s3["tail_s3"]
        print(f"tail latency over loopback S3 (a new store): p50 {_pct(t, 50) * 1e3:.0f} ms, "
              f"p95 {_pct(t, 95) * 1e3:.0f} ms ({len(t)} appends)")
    q = max(b["open_s"] + b["query_s"], c["open_s"] + c["query_s"])
    checks = [
        ("open_store + query <= 200 ms", q <= TARGETS["query_s"], f"{q * 1e3:.0f} ms (worse of the two)"),
        ("braxscope info <= 2 s", max(b["info_s"], c["info_s"]) <= TARGETS["info_s"],
         f"{max(b['info_s'], c['info_s']):.2f} s"),
        ("viewer first frame <= 2 s", "error" not in v and v["first_frame_s"] <= TARGETS["first_frame_s"],
         "-" if "error" in v else f"{v['first_frame_s']:.2f} s"),
        ("viewer peak RSS <= 400 MB", "error" not in v and v["rss_mb"] <= TARGETS["rss_mb"],
         "-" if "error" in v else f"{v['rss_mb']:.0f} MB"),
        ("compacted bytes <= 0.75x HDF5-gzip (robomimic layout)",
         c["bytes"] / env_rows / h5_per_row <= TARGETS["bytes_vs_hdf5"], f"{c['bytes'] / env_rows / h5_per_row:.2f}x"),
        ("compacted bytes <= 0.75x HDF5-gzip (time-major arrays)",
         c["bytes"] / env_rows / h5_flat <= TARGETS["bytes_vs_hdf5"], f"{c['bytes'] / env_rows / h5_flat:.2f}x"),
        ("a few thousand files after compaction", c["files"] <= 5000, f"{c['files']:,}"),
    ]
    print("\ntargets:")
    for what, ok, got in checks:
        print(f"  {'met   ' if ok else 'MISSED'}  {what}: {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
