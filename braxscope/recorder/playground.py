"""MuJoCo Playground support: telling its envs apart, its training chain, its registry and PPO settings.

Playground (``pip install 'braxscope[playground]'``, import name ``mujoco_playground``) is imported
only here and only when asked for: a brax run never loads it. Its envs keep the physics state in
``state.data`` (an ``mjx.Data``: ``qpos``, ``qvel``, ``mocap_pos``, ...) instead of brax's
``state.pipeline_state``, and its wrappers subclass Playground's own ``Wrapper``, not brax's; its
auto-reset wrapper (``BraxAutoResetWrapper``) swaps ``state.data`` and keeps a full copy of the
first data in ``state.info``, which the recorder never reads.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import subprocess
import sys

from ..schema.errors import BraxscopeError

INSTALL = "pip install 'braxscope[playground]'"


class PlaygroundMissingError(BraxscopeError):
    """A MuJoCo Playground env or name was given, but Playground is not installed."""


class MenagerieUnavailableError(BraxscopeError):
    """A Playground env needs MuJoCo Menagerie, which could not be fetched (no network)."""


def _module():
    try:
        return importlib.import_module("mujoco_playground")
    except ImportError:
        return None


def require(what: str = "this"):
    """The ``mujoco_playground`` module, or a one-line error saying what to install."""
    mod = _module()
    if mod is None:
        raise PlaygroundMissingError(f"{what} needs MuJoCo Playground, which is not installed: {INSTALL}")
    return mod


def is_playground_env(env) -> bool:
    """A Playground env (or one built like it: physics in ``state.data``, an ``mjx_model``, no
    brax ``sys``), wrapped or not. Never imports Playground."""
    inner = getattr(env, "unwrapped", env)
    if type(inner).__module__.split(".")[0] == "mujoco_playground":
        return True
    mjx_env = sys.modules.get("mujoco_playground._src.mjx_env")
    if mjx_env is not None and isinstance(inner, mjx_env.MjxEnv):
        return True
    return hasattr(inner, "mjx_model") and not hasattr(inner, "sys")


def impl_of(env) -> str:
    """The physics implementation an env steps with: 'jax' or 'warp' (MuJoCo Warp) for
    Playground and MJX, '' when the env does not say."""
    inner = getattr(env, "unwrapped", env)
    model = getattr(inner, "mjx_model", None)
    impl = getattr(model, "impl", None)
    return str(getattr(impl, "value", impl or "")).lower()


def training_chain(env, episode_length: int, action_repeat: int, randomization_fn=None):
    """Playground's own chain (``wrap_for_brax_training``), for the eval env."""
    wrapper = require("training a MuJoCo Playground env").wrapper
    return wrapper.wrap_for_brax_training(env, episode_length=episode_length, action_repeat=action_repeat,
                                          randomization_fn=randomization_fn)


def chain_wrappers():
    """(domain-randomization Vmap, auto-reset) wrapper classes of Playground's chain: its chain
    is brax's Vmap and Episode wrappers with these two of its own."""
    wrapper = require("training a MuJoCo Playground env").wrapper
    return wrapper.BraxDomainRandomizationVmapWrapper, wrapper.BraxAutoResetWrapper


def env_name_of(env) -> str | None:
    """The registry name of a Playground env when exactly one name builds its class, else None."""
    mod = _module()
    if mod is None:
        return None
    cls = type(getattr(env, "unwrapped", env))
    names = []
    for suite in (mod.dm_control_suite, mod.locomotion, mod.manipulation):
        for name, factory in getattr(suite, "_envs", {}).items():
            if getattr(factory, "func", factory) is cls:
                names.append(name)
    return names[0] if len(names) == 1 else None


# ------------------------------------------------------------------ braxscope train


def names() -> tuple[str, ...]:
    """Every Playground env name, or () when Playground is not installed."""
    mod = _module()
    return tuple(mod.registry.ALL_ENVS) if mod is not None else ()


def load(name: str, impl: str | None):
    """``registry.load(name)`` with ``impl`` ('jax' or 'warp'; None: Playground's default).
    Envs that fetch MuJoCo Menagerie (a git clone) at load time fail in one line without network."""
    mod = require(f"the MuJoCo Playground env {name!r}")
    overrides = {"impl": impl} if impl else None
    mjx_env = importlib.import_module("mujoco_playground._src.mjx_env")
    fetch = name not in mod.dm_control_suite.ALL_ENVS and not mjx_env.MENAGERIE_PATH.exists()
    if fetch:
        print(f"braxscope: {name} needs MuJoCo Menagerie: Playground fetches it now (a git clone, once)",
              file=sys.stderr, flush=True)
    noise = io.StringIO()
    try:
        # Playground's own clone prints a progress bar and its own error lines: keep them out of
        # the one-line message.
        with contextlib.redirect_stdout(noise) if fetch else contextlib.nullcontext(), \
                contextlib.redirect_stderr(noise) if fetch else contextlib.nullcontext():
            return mod.registry.load(name, config_overrides=overrides)
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        raise MenagerieUnavailableError(
            f"{name} needs MuJoCo Menagerie, which Playground fetches with git at first use, and that failed "
            f"({type(e).__name__}; no network?): run it once where github.com is reachable, or pick a "
            f"DM Control Suite env (CartpoleBalance, CheetahRun, FingerSpin, ...)"
        ) from None


def ppo_config(name: str, impl: str | None) -> dict:
    """Playground's own tuned Brax PPO settings for ``name`` (``mujoco_playground.config``), as
    ppo.train keyword arguments; ``network_factory`` stays a dict of network sizes."""
    mod = require(f"the MuJoCo Playground env {name!r}")
    for suite, params in (("dm_control_suite", "dm_control_suite_params"), ("locomotion", "locomotion_params"),
                          ("manipulation", "manipulation_params")):
        if name in getattr(mod, suite).ALL_ENVS:
            config = importlib.import_module(f"mujoco_playground.config.{params}")
            return config.brax_ppo_config(name, impl).to_dict()
    raise KeyError(name)


__all__ = ["require", "is_playground_env", "impl_of", "training_chain", "chain_wrappers", "env_name_of", "names",
           "load", "ppo_config", "PlaygroundMissingError", "MenagerieUnavailableError", "INSTALL"]
