"""Per-env models of a domain-randomized run: how the store holds them and how they are applied.

A ``randomization_fn`` gives each training env its own model. The recorder stores, per tracked
env, the model fields the randomization changed (``writers/<id>/randomization/``: one array per
field, rows by ``env_id``; see SCHEMA.md). Applying them to a copy of the nominal model gives the
model that env stepped with, as far as MuJoCo's ``MjModel`` has the field: a field that only the
MJX/Warp model has (``_impl.*``) cannot be drawn and is named in :attr:`EnvModel.note`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import mujoco
import numpy as np


@dataclass(frozen=True)
class EnvModel:
    """The model to draw an episode with. ``own``: it is the env's own model (its randomized
    one, or the nominal one of a run without randomization); otherwise ``note`` says plainly what
    is shown instead (the nominal model, or the nominal value of some fields)."""

    model: mujoco.MjModel
    own: bool
    note: str = ""


def array_name(field: str) -> str:
    """The store array of a model field path (``opt.gravity`` -> ``opt__gravity``)."""
    return field.replace(".", "__")


def _target(model: mujoco.MjModel, field: str):
    """(owner object, attribute) of a field path on an MjModel, or None when MjModel lacks it."""
    parts = field.split(".")
    obj = model
    for p in parts[:-1]:
        if p.startswith("_") or not hasattr(obj, p):
            return None
        obj = getattr(obj, p)
    if parts[-1].startswith("_") or not hasattr(obj, parts[-1]):
        return None
    return obj, parts[-1]


def applies(model: mujoco.MjModel, field: str, shape: tuple[int, ...]) -> bool:
    """True when ``field`` is an MjModel field of this ``shape`` (one env's value)."""
    t = _target(model, field)
    if t is None:
        return False
    current = np.asarray(getattr(*t))
    return current.shape == tuple(shape) or current.size == int(np.prod(shape))


def apply(model: mujoco.MjModel, values: dict[str, np.ndarray]) -> tuple[mujoco.MjModel, list[str]]:
    """A copy of ``model`` with ``values`` (field path -> one env's value) set, and the fields
    that could not be set (not MjModel fields, or of another shape)."""
    out = copy.copy(model)  # MjModel's copy is a deep copy of its buffers
    skipped = []
    for field, value in values.items():
        t = _target(out, field)
        if t is None or not applies(out, field, np.shape(value)):
            skipped.append(field)
            continue
        owner, attr = t
        current = getattr(owner, attr)
        if isinstance(current, np.ndarray):
            current[...] = np.asarray(value, current.dtype).reshape(current.shape)
        else:
            setattr(owner, attr, type(current)(np.asarray(value).reshape(())))
    return out, skipped


def nominal_note(env_id: int) -> str:
    return (f"env {env_id} trained with a randomized model that was not recorded "
            "(it was not tracked when recording began): showing the nominal model")


__all__ = ["EnvModel", "array_name", "applies", "apply", "nominal_note"]
