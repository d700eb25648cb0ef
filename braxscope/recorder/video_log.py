"""Periodic video log: an MP4 of the policy snapshot every N iterations, next to the store.

Each video is rendered by a separate ``braxscope export`` process (lowered priority), so
training never waits for rendering and this module imports neither the viewer nor GL: the
recorder stays headless-safe. :meth:`VideoLog.on_snapshot` only enqueues; a launcher thread
finds the snapshot's episode id (opening the store read-only) and runs the exports one at a
time. If an export fails (typically: no offscreen GL on the training machine) it logs one
warning and launches no more.
"""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..schema import open_store
from ..schema.errors import BraxscopeError

log = logging.getLogger("braxscope.video_log")

_STOP = object()
_NICE = 10  # exports yield the CPU to training


def default_out_dir(store_path: str | os.PathLike) -> Path:
    """``<store>.videos/`` beside the store (runs/demo.zarr -> runs/demo.zarr.videos)."""
    p = Path(store_path)
    return p.with_name(p.name + ".videos")


class VideoLog:
    """Render the snapshot of every ``every``-th iteration to ``out_dir/iter_NNNN.mp4``.

    Call :meth:`on_snapshot` after the snapshot of an iteration is committed (from any one
    thread; it never blocks), and :meth:`close` at the end of training.
    """

    def __init__(self, store_path: str | os.PathLike, every: int, out_dir: str | os.PathLike | None = None,
                 width: int = 320, height: int = 240):
        if int(every) < 1:
            raise ValueError(f"video_every must be >= 1, got {every}")
        self.store_path = Path(store_path)
        self.every = int(every)
        self.out_dir = Path(out_dir) if out_dir is not None else default_out_dir(store_path)
        self.width, self.height = int(width), int(height)
        self.launched: list[int] = []  # iterations whose export process was started
        self.written: list[Path] = []  # videos finished so far, in order
        self.failed: str | None = None  # the one warning, once an export failed
        self._queue: queue.Queue = queue.Queue()
        self._proc: subprocess.Popen | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="braxscope-video-log", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ recorder side

    def on_snapshot(self, iteration: int) -> None:
        """The snapshot of ``iteration`` is committed. Queues a video every ``every`` iterations."""
        if self._closed or self.failed is not None or int(iteration) % self.every:
            return
        self._queue.put_nowait(int(iteration))

    def close(self, timeout_s: float = 60.0) -> None:
        """Wait (up to ``timeout_s``) for queued and running exports, then stop."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout=timeout_s)
        if self._thread.is_alive():
            proc = self._proc
            if proc is not None and proc.poll() is None:
                proc.terminate()  # our own child; its partial file is removed by export itself
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
            log.warning("video log: exports still running after %.0f s were stopped", timeout_s)
            self._thread.join(timeout=5)

    def __enter__(self) -> "VideoLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ launcher thread

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self.failed is not None:
                continue
            try:
                self._export(item)
            except Exception as e:  # never let the log take the recorder down
                self._fail(f"video log stopped: {e.__class__.__name__}: {e}")

    def _snapshot_id(self, iteration: int) -> str | None:
        reader = open_store(self.store_path)
        eps = [e for e in reader.episodes() if e.source == "snapshot" and e.iteration == iteration]
        return eps[-1].id if eps else None

    def command(self, episode_id: str, out: Path) -> list[str]:
        """The export command for one video (a separate Python process)."""
        return [sys.executable, "-m", "braxscope.cli", "export", str(self.store_path), "--episode", episode_id,
                "--out", str(out), "--width", str(self.width), "--height", str(self.height), "--quiet"]

    def _export(self, iteration: int) -> None:
        try:
            eid = self._snapshot_id(iteration)
        except BraxscopeError as e:
            self._fail(f"video log stopped: cannot read {self.store_path}: {e}")
            return
        if eid is None:
            log.info("video log: no snapshot of iteration %d in %s; skipped", iteration, self.store_path)
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        out = self.out_dir / f"iter_{iteration:04d}.mp4"
        t0 = time.monotonic()
        self.launched.append(iteration)
        # close_fds=False lets CPython start the child with posix_spawn instead of fork(): forking
        # a process that runs JAX's threads is what JAX warns about (possible deadlock). Python's
        # own descriptors are non-inheritable anyway (PEP 446), so the child gets only the pipes.
        self._proc = subprocess.Popen(self.command(eid, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      stdin=subprocess.DEVNULL, close_fds=False)
        try:
            os.setpriority(os.PRIO_PROCESS, self._proc.pid, _NICE)
        except (AttributeError, OSError):
            pass  # not on this platform, or it already ended
        _, err = self._proc.communicate()
        rc = self._proc.returncode
        self._proc = None
        if rc != 0:
            lines = [ln for ln in err.decode(errors="replace").strip().splitlines() if ln.strip()]
            why = lines[-1].strip() if lines else f"exit status {rc}"
            self._fail(f"video log stopped: exporting iteration {iteration} failed ({why}); "
                       f"training goes on without videos")
            return
        self.written.append(out)
        log.info("video log: wrote %s in %.1f s", out, time.monotonic() - t0)

    def _fail(self, message: str) -> None:
        if self.failed is None:
            self.failed = message
            log.warning(message)


__all__ = ["VideoLog", "default_out_dir"]
