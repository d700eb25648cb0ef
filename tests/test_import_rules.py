"""The import rules of the architecture: the viewer starts without JAX, the recorder runs
without GUI libraries, and the store format depends on neither.

Two checks: a static scan (ast) of every module of each subpackage, including imports inside
functions and ``importlib.import_module("...")`` with a literal name; and a fresh interpreter
per package that imports it and looks at ``sys.modules``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "braxscope"

# package -> top-level names (or braxscope subpackages) it must never import
FORBIDDEN = {
    "schema": {"jax", "jaxlib", "brax", "flax", "dearpygui", "braxscope.recorder", "braxscope.replay_app",
               "braxscope.notebook"},
    "replay_app": {"jax", "jaxlib", "brax", "flax", "braxscope.recorder", "braxscope.notebook"},
    "recorder": {"dearpygui", "braxscope.replay_app", "braxscope.notebook", "IPython", "ipywidgets"},
    # A view like the app: session, presentation, renderer, export; a Recorder only as an object it is handed.
    "notebook": {"jax", "jaxlib", "brax", "flax", "dearpygui", "braxscope.recorder"},
    # braxscope/__init__.py, cli.py, _gl.py run before any command: nothing heavy at all.
    "": {"jax", "jaxlib", "brax", "flax", "dearpygui"},
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, mod: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a file, relative ones resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    mod = mod or _module_name(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((node.lineno, target))
            out += [(node.lineno, f"{target}.{a.name}") for a in node.names if target.startswith("braxscope")]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in ("import_module", "__import__"):
                out.append((node.lineno, node.args[0].value))
    return out


def _files(sub: str) -> list[Path]:
    if sub == "":
        return sorted(PKG.glob("*.py"))
    return sorted((PKG / sub).rglob("*.py"))


def _violates(name: str, forbidden: set[str]) -> str | None:
    for f in forbidden:
        if name == f or name.startswith(f + "."):
            return f
    return None


@pytest.mark.parametrize("sub", sorted(FORBIDDEN))
def test_no_module_of_a_package_imports_what_it_must_not(sub):
    files = _files(sub)
    assert files, f"braxscope/{sub} has no modules"
    bad = []
    for path in files:
        for line, name in _imports(path):
            hit = _violates(name, FORBIDDEN[sub])
            if hit:
                bad.append(f"{path.relative_to(PKG.parent)}:{line} imports {name}")
    assert not bad, "\n".join(bad)


def test_the_static_scan_catches_lazy_relative_and_importlib_imports(tmp_path):
    src = tmp_path / "probe.py"  # scanned as if it were braxscope/replay_app/probe.py
    src.write_text("def f():\n    from ..recorder import x\n"
                   "    import importlib\n    importlib.import_module('jax.numpy')\n")
    names = [n for _, n in _imports(src, "braxscope.replay_app.probe")]
    assert "braxscope.recorder" in names and "jax.numpy" in names


# Prints the heavy or braxscope modules that are loaded.
LOADED = """
import json, sys
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {'jax', 'jaxlib', 'brax', 'flax', 'dearpygui'}
                        or m.startswith('braxscope.'))))
"""
PROBE = "import {module}\n" + LOADED.replace("{", "{{").replace("}", "}}")
# The notebook's public calls on a store path, run to the end (a video, the curve, a panel, the
# viewer): none of them may load JAX or DearPyGui either.
NOTEBOOK_CALLS = """
import sys, braxscope.notebook as bn
path = sys.argv[1]
bn.show(path, "0:2", width=64, height=48)
bn.curve(path)
bn.live(path, display=False, width=64, height=48).join(60).stop()
bn.Viewer(path, width=64, height=48).close()
"""


@pytest.mark.parametrize("module, forbidden", [
    ("braxscope.schema", {"jax", "jaxlib", "brax", "flax", "dearpygui", "braxscope.recorder", "braxscope.replay_app"}),
    ("braxscope.replay_app", {"jax", "jaxlib", "brax", "flax", "braxscope.recorder"}),
    ("braxscope.recorder", {"dearpygui", "braxscope.replay_app", "braxscope.notebook"}),
    ("braxscope.notebook", {"jax", "jaxlib", "brax", "flax", "dearpygui", "braxscope.recorder"}),
    ("braxscope", {"jax", "jaxlib", "brax", "flax", "dearpygui", "braxscope.recorder", "braxscope.replay_app"}),
])
def test_importing_a_package_does_not_load_what_it_must_not(module, forbidden):
    res = subprocess.run([sys.executable, "-c", PROBE.format(module=module)], capture_output=True, text=True,
                         timeout=300, cwd=PKG.parent)
    assert res.returncode == 0, res.stderr
    loaded = json.loads(res.stdout.strip().splitlines()[-1])
    bad = [m for m in loaded if _violates(m, forbidden)]
    assert not bad, f"import {module} loaded {bad}"


def test_the_notebook_view_runs_on_a_store_without_loading_jax_or_dearpygui(tmp_path):
    from replay_app.storegen import make_store  # tests/ is on sys.path (a rootdir test module)

    store = make_store(tmp_path / "ip.zarr", name="inverted_pendulum", iterations=2, slots=1, episode_len=20)
    code = NOTEBOOK_CALLS + LOADED
    res = subprocess.run([sys.executable, "-c", code, str(store)], capture_output=True, text=True, timeout=300,
                         cwd=PKG.parent)
    assert res.returncode == 0, res.stderr
    loaded = json.loads(res.stdout.strip().splitlines()[-1])
    bad = [m for m in loaded if _violates(m, {"jax", "jaxlib", "brax", "flax", "dearpygui", "braxscope.recorder"})]
    assert not bad, f"the notebook calls loaded {bad}"
