"""Fixtures for the TUI tests.

Two engines:

* ``make_app`` runs on ``FakeEngine`` (hand-built traces, fast, independent of the
  simulator): the screen tests of ``test_flow_screen.py`` and friends.
* ``make_real_app`` runs on the real engine (``RealEngine``: scenario loader, cluster
  simulator, shell, quiz) with the repo's ``lessons/`` and ``scenarios/``:
  ``test_real_engine.py`` and ``test_lesson_walk.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_trace import FakeEngine  # noqa: E402

from kubeflow_tui.progress import Progress  # noqa: E402
from kubeflow_tui.tui.app import KubeflowApp  # noqa: E402
from kubeflow_tui.tui.engine import RealEngine  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run ``async def`` tests here with asyncio (no pytest-asyncio needed)."""
    import asyncio
    import inspect

    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(pyfuncitem.obj(**args))
        return True
    return None


ENGINE = FakeEngine  # ENGINE: the one line to switch (kubeflow_tui.tui.engine.RealEngine)

LESSON_1 = """---
title: "A packet meets a ClusterIP"
scenario: clusterip-basics.yaml
flows: [pod-to-service, pod-to-service-web-2]
minutes: 10
---
# A packet meets a ClusterIP

Press **→** to follow the SYN from client-1 to the ClusterIP 10.96.0.1:8080.
"""

LESSON_2 = """---
title: "Choosing an endpoint"
scenario: clusterip-basics.yaml
flows: [pod-to-service-web-2]
minutes: 5
---
# Choosing an endpoint

The statistic match rolls dice.
"""


@pytest.fixture
def lessons_dir(tmp_path: Path) -> Path:
    d = tmp_path / "lessons"
    d.mkdir()
    (d / "01-clusterip.md").write_text(LESSON_1)
    (d / "02-endpoint.md").write_text(LESSON_2)
    return d


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "data"
    monkeypatch.setenv("KUBEFLOW_TUI_DATA_DIR", str(d))
    return d


@pytest.fixture
def make_app(lessons_dir: Path, data_dir: Path):
    def make(path: str | None = None, *, start: str = "home") -> KubeflowApp:
        return KubeflowApp(path, engine=ENGINE(), lessons_dir=lessons_dir, progress=Progress.load(data_dir),
                           start=start)

    return make


@pytest.fixture
def make_real_app(data_dir: Path):
    """The app on the real engine and the repo's lessons (progress in a temp dir)."""

    def make(path: str | None = None, *, start: str = "home", lessons: Path | None = None) -> KubeflowApp:
        return KubeflowApp(path, engine=RealEngine(), lessons_dir=lessons or REPO / "lessons",
                           progress=Progress.load(data_dir), start=start)

    return make
