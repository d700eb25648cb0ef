"""Fixtures for the notebook view's tests: small stores written without JAX (the replay app's
store generator), and where the tests keep what they produce."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

from pathlib import Path

import pytest

from replay_app.storegen import make_store  # noqa: E402  (tests/ is the rootdir of these packages)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "nbview"


@pytest.fixture(scope="session")
def ip_store(tmp_path_factory) -> Path:
    """inverted_pendulum: 3 iterations x 1 train env (40 steps) + one 30-step snapshot each."""
    return make_store(tmp_path_factory.mktemp("nb") / "ip.zarr", name="inverted_pendulum", iterations=3, slots=1,
                      episode_len=40, snapshot_len=30)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
