"""ppo_hooks composes with the user's own hooks (no training needed: the chain is inspected)."""

from __future__ import annotations

import pytest
from brax import envs
from brax.envs.wrappers import training as brax_training

import braxscope
from braxscope.recorder import HookCompositionError, RecorderStateError


def _layers(env):
    out = []
    while hasattr(env, "env"):
        out.append(type(env).__name__)
        env = env.env
    return out


@pytest.fixture(scope="module")
def env():
    return envs.get_environment("inverted_pendulum")


def test_default_chain_puts_the_tap_inside_autoreset_and_leaves_eval_env_alone(env, tmp_path):
    rec = braxscope.Recorder(tmp_path / "a.zarr", env)
    hooks = rec.ppo_hooks()
    assert set(hooks) == {"wrap_env_fn", "policy_params_fn", "progress_fn"}
    train = hooks["wrap_env_fn"](env, episode_length=10, action_repeat=1, randomization_fn=None)
    evalenv = hooks["wrap_env_fn"](env, episode_length=10, action_repeat=1, randomization_fn=None)
    assert _layers(train) == ["AutoResetWrapper", "TapWrapper", "EpisodeWrapper", "VmapWrapper"]
    assert "TapWrapper" not in _layers(evalenv)
    with pytest.raises(RecorderStateError):
        hooks["wrap_env_fn"](env, episode_length=10, action_repeat=1, randomization_fn=None)
    rec.close()


def test_user_wrap_env_fn_still_applies_with_the_tap_inserted(env, tmp_path):
    seen = []

    class Marker(brax_training.Wrapper):
        pass

    def user_wrap(env, episode_length, action_repeat, randomization_fn):
        seen.append(episode_length)
        return Marker(brax_training.wrap(env, episode_length, action_repeat, randomization_fn))

    rec = braxscope.Recorder(tmp_path / "b.zarr", env)
    hooks = rec.ppo_hooks(wrap_env_fn=user_wrap)
    train = hooks["wrap_env_fn"](env, episode_length=10, action_repeat=1, randomization_fn=None)
    evalenv = hooks["wrap_env_fn"](env, episode_length=10, action_repeat=1, randomization_fn=None)
    assert seen == [10, 10]
    assert _layers(train) == ["Marker", "AutoResetWrapper", "TapWrapper", "EpisodeWrapper", "VmapWrapper"]
    assert _layers(evalenv) == ["Marker", "AutoResetWrapper", "EpisodeWrapper", "VmapWrapper"]
    rec.close()


def test_user_chain_without_autoreset_is_refused_with_a_clear_error(env, tmp_path):
    hooks = braxscope.Recorder(tmp_path / "c.zarr", env).ppo_hooks(
        wrap_env_fn=lambda env, episode_length, action_repeat, randomization_fn: brax_training.VmapWrapper(env))
    with pytest.raises(HookCompositionError, match="AutoResetWrapper"):
        hooks["wrap_env_fn"](env, episode_length=10, action_repeat=1, randomization_fn=None)


def test_randomization_fn_is_passed_on_and_uses_the_dr_vmap(env, tmp_path):
    def rand(sys, rng):
        return sys, None

    rec = braxscope.Recorder(tmp_path / "d.zarr", env)
    hooks = rec.ppo_hooks(randomization_fn=rand)
    assert hooks["randomization_fn"] is rand
    train = hooks["wrap_env_fn"](env, episode_length=10, action_repeat=1, randomization_fn=lambda sys: (sys, None))
    assert _layers(train)[-1] == "DomainRandomizationVmapWrapper" and _layers(train)[1] == "TapWrapper"
    rec.close()


def test_user_progress_and_params_hooks_run_first(env, tmp_path):
    calls = []
    rec = braxscope.Recorder(tmp_path / "e.zarr", env, snapshots=False)
    hooks = rec.ppo_hooks(progress_fn=lambda s, m: calls.append(("progress", s)),
                          policy_params_fn=lambda s, mp, p: calls.append(("params", s)))
    hooks["policy_params_fn"](0, None, None)
    hooks["progress_fn"](5, {"x": 1.0})
    assert calls == [("params", 0), ("progress", 5)]
    rec.close()
