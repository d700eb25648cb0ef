"""The executed example notebook rendered to HTML (nbconvert) and opened in headless Chromium
(Debian's ``chromium``): the screenshot shows the live panel's video and the training curve.

Chromium runs twice on the same page at the same width: once to report where each <video> and
<img> is laid out (a script writes their boxes into the DOM, read with --dump-dom), once for the
screenshot. The pixels inside each box must be the video's own frames and the PNG's own pixels.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from .test_notebook_e2e import cell_index, videos

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH = 1400
BOXES = """
<script>
window.addEventListener("load", () => setTimeout(() => {
  const boxes = [...document.querySelectorAll("video, img")].map(e => {
    const r = e.getBoundingClientRect();
    return {tag: e.tagName, x: r.x + scrollX, y: r.y + scrollY, w: r.width, h: r.height, src: e.src.slice(0, 40),
            key: e.src.slice(-64)};
  });
  const pre = document.createElement("pre");
  pre.id = "braxscope-boxes";
  pre.textContent = JSON.stringify({boxes, height: document.documentElement.scrollHeight});
  document.body.appendChild(pre);
}, 500));
</script>
"""


def chromium(*args: str, profile) -> subprocess.CompletedProcess:
    # Flags from the machine notes: as root, no GPU, no background connections on a closed network.
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--hide-scrollbars", "--autoplay-policy=no-user-gesture-required", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def page(executed_notebook, tmp_path_factory, artifacts):
    if CHROMIUM is None:
        pytest.fail("chromium is not installed (Debian package chromium; `make test` installs it)")
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(executed_notebook["nb"])
    work = tmp_path_factory.mktemp("html")
    html = work / "notebook.html"
    html.write_text(body.replace("</body>", BOXES + "</body>"))
    dom = chromium("--window-size=%d,1000" % WIDTH, "--virtual-time-budget=8000", "--dump-dom", html.as_uri(),
                   profile=work / "profile-dom")
    found = re.search(r'<pre id="braxscope-boxes">(.*?)</pre>', dom.stdout, re.S)
    assert found, dom.stderr[-2000:]
    layout = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    shot = work / "notebook.png"
    res = chromium(f"--window-size={WIDTH},{int(layout['height'])}", "--virtual-time-budget=8000",
                   f"--screenshot={shot}", html.as_uri(), profile=work / "profile-shot")
    assert shot.exists(), res.stderr[-2000:]
    shutil.copy(shot, artifacts / "notebook_chromium.png")
    return {"layout": layout, "png": np.asarray(Image.open(shot).convert("RGB")).astype(np.int16), "html": body}


def crop(img: np.ndarray, box: dict) -> np.ndarray:
    x, y = int(round(box["x"])), int(round(box["y"]))
    return img[y:y + int(round(box["h"])), x:x + int(round(box["w"]))]


def test_the_screenshot_shows_the_live_panels_video(page, executed_notebook, tmp_path):
    nb = executed_notebook["nb"]
    train = cell_index(nb, "bn.live(rec)")
    last = next(o["data"]["text/html"] for o in nb.cells[train].outputs
                if "braxscope-live" in o.get("data", {}).get("text/html", ""))
    mp4 = videos(last)[0]
    key = base64.b64encode(mp4).decode()[-64:]
    box = next(b for b in page["layout"]["boxes"] if b["tag"] == "VIDEO" and b["key"] == key)
    assert (round(box["w"]), round(box["h"])) == (320, 240)
    shown = crop(page["png"], box)
    path = tmp_path / "panel.mp4"
    path.write_bytes(mp4)
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    w, h = next(gen)["size"]
    # Whatever instant the browser played to, the box holds one of the video's frames.
    diffs = [np.abs(shown - np.frombuffer(f, np.uint8).reshape(h, w, 3).astype(np.int16)).mean() for f in gen]
    assert min(diffs) < 8, f"the video's box matches none of its frames (best mean difference {min(diffs):.1f})"
    assert shown.std() > 10  # a rendered scene, not a blank box


def test_the_screenshot_shows_the_training_curve(page, executed_notebook):
    nb = executed_notebook["nb"]
    png = next(o["data"]["image/png"] for o in nb.cells[cell_index(nb, "bn.curve(")].outputs
               if "image/png" in o.get("data", {}))
    want = np.asarray(Image.open(io.BytesIO(base64.b64decode(png))).convert("RGB")).astype(np.int16)
    box = next(b for b in page["layout"]["boxes"] if b["tag"] == "IMG" and b["key"] == png.replace("\n", "")[-64:])
    shown = crop(page["png"], box)
    assert shown.shape == want.shape
    assert np.abs(shown - want).mean() < 4
    line = (np.abs(shown - (80, 150, 250)).sum(axis=2) < 40).sum()  # the curve's own blue line
    assert line > 300
