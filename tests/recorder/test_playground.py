"""MuJoCo Playground runs recorded through brax's ppo.train (real training, real Playground envs).

Three short runs, shared by every test here (compiling PPO over MJX is the slow part):
- CartpoleBalance with Playground's own ``wrap_for_brax_training`` as the user's wrap_env_fn;
- CartpoleBalance without a wrap_env_fn (braxscope builds Playground's chain), with a
  ``randomization_fn`` that gives each env its own pole radius;
- ReacherEasy (a mocap target placed at every reset) with Playground's chain.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import subprocess
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

mujoco_playground = pytest.importorskip("mujoco_playground")

from braxscope.replay_app.renderer import Renderer  # noqa: E402
from braxscope.schema import open_store  # noqa: E402

pytestmark = pytest.mark.slow

EPISODE = 50
TRACK = [0, 2]
PPO = dict(num_timesteps=2000, num_envs=16, batch_size=16, num_minibatches=2, unroll_length=10, num_evals=3,
           episode_length=EPISODE, num_eval_envs=4, num_updates_per_batch=1, seed=0, run_evals=False)
FLUSHES = 8  # K = 10 x 16 x 2 / 16 = 20 steps; 2 epochs x 4 training steps x 20 steps per env / K
POLE_RADIUS = 0.045  # cartpole.xml's pole_1


def widen_pole(model, rng, *, gid):
    """Env i of a device's batch gets pole radius 0.045 x (2 + i): every env differs from the
    nominal model and from the others (a function of the index, so a test can say which)."""
    b = rng.shape[0]
    sizes = jnp.broadcast_to(model.geom_size, (b, *model.geom_size.shape))
    sizes = sizes.at[:, gid, 0].set(POLE_RADIUS * (2.0 + jnp.arange(b)))
    in_axes = jax.tree_util.tree_map(lambda x: None, model).tree_replace({"geom_size": 0})
    return model.tree_replace({"geom_size": sizes}), in_axes


class Run:
    pass


def _train(path, name, own_wrap: bool, randomization_fn=None):
    from brax.training.agents.ppo import train as ppo
    from mujoco_playground import registry, wrapper

    import braxscope

    run = Run()
    run.env = registry.load(name, config_overrides={"impl": "jax"})
    run.user_params = []
    run.path = path
    rec = braxscope.Recorder(path, run.env, track=TRACK)
    hooks = rec.ppo_hooks(policy_params_fn=lambda step, *_: run.user_params.append(step),
                          wrap_env_fn=wrapper.wrap_for_brax_training if own_wrap else None,
                          randomization_fn=randomization_fn)
    ppo.train(environment=run.env, **PPO, **hooks)
    run.stats = rec.stats
    rec.close()
    run.reader = open_store(path)
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("pg")
    env = mujoco_playground.registry.load("CartpoleBalance", config_overrides={"impl": "jax"})
    randomize = functools.partial(widen_pole, gid=env.mj_model.geom("pole_1").id)
    return {
        "cartpole_own": _train(d / "cartpole_own.zarr", "CartpoleBalance", True),
        "cartpole_dr": _train(d / "cartpole_dr.zarr", "CartpoleBalance", False, randomize),
        "reacher_own": _train(d / "reacher_own.zarr", "ReacherEasy", True),
    }


RUNS = ["cartpole_own", "cartpole_dr", "reacher_own"]


def _rows(reader):
    w = reader.writer_ids[0]
    return reader.train_rows(w, 0, reader.writers()[0].rows["train"])


@pytest.mark.parametrize("which", RUNS)
def test_stepping_the_envs_own_physics_from_a_recorded_state_gives_the_next_recorded_state(runs, which):
    """Row t+1 (qpos, qvel, reward) is what the Playground env's own step makes from row t's
    state (qpos, qvel and the mocap poses) and row t+1's action; rows lagged by one would not be."""
    run = runs[which]
    env = run.env
    rows = _rows(run.reader)
    q, qd, act, done, eid, rew = (rows[k] for k in ("qpos", "qvel", "action", "done", "env_id", "reward"))
    steps = rows["env_step"]
    contiguous = (steps[1:] - steps[:-1] == steps[1] - steps[0])[:, None]
    t_idx, s_idx = np.nonzero(contiguous & (done[:-1] == 0) & (eid[1:] == eid[:-1]) & (eid[:-1] >= 0))
    assert t_idx.size > 200
    start = jax.jit(env.reset)(jax.random.PRNGKey(0))
    nmocap = env.mj_model.nmocap
    mpos = rows["mocap_pos"] if nmocap else np.zeros((*done.shape, 0, 3), np.float32)
    mquat = rows["mocap_quat"] if nmocap else np.zeros((*done.shape, 0, 4), np.float32)
    if nmocap:  # the target moves between episodes: what is recorded is not just the model default
        assert np.ptp(mpos[..., 0], axis=(0, 1)).max() > 1e-3

    def step_from(qpos, qvel, mocap_pos, mocap_quat, action):
        data = start.data.replace(qpos=qpos, qvel=qvel, mocap_pos=mocap_pos, mocap_quat=mocap_quat)
        n = env.step(start.replace(data=data), action)
        return jnp.concatenate([n.data.qpos, n.data.qvel]), n.reward

    pred, pred_rew = jax.jit(jax.vmap(step_from))(q[t_idx, s_idx], qd[t_idx, s_idx], mpos[t_idx, s_idx],
                                                   mquat[t_idx, s_idx], act[t_idx + 1, s_idx])
    pred = np.asarray(pred)
    actual = np.concatenate([q[t_idx + 1, s_idx], qd[t_idx + 1, s_idx]], axis=1)
    err = np.abs(pred - actual).max(axis=1)
    assert np.percentile(err, 99) < 1e-3, err.max()
    np.testing.assert_allclose(np.asarray(pred_rew), rew[t_idx + 1, s_idx], atol=1e-4)
    t2 = np.minimum(t_idx + 2, q.shape[0] - 1)
    lagged = np.concatenate([q[t2, s_idx], qd[t2, s_idx]], axis=1)
    err2 = np.abs(pred - lagged).max(axis=1)
    assert np.median(err2) > 20 * np.median(err) and np.median(err2) > 1e-4


