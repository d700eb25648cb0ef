"""Viewer benchmark: the replay app against the raw MuJoCo renderer, side by side in one run.

    MUJOCO_GL=egl .venv/bin/python benchmarks/viewer.py [--seconds 10] [--rows 5000000] [--rounds 3]

Under its own Xvfb, ant at 640x480, shadows off:
- raw ``mujoco.Renderer`` frames/s (kinematics + scene update + render of stored qpos), alone;
- the app's displayed frames/s while playing at 8x (faster than either can render, so both are
  render-bound), counted as new frames uploaded and drawn in the window;
- scrub latency: cursor moved -> the frame for it drawn in the window, p50/p95;
- resident memory (peak) while scrubbing end to end through a store of >= 5M frames
  (generated once with StoreWriter from real ant physics, cached under /tmp);
- time from ``braxscope view`` starting to its first frame on screen;
- the ceiling: a window of the app's size that shows only the rendered image, fed by the same
  render thread (what is left of raw once a window must be drawn at all).
Targets: the app displays >= 90% of the frames a bare window of the same size displays (the
ceiling line: what a user can see on this machine, whatever its GL); scrub p95 < 100 ms; RSS <
400 MB on a >= 5M-frame store; first frame < 2 s.

``--no-window`` measures only the rendering, with no display or DearPyGui (for a GPU machine with
no X server): raw ``mujoco.Renderer`` against the app's render thread (``RenderWorker``: the same
renderer behind the thread hand-off and the float RGBA conversion the window needs).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CACHE = Path(os.environ.get("BRAXSCOPE_BENCH_CACHE", "/tmp/braxscope-bench"))
W, H = 640, 480


# ---------------------------------------------------------------------------- the big store


def big_store(rows: int) -> Path:
    """>= ``rows`` frames of ant: 4 tracked envs x 1000-step episodes. Real physics for 16
    distinct episodes, reused with a per-episode offset (so frames differ) to keep generation fast."""
    path = CACHE / f"ant_{rows // 1_000_000}M.zarr"
    done = path / "bench-complete"
    if done.exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    import numpy as np

    from braxscope.schema.writer import StoreWriter
    from tests.replay_app.storegen import env_dt, load_model, simulate

    model = load_model("ant")
    slots, L = 4, 1000
    base = [simulate(model, "ant", L, seed=s, skill=0.3 + 0.05 * s) for s in range(16)]
    w = StoreWriter.create(path, model, env_name="ant", backend="generalized", dt=env_dt(model, "ant"),
                           train_slots=slots, config={"num_envs": 2048, "episode_length": L})
    n_iter = -(-rows // (slots * L))
    t0 = time.time()
    for it in range(n_iter):
        eps = [base[(it * slots + s) % 16] for s in range(slots)]
        shift = np.zeros(model.nq, np.float32)
        shift[0] = 0.01 * it  # every episode's frames differ a little
        stack = {k: np.stack([e[k] for e in eps], axis=1) for k in eps[0]}
        w.append_train(qpos=stack["qpos"] + shift, qvel=stack["qvel"], action=stack["action"], reward=stack["reward"],
                       done=stack["done"], env_id=np.tile(np.arange(slots, dtype=np.int32), (L, 1)),
                       env_step=it * L * 2048 + np.arange(L) * 2048, iteration=it, wall_time=t0 + it)
        if it % 10 == 9 or it == n_iter - 1:
            snap = base[it % 16]
            w.append_snapshot(**snap, iteration=it, env_step=it * L * 2048, complete=True, wall_time=t0 + it)
            w.append_metrics((it + 1) * L * 2048, {"eval/episode_reward": float(np.sum(snap["reward"]))})
            w.commit()
            print(f"  generating {path.name}: {(it + 1) * slots * L / 1e6:.2f}M frames", end="\r", flush=True)
    w.close()
    print()
    done.write_text("ok")
    return path


# ---------------------------------------------------------------------------- child processes


def child_raw(store: str, seconds: float) -> dict:
    """Raw mujoco.Renderer on stored qpos, with the same tracking camera the app uses."""
    import mujoco

    from braxscope.replay_app.renderer import Renderer
    from braxscope.schema.reader import open_store

    r = open_store(store)
    model = r.model()
    qpos = r.frames(r.episodes()[0]).qpos
    cam = Renderer(model, W, H).camera  # only to copy its tracking-camera settings
    data = mujoco.MjData(model)
    rend = mujoco.Renderer(model, H, W)
    rend.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
    rend.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
    out = None
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        data.qpos[:] = qpos[n % len(qpos)]
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        rend.update_scene(data, camera=cam)
        out = rend.render(out=out)
        n += 1
    return {"fps": n / (time.perf_counter() - t0)}


def child_bare(store: str, seconds: float) -> dict:
    """The floor under any DearPyGui app on this machine: a window of the app's size holding only
    the rendered image (no browser, plots or controls), fed by the same render thread as fast as
    it renders. If this is far below raw, the gap is the window itself, not the app's widgets."""
    import dearpygui.dearpygui as dpg
    import numpy as np

    from braxscope.replay_app.app import window_size
    from braxscope.replay_app.render_thread import RenderWorker
    from braxscope.schema.reader import open_store

    r = open_store(store)
    qpos = r.frames(r.episodes()[0]).qpos
    worker = RenderWorker(r.model(), W, H)
    dpg.create_context()
    win_w, win_h = window_size(W, H)
    dpg.create_viewport(width=win_w, height=win_h, vsync=False)
    blank = np.zeros(W * H * 4, np.float32)
    with dpg.texture_registry():
        tex = dpg.add_raw_texture(W, H, blank, format=dpg.mvFormat_Float_rgba)
    with dpg.window(tag="main"):
        dpg.add_image(tex)
    dpg.set_primary_window("main", True)
    dpg.setup_dearpygui()
    dpg.show_viewport()
    n = shown = 0
    t0 = t_end = None
    try:
        worker.request([qpos[0]])
        while True:
            f = worker.take()
            if f is not None:
                n += 1
                worker.request([qpos[n % len(qpos)]])  # the next frame renders while this one is drawn
                dpg.set_value(tex, f.image.reshape(-1))
                if t0 is None and n > 10:
                    t0, shown = time.perf_counter(), 0
                    t_end = t0 + seconds
                shown += 1
            dpg.render_dearpygui_frame()
            if t_end is not None and time.perf_counter() > t_end:
                break
            if f is None:
                worker.frame_ready.wait(0.05)
    finally:
        worker.close()
        dpg.destroy_context()
    return {"fps": shown / (time.perf_counter() - t0)}


