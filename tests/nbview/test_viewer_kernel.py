"""The notebook Viewer driven as a front-end drives it: a real Jupyter kernel runs the Viewer, and
the test sends the widget messages a browser would send (slider moved, episodes picked, ghost
ticked, play clicked) over the kernel's comm channel. The session state and the image bytes must
change as they should, and the state must be the desktop app's: a ReplaySession given the same
commands (those the app's browser, slider and checkboxes call) ends in the same state."""

from __future__ import annotations

import json
import queue
import time
import uuid

import pytest
from jupyter_client.manager import start_new_kernel

from braxscope.replay_app.session import ReplaySession
from braxscope.schema import open_store
from replay_app.storegen import make_store

STATE = """
import hashlib, json
v.wait()
_s = v.session
print("STATE " + json.dumps({"views": _s.views, "cursor": _s.cursor, "playing": _s.playing, "ghost": _s.ghost,
      "slider": v.slider.value, "slider_max": v.slider.max, "picked": list(v.episodes.value),
      "listed": [o[1] for o in v.episodes.options],
      "image": hashlib.sha256(v.image.value).hexdigest(),
      "reward_plot": hashlib.sha256(v.reward_plot.value).hexdigest(),
      "lines": [[t for t, _ in c.lines] for c in _s.snapshot().scene.cells], "error": v.error}))
"""


class Frontend:
    """A minimal Jupyter front-end: runs code, reads stdout, sends widget comm messages."""

    def __init__(self, kc):
        self.kc = kc

    def run(self, code: str, timeout: float = 120) -> str:
        msg_id = self.kc.execute(code)
        out, deadline = [], time.monotonic() + timeout
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no reply from the kernel within {timeout} s; output so far: {''.join(out)}")
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            t, c = msg["msg_type"], msg["content"]
            if t == "stream":
                out.append(c["text"])
            elif t == "error":
                raise AssertionError("\n".join(c["traceback"]))
            elif t == "status" and c["execution_state"] == "idle":
                return "".join(out)

    def state(self) -> dict:
        line = next(ln for ln in self.run(STATE).splitlines() if ln.startswith("STATE "))
        return json.loads(line[6:])

    def update(self, model_id: str, **state) -> None:
        """What a browser sends when the user changes a widget."""
        self._comm(model_id, {"method": "update", "state": state, "buffer_paths": []})

    def click(self, model_id: str) -> None:
        self._comm(model_id, {"method": "custom", "content": {"event": "click"}})

    def _comm(self, model_id: str, data: dict) -> None:
        msg = self.kc.session.msg("comm_msg", {"comm_id": model_id, "data": data})
        msg["header"]["msg_id"] = uuid.uuid4().hex
        self.kc.shell_channel.send(msg)


@pytest.fixture(scope="module")
def frontend(ip_store):
    km, kc = start_new_kernel(kernel_name="python3")
    fe = Frontend(kc)
    try:
        fe.run(f"import braxscope.notebook as bn, json\nv = bn.Viewer({str(ip_store)!r}, width=320, height=240)\n"
               "display(v)")
        yield fe
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def ids_of(fe: Frontend) -> dict:
    out = fe.run("print('IDS ' + json.dumps({'slider': v.slider.model_id, 'episodes': v.episodes.model_id,"
                 " 'ghost': v.ghost.model_id, 'play': v.play_btn.model_id, 'source': v.source.model_id,"
                 " 'iter_min': v.bounds['iter_min'].model_id,"
                 " 'options': [o[1] for o in v.episodes.options]}))")
    return json.loads(next(ln for ln in out.splitlines() if ln.startswith("IDS "))[4:])


