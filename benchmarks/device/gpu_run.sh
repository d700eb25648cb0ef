#!/bin/bash
# The benchmarks on a lent GPU machine (this workplace's device tool), in one call.
#
# That machine has no network and its own JAX (newer than our pin), so the packages it lacks
# travel as cp312 wheels in .whl/ and the GL loaders as Debian packages in .gl/ (both ignored by
# git; see benchmarks/README.md for how to fetch them). sitecustomize.py beside this file lets
# brax 0.14.2 train on that JAX. Usage there: bash benchmarks/device/gpu_run.sh SECONDS [ENVS [VARIANTS]]
# (SECONDS: the overhead benchmark starts no run after this; ENVS=ant,inverted_pendulum and
# VARIANTS=none,record,record+snapshots by default; SKIP_RENDERER=1 skips the renderer benchmark).
set -u
export PYTHONUNBUFFERED=1
deadline=${1:-400}; bench_envs=${2:-ant,inverted_pendulum}; variants=${3:-none,record,record+snapshots}
out=${OUT:-/tmp/out}; mkdir -p "$out"
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv,noheader
nproc
export PYTHONPATH=/tmp/site:$PWD MUJOCO_GL=egl
export __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json}
[ -f "$__EGL_VENDOR_LIBRARY_FILENAMES" ] || unset __EGL_VENDOR_LIBRARY_FILENAMES
python3 -c "import jax, brax, mujoco, zarr, flax; print('jax', jax.__version__, 'brax', brax.__version__, 'mujoco', mujoco.__version__, 'zarr', zarr.__version__, 'flax', flax.__version__)"

echo "== renderer"
[ -n "${SKIP_RENDERER:-}" ] || timeout 90 python3 benchmarks/viewer.py --no-window --rows 100000 --seconds 3 2>&1 | grep -v "generating" | tee "$out/renderer.txt"

echo "== overhead"
PYTHONPATH=$PYTHONPATH:$PWD/benchmarks/device timeout $((deadline + 120)) python3 benchmarks/overhead.py \
    --envs "$bench_envs" --variants "$variants" --rounds 3 --deadline "$deadline" 2>&1 \
    | grep -v -E "warp|UserWarning|warnings.warn" | tee "$out/overhead.txt"
