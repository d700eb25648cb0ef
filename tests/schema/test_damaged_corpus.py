"""Each kind of bad input gets its exact one-line message and exit code from the real
``braxscope`` console script (never a traceback), the reader raises its own exception type,
and neither the reader, verify nor info modifies the store."""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from braxscope.schema import (
    CorruptStoreError,
    NewerSchemaError,
    NotAStoreError,
    ShapeMismatchError,
    StoreNotFoundError,
    open_store,
)

from .conftest import BRAXSCOPE, subprocess_env, tree_hash
from .corpus import CASES, build_corpus

E = "braxscope: error: "
NOT_DIR = "{p} is not a braxscope store (no zarr.json): point at the directory a recorder wrote"
MISSING = "{p} does not exist: check the path (a store is a directory like runs/demo.zarr)"
FILE = "{p} is a file, not a braxscope store (a store is a directory like runs/demo.zarr)"
FOREIGN = "{p} is a Zarr store but not a braxscope store (no 'braxscope' attributes)"
NEWER = "{p} has schema version 2; this braxscope reads up to 1: upgrade braxscope (pip install -U braxscope)"
SHAPE = "rows of shape (2, 9) but the model needs (2, 8) (nq=9, nv=8, nu=2)"
CRC = "checksum mismatch ({n} bytes; truncated or corrupted)"

# case -> (verify exit, verify's problem lines, info exit, info's one line (stderr) or its "damaged:" lines)
EXPECT = {
    "healthy": (0, [], 0, []),
    "missing_path": (2, [E + MISSING], 2, [E + MISSING]),
    "plain_dir": (2, [E + NOT_DIR], 2, [E + NOT_DIR]),
    "a_file": (2, [E + FILE], 2, [E + FILE]),
    "foreign_zarr": (2, [E + FOREIGN], 2, [E + FOREIGN]),
    "newer_version": (2, [E + NEWER], 2, [E + NEWER]),
    "missing_root_json": (
        1, ["DAMAGED: zarr.json: zarr.json is missing: the run's metadata (model sizes, names, dt) is lost; "
            "restore it from a backup"],
        2, [E + "{p}/zarr.json is missing: the store's root metadata is gone (restore it from a backup)"]),
    "missing_array_json": (
        1, ["DAMAGED: {w}/train/qpos: zarr.json is missing"],
        2, [E + "{p}/{w}/train/qpos/zarr.json is missing: the store's train/qpos array metadata is gone "
                "(restore it from a backup)"]),
    "garbled_root_json": (
        1, ["DAMAGED: zarr.json: zarr.json is not valid JSON (JSONDecodeError at byte 30): "
            "the run's metadata (model sizes, names, dt) is lost; restore it from a backup"],
        2, [E + "{p}/zarr.json is not valid JSON (JSONDecodeError at byte 30): the store's root metadata is damaged"]),
    "garbled_writer_json": (
        1, ["DAMAGED: {w}: zarr.json is not valid JSON (JSONDecodeError at byte 34): "
            "this writer's commit record is lost"],
        2, [E + "{p}/{w}/zarr.json is not valid JSON (JSONDecodeError at byte 34): "
                "the store's writer {wid} metadata is damaged"]),
    "truncated_chunk": (
        1, ["DAMAGED: {w}/train/qpos: chunk 1 (rows 256-511) cannot be decoded: " + CRC], 0, []),
    "corrupted_chunk": (
        1, ["DAMAGED: {w}/train/action: chunk 0 (rows 0-599) cannot be decoded: " + CRC], 0, []),
    "truncated_catalog_chunk": (
        1, ["DAMAGED: {w}/catalog/return: chunk 0 (rows 0-39) cannot be decoded: "
            "checksum mismatch (10 bytes; truncated or corrupted)"],
        0, ["damaged: catalog rows 0-39 of writer {wid} are damaged: those episodes are skipped"]),
    "shape_mismatch": (
        1, ["DAMAGED: {w}/train/qvel: " + SHAPE],
        2, [E + "{w}/train/qvel has " + SHAPE + ": the data does not match the model"]),
    "corrupt_model": (
        1, ["DAMAGED: model: the embedded model cannot be read (checksum mismatch: truncated or corrupted)"],
        0, ["damaged: model: the store's embedded model cannot be read (checksum mismatch: truncated or corrupted): "
            "the store is damaged"]),
    "catalog_out_of_range": (
        1, ["DAMAGED: {w}/catalog: 1 train episode(s) point outside the 600 committed rows "
            "(first: catalog row 0, rows 0-999999)"],
        0, ["damaged: catalog rows 0-0 of writer {wid} (1 episode(s)) point outside the committed rows: "
            "those episodes are skipped; run braxscope verify"]),
    "sentinel_hole": (
        1, ["DAMAGED: {w}/train/env_step: chunk 0 (rows 0-599) holds the unwritten marker (-1) "
            "at committed rows 5-5 (1 rows)"], 0, []),
    "short_array": (1, ["DAMAGED: {w}/train/reward: holds 100 rows but 600 are committed"], 0, []),
    "stale_lock": (0, [], 0, []),
}

