"""The control file: the viewer's requests to a live recorder (pause/resume, which envs).

The only thing a viewer ever writes to a store, and only when the user asks.
"""

from __future__ import annotations

import time
from pathlib import Path

from . import _atomic, layout


def read_control(store_path: str | Path) -> dict:
    """``{"recording": bool, "track": list[int] | None, "updated": float}``; defaults when absent or unreadable."""
    path = Path(store_path) / layout.CONTROL_FILE
    try:
        doc = _atomic.read_json(path)
    except (OSError, ValueError):
        return {"recording": True, "track": None, "updated": 0.0}
    return {
        "recording": bool(doc.get("recording", True)),
        "track": [int(i) for i in doc["track"]] if isinstance(doc.get("track"), list) else None,
        "updated": float(doc.get("updated", 0.0)),
    }


def write_control(store_path: str | Path, *, recording: bool | None = None, track: list[int] | None = None) -> dict:
    """Change the request; keeps fields not given. Atomic (a recorder never reads half a file)."""
    doc = read_control(store_path)
    if recording is not None:
        doc["recording"] = bool(recording)
    if track is not None:
        doc["track"] = [int(i) for i in track]
    doc["updated"] = time.time()
    _atomic.write_json_atomic(Path(store_path) / layout.CONTROL_FILE, doc)
    return doc


def control_mtime(store_path: str | Path) -> float:
    """Cheap change detection for the recorder's poll (one stat)."""
    try:
        return (Path(store_path) / layout.CONTROL_FILE).stat().st_mtime
    except OSError:
        return 0.0


__all__ = ["read_control", "write_control", "control_mtime"]
