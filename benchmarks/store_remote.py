"""The store on a local disk against the same store on S3 (moto's server on loopback), side by side.

The same work on each: a writer appends ant-sized rows (nq 15, nv 14, nu 8; 4 tracked envs) in
blocks of 64 time rows and commits every ``--commit-every`` rows; then one-frame seeks into random
episodes; then a tail (a writer process commits about twice a second, a reader polls at
braxscope's interval: time from the commit to the reader holding the row); optionally the app's
first frame on the store (``--app``, under Xvfb). Printed: write env-rows/s, seek and tail
p50/p95, requests and bytes per commit (counted at the storage seam), and the targets for loopback
S3 met or missed (tail p95 <= 2 s, one-frame seek p95 <= 200 ms, app first frame <= 3 s).

    MUJOCO_GL=egl .venv/bin/python benchmarks/store_remote.py            # about a minute
    MUJOCO_GL=egl .venv/bin/python benchmarks/store_remote.py --app      # plus the app's first frame

Needs ``braxscope[remote]`` and ``moto[server]`` (the test extra).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from braxscope.schema import StoreWriter, open_store  # noqa: E402
from braxscope.schema.reader import POLL_INTERVAL_S  # noqa: E402
from braxscope.schema.storage import Storage, open_storage  # noqa: E402

from store import ant_like_model  # noqa: E402  (the same model as benchmarks/store.py)

E = 4
BLOCK = 64
TARGETS = {"tail_p95_s": 2.0, "seek_p95_s": 0.200, "first_frame_s": 3.0}


class Counting(Storage):
    """Passes every call to ``inner`` and counts requests (keys) and bytes written."""

    def __init__(self, inner: Storage):
        self.inner, self.url, self.remote, self.zarr_store = inner, inner.url, inner.remote, inner.zarr_store
        self.requests = self.bytes = 0

    def get(self, key):
        self.requests += 1
        return self.inner.get(key)

    def get_many(self, keys):
        self.requests += len(keys)
        return self.inner.get_many(keys)

    def put(self, key, data, *, replace=True):
        self.requests += 1
        self.bytes += len(data)
        self.inner.put(key, data, replace=replace)

    def put_many(self, items):
        items = list(items)
        self.requests += len(items)
        self.bytes += sum(len(d) for _, d, _ in items)
        self.inner.put_many(items)

    def create(self, key, data):
        self.requests += 1
        return self.inner.create(key, data)

    def delete(self, key):
        self.requests += 1
        self.inner.delete(key)

    def exists(self, key):
        self.requests += 1
        return self.inner.exists(key)

    def list_dir(self, prefix):
        self.requests += 1
        return self.inner.list_dir(prefix)

    def partials(self, prefix=""):
        return self.inner.partials(prefix)

    def is_empty(self):
        return self.inner.is_empty()


def _rows(model, n0, k, rng):
    steps = np.arange(n0, n0 + k)
    return dict(qpos=rng.standard_normal((k, E, model.nq)).astype(np.float32),
                qvel=rng.standard_normal((k, E, model.nv)).astype(np.float32),
                action=rng.standard_normal((k, E, model.nu)).astype(np.float32),
                reward=np.ones((k, E), np.float32), done=((steps % 200) == 199)[:, None].repeat(E, 1),
                env_id=np.tile(np.arange(E), (k, 1)), env_step=steps, iteration=steps // 4096)


def write(location, model, rows, commit_every):
    st = Counting(open_storage(location, read_only=False))
    w = StoreWriter.create(st, model, env_name="bench", dt=0.01, train_slots=E)
    rng = np.random.default_rng(0)
    before = st.requests, st.bytes
    t0 = time.perf_counter()
    commits = 0
    for n in range(0, rows, BLOCK):
        w.append_train(**_rows(model, n, BLOCK, rng))
        if (n + BLOCK) % commit_every == 0:
            w.commit()
            commits += 1
    w.close()
    dt = time.perf_counter() - t0
    return {"env_rows_per_s": rows * E / dt, "requests_per_commit": (st.requests - before[0]) / max(commits, 1),
            "bytes_per_commit": (st.bytes - before[1]) / max(commits, 1)}


def seek(location, n=200):
    r = open_store(location)
    eps = [e for e in r.episodes() if e.source == "train"]
    rng = np.random.default_rng(1)
    out = []
    for _ in range(n):
        ep = eps[rng.integers(len(eps))]
        i = int(rng.integers(ep.length))
        t0 = time.perf_counter()
        r.frames(ep, i, i + 1)
        out.append(time.perf_counter() - t0)
    return np.percentile(out, [50, 95])


def _tail_writer(location, seconds):
    model = ant_like_model()
    w = StoreWriter.create(location, model, env_name="bench", dt=0.01, train_slots=E)
    rng = np.random.default_rng(2)
    n, t_end = 0, time.time() + seconds
    while time.time() < t_end:
        # wall_time: when the commit starts, so the reader measures commit + visibility + poll.
        w.append_train(**_rows(model, n, BLOCK, rng), wall_time=time.time())
        w.commit()
        n += BLOCK
        time.sleep(0.5)
    w.close()


def tail(location, seconds):
    ctx = __import__("multiprocessing").get_context("spawn")
    p = ctx.Process(target=_tail_writer, args=(location, seconds))
    p.start()
    reader, seen, lat = None, 0, []
    while p.is_alive() or reader is None:
        try:
            reader = reader or open_store(location)
        except Exception:  # noqa: BLE001 - not created yet
            time.sleep(POLL_INTERVAL_S)
            continue
        reader.refresh()
        ws = reader.writers()
        if ws and ws[0].rows["train"] > seen:
            n = ws[0].rows["train"]
            wall = reader.train_rows(ws[0].writer_id, n - 1, n)["wall_time"][0]
            lat.append(time.time() - wall)
            seen = n
        time.sleep(POLL_INTERVAL_S)
        if not p.is_alive():
            break
    p.join()
    return np.percentile(lat, [50, 95]) if lat else (float("nan"), float("nan"))


def first_frame(location, env):
    """The app's first frame on ``location`` (seconds from start), under a fresh Xvfb."""
    if shutil.which("Xvfb") is None:
        return float("nan")
    disp = f":{90 + os.getpid() % 50}"
    xvfb = subprocess.Popen(["Xvfb", disp, "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        with tempfile.TemporaryDirectory() as d:
            stats = Path(d) / "s.json"
            subprocess.run([sys.executable, "-m", "braxscope.cli", "view", str(location), "--exit-after", "2",
                            "--stats", str(stats)], env=dict(env, DISPLAY=disp), capture_output=True, timeout=300)
            return json.loads(stats.read_text())["first_frame_s"] if stats.exists() else float("nan")
    finally:
        xvfb.terminate()
        xvfb.wait()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=16384, help="time rows written (x 4 envs)")
    ap.add_argument("--commit-every", type=int, default=1024, help="time rows per commit")
    ap.add_argument("--tail-seconds", type=float, default=8.0)
    ap.add_argument("--app", action="store_true", help="also measure the app's first frame (needs Xvfb)")
    args = ap.parse_args()

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1",
                      AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}")
    tmp = Path(tempfile.mkdtemp(prefix="bx-remote-"))
    try:
        import boto3

        for _ in range(100):
            try:
                boto3.client("s3").create_bucket(Bucket="bench")
                break
            except Exception:  # noqa: BLE001 - the server is starting
                time.sleep(0.1)
        model = ant_like_model()
        places = {"local": tmp / "w.zarr", "s3": "s3://bench/w.zarr"}
        tails = {"local": tmp / "t.zarr", "s3": "s3://bench/t.zarr"}
        res = {}
        for name, loc in places.items():
            r = write(loc, model, args.rows, args.commit_every)
            r["seek_p50_s"], r["seek_p95_s"] = seek(loc)
            r["tail_p50_s"], r["tail_p95_s"] = tail(tails[name], args.tail_seconds)
            r["first_frame_s"] = first_frame(loc, dict(os.environ)) if args.app else float("nan")
            res[name] = r
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    rows = [("write env-rows/s", "env_rows_per_s", "{:,.0f}"), ("requests per commit", "requests_per_commit", "{:.0f}"),
            ("bytes per commit", "bytes_per_commit", "{:,.0f}"), ("seek 1 frame p50 (ms)", "seek_p50_s", "ms"),
            ("seek 1 frame p95 (ms)", "seek_p95_s", "ms"), ("tail p50 (s)", "tail_p50_s", "{:.2f}"),
            ("tail p95 (s)", "tail_p95_s", "{:.2f}"), ("app first frame (s)", "first_frame_s", "{:.2f}")]
    print(f"{'':24}{'local':>14}{'s3 (loopback)':>16}{'s3 / local':>12}")
    for label, key, fmt in rows:
        a, b = res["local"][key], res["s3"][key]
        f = (lambda v: f"{v * 1e3:.1f}") if fmt == "ms" else fmt.format
        print(f"{label:24}{f(a):>14}{f(b):>16}{(b / a if a else float('nan')):>12.2f}")
    print()
    for key, limit in TARGETS.items():
        v = res["s3"][key]
        verdict = "not measured (--app)" if v != v else ("met" if v <= limit else "MISSED")
        print(f"target over loopback S3: {key} <= {limit:g} s: {verdict}" + (f" ({v:.3f} s)" if v == v else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
