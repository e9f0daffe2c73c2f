"""The layers of DESIGN.md, beyond what the import-linter contracts in pyproject.toml say.

* the contracts themselves hold (``lint-imports``, as CI runs it);
* ``netfilter/`` and ``trace.py`` import nothing outside the standard library (a
  contract can only list forbidden packages; this checks against the stdlib's names);
* importing the engine, and running the CLI's non-UI commands, leaves textual out of
  ``sys.modules`` (a fresh interpreter each time).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is part of the test extra"
    out = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("kubeflow_tui", include_external_packages=True, cache_dir=None)


@pytest.mark.parametrize("package", ["kubeflow_tui.netfilter", "kubeflow_tui.trace"])
def test_stdlib_only(graph, package):
    modules = {package} | graph.find_descendants(package)
    outside = {}
    for m in sorted(modules):
        for imp in graph.find_modules_directly_imported_by(m):
            top = imp.split(".")[0]
            if imp.startswith(package) or top in sys.stdlib_module_names or top == "__future__":
                continue
            outside.setdefault(imp, []).append(m)
    assert outside == {}, f"{package} must use the standard library only; it imports {outside}"


ENGINE = ["kubeflow_tui.scenario", "kubeflow_tui.kubeproxy", "kubeflow_tui.netfilter", "kubeflow_tui.cluster",
          "kubeflow_tui.trace", "kubeflow_tui.quiz", "kubeflow_tui.shell", "kubeflow_tui.render_trace",
          "kubeflow_tui.progress", "kubeflow_tui.progress_report", "kubeflow_tui.lessons"]

_PROBE = r"""
import importlib, io, json, sys, contextlib
for name in sys.argv[2:]:
    importlib.import_module(name)
    # every submodule too: a lazy import inside a package must not pull textual in either
    import pkgutil
    mod = sys.modules[name]
    for info in pkgutil.walk_packages(getattr(mod, "__path__", []), name + "."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
if sys.argv[1] == "cli":
    from kubeflow_tui import cli
    for argv in (["validate", "scenarios/clusterip.yaml"], ["rules", "clusterip", "--format", "save"],
                 ["trace", "no-endpoints", "no-backend", "--json"], ["trace", "clusterip", "pod-other-node"],
                 ["schema"], ["progress"], ["progress", "--export", "json"], ["paths"]):
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli.main(argv) == 0, argv
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "textual" or m.startswith("kubeflow_tui.tui"))))
"""


@pytest.mark.parametrize("what", ["engine", "cli"])
def test_the_engine_and_the_cli_commands_leave_textual_unloaded(what):
    out = subprocess.run([sys.executable, "-c", _PROBE, what, *ENGINE], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.splitlines()[-1]) == []