@pytest.mark.parametrize("which", RUNS)
def test_episodes_end_at_the_envs_done_and_returns_sum_their_rewards(runs, which):
    r = runs[which].reader
    train = [e for e in r.episodes() if e.source == "train"]
    complete = [e for e in train if e.complete]
    # Neither env terminates early: an episode ends at the episode length (truncation).
    assert len(complete) >= 2 * len(TRACK) and all(e.length == EPISODE for e in complete)
    for ep in train:
        f = r.frames(ep)
        assert len(f) == ep.length and not f.done[:-1].any() and (f.done[-1] or not ep.complete)
        assert ep.ret == pytest.approx(float(np.sum(f.reward.astype(np.float64))), rel=1e-6)
    for slot in range(len(TRACK)):
        eps = sorted((e for e in train if e.slot == slot), key=lambda e: e.start)
        assert all(a.start + a.length == b.start for a, b in zip(eps, eps[1:]))  # back to back


@pytest.mark.parametrize("which", RUNS)
def test_one_snapshot_per_policy_params_fn_call_and_the_eval_env_is_not_recorded(runs, which):
    run = runs[which]
    snaps = [e for e in run.reader.episodes() if e.source == "snapshot"]
    assert len(run.user_params) == 3 and [e.env_step for e in snaps] == run.user_params
    assert all(e.length == EPISODE for e in snaps)
    # Only the training batch flushes (the eval env, 4 envs, would add callbacks and env ids).
    assert run.stats.callbacks == FLUSHES and run.stats.rows_recorded == FLUSHES * 20 * len(TRACK)
    assert set(np.unique(_rows(run.reader)["env_id"])) == set(TRACK)


