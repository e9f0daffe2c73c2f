"""Shared test set-up.

Kernel tests (``@pytest.mark.kernel``) build real network namespaces and compare the
simulator with what the Linux kernel does.  They need root, iproute2, iptables (with
iptables-restore and xtables-monitor) and conntrack.  Where any of that is missing they are
skipped with the reason -- unless ``KUBEFLOW_TUI_REQUIRE_KERNEL=1`` is set (CI sets it), in
which case the same reason fails the test, so CI can never pass by skipping them.

A kernel test needs only the marker; ``require_kernel()`` (or the ``kernel`` fixture) is
there for tests that decide at run time.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys

import pytest

REQUIRE_ENV = "KUBEFLOW_TUI_REQUIRE_KERNEL"
KERNEL_TOOLS = ("ip", "iptables", "iptables-restore", "iptables-save", "xtables-monitor", "conntrack")


def kernel_required() -> bool:
    """True when KUBEFLOW_TUI_REQUIRE_KERNEL asks for the kernel tests to run."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


@functools.lru_cache(maxsize=1)
def kernel_unavailable_reason() -> str | None:
    """Why kernel tests cannot run here, or None when they can (probed once per session)."""
    if not sys.platform.startswith("linux"):
        return f"kernel tests need Linux (this is {sys.platform})"
    if os.geteuid() != 0:
        return "kernel tests need root (network namespaces, iptables-restore)"
    missing = [t for t in KERNEL_TOOLS if shutil.which(t) is None]
    if missing:
        return (
            f"kernel tests need {', '.join(missing)} "
            "(apt-get install iproute2 iptables conntrack)"
        )
    ns = f"kft-probe-{os.getpid()}"
    try:
        add = _run("ip", "netns", "add", ns)
        if add.returncode != 0:
            return f"'ip netns add' failed: {add.stderr.strip() or add.returncode}"
        for argv in (("iptables", "-t", "nat", "-S"), ("conntrack", "-L")):
            r = _run("ip", "netns", "exec", ns, *argv)
            if r.returncode != 0:
                return f"'{' '.join(argv)}' in a network namespace failed: {r.stderr.strip() or r.returncode}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"probing network namespaces failed: {exc}"
    finally:
        _run("ip", "netns", "del", ns)
    return None


def require_kernel() -> None:
    """Skip (or, with KUBEFLOW_TUI_REQUIRE_KERNEL=1, fail) unless kernel tests can run."""
    reason = kernel_unavailable_reason()
    if reason is None:
        return
    if kernel_required():
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes the learner's real progress file: the data directory is a fresh
    temporary one (a test or fixture may point it elsewhere)."""
    monkeypatch.setenv("KUBEFLOW_TUI_DATA_DIR", str(tmp_path_factory.mktemp("data")))


@pytest.fixture
def kernel() -> None:
    """Use in a test that needs the real kernel (same as the ``kernel`` marker)."""
    require_kernel()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("kernel") is not None:
        require_kernel()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and kernel_required()
        and item.get_closest_marker("kernel") is not None
    ):
        # A kernel test that skipped itself for any reason: CI must not pass that way.  The one
        # exception: a test marked kernel_feature(NAME) whose kernel lacks that feature (a
        # protocol the running kernel was built without, which no package installs); its
        # reason must say so ("this kernel has no NAME").
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        feature = item.get_closest_marker("kernel_feature")
        if feature is not None and f"this kernel has no {feature.args[0]}" in reason:
            return
        report.outcome = "failed"
        report.longrepr = f"{REQUIRE_ENV}=1 but this kernel test skipped: {reason}"
