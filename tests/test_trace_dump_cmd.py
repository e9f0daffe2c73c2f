"""``kubeflow-tui trace --iptables-save DUMP`` as the whole command a learner runs: what it
loads, and that it prints the same trace however the parse gets there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "netfilter"

_PROBE = r"""
import sys
from kubeflow_tui import cli
rc = cli.main(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "yaml", "textual")
               or m.startswith(("kubeflow_tui.scenario", "kubeflow_tui.kubeproxy", "kubeflow_tui.tui")))
print("RC", rc, "HEAVY", heavy)
"""


def test_trace_of_a_dump_loads_no_scenario_models(tmp_path):
    """The dump is a node's rules, not a scenario: the command must not pay for pydantic's
    models (about 0.2 s of start-up) nor YAML nor Textual."""
    dump = FIXTURES / "kube-proxy-basic.rules"
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, "--no-color", "trace", "--iptables-save", str(dump),
         "--src", "192.168.1.2", "--dst", "10.20.30.41:80"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "KUBE-SVC-XPGD46QRK7WJZT7O" in out.stdout, out.stdout
    assert out.stdout.splitlines()[-1] == "RC 0 HEAVY []"


def test_the_script_ends_without_teardown_and_loses_no_output(tmp_path, capsys):
    """Run as the script, the command ends with os._exit once its output is flushed (the
    parsed dump is not freed object by object); what it printed is all there, and the same
    as cli.main() prints in this process (which returns normally and holds nothing)."""
    from kubeflow_tui import cli

    argv = ["--no-color", "trace", "--iptables-save", str(FIXTURES / "kube-proxy-basic.rules"),
            "--src", "192.168.1.2", "--dst", "10.20.30.41:80", "--verbose"]
    assert cli.main(argv) == 0
    here = capsys.readouterr().out
    assert not cli._exit.held
    out = subprocess.run([sys.executable, "-m", "kubeflow_tui", *argv], capture_output=True,
                         text=True, cwd=tmp_path, timeout=120)
    assert (out.returncode, out.stderr) == (0, "")
    assert out.stdout == here and "KUBE-SEP-" in here
    # the JSON form too, in one write at the end
    out = subprocess.run([sys.executable, "-m", "kubeflow_tui", *argv, "--json"], capture_output=True,
                         text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0 and out.stdout.rstrip().endswith("}")


@pytest.mark.parametrize("spec,key", [
    ("-d 1.2.3.4 -p tcp -m tcp --dport 80", ("1.2.3.4", "tcp", 80)),
    ("-d 1.2.3.4 -p udp -m udp --sport 5 --dport 53", ("1.2.3.4", "udp", 53)),
    ("-d 1.2.3.4 -p tcp -m comment --comment x -m tcp --dport 8", ("1.2.3.4", "tcp", 8)),
    ("-d 1.2.3.4 -p tcp -m tcp ! --dport 80", None),
    ("-d 1.2.3.4 -p tcp -m tcp --dport 80:90", None),
    ("! -d 1.2.3.4 -p tcp -m tcp --dport 80", None),
    ("-d 1.2.3.0/24 -p tcp -m tcp --dport 80", None),
    ("-d 1.2.3.4 ! -p tcp -j ACCEPT", None),
    ("-d 1.2.3.4 -p sctp -m sctp --dport 8", None),
    ("-d 1.2.3.4 -p tcp -m multiport --dports 80,81", None),
    ("-d 1.2.3.4 -p tcp", None),
])
def test_the_index_of_a_long_chain_keys_only_exact_destinations(spec, key):
    """A 10,000-Service KUBE-SERVICES is indexed by (address, protocol, port) for the rules
    that match nothing else; every other rule is tried in order."""
    from kubeflow_tui.netfilter import parse_rule_args
    from kubeflow_tui.netfilter.eval import _dispatch_key

    assert _dispatch_key(parse_rule_args(spec.split(), "filter", "INPUT")) == key