READER_ERROR = {
    "missing_path": StoreNotFoundError, "plain_dir": NotAStoreError, "a_file": NotAStoreError,
    "foreign_zarr": NotAStoreError, "newer_version": NewerSchemaError, "missing_root_json": CorruptStoreError,
    "missing_array_json": CorruptStoreError, "garbled_root_json": CorruptStoreError,
    "garbled_writer_json": CorruptStoreError, "shape_mismatch": ShapeMismatchError,
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Build every case, hash it, and run `braxscope verify` and `braxscope info` on each (in parallel)."""
    root = tmp_path_factory.mktemp("corpus")
    cases = build_corpus(root)
    hashes = {name: tree_hash(p) if p.exists() else None for name, p in cases.items()}
    env = subprocess_env()

    def run(name_cmd):
        name, cmd = name_cmd
        return name_cmd, subprocess.run([BRAXSCOPE, cmd, str(cases[name])], capture_output=True, text=True, env=env,
                                        timeout=120)

    with ThreadPoolExecutor(4) as pool:
        results = dict(pool.map(run, [(n, c) for n in CASES for c in ("verify", "info")]))
    wid = next(p for p in (root / "base.zarr" / "writers").iterdir() if p.is_dir()).name
    return cases, hashes, results, wid


def _fmt(lines, p, wid, chunk_sizes):
    return [line.format(p=p, w=f"writers/{wid}", wid=wid, n=chunk_sizes) for line in lines]


def _crc_size(line: str) -> str:
    return line.split("checksum mismatch (")[1].split(" bytes")[0] if "checksum mismatch (" in line else "?"


@pytest.mark.parametrize("case", CASES)
def test_verify_prints_what_and_where_and_exits_0_1_or_2(corpus, case):
    cases, _, results, wid = corpus
    rc, lines, _, _ = EXPECT[case]
    res = results[(case, "verify")]
    assert "Traceback" not in res.stderr + res.stdout
    assert res.returncode == rc, res.stdout + res.stderr
    if rc == 2:
        assert res.stdout == "" and res.stderr.splitlines() == _fmt(lines, cases[case], wid, "?")
    else:
        problems = [line for line in res.stdout.splitlines() if line.startswith("DAMAGED:")]
        assert problems == _fmt(lines, cases[case], wid, _crc_size(problems[0]) if problems else "?")
        summary = res.stdout.splitlines()[-1]
        assert summary.startswith("ok: " if rc == 0 else "DAMAGED (1 problem): ")


@pytest.mark.parametrize("case", CASES)
def test_info_exits_2_for_unusable_input_and_names_confined_damage(corpus, case):
    cases, _, results, wid = corpus
    _, _, rc, lines = EXPECT[case]
    res = results[(case, "info")]
    assert "Traceback" not in res.stderr + res.stdout
    assert res.returncode == rc, res.stdout + res.stderr
    if rc == 2:
        assert res.stdout == "" and res.stderr.splitlines() == _fmt(lines, cases[case], wid, "?")
    else:
        assert res.stderr == ""
        assert [line for line in res.stdout.splitlines()
                if line.startswith("damaged:")] == _fmt(lines, cases[case], wid, "?")
        assert "episodes " in res.stdout and "toy (backend generalized)" in res.stdout


@pytest.mark.parametrize("case", sorted(READER_ERROR))
def test_open_store_raises_the_case_s_own_exception_type(corpus, case):
    cases, _, results, _ = corpus
    with pytest.raises(READER_ERROR[case]) as e:
        open_store(cases[case])
    assert f"{E}{e.value}" == results[(case, "info")].stderr.strip()


def test_stale_lock_and_temp_files_are_info_not_damage(corpus):
    cases, _, results, wid = corpus
    res = results[("stale_lock", "verify")]
    lines = res.stdout.splitlines()
    assert res.returncode == 0 and lines[-1].startswith("ok: ")
    assert re.fullmatch(rf"info: writers/{wid}/writer\.lock: stale writer lock "
                        rf"\(pid \d+ on \S+, last heartbeat \d+ s ago\): "
                        "the next resume takes it over", lines[0]), lines[0]
    assert lines[1] == (f"info: writers/{wid}/train/qpos/c.0.0.0.0123abcd.partial: "
                        "1 orphaned temp file(s) from a killed writer; "
                        "the next resume removes them")


def test_a_committed_row_that_reads_as_unwritten_is_never_returned(corpus):
    r = open_store(corpus[0]["sentinel_hole"])
    ep = next(ep for ep in r.episodes() if ep.source == "train" and ep.start <= 5 < ep.start + ep.length)
    with pytest.raises(CorruptStoreError, match="read as unwritten"):  # a closed writer's: damage
        r.frames(ep)
    assert len(r.frames(ep, 6 - ep.start)) == ep.length - (6 - ep.start)  # rows after it read fine


def test_damaged_chunk_is_named_when_its_episode_is_read(corpus):
    cases, _, _, wid = corpus
    r = open_store(cases["truncated_chunk"])
    ok = [ep for ep in r.episodes() if ep.source == "train" and ep.start + ep.length <= 256]
    assert ok and len(r.frames(ok[0])) == ok[0].length  # the rest still reads
    bad = next(ep for ep in r.episodes() if ep.source == "train" and ep.start <= 300 < ep.start + ep.length)
    with pytest.raises(CorruptStoreError, match=rf"^writers/{wid}/train/qpos chunk 1 \(rows 256-511\) "
                                                r"cannot be decoded \(checksum mismatch"):
        r.frames(bad)


def test_reader_verify_and_info_never_modify_the_store(corpus):
    cases, hashes, _, _ = corpus
    for name, p in cases.items():
        if p.exists():
            try:
                r = open_store(p)
                r.refresh()
                for ep in r.episodes()[:5]:
                    r.frames(ep)
                r.metrics()
                r.model()
            except Exception:
                pass
        assert (tree_hash(p) if p.exists() else None) == hashes[name], name


def test_info_shows_the_healthy_writer_and_names_the_damaged_one(tmp_path):
    from braxscope.schema import StoreWriter

    from .conftest import toy_model, train_block

    path = tmp_path / "two.zarr"
    model = toy_model()
    ids = []
    for proc in (0, 1):
        w = StoreWriter.create(path, model, env_name="toy", dt=0.01, train_slots=1, process_index=proc)
        w.append_train(**train_block(model, 0, 100, 1, done_every=50))
        w.close()
        ids.append(w.writer_id)
    (path / "writers" / ids[1] / "zarr.json").write_text("{")
    before = tree_hash(path)
    res = subprocess.run([BRAXSCOPE, "info", str(path)], capture_output=True, text=True, env=subprocess_env(),
                         timeout=120)
    assert res.returncode == 0 and res.stderr == ""
    assert f"0  {ids[0]}" in res.stdout and "episodes 2: 2 train" in res.stdout
    assert res.stdout.splitlines()[-1] == (f"damaged: {path}/writers/{ids[1]}/zarr.json is not valid JSON "
                                           f"(JSONDecodeError at byte 1): "
                                           f"the store's writer {ids[1]} metadata is damaged")
    assert tree_hash(path) == before


def test_a_missing_chunk_of_a_closed_writer_is_damage_named_at_once(corpus, tmp_path, monkeypatch):
    import shutil
    import time
    import types

    from braxscope.schema import reader as reader_module

    cases, _, _, wid = corpus
    path = tmp_path / "missing_chunk.zarr"
    shutil.copytree(cases["healthy"], path)
    (path / "writers" / wid / "train" / "qpos" / "c.1.0.0").unlink()
    r = open_store(path)
    bad = next(ep for ep in r.episodes() if ep.source == "train" and ep.start <= 300 < ep.start + ep.length)
    # No wait for a lagging filesystem (the retry while a writer is live): the writer is closed,
    # so the reader must not sleep once before it says so. Its clock only, not the process's.
    sleeps = []
    monkeypatch.setattr(reader_module, "time", types.SimpleNamespace(monotonic=time.monotonic, time=time.time,
                                                                     sleep=sleeps.append))
    with pytest.raises(CorruptStoreError, match=r"\(chunk 1 is missing in train/qpos\), and their writer is closed"):
        r.frames(bad)  # never NaN rows passed off as data
    assert sleeps == []
    monkeypatch.undo()
    res = subprocess.run([BRAXSCOPE, "verify", str(path)], capture_output=True, text=True, env=subprocess_env(),
                         timeout=120)
    assert res.returncode == 1
    assert res.stdout.splitlines()[0] == (f"DAMAGED: writers/{wid}/train/qpos: chunk 1 (rows 256-511) is missing: "
                                          "committed rows read as fill values")
