"""Kernel referee set-up: the ``kernel`` marker, the guard, the end-of-session summary.

The guard is ``tests/conftest.py``'s ``require_kernel`` (skip with the reason, or fail with
it when KUBEFLOW_TUI_REQUIRE_KERNEL=1); every kernel fixture here calls it first.
"""

from __future__ import annotations

import pytest

from conftest import require_kernel  # tests/conftest.py (pytest puts tests/ on sys.path)

from .compare import STATS
from .handmade import SCENARIO, rules
from .netns import KernelCluster


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kernel: runs in real network namespaces (root, iproute2, iptables)")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    terminalreporter.write_line(
        f"kernel agreement: {STATS['flows']} flows, {STATS['packets']} packets, "
        f"{STATS['mismatches']} mismatches"
    )


@pytest.fixture(scope="module")
def selftest_cluster():
    """The hand-made one-node cluster (``handmade.py``), built once per module."""
    require_kernel()
    with KernelCluster(SCENARIO, rules) as kc:
        yield kc