def settle(fe: Frontend, until, timeout: float = 30.0) -> dict:
    """The kernel's state once ``until(state)`` holds (comm messages are handled asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        st = fe.state()
        if until(st) or time.monotonic() > deadline:
            return st
        time.sleep(0.2)


def test_front_end_messages_drive_the_session_and_the_image_as_the_app_would(frontend, ip_store):
    fe = frontend
    ids = ids_of(fe)
    app = ReplaySession(open_store(ip_store))  # the desktop app's model, given the same commands
    app.poll_store()
    first = fe.state()
    assert first["views"] == ["0:5"] and first["error"] is None  # opens on the newest snapshot, as `braxscope view`
    app.select("0:5")

    fe.update(ids["slider"], value=12)  # the user drags the slider
    st = settle(fe, lambda s: s["cursor"] == 12)
    app.seek(12)
    assert st["cursor"] == 12 and st["image"] != first["image"] and st["reward_plot"] != first["reward_plot"]

    # A click on one row, then a shift-click on another: the browser sends the list's selected
    # indices after each click; the app gets the same two clicks on its browser.
    a, b = ids["options"].index("0:0"), ids["options"].index("0:3")
    fe.update(ids["episodes"], index=[a])
    settle(fe, lambda s: s["views"] == ["0:0"])
    fe.update(ids["episodes"], index=[a, b])
    st2 = settle(fe, lambda s: s["views"] == ["0:0", "0:3"])
    app.click_row("0:0")
    app.click_row("0:3", add=True)
    assert st2["views"] == app.views == ["0:0", "0:3"] and st2["image"] != st["image"]
    assert st2["picked"] == ["0:0", "0:3"] and st2["slider_max"] == 39  # the longer episode: 40 steps

    fe.update(ids["ghost"], value=True)
    st3 = settle(fe, lambda s: s["ghost"])
    app.set_ghost(True)
    assert st3["ghost"] and st3["image"] != st2["image"]

    app.poll_store()
    expect = [[t for t, _ in c.lines] for c in app.snapshot().scene.cells]
    assert (st3["views"], st3["cursor"], st3["ghost"], st3["lines"]) == (app.views, app.cursor, app.ghost, expect)

    fe.click(ids["play"])
    st4 = settle(fe, lambda s: s["playing"] or s["cursor"] != st3["cursor"])
    assert st4["playing"] or st4["cursor"] > st3["cursor"]
    time.sleep(1.0)
    st5 = fe.state()
    assert st5["cursor"] > st3["cursor"] and st5["image"] != st3["image"]  # playing moved the frame on


def test_the_episode_list_filters_as_the_apps_browser(frontend, ip_store):
    fe = frontend
    ids = ids_of(fe)
    app = ReplaySession(open_store(ip_store))
    fe.update(ids["source"], index=2)  # the source menu: "snapshot"
    fe.update(ids["iter_min"], value="1")  # the "iter min" box, typed and entered
    st = settle(fe, lambda s: s["listed"] == ["0:3", "0:5"])
    app.set_filter(source="snapshot", iter_min="1")
    assert st["listed"] == [e.id for e in app.rows()] == ["0:3", "0:5"]
    fe.update(ids["source"], index=0)
    fe.update(ids["iter_min"], value="")
    st = settle(fe, lambda s: len(s["listed"]) == 6)
    assert len(st["listed"]) == 6


def test_the_viewer_over_two_stores_lists_both_runs_and_compares_them_under_one_slider(frontend, ip_store,
                                                                                       tmp_path_factory):
    """Last in this module: it replaces the kernel's viewer with one over two stores."""
    other = make_store(tmp_path_factory.mktemp("nb_s1") / "ip_s1.zarr", name="inverted_pendulum", iterations=3,
                       slots=1, episode_len=40, snapshot_len=30, seed=1)
    fe = frontend
    fe.run(f"v.close()\nv = bn.Viewer([{str(ip_store)!r}, {str(other)!r} + '=seed one'], width=320, height=240)\n"
           "display(v)")
    ids = ids_of(fe)
    a, b = f"{ip_store}:0:0", f"{other}:0:0"
    assert a in ids["options"] and b in ids["options"] and len(ids["options"]) == 12  # both runs listed
    fe.update(ids["episodes"], index=[ids["options"].index(a), ids["options"].index(b)])
    st = settle(fe, lambda s: s["views"] == [a, b])
    fe.update(ids["slider"], value=10)
    st2 = settle(fe, lambda s: s["cursor"] == 10)
    assert st["views"] == st2["views"] == [a, b] and st2["image"] != st["image"]
    assert st2["lines"][1][0].startswith("seed one 0:0") and all(ln[1].startswith("step 10 /") for ln in st2["lines"])
