"""The errors of export and import (each a one-line message; the CLI prints it and exits 2)."""

from __future__ import annotations

from ..errors import BraxscopeError


class Hdf5Error(BraxscopeError):
    """Base of the HDF5 and Minari export/import errors."""


class NotHdf5Error(Hdf5Error):
    """The input file is not HDF5."""


class Hdf5LayoutError(Hdf5Error):
    """The file is HDF5 but not in a layout braxscope can import, or its shapes disagree."""


class Hdf5ModelError(Hdf5Error):
    """The file holds no MuJoCo model, or one that does not load."""


class DamagedHdf5Error(Hdf5Error):
    """The file is HDF5 but some of it cannot be read (truncated or corrupted)."""


class OutputExistsError(Hdf5Error):
    """The output path (or Minari dataset id) exists already."""


class NoEpisodesError(Hdf5Error):
    """Nothing to export or import."""


class MinariError(Hdf5Error):
    """Minari is not installed, or a dataset id or directory that Minari cannot use."""


__all__ = ["Hdf5Error", "NotHdf5Error", "Hdf5LayoutError", "Hdf5ModelError", "DamagedHdf5Error",
           "OutputExistsError", "NoEpisodesError", "MinariError"]
