"""Suite-wide settings.

JAX's persistent compilation cache, shared by the test process and every process it starts (the
`braxscope train` runs, the notebook kernel): most tests train the same small configurations, and
on this 2-core CPU compiling is most of a short run. The training step itself carries the
recorder's host callback, which JAX does not cache, so only the other programs (reset, eval,
snapshot rollouts, the optimizer's pieces) are reused; that is still a third of a run.
Set here, before any test module imports JAX, as environment variables so subprocesses inherit them.
"""

from __future__ import annotations

import os
from pathlib import Path



def _jax_cache_dir() -> Path:
    base = Path(os.environ.get("BRAXSCOPE_TEST_CACHE", "/tmp/braxscope-test-cache"))
    return base / "jax"


def pytest_configure(config):
    if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
        d = _jax_cache_dir()
        d.mkdir(parents=True, exist_ok=True)
        os.environ["JAX_COMPILATION_CACHE_DIR"] = str(d)
    # Cache every program: the defaults skip those that compile in under a second, which are most of them.
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
    # Those cache hits make XLA log an ERROR line per program ("Target machine feature
    # +prefer-no-gather is not supported...": its own tuning flags, not a mismatch); they would
    # flood every child's stderr, which many tests read.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


# Tests run in two worker processes (pytest-xdist). A module stays on one worker (its
# module-scoped fixtures are built once); modules that share an expensive session-scoped fixture
# form one group, so that fixture too is built once. (xdist's own ``--dist loadgroup`` does not
# work under pytest 9 in xdist 3.8.0: its worker hook that tags items with their group is not
# registered, so the scheduler below groups by module path itself.)
SHARED_FIXTURE_GROUPS = {
    "recorded_run": ("recorder/test_recorded_store_xarray", "recorder/test_compact_recorded",
                     "recorder/test_recorder_ppo"),
    "executed_notebook": ("nbview/test_notebook_e2e", "nbview/test_notebook_browser"),
    "ant_store": ("replay_app/test_replay_app_gui", "replay_app/test_replay_session", "replay_app/test_app_errors",
                  "replay_app/test_session_commands", "replay_app/test_replay_renderer"),
}
_GROUP_OF = {f"tests/{module}.py": group for group, modules in SHARED_FIXTURE_GROUPS.items() for module in modules}


def worker_unit(nodeid: str) -> str:
    """The unit a worker runs whole: the test's module, or its shared-fixture group."""
    module = nodeid.split("::", 1)[0]
    return _GROUP_OF.get(module, module)


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_unit(nodeid)

    return SharedFixtureScheduling(config, log)
