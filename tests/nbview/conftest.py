"""Fixtures for the notebook view's tests: small stores written without JAX (the replay app's
store generator), and where the tests keep what they produce."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

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


NOTEBOOK = ROOT / "examples" / "notebook.ipynb"


class RecordingClient(NotebookClient):
    """An nbclient client that also records every display message the kernel sends
    (``display_data`` and ``update_display_data``: the live panel updates its outputs by display
    id, and the saved notebook keeps only the last of them), with the cell it came from and
    whether that cell was still running."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.displays: list[dict] = []
        self.running: int | None = None

    async def async_execute_cell(self, cell, cell_index, *a, **k):
        self.running = cell_index
        try:
            return await super().async_execute_cell(cell, cell_index, *a, **k)
        finally:
            self.running = None

    def process_message(self, msg, cell, cell_index):
        if msg["msg_type"] in ("display_data", "update_display_data"):
            c = msg["content"]
            self.displays.append({"type": msg["msg_type"], "cell": cell_index,
                                  "display_id": c.get("transient", {}).get("display_id"),
                                  "data": c.get("data", {}), "running": self.running == cell_index,
                                  "t": time.time()})
        return super().process_message(msg, cell, cell_index)


@pytest.fixture(scope="session")
def executed_notebook(tmp_path_factory):
    """examples/notebook.ipynb run end to end by a real Jupyter kernel (nbclient), in a fresh
    directory: real ppo.train, the live panel, the Viewer, the compare and the curve."""
    work = tmp_path_factory.mktemp("notebook")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = RecordingClient(nb, timeout=900, kernel_name="python3", store_widget_state=True,
                                  resources={"metadata": {"path": str(work)}})
    client.execute()
    out = work / "executed.ipynb"
    nbformat.write(nb, out)
    return {"nb": nb, "displays": client.displays, "work": work, "path": out, "store": work / "runs" / "notebook.zarr"}
