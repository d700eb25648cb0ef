"""The live panel: the newest policy snapshot playing, the training curve so far with that
snapshot's iteration marked, and the recorder's rows recorded / dropped / paused.

    rec = braxscope.Recorder("runs/ip.zarr", env)
    panel = braxscope.notebook.live(rec)       # in the cell that runs ppo.train, before it
    ppo.train(environment=env, ..., **rec.ppo_hooks())
    rec.close()
    panel.join()                               # shows the last snapshot, then stops

    panel = braxscope.notebook.live("runs/ant.zarr")   # a run another process writes
    panel.stop()

The panel tails the store on its own thread (at a lowered CPU priority where the OS allows it,
so rendering yields to training) and never calls into training: given a Recorder it only reads
its counters. It updates two displays by id (the media, the status line), plain MIME outputs
that every notebook front-end shows and that keep their last state in the saved notebook.
"""

from __future__ import annotations

import html
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..schema import open_store
from ..schema.errors import BraxscopeError
from ..replay_app.session import ReplaySession
from ._media import png_html, render_mp4, video_html
from .inline import curve_png

_NICE = 19  # the lowest priority: the panel renders on what training leaves of the CPU


@dataclass(frozen=True)
class PanelState:
    """What the panel shows now (for tests and for ``repr``)."""

    snapshot: str | None  # episode id of the snapshot playing
    iteration: int | None
    env_step: int | None
    status: str  # the status line's text
    finished: bool  # the run's writer has closed


def _lower_priority() -> None:
    """Give this thread the lowest CPU priority (nice 19: about 1.5% of a CPU that training keeps
    busy, all of an idle one). On Linux the nice value is per thread, and the threads and
    processes started from this thread (the export's render thread, ffmpeg) inherit it. Not
    SCHED_IDLE: on a machine that something else keeps busy the panel would never update."""
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _NICE)
        except OSError:
            pass


def _is_recorder(source) -> bool:
    return hasattr(source, "ppo_hooks") and hasattr(source, "stats")


