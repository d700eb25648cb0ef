"""`braxscope train` argument handling (the training itself runs in `make demo` and the slow tests)."""

from __future__ import annotations

import argparse

import pytest

from braxscope import cli
from braxscope.recorder import cli_train


def _args(*argv):
    p = argparse.ArgumentParser()
    cli_train.add_arguments(p)
    return p.parse_args(list(argv))


def test_flags_override_per_env_defaults():
    cfg = cli_train.ppo_settings(_args("inverted_pendulum", "--store", "x", "--steps", "5000", "--num-envs", "64",
                                       "--seed", "3"))
    assert cfg["num_timesteps"] == 5000 and cfg["num_envs"] == 64 and cfg["seed"] == 3
    assert cfg["num_evals"] == 5 and cfg["backend"] == "generalized"  # inverted_pendulum defaults
    assert cli_train.ppo_settings(_args("ant", "--store", "x"))["backend"] == "spring"
    assert cli_train.ppo_settings(_args("ant", "--store", "x", "--backend", "mjx"))["backend"] == "mjx"


def test_user_errors_are_one_line_and_exit_2(tmp_path, capsys):
    assert cli.main(["train", "no_such_env", "--store", str(tmp_path / "a.zarr")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no brax env named 'no_such_env'" in err[0] and "inverted_pendulum" in err[0]
    assert cli.main(["train", "inverted_pendulum", "--store", str(tmp_path / "b.zarr"), "--num-envs", "100"]) == 2
    assert "multiple of --num-envs 100" in capsys.readouterr().err
    assert cli.main(["train", "inverted_pendulum", "--store", str(tmp_path / "c.zarr"), "--track", "a,b"]) == 2
    assert "--track" in capsys.readouterr().err
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "file.txt").write_text("x")
    assert cli.main(["train", "inverted_pendulum", "--store", str(tmp_path / "d")]) == 2
    assert "not a braxscope store" in capsys.readouterr().err


def test_a_playground_name_gets_playgrounds_own_ppo_settings_capped_on_a_cpu():
    pytest.importorskip("mujoco_playground")
    import jax

    args = _args("CartpoleBalance", "--store", "x", "--num-envs", "64")
    assert cli_train.suite_of(args) == "playground"
    cfg = cli_train.ppo_settings(args, "playground")
    # Playground's dm_control_suite_params for CartpoleBalance: discounting 0.995, unroll 30, 2048 envs.
    assert cfg["discounting"] == 0.995 and cfg["unroll_length"] == 30 and cfg["num_envs"] == 64
    if jax.default_backend() == "cpu":
        assert cfg["num_timesteps"] <= 1_000_000 and cfg["batch_size"] <= 256
        assert cli_train.playground_impl(args) == "jax"
    assert (cfg["batch_size"] * cfg["num_minibatches"]) % cfg["num_envs"] == 0
