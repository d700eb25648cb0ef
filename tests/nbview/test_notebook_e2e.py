"""examples/notebook.ipynb executed end to end by a real Jupyter kernel (nbclient): real
ppo.train with the recorder and the live panel, the Viewer, a compare of the first and the
latest snapshot, the curve."""

from __future__ import annotations

import base64
import re

import pytest

from braxscope.schema import open_store

from .test_inline import decode

pytestmark = pytest.mark.slow
VIDEO = re.compile(r'src="data:video/mp4;base64,([A-Za-z0-9+/=]+)"')


def cell_index(nb, text: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and text in c.source)


def videos(html: str) -> list[bytes]:
    return [base64.b64decode(b) for b in VIDEO.findall(html)]


def test_the_example_notebook_runs_in_a_kernel_without_errors(executed_notebook):
    nb = executed_notebook["nb"]
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, errors
    stderr = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", [])
                     if o["output_type"] == "stream" and o["name"] == "stderr")
    assert "Traceback" not in stderr and "braxscope" not in stderr, stderr


def test_the_live_panel_updates_while_ppo_trains_and_keeps_its_last_state(executed_notebook):
    nb, shown = executed_notebook["nb"], executed_notebook["displays"]
    train = cell_index(nb, "bn.live(rec)")
    panel = [d for d in shown if d["cell"] == train and "text/html" in d["data"]
             and "braxscope-" in d["data"]["text/html"]]
    during = [d for d in panel if d["type"] == "update_display_data" and d["running"]]
    assert len({d["data"]["text/html"] for d in during}) >= 2, "fewer than two different panel updates in training"
    media = [d for d in during if "<video" in d["data"]["text/html"]]
    assert media, "no snapshot video reached the panel while training ran"
    # The saved notebook keeps the panel's last state: the newest snapshot of the run, the curve.
    saved = [o["data"]["text/html"] for o in nb.cells[train].outputs if "text/html" in o.get("data", {})]
    last = next(h for h in saved if "braxscope-live" in h)
    reader = open_store(executed_notebook["store"])
    snaps = sorted((e for e in reader.episodes() if e.source == "snapshot"), key=lambda e: e.iteration)
    assert len(snaps) >= 3 and f"newest policy snapshot: {snaps[-1].id}," in last
    assert "data:image/png;base64," in last and len(videos(last)) == 1
    assert any("run finished" in h for h in saved)


def test_the_notebooks_videos_decode_to_the_frames_of_their_episodes(executed_notebook, tmp_path):
    nb = executed_notebook["nb"]
    reader = open_store(executed_notebook["store"])
    snaps = sorted((e for e in reader.episodes() if e.source == "snapshot"), key=lambda e: e.iteration)
    train = cell_index(nb, "bn.live(rec)")
    last = next(o["data"]["text/html"] for o in nb.cells[train].outputs
                if "braxscope-live" in o.get("data", {}).get("text/html", ""))
    n, size, first = decode(videos(last)[0], tmp_path, "panel.mp4")
    assert (n, size) == (min(200, snaps[-1].length), (320, 240))  # the panel's preview: at most 200 frames
    cmp = cell_index(nb, "bn.compare(")
    html = next(o["data"]["text/html"] for o in nb.cells[cmp].outputs if "text/html" in o.get("data", {}))
    n, size, _ = decode(videos(html)[0], tmp_path, "compare.mp4")
    assert (n, size) == (max(snaps[0].length, snaps[-1].length), (640, 240))


def test_the_viewer_and_the_curve_cells_show_a_widget_and_a_png(executed_notebook):
    nb = executed_notebook["nb"]
    view = nb.cells[cell_index(nb, "bn.Viewer(")]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in view.outputs)
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    images = [m for m in state.values() if m["model_name"] == "ImageModel"]
    assert images, "the Viewer's image widgets are not in the saved widget state"
    curve = nb.cells[cell_index(nb, "bn.curve(")]
    assert any(o.get("data", {}).get("image/png") for o in curve.outputs)
