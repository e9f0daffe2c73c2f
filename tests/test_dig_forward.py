"""dig of names outside cluster.local: CoreDNS forwards them to the node network's resolver
(``cluster.upstreamDNS``) and relays its answer.  The byte-exact output against real dig 9.18
is ``tests/golden/shell/real/system-services-dig.json`` (test_shell's recordings); here, what
follows from the scenario: no declared names, the TTL cap, and the scenario's errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.scenario import ScenarioError, load_scenario, load_scenario_text
from kubeflow_tui.shell import Shell

ROOT = Path(__file__).resolve().parent.parent
SYSTEM = ROOT / "scenarios" / "system-services.yaml"


def _shell(text: str, host: str = "app") -> Shell:
    return Shell(ClusterSim(load_scenario_text(text, "s.yaml")), host)


def _with_upstream(block: str) -> str:
    text = SYSTEM.read_text()
    start = text.index("  upstreamDNS:\n")
    end = text.index("  nodes:\n")
    return text[:start] + block + text[end:]


def test_without_declared_names_every_forwarded_name_is_nxdomain_from_the_upstream():
    sh = Shell(ClusterSim(load_scenario(ROOT / "scenarios" / "clusterip.yaml")), "client-b")
    r = sh.run("dig example.com")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert ";; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: " in r.stdout
    # a recursive resolver's answer relayed by CoreDNS: recursion available, not authoritative
    assert ";; flags: qr rd ra; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1" in lines
    assert "WARNING: recursion requested but not available" not in r.stdout
    assert ".\t\t\t30\tIN\tSOA\ta.root-servers.net. nstld.verisign-grs.com. 2026120300 1800 900 604800 86400" in lines
    assert sh.run("dig +short example.com").stdout == ""
    # the cluster's own names are still CoreDNS's kubernetes plugin's: authoritative
    own = sh.run("dig nope.default.svc.cluster.local").stdout
    assert ";; flags: qr aa rd;" in own and "cluster.local.\t\t30\tIN\tSOA\tns.dns.cluster.local." in own


@pytest.mark.parametrize(("ttl", "shown"), [(300, 30), (10, 10)])
def test_coredns_cache_caps_the_upstream_ttl_at_30(ttl: int, shown: int):
    sh = _shell(_with_upstream(f"  upstreamDNS:\n    records: {{example.com: 93.184.215.14}}\n    ttl: {ttl}\n"))
    assert sh.run("dig +noall +answer example.com").stdout == f"example.com.\t\t{shown}\tIN\tA\t93.184.215.14\n"
    assert sh.run("dig +short Example.COM.").stdout == "93.184.215.14\n"


def test_a_node_still_asks_its_own_resolver():
    r = Shell(ClusterSim(load_scenario(SYSTEM)), "worker").run("dig example.com")
    assert r.exit_code == 9 and ";; communications error to 127.0.0.53#53: timed out" in r.stdout


@pytest.mark.parametrize(("block", "key", "says"), [
    ("  upstreamDNS:\n    records: {web.default.svc.cluster.local: 10.0.0.1}\n", "records:", "outside cluster.local"),
    ("  upstreamDNS:\n    records: {example.com: 300.1.1.1}\n", "records:", "example.com"),
    ("  upstreamDNS:\n    records: {}\n    ttl: 0\n", "ttl:", "ttl"),
])
def test_a_bad_upstream_is_an_error_with_its_position(block: str, key: str, says: str):
    text = _with_upstream(block)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.strip().startswith(key))
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(text, "s.yaml")
    msg = str(e.value)
    assert msg.startswith(f"s.yaml:{line}:") and "upstreamDNS" in msg and says in msg, msg
