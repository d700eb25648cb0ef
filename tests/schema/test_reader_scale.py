"""The viewer polls refresh() several times a second on big stores: with tens of thousands of
catalog rows, refresh reads one small JSON per writer when nothing is new and only the new
rows' catalog chunks when something is; episodes() and get_episode read nothing. What is read
is counted, not timed: the speed is in ``benchmarks/scale.py``."""

from __future__ import annotations

from braxscope.schema import StoreWriter, open_store
from braxscope.schema.storage import LocalStorage

from .conftest import train_block


class CountingStorage(LocalStorage):
    """A read-only local store that records every key read and its size."""

    def __init__(self, root):
        super().__init__(root, read_only=True)
        self.reads: list[tuple[str, int]] = []

    def get(self, key):
        data = super().get(key)
        self.reads.append((key, 0 if data is None else len(data)))
        return data

    def take(self) -> list[tuple[str, int]]:
        reads, self.reads = self.reads, []
        return reads


def test_refresh_reads_only_whats_new_and_listing_reads_nothing_with_30k_episodes(tmp_path, model):
    path = tmp_path / "s.zarr"
    w = StoreWriter.create(path, model, env_name="toy", dt=0.01, train_slots=8)
    for i in range(0, 7680, 1280):
        w.append_train(**train_block(model, i, 1280, 8, done_every=2))
        w.commit()
    storage = CountingStorage(path)
    r = open_store(storage)
    n = len(r.episodes())
    assert n >= 30_000
    storage.take()
    writer_dir = f"writers/{w.writer_id}"

    for _ in range(5):
        assert not r.refresh()
    # nothing new: each refresh reads the writer's commit record, and nothing else
    assert [k for k, _ in storage.take()] == [f"{writer_dir}/zarr.json"] * 5

    r.episodes()
    r.get_episode(f"0:{n - 7}")
    assert storage.take() == []  # the listing and a lookup are in memory

    w.append_train(**train_block(model, 7680, 64, 8, done_every=2))
    w.commit()
    assert r.refresh()
    reads = storage.take()
    chunks = [(k, size) for k, size in reads if "/catalog/" in k and "/c." in k]
    assert chunks, reads
    for key, _ in chunks:  # per column, only its last chunk: where the new rows are
        column = path / key.rsplit("/", 1)[0]
        last = max(int(p.name.split(".")[-1]) for p in column.glob("c.*"))
        assert key.endswith(f"/c.{last}"), (key, last)
    catalog_bytes = sum(p.stat().st_size for p in (path / writer_dir / "catalog").rglob("c.*"))
    assert sum(size for _, size in chunks) < 0.05 * catalog_bytes
    assert len(r.episodes()) == n + 256 and r.get_episode(f"0:{n + 255}").start >= 7680
    w.close()
