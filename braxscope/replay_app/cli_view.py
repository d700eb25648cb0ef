"""``braxscope view PATH [PATH[=LABEL] ...] [--live] [--episode ID] [--compare ID ... [--ghost]] [--width W ...]``.

Several stores open side by side in one app (their runs labelled in the browser, their training
curves in one plot); an episode of another store than the first is named ``PATH:ID`` (or
``LABEL:ID``), as ``braxscope export --compare`` names them.

Everything that can be wrong with the input (path, store version, damage, episode ids, no
display, no OpenGL) is reported as one line before the window opens (exit 2).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from ..schema.errors import BraxscopeError
from .runs import split_label


class NoDisplayError(BraxscopeError):
    """No display to open a window on."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="+", metavar="PATH[=LABEL]",
                        help="the store directory (e.g. runs/ant.zarr); several open side by side, each run "
                             "labelled from its env, seed and settings, or as LABEL")
    parser.add_argument("--live", action="store_true", help="follow the newest data while the run records")
    parser.add_argument("--episode", metavar="ID",
                        help="open this episode (ids as in 'braxscope info'; PATH:ID for another store's)")
    parser.add_argument("--compare", metavar="ID", nargs="+",
                        help="open 2 to 4 episodes side by side (PATH:ID for another store's: runs side by side)")
    parser.add_argument("--ghost", action="store_true",
                        help="with --compare: draw the episodes in one scene, the others translucent")
    parser.add_argument("--width", type=int, default=640, help="viewport width in pixels (default 640)")
    parser.add_argument("--height", type=int, default=480, help="viewport height in pixels (default 480)")
    parser.add_argument("--fps", type=float, default=60.0, help="most frames drawn per second (default 60)")
    parser.add_argument("--shadows", action="store_true", help="shadows and reflections on (slow on software GL)")
    # For tests and benchmarks: run this long, optionally save a screenshot, write stats as JSON
    # (BRAXSCOPE_VIEW_STATS too: for a viewer that another program starts, like the demo).
    parser.add_argument("--exit-after", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--screenshot", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--stats", default=os.environ.get("BRAXSCOPE_VIEW_STATS"), help=argparse.SUPPRESS)
    parser.add_argument("--speed", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--play", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    from ..schema.reader import open_store
    from .session import MAX_COMPARE, ReplaySession

    if not 16 <= args.width <= 4096 or not 16 <= args.height <= 4096:
        raise BraxscopeError(f"--width/--height must be between 16 and 4096, got {args.width}x{args.height}")
    if args.compare and not 2 <= len(args.compare) <= MAX_COMPARE:
        raise BraxscopeError(f"--compare takes 2 to {MAX_COMPARE} episode ids, got {len(args.compare)}")
    specs = [split_label(p) for p in args.path]
    # Each raises a one-line error for a missing, damaged or newer store.
    readers = [open_store(path) for path, _ in specs]
    model = readers[0].model()
    for r in readers[1:]:
        r.model()  # a damaged model in any store: one line now, not a broken cell later
    session = ReplaySession(readers if len(readers) > 1 else readers[0], labels=[lab for _, lab in specs])
    for eid in (args.compare or []) + ([args.episode] if args.episode else []):
        session.check_episode(eid)  # EpisodeNotFoundError: one line, exit 2
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise NoDisplayError(
            "no display (DISPLAY is not set): run on a desktop, under xvfb-run, "
            "or render a video with 'braxscope export'")
    if sys.platform.startswith("linux") and not os.environ.get("WAYLAND_DISPLAY") and not _x_display_opens():
        # Else GLFW fails an assertion and the process aborts with no word about why.
        raise NoDisplayError(f"cannot open the display {os.environ['DISPLAY']!r} (is an X server running there?): "
                             "check DISPLAY, or render a video with 'braxscope export'")
    try:
        import dearpygui.dearpygui  # noqa: F401
    except ImportError:
        raise BraxscopeError("the viewer needs dearpygui: pip install 'braxscope[view]'") from None

    from .app import ReplayApp
    from .render_thread import RenderWorker

    # The GL context starts now, while the episode loads and the window is built.
    worker = RenderWorker(model, args.width, args.height, shadows=args.shadows, wait=False)

    if args.compare:
        session.set_compare(args.compare)
    elif args.episode:
        session.select(args.episode)
    elif args.live:
        session.go_live()
    else:
        eps = session.rows()
        if eps:
            session.select(_initial(session))
    session.poll_store()  # the first episode loads before the window opens: first frame fast
    if args.speed:
        session.set_speed(args.speed)
    if args.play and not session.live:
        session.play()
    if args.ghost:
        session.set_ghost(True)
    app = ReplayApp(session, worker, width=args.width, height=args.height, fps=args.fps, started=started)
    try:
        worker.wait_ready()
    except BraxscopeError:
        app.close()  # no OpenGL: one line on the command line, exit 2
        raise
    app.run(exit_after_s=args.exit_after, screenshot=args.screenshot)
    if args.stats:
        st = app.stats
        shown = [b - a for _, a, b in st.shown]
        with open(args.stats, "w") as f:
            json.dump({"first_frame_s": st.first_frame_s, "first_frame_wall": st.first_frame_wall,
                       "trace": st.trace[-300:], "frames_shown": st.frames_shown, "gui_frames": st.gui_frames,
                       "renders": worker.renders, "cursor": session.cursor, "views": session.views,
                       "live": session.live, "latency_s": shown[-500:], "episodes": st.episodes,
                       "errors": app.errors.count, "error_log": str(app.errors.path)}, f)
    if app.errors.count:
        # The window showed them; a wrapper (make demo, a test) must not take this for a clean run.
        print(f"braxscope: error: the viewer hit {app.errors.count} error(s) (shown in its window); "
              f"tracebacks in {app.errors.path}", file=sys.stderr)
        return 1
    return 0


def _x_display_opens() -> bool:
    """Whether the X server that DISPLAY names accepts a connection (True when libX11 is not there
    to ask: then GLFW gets to try)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("X11") or "libX11.so.6"
    try:
        x11 = ctypes.CDLL(name)
    except OSError:
        return True
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    d = x11.XOpenDisplay(None)
    if not d:
        return False
    x11.XCloseDisplay(d)
    return True


def _initial(session) -> str:
    """The newest snapshot if there is one (the policy as it is now), else the first episode."""
    snaps = [e for e in session.catalog if e.source == "snapshot" and not e.in_progress]
    if snaps:
        return max(snaps, key=lambda e: (e.iteration, e.env_step)).id
    return session.rows()[0].id