def test_run_metadata_names_playground_its_physics_impl_and_the_mocap_bodies(runs):
    cart, reacher = runs["cartpole_own"].reader.info.attrs, runs["reacher_own"].reader.info.attrs
    assert cart["suite"] == reacher["suite"] == "playground"
    assert cart["impl"] == reacher["impl"] == "jax"
    assert (cart["nmocap"], reacher["nmocap"]) == (0, 1)
    # ReacherEasy and ReacherHard are one class: a registry name that is not unique is not guessed.
    assert (cart["env_name"], reacher["env_name"]) == ("Balance", "Reacher")


def test_playgrounds_info_is_never_recorded_wholesale(runs):
    """Playground's auto-reset keeps a full copy of the first data in state.info: nothing of it
    (nor any other info) is in the store: only the documented arrays."""
    path = runs["reacher_own"].path
    # A clean close compacts the group: its streams then live under a generation directory (g1/).
    arrays = sorted(re.sub(r"/g\d+/", "/", str(p.parent.relative_to(path))) for p in path.rglob("zarr.json")
                    if json.loads(p.read_text())["node_type"] == "array")
    w = runs["reacher_own"].reader.writer_ids[0]
    streams = {"train", "snapshots", "catalog", "metrics"}
    assert all(a == "model" or a.split("/")[2] in streams for a in arrays), arrays
    assert not [a for a in arrays if "AutoReset" in a or "first" in a]
    assert f"writers/{w}/train/mocap_pos" in arrays


