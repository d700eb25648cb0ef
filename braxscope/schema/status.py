"""How the store's facts are said to a user: an episode's status word, a heartbeat's age.

One vocabulary for every view: ``braxscope info``, the replay app's browser and the notebook.
"""

from __future__ import annotations

import math

from .reader import EpisodeInfo

# An episode is one of these: ended at done (train) or the rollout's full length (snapshot);
# cut (it began after a gap, or recording stopped inside it); still being recorded; damaged
# (its rows cannot be read).
STATUSES = ("done", "cut", "recording", "damaged")


def episode_status(ep: EpisodeInfo, damaged: bool = False) -> str:
    """One of :data:`STATUSES`."""
    if damaged:
        return "damaged"
    if ep.in_progress:
        return "recording"
    return "done" if ep.complete else "cut"


def format_age(seconds: float) -> str:
    """A duration as a user reads it: "<1 s", "42 s", "7 min", "3.5 h"; "never" for inf/NaN."""
    if not math.isfinite(seconds):
        return "never"
    if seconds < 1:
        return "<1 s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


__all__ = ["STATUSES", "episode_status", "format_age"]
