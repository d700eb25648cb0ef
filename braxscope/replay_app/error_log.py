"""Errors the viewer survives: each is written with its traceback to a log file and named in one
line that the window shows, so a bug in the model or the view never leaves a dead, black window.

The GUI loop, the store thread and the render thread report here; ``braxscope view`` exits 1 when
anything was reported, so a wrapper (``make demo``, a test) cannot mistake it for a clean run.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import traceback
from pathlib import Path

# Where the tracebacks go unless BRAXSCOPE_VIEW_LOG names a file: one log per viewer process.
LOG_ENV = "BRAXSCOPE_VIEW_LOG"


def default_log_path() -> Path:
    return Path(os.environ.get(LOG_ENV) or Path(tempfile.gettempdir()) / f"braxscope-view-{os.getpid()}.log")


class ErrorLog:
    """Thread-safe. :meth:`report` logs an error; :attr:`banner` is the line the window shows."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else default_log_path()
        self._lock = threading.Lock()
        self._repeats: dict[tuple, int] = {}
        self.count = 0  # errors reported, repeats included
        self.banner = ""
        self._logged = ""

    def report(self, where: str, exc: BaseException) -> str:
        """Log ``exc`` (raised while doing ``where``) and return the one-line banner. An error that
        repeats every frame is written once, then only counted."""
        tb = traceback.extract_tb(exc.__traceback__)
        at = (tb[-1].filename, tb[-1].lineno) if tb else ("", 0)
        key = (where, type(exc).__name__, str(exc), at)
        with self._lock:
            self.count += 1
            n = self._repeats[key] = self._repeats.get(key, 0) + 1
            if n == 1:
                text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    with open(self.path, "a") as f:
                        f.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} error in {where}\n{text}\n")
                    logged = f"traceback in {self.path}"
                except OSError as e:
                    logged = f"the log {self.path} cannot be written ({e.strerror})"
                self._logged = logged
            first_line = (str(exc).splitlines() or [""])[0][:160]
            again = f" ({n} times)" if n > 1 else ""
            self.banner = f"error in {where}{again}: {type(exc).__name__}: {first_line} · {self._logged}"
            return self.banner


__all__ = ["ErrorLog", "LOG_ENV", "default_log_path"]