class LivePanel:
    """A panel that follows a run. ``source``: the ``Recorder`` of a training in this kernel, or a
    store path written by another process. See the module docstring."""

    def __init__(self, source, *, width: int = 320, height: int = 240, curve_width: int = 480,
                 max_frames: int | None = 200, poll_s: float = 1.0, overlay: bool = True, display: bool = True):
        self.recorder = source if _is_recorder(source) else None
        self.path = Path(self.recorder.path if self.recorder is not None else source)
        self.width, self.height, self.curve_width = int(width), int(height), int(curve_width)
        self.max_frames, self.poll_s, self.overlay = max_frames, float(poll_s), overlay
        self.updates = 0  # media updates published (a new snapshot on screen)
        self.render_seconds: list[float] = []  # each snapshot's video, start to bytes
        self.state = PanelState(None, None, None, "waiting for the run to start", False)
        self.error: str | None = None
        self._session: ReplaySession | None = None
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._changed = threading.Condition()
        self._media = self._status = None
        if display:
            from IPython.display import HTML
            from IPython.display import display as show

            self._media = show(HTML(self._media_html(None, None, None)), display_id=True)
            self._status = show(HTML(self._status_html(self.state.status)), display_id=True)
        self._thread = threading.Thread(target=self._run, name="braxscope-live-panel", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ control

    def stop(self) -> None:
        """Stop following; the panel keeps what it shows."""
        self._stop.set()
        self._thread.join(timeout=30)

    def join(self, timeout: float | None = 600.0) -> "LivePanel":
        """Wait until the run has finished (its writers' commits say "closed") and the panel shows
        its last snapshot. A Recorder's panel stops then; a store's keeps following until stopped."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._finished.is_set() and self._thread.is_alive():
            self._finished.wait(0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic())))
            if deadline is not None and time.monotonic() >= deadline:
                break
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait_update(self, count: int, timeout: float = 60.0) -> bool:
        """Block until at least ``count`` media updates were published."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.updates < count and self._thread.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return self.updates >= count

    def __repr__(self) -> str:
        return f"<braxscope live panel on {self.path}: {self.state.status}>"

    # ------------------------------------------------------------ the panel's thread

    def _run(self) -> None:
        _lower_priority()
        try:
            while not self._stop.is_set():
                if self._step():
                    return
                self._stop.wait(self.poll_s)
        except Exception as e:  # shown in the panel, never a dead thread without a word
            self.error = f"the live panel stopped: {e}"
            self._set_status(self.error)

    def _step(self) -> bool:
        """One poll. True when the run has finished and its last state is shown."""
        s = self._session
        if s is None:
            if not (self.path / "zarr.json").exists():
                return False
            try:
                s = self._session = ReplaySession(open_store(self.path))
            except BraxscopeError:
                return False  # being created right now: try again at the next poll
        s.poll_store()
        mine = self._writer_ids(s)
        finished = bool(mine) and all(w.state == "closed" for w in s.writers if w.writer_id in mine)
        newest = _newest_snapshot(s, mine)
        if newest is not None and newest.id != self.state.snapshot:
            self._show_snapshot(s, newest)
        self._set_status(self._status_text(s, finished), finished)
        if finished:
            self._finished.set()
        # A Recorder's run ends with its writer; a store may get more writers (a sweep): follow it until stopped.
        return finished and self.recorder is not None

    def _writer_ids(self, s: ReplaySession) -> set[str]:
        """The writers this panel follows: the Recorder's own (once training created it), else all."""
        if self.recorder is not None:
            wid = self.recorder.writer_id
            return {wid} if wid is not None else set()
        return {w.writer_id for w in s.writers}

    def _show_snapshot(self, s: ReplaySession, ep) -> None:
        t0 = time.perf_counter()
        mp4 = render_mp4(s.reader, [ep.id], width=self.width, height=self.height, overlay=self.overlay,
                         max_frames=self.max_frames)
        self.render_seconds.append(time.perf_counter() - t0)
        try:
            png = curve_png(s.reader, width=self.curve_width, height=max(200, self.height), mark=ep.env_step)
        except BraxscopeError:
            png = None  # no metrics yet
        self.state = PanelState(ep.id, ep.iteration, ep.env_step, self.state.status, self.state.finished)
        if self._media is not None:
            from IPython.display import HTML

            self._media.update(HTML(self._media_html(mp4, png, ep)))
        with self._changed:
            self.updates += 1
            self._changed.notify_all()

    def _status_text(self, s: ReplaySession, finished: bool) -> str:
        parts = []
        st = self.state
        if st.snapshot is not None:
            parts.append(f"snapshot {st.snapshot} · iteration {st.iteration} · env step {st.env_step:,}")
        rec = self.recorder
        if rec is not None:
            stats = rec.stats
            parts.append(f"{stats.rows_recorded:,} rows recorded · {stats.rows_dropped:,} dropped")
            parts.append("run finished" if finished else ("recording" if rec.recording else "recording paused"))
            if stats.error:
                parts.append(f"recording stopped: {stats.error}")
        else:
            rows = sum(int(w.rows.get("train", 0)) for w in s.writers)
            dropped = sum(int(w.dropped_rows) for w in s.writers)
            parts.append(f"{rows:,} train rows committed · {dropped:,} dropped")
            parts.append(s.recorder_status().text)
        return " · ".join(parts)

    def _set_status(self, text: str, finished: bool = False) -> None:
        if text == self.state.status and finished == self.state.finished:
            return
        st = self.state
        self.state = PanelState(st.snapshot, st.iteration, st.env_step, text, finished)
        if self._status is not None:
            from IPython.display import HTML

            self._status.update(HTML(self._status_html(text)))

    # ------------------------------------------------------------ HTML

    def _media_html(self, mp4: bytes | None, png: bytes | None, ep) -> str:
        if mp4 is None:
            video = (f'<div style="width:{self.width}px;height:{self.height}px;background:#1a1c20;color:#aaa;'
                     f'display:flex;align-items:center;justify-content:center;font-family:sans-serif">'
                     f'waiting for the first policy snapshot</div>')
        else:
            video = video_html(mp4, self.width)
        curve = png_html(png, self.curve_width) if png is not None else ""
        title = (f"newest policy snapshot: {html.escape(ep.id)}, iteration {ep.iteration}" if ep is not None
                 else html.escape(str(self.path)))
        return (f'<div class="braxscope-live" style="font-family:sans-serif;font-size:13px">'
                f'<div style="margin-bottom:4px"><b>braxscope live</b> · {title}</div>'
                f'<div style="display:flex;gap:12px;align-items:flex-start">{video}{curve}</div></div>')

    @staticmethod
    def _status_html(text: str) -> str:
        return f'<div class="braxscope-status" style="font-family:monospace;font-size:12px">{html.escape(text)}</div>'


def _newest_snapshot(s: ReplaySession, writers: set[str]):
    """The snapshot of the highest iteration among ``writers`` (the policy as it is now)."""
    snaps = [e for e in s.catalog if e.source == "snapshot" and e.writer in writers and e.id not in s.damaged]
    return max(snaps, key=lambda e: (e.iteration, e.env_step, e.wall_time)) if snaps else None


def live(source, **kwargs) -> LivePanel:
    """Show a live panel on a run: a ``Recorder`` (call before ``ppo.train``, in the same cell) or
    a store path that another process writes. Keyword arguments: see :class:`LivePanel`."""
    return LivePanel(source, **kwargs)


__all__ = ["live", "LivePanel", "PanelState"]
