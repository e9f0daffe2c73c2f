"""The names ``netfilter`` and ``cluster`` load on first use (netfilter/lazy.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = r"""
import sys
import kubeflow_tui.netfilter as nf
import kubeflow_tui.cluster as cl
before = [m for m in ("kubeflow_tui.netfilter.nft_parse", "kubeflow_tui.cluster.dump",
                      "kubeflow_tui.cluster.sim") if m in sys.modules]
assert "parse_nft_ruleset" in dir(nf) and "trace_dump" in dir(cl) and "run_flow" in dir(cl)
from kubeflow_tui.netfilter.nft_parse import parse_nft_ruleset
assert nf.parse_nft_ruleset is parse_nft_ruleset and "parse_nft_ruleset" in vars(nf)
from kubeflow_tui.cluster.dump import trace_dump
assert cl.trace_dump is trace_dump
ns = {}
exec("from kubeflow_tui.netfilter import *", ns)
assert ns["NftEvaluator"].__module__ == "kubeflow_tui.netfilter.nft_eval"
print("BEFORE", before)
"""


def test_lazy_names_load_on_first_use_only():
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "BEFORE []"


@pytest.mark.parametrize("package", ["kubeflow_tui.netfilter", "kubeflow_tui.cluster"])
def test_an_unknown_name_is_an_attribute_error(package):
    import importlib

    mod = importlib.import_module(package)
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'nosuch'"):
        mod.nosuch  # noqa: B018
    assert not hasattr(mod, "nosuch")