def test_a_randomized_envs_replayed_frame_is_drawn_with_its_own_model_not_the_nominal_one(runs):
    run = runs["cartpole_dr"]
    r = run.reader
    nominal = r.model()
    gid = nominal.geom("pole_1").id
    for slot, env_index in enumerate(TRACK):
        ep = next(e for e in r.episodes() if e.source == "train" and e.slot == slot)
        em = r.env_model(ep)
        assert em.own and em.note == ""
        assert em.model.geom_size[gid, 0] == pytest.approx(POLE_RADIUS * (2 + env_index))
        # The env's model as the randomization_fn made it, built here from the env, not the store.
        own = copy.copy(run.env.mj_model)
        own.geom_size[gid, 0] = POLE_RADIUS * (2 + env_index)
        q = r.frames(ep).qpos[EPISODE // 2]
        with Renderer(em.model, 160, 120, camera="fixed") as a, Renderer(own, 160, 120, camera="fixed") as b, \
                Renderer(nominal, 160, 120, camera="fixed") as c:
            replayed, truth, nominal_frame = a.render(q).copy(), b.render(q).copy(), c.render(q).copy()
        np.testing.assert_array_equal(replayed, truth)
        assert np.abs(replayed.astype(int) - nominal_frame).sum() > 500  # a thicker pole shows
    snap = next(e for e in r.episodes() if e.source == "snapshot")
    assert r.env_model(snap).own and r.env_model(snap).model.geom_size[gid, 0] == pytest.approx(POLE_RADIUS)



VIEW_PY = Path(__file__).resolve().parents[2] / ".venv-view" / "bin" / "python"

_VIEW_SCRIPT = r"""
import importlib.util, json, sys
import numpy as np
missing = [m for m in ("jax", "brax", "mujoco_playground") if importlib.util.find_spec(m) is not None]
assert not missing, f"the viewer venv has {missing}"
from braxscope.replay_app.renderer import Renderer
from braxscope.schema import open_store
out = {}
for path in sys.argv[1:]:
    r = open_store(path)
    frames, own = 0, []
    for ep in r.episodes():
        em = r.env_model(ep)
        own.append(em.own)
        f = r.frames(ep)
        with Renderer(em.model, 64, 48) as ren:
            for t in range(len(f)):  # play every frame of every episode
                img = ren.render(f.qpos[t], mocap_pos=None if f.mocap_pos is None else f.mocap_pos[t],
                                 mocap_quat=None if f.mocap_quat is None else f.mocap_quat[t])
                assert img.shape == (48, 64, 3) and img.std() > 1
                frames += 1
    out[path] = {"frames": frames, "own": all(own), "nmocap": r.info.attrs["nmocap"], "impl": r.info.attrs["impl"]}
print(json.dumps(out))
"""


def test_the_store_opens_plays_and_exports_in_a_venv_without_playground_or_jax(runs, tmp_path):
    """`braxscope[view]` only (.venv-view, built by `make test`): the store is self-contained."""
    if not VIEW_PY.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{VIEW_PY} is missing: `make view-venv` builds it (make test does)")
        pytest.skip("no .venv-view here (make view-venv builds it)")
    env = dict(os.environ, PYTHONPATH=str(VIEW_PY.parents[2]), MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"))
    paths = [str(runs[k].path) for k in ("cartpole_dr", "reacher_own")]
    p = subprocess.run([str(VIEW_PY), "-c", _VIEW_SCRIPT, *paths], capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    for path in paths:
        r = runs[Path(path).stem].reader
        assert got[path]["frames"] == sum(e.length for e in r.episodes()) and got[path]["own"]
        assert got[path]["impl"] == "jax" and got[path]["nmocap"] == r.info.attrs["nmocap"]
    ep = next(e for e in runs["reacher_own"].reader.episodes() if e.source == "train")
    out = tmp_path / "reacher.mp4"
    for argv in (["export", paths[1], "--episode", ep.id, "--out", str(out), "--width", "160", "--height", "120"],
                 ["verify", paths[1]], ["info", paths[0]]):
        p = subprocess.run([str(VIEW_PY), "-m", "braxscope.cli", *argv], capture_output=True, text=True, env=env,
                           timeout=600)
        assert p.returncode == 0, (argv, p.stderr[-2000:])
    assert out.stat().st_size > 1000


def test_the_viewer_draws_a_randomized_env_with_its_own_model_and_mocap_bodies_where_recorded(runs):
    """The replay app's path: session snapshot cells carry the env's own model and the mocap
    poses, and the render thread draws them (the same pixels as a renderer of that model)."""
    from braxscope.replay_app.render_thread import RenderWorker
    from braxscope.replay_app.session import ReplaySession

    dr = ReplaySession(open_store(runs["cartpole_dr"].path))
    ep = next(e for e in dr.reader.episodes() if e.source == "train" and e.slot == 1)
    dr.select(ep.id)
    dr.poll_store()
    dr.seek(EPISODE // 2)
    cell = dr.snapshot().scene.cells[0]
    gid = dr.reader.model().geom("pole_1").id
    assert cell.model is not None and cell.model.geom_size[gid, 0] == pytest.approx(POLE_RADIUS * (2 + TRACK[1]))
    reacher = ReplaySession(open_store(runs["reacher_own"].path))
    rep = next(e for e in reacher.reader.episodes() if e.source == "train")
    reacher.select(rep.id)
    reacher.poll_store()
    rcell = reacher.snapshot().scene.cells[0]
    np.testing.assert_array_equal(rcell.mocap_pos, reacher.reader.frames(rep).mocap_pos[rcell.frame])
    worker = RenderWorker(dr.reader.model(), 160, 120, camera="fixed")
    try:
        worker.request([cell.qpos], size=(160, 120), extras=[(cell.mocap_pos, cell.mocap_quat, cell.model)])
        assert worker.frame_ready.wait(60)
        frame = worker.take().image
    finally:
        worker.close()
    with Renderer(cell.model, 160, 120, camera="fixed") as r:
        expected = r.render(cell.qpos).astype(np.float32) / 255
    np.testing.assert_allclose(frame[:120, :160, :3], expected, atol=1e-6)