def child_worker(store: str, seconds: float) -> dict:
    """The app's render thread alone, as fast as it renders: request, take, request the next."""
    from braxscope.replay_app.render_thread import RenderWorker
    from braxscope.schema.reader import open_store

    r = open_store(store)
    qpos = r.frames(r.episodes()[0]).qpos
    worker = RenderWorker(r.model(), W, H)
    n, t0 = 0, time.perf_counter()
    try:
        worker.request([qpos[0]])
        while time.perf_counter() - t0 < seconds:
            f = worker.take()
            if f is None:
                worker.frame_ready.wait(0.05)
                continue
            n += 1
            worker.request([qpos[n % len(qpos)]])
    finally:
        worker.close()
    return {"fps": n / (time.perf_counter() - t0)}


def _rss_mb() -> tuple[float, float]:
    cur = peak = 0.0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return cur, peak


def child_app(store: str, seconds: float, walk: int) -> dict:
    """The real app (window, render thread, store thread) driven the way a user drives it."""
    from braxscope.replay_app.app import ReplayApp
    from braxscope.replay_app.render_thread import RenderWorker
    from braxscope.replay_app.session import ReplaySession
    from braxscope.schema.reader import open_store

    reader = open_store(store)
    s = ReplaySession(reader)
    first = reader.episodes()[0]
    s.select(first.id)
    s.poll_store()
    worker = RenderWorker(reader.model(), W, H)
    app = ReplayApp(s, worker, width=W, height=H, fps=240)
    res = {}

    def shown_is(views, frames) -> bool:
        sc = app.shown
        return sc is not None and sc.views == tuple(views) and tuple(c.frame for c in sc.cells) == tuple(frames)

    def until(cond, timeout=30.0) -> float:
        t0 = time.perf_counter()
        while not cond():
            t = time.perf_counter()
            app.frame()
            if t - t0 > timeout:
                raise TimeoutError("the app did not show the expected frame")
            app.pace(t)
        return time.perf_counter() - t0

    try:
        until(lambda: app.stats.frames_shown > 0 and not s.loading)
        # 1) playback: 8x is 160 frames/s of ant, more than software GL renders: render-bound.
        s.set_speed(8)
        s.set_loop(True)
        s.play()
        t_warm = time.perf_counter() + 1.0
        while time.perf_counter() < t_warm:
            t = time.perf_counter()
            app.frame()
            app.pace(t)
        app.stats.draw_s.clear()
        n0, g0, t0 = app.stats.frames_shown, app.stats.gui_frames, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            t = time.perf_counter()
            app.frame()
            app.pace(t)
        dt = time.perf_counter() - t0
        res["app_fps"] = (app.stats.frames_shown - n0) / dt
        res["gui_fps"] = (app.stats.gui_frames - g0) / dt
        res["draw_ms"] = (sorted(app.stats.draw_s)[len(app.stats.draw_s) // 2] * 1000 if app.stats.draw_s
                          else float("nan"))
        s.pause()
        # 2) scrub latency inside an episode: seek, then until that frame is drawn in the window.
        rng = random.Random(0)
        lat = []
        for _ in range(60):
            c = rng.randrange(len(s.data(s.views[0])))
            if c == s.cursor:
                continue
            t0 = time.perf_counter()
            s.seek(c)
            until(lambda: shown_is(s.views, (c,)))
            lat.append(time.perf_counter() - t0)
        res["scrub_s"] = lat
        # 3) end to end through the store: episodes from first to last, a few scrubs in each.
        eps = [e for e in s.catalog if e.source == "train"]
        stride = max(1, len(eps) // walk)
        switch, rss = [], []
        for e in eps[::stride]:
            t0 = time.perf_counter()
            s.select(e.id)
            app.poke()
            until(lambda: shown_is([e.id], (0,)) and s.data(e.id) is not None)
            switch.append(time.perf_counter() - t0)
            for _ in range(2):
                c = rng.randrange(e.length)
                s.seek(c)
                until(lambda: shown_is([e.id], (s.cursor,)))
            rss.append(_rss_mb()[0])
        res["switch_s"] = switch
        res["walked_episodes"] = len(switch)
        res["walked_frames"] = sum(e.length for e in eps[::stride])
        res["store_frames"] = sum(e.length for e in s.catalog)
        res["rss_mb_max"] = max(rss)
        res["rss_mb_peak"] = _rss_mb()[1]
        res["cache_mb"] = s.cached_bytes / 2**20
    finally:
        app.close()
    return res


# ---------------------------------------------------------------------------- orchestration


def _xvfb() -> tuple[subprocess.Popen, str]:
    for n in range(300, 400):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            p = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(200):
                if os.path.exists(f"/tmp/.X11-unix/X{n}"):
                    return p, f":{n}"
                time.sleep(0.05)
            p.kill()
    raise RuntimeError("cannot start Xvfb")


def _child_env(**extra: str) -> dict:
    """The children's environment: this checkout first on PYTHONPATH, ahead of what was there
    (a machine may bring packages through PYTHONPATH), and MUJOCO_GL defaulting to egl."""
    path = [str(ROOT)] + [x for x in os.environ.get("PYTHONPATH", "").split(os.pathsep) if x]
    return dict(os.environ, MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"), PYTHONPATH=os.pathsep.join(path), **extra)


def _child(kind: str, env: dict, *args) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    r = subprocess.run([sys.executable, __file__, "_child", kind, out, *map(str, args)], env=env, cwd=ROOT)
    if r.returncode:
        raise SystemExit(f"benchmark child {kind} failed ({r.returncode})")
    return json.loads(Path(out).read_text())


def _pct(xs, q):
    import numpy as np

    return float(np.percentile(np.asarray(xs) * 1000, q)) if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0, help="each frame-rate measurement")
    ap.add_argument("--rows", type=int, default=5_000_000, help="frames in the big store")
    ap.add_argument("--walk", type=int, default=150, help="episodes visited end to end")
    ap.add_argument("--rounds", type=int, default=3, help="raw, bare window and app, alternated this many times")
    ap.add_argument("--no-window", action="store_true", help="rendering only: raw renderer against the render thread")
    a = ap.parse_args()
    import numpy as np

    store = big_store(a.rows)
    if a.no_window:
        env = _child_env()
        raws, workers = [], []
        for _ in range(3):  # alternated, medians
            raws.append(_child("raw", env, store, a.seconds)["fps"])
            workers.append(_child("worker", env, store, a.seconds)["fps"])
        raw, worker = float(np.median(raws)), float(np.median(workers))
        print(f"\nrenderer benchmark (no window): ant {W}x{H}, shadows off, MUJOCO_GL={env['MUJOCO_GL']}, "
              f"{os.cpu_count()} CPUs")
        print(f"  raw mujoco.Renderer frames/s (median of 3)     {raw:8.1f}   "
              f"runs: {', '.join(f'{x:.1f}' for x in raws)}")
        print(f"  app's render thread frames/s (median of 3)     {worker:8.1f}   "
              f"runs: {', '.join(f'{x:.1f}' for x in workers)}")
        print(f"  render thread / raw                            {worker / raw:8.2f}")
        return
    xvfb, display = _xvfb()
    env = _child_env(DISPLAY=display)
    try:
        # Alternate raw, bare window and app; report medians (this 2-core box is shared and noisy).
        raws, apps, bares = [], [], []
        for _ in range(a.rounds):
            raws.append(_child("raw", env, store, a.seconds)["fps"])
            bares.append(_child("bare", env, store, a.seconds)["fps"])
            apps.append(_child("app", env, store, a.seconds, a.walk))
        # First frame: the real command, from process start to the first frame drawn.
        firsts = []
        for _ in range(3):  # --exit-after waits for the first frame, so the stats always have it
            with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
                stats = f.name
            t0 = time.time()
            subprocess.run([sys.executable, "-m", "braxscope.cli", "view", str(store), "--exit-after", "0.5",
                            "--stats", stats],
                           env=env, cwd=ROOT, check=True, capture_output=True)
            st = json.loads(Path(stats).read_text())
            firsts.append((st["first_frame_wall"] - t0, st["first_frame_s"]))
    finally:
        xvfb.kill()
    raw = float(np.median(raws))
    bare = float(np.median(bares))
    app_fps = float(np.median([x["app_fps"] for x in apps]))
    scrub = sum((x["scrub_s"] for x in apps), [])
    switch = sum((x["switch_s"] for x in apps), [])
    rss = max(x["rss_mb_peak"] for x in apps)
    ff_total = float(np.median([f[0] for f in firsts]))
    ff_cmd = float(np.median([f[1] for f in firsts]))
    x = apps[0]
    load = os.getloadavg()[0]
    ratios = ", ".join(f"{ap['app_fps'] / b:.2f}" for ap, b in zip(apps, bares))
    print(f"\nviewer benchmark (load average {load:.1f} at the end): ant {W}x{H}, shadows off, "
          f"MUJOCO_GL={env['MUJOCO_GL']}, Xvfb, {os.cpu_count()} CPUs; "
          f"store {x['store_frames'] / 1e6:.2f}M frames, walked {x['walked_episodes']} episodes end to end")
    print(f"{'measure':<46}{'value':>12}{'target':>14}{'ok':>5}")
    rows = [
        (f"raw mujoco.Renderer frames/s (median of {a.rounds})", f"{raw:.1f}", "", None),
        (f"app displayed frames/s at 8x (median of {a.rounds})", f"{app_fps:.1f}", "", None),
        ("app / raw", f"{app_fps / raw:.2f}", "", None),
        ("window with only the image, frames/s (median)", f"{bare:.1f}", "", None),
        ("  its / raw: the ceiling of any window here", f"{bare / raw:.2f}", "", None),
        # What a user sees: the app shows nearly every frame a bare window of its size could.
        ("app / that window (the ceiling)", f"{app_fps / bare:.2f}", ">= 0.90", app_fps / bare >= 0.9),
        ("  the same, round by round", ratios, "", None),
        ("GUI frames/s drawn during playback", f"{float(np.median([x['gui_fps'] for x in apps])):.1f}", "", None),
        ("DearPyGui draw time per GUI frame, p50 (ms)", f"{float(np.median([x['draw_ms'] for x in apps])):.1f}", "",
         None),
        ("scrub latency p50 (ms)", f"{_pct(scrub, 50):.1f}", "", None),
        ("scrub latency p95 (ms)", f"{_pct(scrub, 95):.1f}", "< 100", _pct(scrub, 95) < 100),
        ("switch episode, load + first frame p50 (ms)", f"{_pct(switch, 50):.1f}", "", None),
        ("switch episode, load + first frame p95 (ms)", f"{_pct(switch, 95):.1f}", "", None),
        ("peak RSS walking the store (MB)", f"{rss:.0f}", "< 400", rss < 400),
        ("first frame, command start (s, median of 3)", f"{ff_cmd:.2f}", "", None),
        ("first frame, process start (s, median of 3)", f"{ff_total:.2f}", "< 2", ff_total < 2.0),
    ]
    for name, val, target, ok in rows:
        print(f"{name:<46}{val:>12}{target:>14}{'' if ok is None else ('yes' if ok else 'NO'):>5}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        kind, out = sys.argv[2], sys.argv[3]
        import braxscope  # noqa: F401  (MUJOCO_GL before mujoco)

        if kind == "raw":
            res = child_raw(sys.argv[4], float(sys.argv[5]))
        elif kind == "bare":
            res = child_bare(sys.argv[4], float(sys.argv[5]))
        elif kind == "worker":
            res = child_worker(sys.argv[4], float(sys.argv[5]))
        else:
            res = child_app(sys.argv[4], float(sys.argv[5]), int(sys.argv[6]))
        Path(out).write_text(json.dumps(res))
    else:
        main()
