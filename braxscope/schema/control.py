"""The control file: the viewer's requests to a live recorder (pause/resume, which envs).

The only thing a viewer ever writes to a store, and only when the user asks. It is input from
another machine (or a user's editor): the recorder checks every field and ignores a file that does
not hold the documented document, rather than let one bad value stop recording.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from . import _atomic, layout
from .errors import BraxscopeError

DEFAULT = {"recording": True, "track": None, "updated": 0.0}


class ControlFileError(BraxscopeError):
    """control.json exists but is not ``{"recording": bool, "track": [int >= 0] | null, "updated": number}``."""


def parse_control(raw: bytes) -> dict:
    """The request in ``raw`` (control.json's bytes), checked field by field. Raises
    :class:`ControlFileError` naming the first field that is wrong; fields left out take defaults."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ControlFileError(f"{layout.CONTROL_FILE} is not valid JSON ({len(raw)} bytes)") from None
    if not isinstance(doc, dict):
        raise ControlFileError(f"{layout.CONTROL_FILE} holds a JSON {type(doc).__name__}, not an object")
    recording = doc.get("recording", True)
    if not isinstance(recording, bool):
        raise ControlFileError(f"{layout.CONTROL_FILE}: 'recording' is {recording!r}, not true or false")
    track = doc.get("track")
    # bool is an int in Python; [true] is not a list of env indices.
    if track is not None and not (isinstance(track, list)
                                  and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in track)):
        raise ControlFileError(f"{layout.CONTROL_FILE}: 'track' is {track!r}, not null or a list of env indices >= 0")
    updated = doc.get("updated", 0.0)
    if isinstance(updated, bool) or not isinstance(updated, (int, float)) or not math.isfinite(updated):
        raise ControlFileError(f"{layout.CONTROL_FILE}: 'updated' is {updated!r}, not a time in seconds")
    return {"recording": recording, "track": track, "updated": float(updated)}


def read_control(store_path: str | Path, *, strict: bool = False) -> dict:
    """``{"recording": bool, "track": list[int] | None, "updated": float}``. Absent or unreadable:
    the defaults. Malformed: the defaults, or :class:`ControlFileError` when ``strict``."""
    path = Path(store_path) / layout.CONTROL_FILE
    try:
        raw = path.read_bytes()
    except OSError:
        return dict(DEFAULT)
    try:
        return parse_control(raw)
    except ControlFileError:
        if strict:
            raise
        return dict(DEFAULT)


def write_control(store_path: str | Path, *, recording: bool | None = None, track: list[int] | None = None) -> dict:
    """Change the request; keeps fields not given (a malformed file is replaced whole). Atomic (a
    recorder never reads half a file)."""
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


__all__ = ["read_control", "write_control", "control_mtime", "parse_control", "ControlFileError"]
