"""The wheel carries everything an installed copy needs: the package, its ``*.tcss`` and
``*.json`` files, the shipped ``lessons/`` and ``scenarios/`` (under ``kubeflow_tui/_data``)
and the ``kubeflow-tui`` console script; and an unpacked wheel finds its lessons and
scenarios from any folder."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".hypothesis"}



def _repo_files(folder: Path, suffixes: tuple[str, ...] | None = None) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not (set(p.relative_to(ROOT).parts) & IGNORED_PARTS)
        and not p.name.endswith((".pyc", ".pyo"))
        and (suffixes is None or p.suffix in suffixes)
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built once per run: about 1 s with hatchling installed, 2-5 s with build isolation."""
    out = tmp_path_factory.mktemp("wheel")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)]
    if importlib.util.find_spec("hatchling") is not None:
        cmd.insert(4, "--no-build-isolation")  # no index needed when the backend is here
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout + r.stderr
    (whl,) = out.glob("kubeflow_tui-*.whl")
    return whl


@pytest.fixture(scope="module")
def names(wheel) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def _dist_info(wheel: Path, name: str) -> str:
    with zipfile.ZipFile(wheel) as zf:
        (path,) = [n for n in zf.namelist() if n.endswith(f".dist-info/{name}")]
        return zf.read(path).decode()


def test_package_modules(names):
    for mod in ("__init__.py", "__main__.py", "cli.py", "resources.py", "render_trace.py", "trace.py"):
        assert f"kubeflow_tui/{mod}" in names
    for f in _repo_files(ROOT / "kubeflow_tui", (".py",)):
        assert f.relative_to(ROOT).as_posix() in names


def test_package_data_tcss_json(names):
    for f in _repo_files(ROOT / "kubeflow_tui", (".tcss", ".json")):
        assert f.relative_to(ROOT).as_posix() in names


@pytest.mark.parametrize("folder", ["lessons", "scenarios"])
def test_shipped_material(names, folder):
    files = _repo_files(ROOT / folder)
    if not files:
        pytest.skip(f"{folder}/ is empty so far")
    for f in files:
        assert f"kubeflow_tui/_data/{f.relative_to(ROOT).as_posix()}" in names


def test_nothing_stray(names):
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("tests/", ".venv", ".ci/", "benchmarks/"))]


def test_console_script_and_metadata(wheel):
    entry = _dist_info(wheel, "entry_points.txt")
    assert "[console_scripts]" in entry
    assert "kubeflow-tui = kubeflow_tui.cli:main" in entry
    meta = Parser().parsestr(_dist_info(wheel, "METADATA"))
    assert meta["Name"] == "kubeflow-tui"
    assert meta["Requires-Python"] == ">=3.11"
    requires = " ".join(meta.get_all("Requires-Dist"))
    for dep in ("textual", "rich", "pydantic", "pyyaml", "platformdirs", "textual-serve", "pytest"):
        assert dep in requires.lower()
    assert {"test", "serve"} <= set(meta.get_all("Provides-Extra"))


def test_unpacked_wheel_finds_its_material_from_any_folder(wheel, tmp_path):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("KUBEFLOW_TUI_CONTENT_DIR", None)
    code = (
        "import kubeflow_tui, kubeflow_tui.resources as r\n"
        "print(kubeflow_tui.__file__)\n"
        "for n in ('lessons', 'scenarios'):\n"
        "    try: print(r.data_dir(n))\n"
        "    except FileNotFoundError: print('-')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    pkg, lessons, scenarios = r.stdout.splitlines()
    assert Path(pkg).is_relative_to(site)
    for folder, where in (("lessons", lessons), ("scenarios", scenarios)):
        if _repo_files(ROOT / folder):
            assert Path(where) == site / "kubeflow_tui" / "_data" / folder
    r = subprocess.run([sys.executable, "-m", "kubeflow_tui", "--version"], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("kubeflow-tui ")
