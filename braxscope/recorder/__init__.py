"""Getting data out of brax training: the tap wrapper, policy snapshots, metrics, the background
writer, control polling, and ``braxscope train``. Imports jax and brax; never dearpygui or the
replay app."""

from .recorder import HookCompositionError, Recorder, RecorderStateError, RecordingFailedError
from .sink import RecorderStats

__all__ = ["Recorder", "RecorderStats", "HookCompositionError", "RecorderStateError", "RecordingFailedError"]
