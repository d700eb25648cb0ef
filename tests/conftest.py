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
