"""The live panel tailing a store that another process writes (the cluster case)."""

from __future__ import annotations

import braxscope.notebook as bn
from replay_app.conftest import live_writer


def test_the_panel_follows_the_newest_snapshot_of_a_store_another_process_writes(tmp_path):
    path = tmp_path / "live.zarr"
    panel = bn.live(path, display=False, poll_s=0.2, width=64, height=48, max_frames=8)
    assert panel.state.status == "waiting for the run to start"
    with live_writer(path, iterations=5, episode_len=20, block=4, sleep_s=0.5) as proc:
        assert panel.wait_update(1, timeout=60), panel.error
        first = panel.state
        assert first.iteration < 4
        proc.wait(timeout=120)
        panel.join(timeout=120)
    # However slowly it rendered meanwhile (its thread has the lowest priority), it ends on the
    # run's last snapshot, having shown an earlier one before.
    assert panel.updates >= 2 and first.snapshot != panel.state.snapshot
    assert panel.state.finished and "run finished" in panel.state.status
    assert "100 train rows committed · 0 dropped" in panel.state.status
    assert panel.state.snapshot == "0:9"  # the last iteration's snapshot (train, snapshot per iteration)
    assert panel.running  # a store's panel follows until stopped (another writer may come)
    panel.stop()
    assert not panel.running and panel.error is None
