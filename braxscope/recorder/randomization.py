"""Domain randomization: which model fields a ``randomization_fn`` changed, for the tracked envs.

ppo.train hands the wrapper chain a ``randomization_fn(model) -> (model_v, in_axes)`` (its own
rng already bound): ``model_v`` holds every env's model of a device's batch, stacked on axis 0 in
the fields ``in_axes`` marks with 0. The recorder calls it once more on the nominal model (the
same rng, so the same models the training envs step with) and keeps, for each tracked env, the
value of every batched field that differs from the nominal one in some tracked env. Those go
into the store (arrays, no pickle), so the viewer can draw each env with its own model.
"""

from __future__ import annotations

import logging

import jax
import numpy as np

from .playground import is_playground_env

log = logging.getLogger("braxscope")


def nominal_model(env):
    """What a ``randomization_fn`` randomizes: a Playground env's ``mjx_model``, a brax env's ``sys``."""
    inner = getattr(env, "unwrapped", env)
    return inner.mjx_model if is_playground_env(env) else inner.sys


def _leaves(tree) -> list[tuple[str, object]]:
    # None leaves kept, so a model and its in_axes (None where not batched) flatten alike.
    flat, _ = jax.tree_util.tree_flatten_with_path(tree, is_leaf=lambda x: x is None)
    return [(jax.tree_util.keystr(path).lstrip(".").replace("['", ".").replace("']", ""), leaf)
            for path, leaf in flat]


def changed_fields(randomization_fn, nominal, local_envs: list[int]) -> tuple[int, dict[str, np.ndarray]]:
    """(envs per device B, {field path: values [len(local_envs), *shape]}) of the fields that
    differ from ``nominal`` for some env of ``local_envs`` (indices into the batch, clipped to
    B). Field paths are the model's attribute paths (``geom_size``, ``opt.gravity``)."""
    model_v, in_axes = randomization_fn(nominal)
    axes = dict(_leaves(in_axes))
    base = dict(_leaves(nominal))
    batch, out = 0, {}
    for name, value in _leaves(model_v):
        if axes.get(name) is None or value is None or name not in base:
            continue
        if axes[name] != 0:
            log.warning("braxscope: randomized field %s is batched on axis %s, not 0; not recorded", name, axes[name])
            continue
        v = np.asarray(jax.device_get(value))
        batch = batch or int(v.shape[0])
        rows = v[np.clip(np.asarray(local_envs, np.int64), 0, v.shape[0] - 1)]
        nom = np.asarray(jax.device_get(base[name]))
        if rows.shape[1:] != nom.shape or not np.array_equal(rows, np.broadcast_to(nom, rows.shape), equal_nan=True):
            out[name] = rows
    return batch, out


__all__ = ["changed_fields", "nominal_model"]
