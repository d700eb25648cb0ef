"""An export (or import) that fails midway (an error, or Ctrl-C) leaves no file under its name and
no temporary litter beside it, and an older output it was to replace (--force) stays as it was.
Each one fails after it has written part of its output: on its second frame or episode."""

from __future__ import annotations

import pytest

from braxscope.replay_app.export_video import export_video
from braxscope.schema import open_store
from braxscope.schema.hdf5 import export_hdf5, export_minari, import_hdf5

from .test_video_export import SNAP0


class Stop(Exception):
    pass


def fail_at(n: int, error=Stop):
    def progress(done: int, total: int) -> None:
        if done >= n:
            raise error("stopped midway")
    return progress


def names(d) -> list[str]:
    return sorted(p.name for p in d.rglob("*"))


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_a_video_export_that_fails_midway_leaves_nothing(store, tmp_path, suffix):
    with pytest.raises(Stop):
        export_video(store, [SNAP0], tmp_path / f"clip{suffix}", width=64, height=48, progress=fail_at(2))
    assert names(tmp_path) == []


def test_an_interrupted_video_export_keeps_the_older_file(store, tmp_path):
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"an older video")
    with pytest.raises(KeyboardInterrupt):
        export_video(store, [SNAP0], out, width=64, height=48, progress=fail_at(2, KeyboardInterrupt))
    assert out.read_bytes() == b"an older video" and names(tmp_path) == ["clip.mp4"]


def test_an_hdf5_export_that_fails_midway_leaves_nothing_and_keeps_the_older_file(store, tmp_path):
    with pytest.raises(Stop):
        export_hdf5(store, tmp_path / "eps.h5", progress=fail_at(2))
    assert names(tmp_path) == []
    (tmp_path / "eps.h5").write_bytes(b"older")
    with pytest.raises(KeyboardInterrupt):
        export_hdf5(store, tmp_path / "eps.h5", overwrite=True, progress=fail_at(2, KeyboardInterrupt))
    assert (tmp_path / "eps.h5").read_bytes() == b"older" and names(tmp_path) == ["eps.h5"]


def test_a_minari_export_that_fails_while_minari_writes_leaves_no_dataset(store, tmp_path, monkeypatch):
    import minari

    real = minari.create_dataset_from_buffers

    def writes_then_fails(*args, **kwargs):
        real(*args, **kwargs)  # the dataset's files are on disk (in the temporary root)
        raise Stop("disk full")

    monkeypatch.setattr(minari, "create_dataset_from_buffers", writes_then_fails)
    root = tmp_path / "datasets"
    with pytest.raises(Stop):
        export_minari(store, "braxscope/leg-v0", datasets_path=root)
    assert names(root) == []
    # Replacing an existing dataset (--force): it stays whole when the new one fails.
    monkeypatch.setattr(minari, "create_dataset_from_buffers", real)
    export_minari(store, "braxscope/leg-v0", datasets_path=root)
    before = tree(root)
    monkeypatch.setattr(minari, "create_dataset_from_buffers", writes_then_fails)
    with pytest.raises(Stop):
        export_minari(store, "braxscope/leg-v0", datasets_path=root, overwrite=True)
    assert tree(root) == before  # every path and every byte, no temporary directory left


def tree(root) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in root.rglob("*")}


def test_an_import_that_fails_midway_leaves_no_store(store, tmp_path):
    h5 = export_hdf5(store, tmp_path / "eps.h5").path
    out = tmp_path / "back.zarr"
    with pytest.raises(KeyboardInterrupt):
        import_hdf5(h5, out, progress=fail_at(2, KeyboardInterrupt))
    assert names(tmp_path) == ["eps.h5"]
    import_hdf5(h5, out)  # the same import, not interrupted: a whole store under its name
    assert len(open_store(out).episodes()) == len(open_store(store).query(complete=True))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_notebook_video_saves_whole_with_no_temp_beside_it(tmp_path):
    from braxscope.notebook._media import Video

    out = Video(b"mp4 bytes", ["0:1"], 100).save(tmp_path / "clips" / "v.mp4")
    assert out.read_bytes() == b"mp4 bytes" and names(tmp_path) == ["clips", "v.mp4"]
