"""Creating a store: the run metadata, the root group with the model, the writers group; and
whether a store accepts a writer of a given run.

A store holds one run: its root attributes (env, model sizes and hash, PPO config, versions) and
the MuJoCo model are written once, by whichever writer creates the store; every later writer
(another process of a sweep or of a multi-host run) only adds its own writer group, and is
refused before it writes when its model or env differs (:class:`RunMismatchError`).
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import uuid
from typing import Mapping

import mujoco
import numpy as np
import zarr
from zarr.core.buffer import default_buffer_prototype
from zarr.core.group import GroupMetadata

from . import layout
from .errors import NotAStoreError, ShapeMismatchError
from .model_blob import model_names, model_to_bytes, sha256
from .storage import Storage


def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def software_versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version(), "mujoco": mujoco.__version__, "zarr": zarr.__version__}
    for pkg in ("braxscope", "brax", "jax", "numpy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def json_safe(obj):
    """Best-effort JSON form of a config value (callables and objects become their repr)."""
    if isinstance(obj, (str, bool, int, type(None))):
        return obj
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else repr(obj)
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return json_safe(obj.item())
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return repr(obj)


# What makes two recordings one run: a writer whose values differ is refused before it writes.
_RUN_KEYS = ("env_name", "backend", "nq", "nv", "nu", "model_sha256")


class RunMismatchError(ShapeMismatchError):
    """The store holds a run of another model or env than this writer's."""


def check_store_accepts(storage: Storage, attrs: Mapping) -> None:
    """Raise :class:`RunMismatchError` when the store at ``storage`` already holds a run whose model
    or env differs from ``attrs`` (root attributes). A store that does not exist yet accepts any."""
    raw = storage.get("zarr.json")
    if raw is None:
        return
    try:
        existing = json.loads(raw)["attributes"][layout.ROOT_ATTR]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return  # not a readable braxscope root: open_store names the problem
    for key in _RUN_KEYS:
        if key in existing and key in attrs and existing[key] != attrs[key]:
            what = "model" if key in ("nq", "nv", "nu", "model_sha256") else key.replace("_", " ")
            theirs, ours = existing[key], attrs[key]
            if key == "model_sha256":
                theirs, ours = f"sha256 {str(theirs)[:12]}", f"sha256 {str(ours)[:12]}"
            raise RunMismatchError(
                f"{storage.url} holds a run of env {existing.get('env_name')!r} whose {what} differs from this "
                f"recorder's ({key}: {theirs} there, {ours} here): record into a new store path"
            )


def run_attrs(model: mujoco.MjModel, *, env_name: str, backend: str = "", dt: float, config: Mapping | None = None,
              run_id: str | None = None, blob: np.ndarray | None = None, suite: str = "brax", impl: str = "") -> dict:
    """The root attributes (run metadata) a new store of this model and env gets."""
    blob = model_to_bytes(model) if blob is None else blob
    return {
        "schema_version": layout.SCHEMA_VERSION,
        "run_id": run_id or uuid.uuid4().hex[:12],
        "env_name": env_name,
        "backend": backend,
        "suite": suite,
        "impl": impl,
        "dt": float(dt),
        **model_names(model),
        "model_sha256": sha256(blob),
        "mujoco_version": mujoco.__version__,
        "config": json_safe(dict(config or {})),
        "versions": software_versions(),
        "created": _now_iso(),
    }


def group_json(attributes: dict) -> bytes:
    """A Zarr v3 group's zarr.json, exactly as Zarr writes it."""
    return GroupMetadata(attributes=attributes, zarr_format=3).to_buffer_dict(
        default_buffer_prototype())["zarr.json"].to_bytes()


def ensure_writers_group(storage: Storage) -> None:
    # Several new writers may make it at once: an exclusive create, where losing is fine (the same
    # bytes). zarr's open_group(mode="a") checks, then creates, and fails when another won between.
    if storage.get(f"{layout.WRITERS_GROUP}/zarr.json") is None:
        storage.create(f"{layout.WRITERS_GROUP}/zarr.json", group_json({}))


def create_store(storage: Storage, root_attrs: dict, blob: np.ndarray) -> dict:
    """Make ``storage`` a store of the run ``root_attrs`` (model ``blob``, MJB bytes) unless it is
    one already, and return the store's run metadata: its own when it existed (validated, read
    only), else ``root_attrs``. Refuses a store of another run (:class:`RunMismatchError`) and a
    non-empty location that is no store (:class:`NotAStoreError`)."""
    check_store_accepts(storage, root_attrs)
    if storage.get("zarr.json") is None:
        if not storage.is_empty():
            raise NotAStoreError(f"{storage.url} exists and is not a braxscope store: choose an empty or new path")
        # The run metadata is written once: of several writers starting together, the one whose
        # exclusive create of the root zarr.json succeeds writes the model; the others check
        # theirs against it (below) and only add their own writer groups.
        if storage.create("zarr.json", group_json({layout.ROOT_ATTR: root_attrs})):
            root = zarr.open_group(store=storage.zarr_store, mode="r+")
            root.create_array(layout.MODEL_ARRAY, data=blob, chunks=(max(1, blob.size),),
                              compressors=layout.COMPRESSORS, chunk_key_encoding=layout.CHUNK_KEY_ENCODING,
                              dimension_names=layout.MODEL_DIMS)
            ensure_writers_group(storage)
        else:
            check_store_accepts(storage, root_attrs)
    from .reader import open_store  # validates the store (version, shapes) read-only

    return open_store(storage).info.attrs


__all__ = ["RunMismatchError", "check_store_accepts", "create_store", "ensure_writers_group", "group_json",
           "json_safe", "run_attrs", "software_versions"]
