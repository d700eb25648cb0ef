"""Errors a user can cause. Each message is one line that says what is wrong and what to do.

The CLI prints ``str(error)`` without a traceback and exits 2 (``verify`` exits 1 for damage).
"""


class BraxscopeError(Exception):
    """Base of every error braxscope raises on purpose."""


class StoreNotFoundError(BraxscopeError):
    """The path does not exist."""


class NotAStoreError(BraxscopeError):
    """The path exists but is not a braxscope store (not Zarr, or Zarr without our attributes)."""


class NewerSchemaError(BraxscopeError):
    """The store was written by a newer braxscope whose layout this version cannot read."""


class CorruptStoreError(BraxscopeError):
    """Metadata, a chunk or the model blob cannot be decoded."""


class ShapeMismatchError(BraxscopeError):
    """Arrays disagree with the model's sizes (nq, nv, nu) or with each other."""


class ModelError(BraxscopeError):
    """The embedded MuJoCo model cannot be loaded."""


class EpisodeNotFoundError(BraxscopeError):
    """An episode id that the catalog does not hold."""


class WriterLockedError(BraxscopeError):
    """Another live process holds the writer lock of this writer group."""


class WriterFencedError(BraxscopeError):
    """This writer's lock was taken over by a newer writer; it must stop writing."""


class NotYetVisibleError(BraxscopeError):
    """Committed rows still read as fill values after retrying (a lagging filesystem)."""
