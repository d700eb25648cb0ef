"""The one atomic-output helper (braxscope/schema/atomic.py): a file or directory appears under
its name whole or not at all, an error or interrupt leaves nothing beside it, and an older
output stays as it was until the new one is complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from braxscope.schema import atomic
from braxscope.schema.storage import LocalStorage

from .conftest import REPO


def listing(d) -> list[str]:
    return sorted(p.name for p in d.iterdir())


def test_output_file_appears_whole_under_its_name_only_at_the_end(tmp_path):
    out = tmp_path / "sub" / "clip.mp4"
    with atomic.output_file(out) as tmp:
        assert tmp.parent == out.parent and tmp.suffix == ".mp4" and tmp.name.startswith(".clip.")
        tmp.write_bytes(b"frames")
        assert not out.exists()
    assert out.read_bytes() == b"frames"
    assert listing(out.parent) == ["clip.mp4"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_output_file_that_fails_midway_leaves_no_file_and_no_temp(tmp_path, error):
    out = tmp_path / "clip.gif"
    with pytest.raises(error):
        with atomic.output_file(out) as tmp:
            tmp.write_bytes(b"half")
            raise error()
    assert listing(tmp_path) == []


def test_output_file_that_fails_keeps_the_older_file_and_one_that_ends_replaces_it(tmp_path):
    out = tmp_path / "episodes.h5"
    out.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic.output_file(out) as tmp:
            tmp.write_bytes(b"new but half")
            raise RuntimeError
    assert out.read_bytes() == b"old" and listing(tmp_path) == ["episodes.h5"]
    with atomic.output_file(out) as tmp:
        tmp.write_bytes(b"new")
    assert out.read_bytes() == b"new" and listing(tmp_path) == ["episodes.h5"]


def test_output_file_with_nothing_written_is_an_error_not_an_empty_output(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with atomic.output_file(tmp_path / "x.png"):
            pass
    assert listing(tmp_path) == []


def test_output_dir_moves_the_built_tree_in_whole_and_replaces_an_older_one(tmp_path):
    out = tmp_path / "ns"
    meta = out / "ds-v0" / "data" / "metadata.json"
    for before, content in ((None, b"first"), (b"first", b"second")):
        with atomic.output_dir(out, inner="ns") as tmp:  # a tool that writes <its root>/ns/ds-v0
            (tmp / "ns" / "ds-v0" / "data").mkdir(parents=True)
            (tmp / "ns" / "ds-v0" / "data" / "metadata.json").write_bytes(content)
            assert (meta.read_bytes() if meta.exists() else None) == before  # not yet
        assert meta.read_bytes() == content
        assert listing(tmp_path) == ["ns"]


def test_output_dir_that_fails_midway_leaves_the_older_tree_and_no_temp(tmp_path):
    out = tmp_path / "ds-v0"
    (out / "data").mkdir(parents=True)
    (out / "data" / "a").write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic.output_dir(out) as tmp:
            (tmp / "data").mkdir()
            (tmp / "data" / "a").write_bytes(b"half")
            raise RuntimeError
    assert (out / "data" / "a").read_bytes() == b"old"
    assert listing(tmp_path) == ["ds-v0"] and listing(out) == ["data"]


def test_store_keys_use_the_same_rename_and_leave_no_temp(tmp_path):
    st = LocalStorage(tmp_path, read_only=False)
    st.put("g/zarr.json", b"1")
    st.put("g/zarr.json", b"2")
    assert st.create("g/writer.lock", b"me") and not st.create("g/writer.lock", b"you")
    atomic.write_bytes(tmp_path / "g" / "zarr.json", b"3", sync=True)
    assert st.get("g/zarr.json") == b"3" and st.get("g/writer.lock") == b"me"
    assert listing(tmp_path / "g") == ["writer.lock", "zarr.json"] and st.partials() == []


_SLOW_EXPORT = """
import sys, time
from braxscope.schema import atomic
with atomic.output_file(sys.argv[1]) as tmp:
    with open(tmp, "wb") as f:
        f.write(b"x" * 1000)
        f.flush()
        print("writing", flush=True)
        time.sleep(60)
"""


def test_a_killed_export_leaves_nothing_under_the_final_name(tmp_path):
    out = tmp_path / "run.mp4"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    p = subprocess.Popen([sys.executable, "-c", _SLOW_EXPORT, str(out)], stdout=subprocess.PIPE, env=env)
    try:
        assert p.stdout.readline().strip() == b"writing"
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    time.sleep(0.1)
    assert not out.exists()
    # What a SIGKILL cannot clean up: one hidden temporary file, which no reader takes for the output.
    left = listing(tmp_path)
    assert len(left) == 1 and left[0].startswith(".run.") and left[0].endswith(".partial.mp4")
