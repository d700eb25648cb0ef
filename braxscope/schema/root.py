"""The entry checks of a store: is it there, is it a braxscope store, can this version read it.

One home for them, so ``open_store`` and ``verify`` say the same thing about the same input, and
one JSON loader for every metadata document a reader reads.
"""

from __future__ import annotations

import json

from . import layout
from .errors import CorruptStoreError, NewerSchemaError, NotAStoreError, StoreNotFoundError
from .storage import LocalStorage, Storage

# Root attributes a reader cannot work without.
REQUIRED = ("nq", "nv", "nu", "dt", "env_name")


def parse_json(raw: bytes | None, where: str, what: str) -> dict:
    """A metadata document (a JSON object), or :class:`CorruptStoreError` naming ``where``."""
    if raw is None:
        raise CorruptStoreError(f"{where} is missing: the store's {what} metadata is gone (restore it from a backup)")
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise CorruptStoreError(f"{where} is not valid JSON "
                                f"({e.__class__.__name__} at byte {getattr(e, 'pos', getattr(e, 'start', '?'))}): "
                                f"the store's {what} metadata is damaged") from None
    if not isinstance(doc, dict):
        raise CorruptStoreError(f"{where} is not a JSON object: the store's {what} metadata is damaged")
    return doc


def load_json(storage: Storage, key: str, what: str) -> dict:
    return parse_json(storage.get(key), storage.describe(key), what)


def check_location(storage: Storage) -> None:
    """The store's root exists and holds a root ``zarr.json``; else the matching error: not there
    (:class:`StoreNotFoundError`), something else (:class:`NotAStoreError`), or our parts without
    their root metadata (:class:`CorruptStoreError`)."""
    where = storage.url
    if isinstance(storage, LocalStorage):
        p = storage.root
        if not p.exists():
            raise StoreNotFoundError(f"{p} does not exist: check the path (a store is a directory like runs/demo.zarr)")
        if not p.is_dir():
            raise NotAStoreError(f"{p} is a file, not a braxscope store (a store is a directory like runs/demo.zarr)")
    if storage.exists("zarr.json"):
        return
    parts = storage.list_dir("")
    if layout.WRITERS_GROUP in parts or layout.MODEL_ARRAY in parts:
        raise CorruptStoreError(f"{storage.describe('zarr.json')} is missing: the store's root metadata is gone "
                                "(restore it from a backup)")
    if storage.remote and storage.is_empty():
        raise StoreNotFoundError(f"{where} does not exist: check the bucket and path")
    raise NotAStoreError(f"{where} is not a braxscope store (no zarr.json): point at the directory a recorder wrote")


def root_attrs(doc: dict, where: str) -> dict:
    """The run metadata in a root ``zarr.json`` document, checked: a Zarr v3 group with our
    attributes (:class:`NotAStoreError`), a schema this version reads (:class:`NewerSchemaError`),
    and the keys a reader needs (:class:`CorruptStoreError`)."""
    if doc.get("zarr_format") != 3 or doc.get("node_type") != "group":
        raise NotAStoreError(f"{where} is not a Zarr v3 group: not a braxscope store")
    attrs = doc.get("attributes", {}).get(layout.ROOT_ATTR) if isinstance(doc.get("attributes"), dict) else None
    if not isinstance(attrs, dict):
        raise NotAStoreError(f"{where} is a Zarr store but not a braxscope store (no '{layout.ROOT_ATTR}' attributes)")
    version = attrs.get("schema_version")
    if not isinstance(version, int):
        raise CorruptStoreError(f"{where}/zarr.json has no valid schema_version: the root metadata is damaged")
    if version > layout.SCHEMA_VERSION:
        raise NewerSchemaError(
            f"{where} has schema version {version}; this braxscope reads up to {layout.SCHEMA_VERSION}: "
            "upgrade braxscope (pip install -U braxscope)"
        )
    for key in REQUIRED:
        if key not in attrs:
            raise CorruptStoreError(f"{where}/zarr.json lacks '{key}': the root metadata is damaged")
    return attrs


def read_root(storage: Storage) -> dict:
    """Every entry check, then the run metadata (root attributes)."""
    check_location(storage)
    return root_attrs(load_json(storage, "zarr.json", "root"), storage.url)


__all__ = ["read_root", "check_location", "root_attrs", "load_json", "parse_json", "REQUIRED"]
