"""Atomic outputs: a file appears under its name whole, or not at all.

The one home of "write under a temporary name, then rename" for everything braxscope writes on
a local or shared POSIX filesystem: the store's keys (:class:`~braxscope.schema.storage.LocalStorage`),
the compaction's publishing rename, and the exported files and directories (MP4/GIF, HDF5, a
Minari dataset, a PNG of the curve).

- The temporary name is unique and lies in the final name's directory: ``os.replace`` is atomic
  only within one filesystem, and a reader (or a crash) sees the old file or the new one, never
  a mix.
- An exported file is flushed to disk (``fsync``) before the rename, and the directory after it,
  so that after a power loss the name holds the whole new file or the old one, never an empty
  one. Store keys are not: a commit renames hundreds of chunks a second, and what a crash loses
  there is decided by the commit record, which is published after the data.
- An error or an interrupt (``KeyboardInterrupt`` too) removes the temporary file: nothing is
  left under the final name, nor beside it. Only a killed process (SIGKILL) leaves its temporary
  file behind: hidden (``.name.<hex>.partial.ext``) for an export, ``*.partial`` for a store key,
  which the next resume of that writer removes and ``braxscope verify`` reports.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

# A temporary file (ours, or zarr's LocalStore's) that a killed writer leaves in a store.
PARTIAL_SUFFIX = ".partial"


def key_temp_name(path: str) -> str:
    """A unique temporary name for a store key's file: ``<path>.<hex>.partial``, the form zarr's
    LocalStore uses too, so one glob finds the orphans of both."""
    return f"{path}.{uuid.uuid4().hex}{PARTIAL_SUFFIX}"


def output_temp_name(out: Path) -> Path:
    """A unique temporary name for an exported file: hidden, beside ``out``, and ending in
    ``out``'s own suffix (``.mp4``), since writers such as ffmpeg choose the format by it."""
    return out.with_name(f".{out.stem}.{uuid.uuid4().hex[:8]}{PARTIAL_SUFFIX}{out.suffix}")


def _write(path: str, data: bytes, sync: bool) -> None:
    try:
        f = open(path, "wb")
    except FileNotFoundError:  # the first key of a new array or group
        os.makedirs(os.path.dirname(path), exist_ok=True)
        f = open(path, "wb")
    with f:
        f.write(data)
        if sync:
            f.flush()
            os.fsync(f.fileno())


def _remove(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _sync_dir(path) -> None:
    """Flush a directory's entries (a rename in it) to disk; a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _sync_file(path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes(path: str | os.PathLike, data: bytes, *, replace: bool = True, sync: bool = False) -> None:
    """Replace the file ``path`` with ``data`` whole (missing directories are made). ``sync``:
    flushed to disk before the rename and the rename after it (a publishing rename that decides
    what a store holds, such as the compaction's). ``replace=False``: written in place, for a
    file no one reads before a later commit names it (a chunk past the committed rows)."""
    path = os.fspath(path)
    if not replace:
        _write(path, data, sync)
        return
    tmp = key_temp_name(path)
    try:
        _write(tmp, data, sync)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    if sync:
        _sync_dir(os.path.dirname(path) or ".")


def create_bytes(path: str | os.PathLike, data: bytes) -> bool:
    """Create the file ``path`` holding ``data`` only if it does not exist; True when this call
    made it (the writer lock, the run metadata of a store that several writers start at once).

    Written whole under a temporary name, then hard-linked to ``path``: the link fails if
    ``path`` exists (exclusive, also on NFS servers), and no reader ever sees the file half
    written (an O_EXCL create would show it empty until the write). zarr's LocalStore does the
    same for its exclusive writes."""
    path = os.fspath(path)
    tmp = key_temp_name(path)
    try:
        _write(tmp, data, False)
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        _remove(tmp)


@contextlib.contextmanager
def output_file(out: str | os.PathLike) -> Iterator[Path]:
    """Write an exported file: yields the temporary path to write; when the block ends without
    an error, that file is flushed and renamed to ``out`` (replacing an older ``out`` whole).
    On any error or interrupt it is removed and an older ``out`` is left as it was.

    >>> with output_file("ant.mp4") as tmp:   # doctest: +SKIP
    ...     encode_video(tmp)
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = output_temp_name(out)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"{tmp}: nothing was written for {out}")
        _sync_file(tmp)
        os.replace(tmp, out)
    finally:
        _remove(tmp)
    _sync_dir(out.parent)


@contextlib.contextmanager
def output_dir(out: str | os.PathLike, inner: str | os.PathLike = "") -> Iterator[Path]:
    """Write an exported directory: yields an empty temporary directory beside ``out``; when the
    block ends without an error, its files are flushed and ``<temp>/<inner>`` (the temporary
    directory itself when ``inner`` is empty: a tool that writes under a root of its own, like
    Minari, builds ``inner`` there) is renamed to ``out``, replacing an older ``out``. On any
    error or interrupt the temporary directory is removed and an older ``out`` stays."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=PARTIAL_SUFFIX, dir=out.parent))
    try:
        yield tmp
        built = tmp / inner
        if not built.is_dir():
            raise FileNotFoundError(f"{built}: nothing was written for {out}")
        for where, _, files in os.walk(built):
            for name in files:
                _sync_file(os.path.join(where, name))
            _sync_dir(where)
        old = None
        if out.exists():
            # A directory cannot be renamed over a non-empty one: the old one moves into the
            # temporary directory first (removed with it below), so ``out`` is old or new, whole.
            old = tmp / f".replaced{PARTIAL_SUFFIX}"
            os.replace(out, old)
        try:
            os.replace(built, out)
        except BaseException:
            if old is not None:
                os.replace(old, out)
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _sync_dir(out.parent)


__all__ = ["PARTIAL_SUFFIX", "write_bytes", "create_bytes", "output_file", "output_dir", "key_temp_name",
           "output_temp_name"]
