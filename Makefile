# Two entry points: `make demo` and `make test`. Each sets up what it needs.
VENV ?= .venv
PY := $(VENV)/bin/python
# A viewer-only venv (braxscope[view], no JAX, no Playground): the tests open, play and export
# recorded stores there, so a store stays readable without the recorder's stack.
VIEW_VENV ?= .venv-view
# Debian packages for headless GL (EGL and OSMesa), a virtual display, a browser for the notebook
# tests, and FUSE for the shared-filesystem fault tests.
DEB_PACKAGES := libegl-mesa0 libegl1 libgl1-mesa-dri libosmesa6 xvfb xauth libxrandr2 imagemagick chromium fuse3 libfuse2

ROBOMIMIC_VENV ?= .venv-robomimic

.PHONY: setup robomimic-venv view-venv system-deps lint test test-fast demo bench clean

# Installs the Debian packages only when running as root with apt (a fresh CI
# machine); elsewhere it says what is missing and goes on.
system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  if ! dpkg -s $(DEB_PACKAGES) >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES) >/dev/null; \
	  fi; \
	else \
	  dpkg -s $(DEB_PACKAGES) >/dev/null 2>&1 || echo "note: not root; install $(DEB_PACKAGES) for headless rendering and GUI tests"; \
	fi

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -e ".[all,test]"
	$(PY) -m pip check
	touch $@

# robomimic 0.3.0 for the interop tests (tests/export/test_robomimic_interop.py), in an environment of
# its own, as a robomimic user has it (no braxscope). Its setup.py declares tensorboard, torchvision,
# matplotlib and egl_probe, none of which loading a dataset imports: so PyTorch's CPU build and the
# small deps it does import, then robomimic itself with --no-deps (pins in constraints.txt).
robomimic-venv: $(ROBOMIMIC_VENV)/.installed

$(ROBOMIMIC_VENV)/.installed: constraints.txt
	python3 -m venv $(ROBOMIMIC_VENV)
	$(ROBOMIMIC_VENV)/bin/pip install -q -c constraints.txt torch==2.13.0 numpy h5py psutil tqdm termcolor imageio
	$(ROBOMIMIC_VENV)/bin/pip install -q -c constraints.txt --no-deps robomimic==0.3.0
	touch $@

view-venv: $(VIEW_VENV)/.installed

$(VIEW_VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VIEW_VENV)
	$(VIEW_VENV)/bin/python -m pip install -q -c constraints.txt -e ".[view,test]"
	$(VIEW_VENV)/bin/python -m pip check
	touch $@

lint: setup
	$(VENV)/bin/ruff check braxscope tests benchmarks examples

# BRAXSCOPE_REQUIRE_INTEROP: the robomimic tests fail (not skip) if its environment is missing.
INTEROP := BRAXSCOPE_REQUIRE_INTEROP=1 ROBOMIMIC_PYTHON=$(abspath $(ROBOMIMIC_VENV))/bin/python

# Tests run in TEST_WORKERS processes (pytest-xdist); each module, or each group of modules sharing an
# expensive fixture, stays on one worker (tests/conftest.py). TEST_WORKERS=0 runs them in this process.
# Then the few that assert a wall-clock latency (marked `timing`) run one at a time, alone.
TEST_WORKERS ?= 2
PYTEST := $(INTEROP) MUJOCO_GL=egl $(PY) -m pytest -q -ra

test: system-deps setup robomimic-venv view-venv lint
	$(PYTEST) -n $(TEST_WORKERS) --dist loadfile -m "not timing"
	$(PYTEST) -m timing

# Everything but the long end-to-end runs (for quick iteration).
test-fast: system-deps setup robomimic-venv view-venv lint
	$(PYTEST) -n $(TEST_WORKERS) --dist loadfile -m "not slow and not timing"
	$(PYTEST) -m "timing and not slow" || [ $$? = 5 ]  # 5: none selected

demo: system-deps setup
	MUJOCO_GL=egl $(PY) examples/demo.py

# Side-by-side benchmarks (each prints a table of medians and ratios); about 20 minutes in all.
bench: system-deps setup
	MUJOCO_GL=egl $(PY) benchmarks/store.py
	MUJOCO_GL=egl $(PY) benchmarks/store_remote.py --app
	MUJOCO_GL=egl $(PY) benchmarks/export.py
	MUJOCO_GL=egl $(PY) benchmarks/overhead.py
	MUJOCO_GL=egl $(PY) benchmarks/viewer.py
	MUJOCO_GL=egl $(PY) benchmarks/notebook_viewer.py
	MUJOCO_GL=egl $(PY) benchmarks/runs.py
	MUJOCO_GL=egl $(PY) benchmarks/scale.py

clean:
	rm -rf $(VENV) $(VIEW_VENV) $(ROBOMIMIC_VENV) runs test-artifacts
