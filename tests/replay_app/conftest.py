"""Fixtures for the replay app's tests: small realistic stores, a fake clock, and Xvfb."""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .storegen import make_store

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "replay_app"


class FakeClock:
    """A monotonic clock the test advances by hand."""

    def __init__(self, t: float = 100.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, s: float) -> None:
        self.t += s


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture(scope="session")
def ant_store(tmp_path_factory) -> Path:
    """3 iterations x 2 train envs (80 steps) + one 50-step snapshot per iteration, finished."""
    return make_store(tmp_path_factory.mktemp("stores") / "ant.zarr", iterations=3, slots=2, episode_len=80,
                      snapshot_len=50)


@pytest.fixture
def ant_copy(ant_store, tmp_path) -> Path:
    """A private copy a test may damage or write to."""
    dst = tmp_path / "ant.zarr"
    shutil.copytree(ant_store, dst)
    return dst


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def _no_display(why: str):
    """Without Xvfb the GUI tests cannot run: a skip on a developer's machine, a failure under CI
    (``CI=true``), where a missing display must never pass as green."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{why}: GUI tests cannot run (CI=true: failing instead of skipping)")
    pytest.skip(why)


def start_xvfb(size: str = "1920x1080"):
    """(process, DISPLAY) of a new virtual display of ``size`` (WxH). Xvfb picks a free display
    number itself (``-displayfd``), so parallel test workers never race for one."""
    if shutil.which("Xvfb") is None:
        _no_display("Xvfb is not installed (apt-get install xvfb)")
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(w,))
    os.close(w)
    number = b""
    with os.fdopen(r, "rb") as pipe:
        ready, _, _ = select.select([pipe], [], [], 10)
        if ready:
            number = pipe.readline().strip()  # written once the display accepts clients
    if not number.isdigit():
        proc.kill()
        _no_display("Xvfb did not start")
    return proc, f":{int(number)}"


@pytest.fixture(scope="session")
def xvfb():
    """A virtual display (its DISPLAY string) for GUI child processes."""
    proc, display = start_xvfb("1920x1080")
    # Not exported to this process: GUI code runs only in child processes given DISPLAY.
    yield display
    proc.terminate()
    proc.wait(timeout=10)


def braxscope_cli(*args: str, env: dict | None = None, timeout: float = 90) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    e.setdefault("MUJOCO_GL", "egl")
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "braxscope.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=e, cwd=ROOT)


@contextlib.contextmanager
def live_writer(path: Path, **kwargs):
    """``start_live_writer`` for a with-block: the writer process is killed when the block ends."""
    proc = start_live_writer(path, **kwargs)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def start_live_writer(path: Path, *, iterations: int = 40, episode_len: int = 40, block: int = 4,
                      sleep_s: float = 0.05) -> subprocess.Popen:
    """A separate process that creates ``path`` and appends to it slowly, like a training run."""
    e = dict(os.environ, MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "tests.replay_app.storegen", "live", str(path), "inverted_pendulum",
                             str(iterations), str(episode_len), str(block), str(sleep_s)], cwd=ROOT, env=e)
    deadline = time.time() + 30
    while True:
        try:
            wdir = next(p for p in (path / "writers").iterdir() if p.is_dir())
            doc = json.loads(wdir.joinpath("zarr.json").read_text())
            if doc["attributes"]["braxscope_commit"]["rows"]["train"] > 0:
                return proc
        except (OSError, StopIteration, KeyError, ValueError):
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError("the live writer did not start")
        time.sleep(0.05)
