# Two entry points: `make demo` and `make test`. Each sets up what it needs.
VENV ?= .venv
PY := $(VENV)/bin/python
# Debian packages for headless GL (EGL and OSMesa), a virtual display, and a browser for the notebook tests.
DEB_PACKAGES := libegl-mesa0 libegl1 libgl1-mesa-dri libosmesa6 xvfb xauth imagemagick chromium

.PHONY: setup system-deps lint test test-fast demo bench clean

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

lint: setup
	$(VENV)/bin/ruff check braxscope tests benchmarks examples

test: system-deps setup lint
	MUJOCO_GL=egl $(PY) -m pytest -q -ra

# Everything but the long end-to-end runs (for quick iteration).
test-fast: system-deps setup lint
	MUJOCO_GL=egl $(PY) -m pytest -q -ra -m "not slow"

demo: system-deps setup
	MUJOCO_GL=egl $(PY) examples/demo.py

# Side-by-side benchmarks (each prints a table of medians and ratios); about 20 minutes in all.
bench: system-deps setup
	MUJOCO_GL=egl $(PY) benchmarks/store.py
	MUJOCO_GL=egl $(PY) benchmarks/export.py
	MUJOCO_GL=egl $(PY) benchmarks/overhead.py
	MUJOCO_GL=egl $(PY) benchmarks/viewer.py

clean:
	rm -rf $(VENV) runs test-artifacts
