"""Building brax's training wrapper chain with the tap inside it.

``ppo.train(wrap_env_fn=...)`` replaces ``brax.envs.training.wrap`` entirely, so the recorder
builds the chain itself: Vmap (or DomainRandomizationVmap), Episode, tap, AutoReset; for a MuJoCo
Playground env, Playground's own chain (``wrap_for_brax_training``) with the tap just inside its
``BraxAutoResetWrapper``. A user's own ``wrap_env_fn`` is kept: its chain is built first and the
tap is inserted just inside its AutoReset wrapper (brax's or Playground's: both chains are
walked); a chain without one cannot show terminal frames and is refused.
"""

from __future__ import annotations

from typing import Callable

from brax.envs.base import Wrapper
from brax.envs.wrappers import training as brax_training

from ..schema.errors import BraxscopeError
from . import playground


class HookCompositionError(BraxscopeError):
    """A user hook cannot be combined with recording."""


def plain_chain(env, episode_length: int, action_repeat: int, randomization_fn=None) -> Wrapper:
    """brax's own chain (``envs.training.wrap``; Playground's for its envs), for the eval env."""
    if playground.is_playground_env(env):
        return playground.training_chain(env, episode_length, action_repeat, randomization_fn)
    return brax_training.wrap(env, episode_length=episode_length, action_repeat=action_repeat,
                              randomization_fn=randomization_fn)


def tapped_chain(env, episode_length: int, action_repeat: int, randomization_fn,
                 make_tap: Callable[[Wrapper], Wrapper]) -> Wrapper:
    """Vmap (or DR Vmap) -> Episode -> tap -> AutoReset; for a Playground env its own DR Vmap and
    auto-reset wrappers (as in its ``wrap_for_brax_training``)."""
    if playground.is_playground_env(env):
        dr_vmap, autoreset = playground.chain_wrappers()
    else:
        dr_vmap, autoreset = brax_training.DomainRandomizationVmapWrapper, brax_training.AutoResetWrapper
    if randomization_fn is None:
        inner = brax_training.VmapWrapper(env)
    else:
        inner = dr_vmap(env, randomization_fn)
    inner = brax_training.EpisodeWrapper(inner, episode_length, action_repeat)
    return autoreset(make_tap(inner))


def _is_autoreset(w) -> bool:
    # brax's AutoResetWrapper, or a look-alike such as MuJoCo Playground's BraxAutoResetWrapper.
    return isinstance(w, brax_training.AutoResetWrapper) or "AutoReset" in type(w).__name__


def _inner(w):
    # The env a wrapper wraps: brax's and Playground's wrappers both keep it in ``self.env``.
    # Read from the instance's own attributes: both forward unknown attributes to the inner env,
    # so ``getattr(env, "env")`` on an unwrapped env could find something that is no wrapper.
    return vars(w).get("env") if hasattr(w, "__dict__") else None


def insert_tap(chain, make_tap: Callable[[Wrapper], Wrapper]):
    """Put the tap just inside the outermost AutoReset wrapper of a user-built chain (in place)."""
    w = chain
    while w is not None:
        if _is_autoreset(w):
            w.env = make_tap(w.env)
            return chain
        w = _inner(w)
    raise HookCompositionError(
        "your wrap_env_fn returned an env without an AutoResetWrapper, so braxscope cannot see terminal "
        "frames: build the chain with brax.envs.training.wrap (or include AutoResetWrapper), or drop wrap_env_fn"
    )


__all__ = ["plain_chain", "tapped_chain", "insert_tap", "HookCompositionError"]
