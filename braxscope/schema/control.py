"""The control file: the viewer's requests to a live recorder (pause/resume, which envs).

The only thing a viewer ever writes to a store, and only when the user asks. It is input from
another machine (or a user's editor): the recorder checks every field and ignores a file that does
not hold the documented document, rather than let one bad value stop recording.
"""

from __future__ import annotations

import json
import math
import time

from . import layout
from .errors import BraxscopeError
from .storage import open_storage

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


def read_control_bytes(location) -> bytes | None:
    """control.json's bytes (None when absent or unreadable): one small read, for change detection."""
    try:
        return open_storage(location, read_only=True).get(layout.CONTROL_FILE)
    except (OSError, BraxscopeError):
        return None


def read_control(location, *, strict: bool = False) -> dict:
    """``{"recording": bool, "track": list[int] | None, "updated": float}`` from the store at
    ``location`` (a path, a URL or a Storage). Absent or unreadable: the defaults. Malformed: the
    defaults, or :class:`ControlFileError` when ``strict``."""
    raw = read_control_bytes(location)
    if raw is None:
        return dict(DEFAULT)
    try:
        return parse_control(raw)
    except ControlFileError:
        if strict:
            raise
        return dict(DEFAULT)


def write_control(location, *, recording: bool | None = None, track: list[int] | None = None) -> dict:
    """Change the request; keeps fields not given (a malformed file is replaced whole). Replaced
    whole (a rename, or one PUT), so a recorder never reads half a file."""
    doc = read_control(location)
    if recording is not None:
        doc["recording"] = bool(recording)
    if track is not None:
        doc["track"] = [int(i) for i in track]
    doc["updated"] = time.time()
    open_storage(location, read_only=False).writable().put(layout.CONTROL_FILE, json.dumps(doc, indent=1).encode())
    return doc


__all__ = ["read_control", "read_control_bytes", "write_control", "parse_control", "ControlFileError"]
