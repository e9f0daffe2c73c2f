"""Where the shipped ``lessons/`` and ``scenarios/`` live.

Three places are looked at, in order:

1. ``$KUBEFLOW_TUI_CONTENT_DIR/<name>`` (a folder holding ``lessons/`` and ``scenarios/``),
   for teachers who keep their own material;
2. ``kubeflow_tui/_data/<name>`` inside an installed wheel (the build copies the repo's
   top-level folders there);
3. ``<checkout>/<name>`` when running from a source checkout or an editable install.

Stdlib only; nothing here imports the engine.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CONTENT_ENV = "KUBEFLOW_TUI_CONTENT_DIR"
SCENARIO_SUFFIXES = (".yaml", ".yml")
LESSON_SUFFIXES = (".md",)


def _candidates(name: str) -> list[Path]:
    out: list[Path] = []
    env = os.environ.get(CONTENT_ENV)
    if env:
        out.append(Path(env).expanduser() / name)
    out.append(PACKAGE_DIR / "_data" / name)
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file():
        out.append(checkout / name)
    return out


def data_dir(name: str) -> Path:
    """The folder ``name`` ("lessons" or "scenarios"); FileNotFoundError if none exists."""
    cands = _candidates(name)
    for c in cands:
        if c.is_dir():
            return c
    raise FileNotFoundError(
        f"no {name}/ folder found (looked in {', '.join(str(c) for c in cands)})"
    )


def lessons_dir() -> Path:
    return data_dir("lessons")


def scenarios_dir() -> Path:
    return data_dir("scenarios")


def _listing(name: str, suffixes: tuple[str, ...]) -> list[Path]:
    try:
        root = data_dir(name)
    except FileNotFoundError:
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in suffixes)


def list_scenarios() -> list[Path]:
    """Every shipped scenario file, sorted by path."""
    return _listing("scenarios", SCENARIO_SUFFIXES)


def list_lessons() -> list[Path]:
    """Every shipped lesson file (Markdown), sorted by path (lessons are numbered)."""
    return [p for p in _listing("lessons", LESSON_SUFFIXES) if p.name.lower() != "readme.md"]


def find_scenario(ref: str | os.PathLike[str]) -> Path:
    """A scenario file from a path, or from the name of a shipped scenario.

    ``clusterip``, ``clusterip.yaml`` and ``scenarios/clusterip.yaml`` all resolve to the
    shipped file when no such file exists relative to the current folder.
    """
    path = Path(ref).expanduser()
    if path.exists():
        return path
    text = str(ref)
    if Path(text).parent in (Path("."), Path("scenarios")):
        for p in list_scenarios():
            if p.name == path.name or p.stem == path.name:
                return p
    known = ", ".join(p.stem for p in list_scenarios()) or "none found"
    raise FileNotFoundError(f"{text}: no such file, and no shipped scenario by that name ({known})")
